#include "tools/report_format.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "config/duration.h"

namespace we {
namespace {

namespace bj = json::bj;

std::string Number(std::optional<double> v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(*v) >= 100 ? "%.0f" : std::abs(*v) >= 1 ? "%.2f" : "%.3f", *v);
  return buf;
}

std::string Percent(std::optional<double> fraction) {
  if (!fraction) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.0f%%", *fraction * 100);
  return buf;
}

// Whole seconds, as a Prometheus duration ("5m12s").
std::string Seconds(std::optional<double> s) {
  if (!s) return "-";
  return FormatDuration(std::chrono::seconds(static_cast<long long>(std::llround(*s))));
}

std::string Count(std::optional<double> n) { return n ? std::to_string(std::llround(*n)) : "-"; }

// "512 (2; 3600 samples)": the mean of 2 workloads, each from 3600 samples (a range when they
// differ); "512 (1 of 2)": one of two has the figure; "-" when the
// cell has no workload.
std::string CellText(const Cell& c) {
  if (c.workloads == 0) return "-";
  std::string n = std::to_string(c.with_figure);
  if (c.with_figure != c.workloads) n += " of " + std::to_string(c.workloads);
  if (c.samples_min) {
    n += "; " + Count(c.samples_min);
    if (*c.samples_max != *c.samples_min) n += "-" + Count(c.samples_max);
    n += " samples";
  }
  return Number(c.mean) + " (" + n + ")";
}

// Control characters as \xNN: a name with a line break must not break the table.
std::string Printable(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

// Columns are as wide as their text in code points (UTF-8 continuation bytes take no column).
std::size_t Width(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

using Rows = std::vector<std::vector<std::string>>;

std::string Table(const Rows& rows, bool markdown) {
  std::vector<std::size_t> width;
  Rows cells = rows;
  for (auto& r : cells) {
    for (auto& c : r) c = markdown ? MarkdownCell(c) : Printable(c);
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], Width(r[i]));
  }
  std::string out;
  for (std::size_t n = 0; n < cells.size(); ++n) {
    std::string line = markdown ? "|" : "";
    for (std::size_t i = 0; i < cells[n].size(); ++i) {
      std::string cell = cells[n][i];
      cell.append(width[i] - Width(cell), ' ');
      line += markdown ? " " + cell + " |" : cell + (i + 1 < cells[n].size() ? "  " : "");
    }
    while (!markdown && !line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (n == 0 && markdown) {
      out += "|";
      for (std::size_t i = 0; i < cells[n].size(); ++i) out += std::string(width[i] + 2, '-') + "|";
      out += "\n";
    }
  }
  return out;
}

const Cell kNoCell;

const Cell& CellOf(const Group& g, const char* kind, std::size_t figure) {
  const auto it = g.kinds.find(kind);
  return it == g.kinds.end() ? kNoCell : it->second[figure];
}

std::string Joined(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

// The reasons of a cell: "too young ... (2); no memory usage file ... (1)".
std::string MissingText(const Cell& c) {
  std::vector<std::string> parts;
  for (const auto& [why, n] : c.missing) parts.push_back(why + " (" + std::to_string(n) + ")");
  return Joined(parts, "; ");
}

std::string Heading(const std::string& text, bool markdown) {
  return markdown ? "## " + text + "\n\n" : text + ":\n\n";
}

std::string TextReport(const ReportModel& m, bool md) {
  const std::string window = m.window.empty() ? "no" : m.window;
  std::string out = md ? "## VM vs container" : "VM vs container";
  out += " (" + std::string(m.source.empty() ? "window " : "range ") + window + ", mean per kind)\n\n";
  out += m.source.empty() ? "Figures are the daemon's " + window +
                                " window (idle and peak as README.md's \"Idle and peak\" defines them; startup per "
                                "workload)."
                          : "Figures are " + m.source + ".";
  out +=
      " Each cell is "
      "the mean over the workloads that have the figure: (n) of them, or (n of m) when the other m - n have none "
      "(why: below), and how many samples the window held for each. COVERS is how much of the window a workload "
      "has lived.\n";
  out +=
      "Sizing: the requests the Kubernetes VPA recommender would set (CPU p90 of per-interval usage, memory p90 of "
      "daily peaks, each +15%, at least 25 mCPU and 250 MiB; no limits of its own: it scales existing ones in "
      "proportion) and krr's simple strategy (CPU request p95, no CPU limit; memory request = limit = peak +15%; "
      "from 100 data points), from per-second samples (README.md, \"Sizing\").\n";
  out += "Selected " + std::to_string(m.workloads.size()) + " of " + std::to_string(m.total) + " workloads";
  if (!m.selectors.empty()) out += " (" + Joined(m.selectors, ", ") + ")";
  out += ".";
  if (!m.grouping.empty()) {
    out += " Grouped by " + m.grouping + "; " + std::to_string(m.ungrouped) + " selected in no group.";
  }
  out += "\n\n";

  const bool grouped = !m.grouping.empty();
  // Which rows the tables have: asked once, as each answer reads every workload.
  std::vector<bool> shown(kFigureCount);
  for (std::size_t i = 0; i < kFigureCount; ++i) shown[i] = FigureShown(m, i);
  Rows comparison;
  comparison.push_back(grouped ? std::vector<std::string>{"Group", "Metric", "VM", "Container", "Difference"}
                               : std::vector<std::string>{"Metric", "VM", "Container", "Difference"});
  for (const Group& g : m.groups) {
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      if (!shown[i]) continue;
      std::vector<std::string> row;
      if (grouped) row.push_back(g.name);
      row.push_back(kFigures[i].label);
      for (const char* kind : kComparedKinds) row.push_back(CellText(CellOf(g, kind, i)));
      row.push_back(Percent(g.Difference(i)));
      comparison.push_back(std::move(row));
    }
  }
  out += Table(comparison, md);

  if (!grouped) {
    out += "\n" + Heading("By runtime", md);
    Rows runtimes = {{"KIND", "RUNTIME"}};
    for (std::size_t i = 0; i < kMeasuredFigures; ++i) {
      if (shown[i]) runtimes[0].push_back(kFigures[i].column);
    }
    for (const RuntimeLine& r : m.runtimes) {
      std::vector<std::string> row = {r.kind, r.runtime};
      for (std::size_t i = 0; i < kMeasuredFigures; ++i) {
        if (shown[i]) row.push_back(CellText(r.cells[i]));
      }
      runtimes.push_back(std::move(row));
    }
    out += Table(runtimes, md);
  }

  out += "\n" + Heading("Workloads", md);
  Rows workloads = {{"KIND", "RUNTIME", "NAME"}};
  if (grouped) workloads[0].push_back("GROUP");
  for (const char* h : {"AGE", "COVERS", "SAMPLES"}) workloads[0].push_back(h);
  for (std::size_t i = 0; i < kMeasuredFigures; ++i) {
    if (shown[i]) workloads[0].push_back(kFigures[i].column);
  }
  Rows sizing = {{"KIND", "RUNTIME", "NAME"}};
  for (std::size_t i = kMeasuredFigures; i < kFigureCount; ++i) sizing[0].push_back(kFigures[i].column);
  std::string missing;
  for (const WorkloadLine& w : m.workloads) {
    std::vector<std::string> row = {w.kind, w.runtime, w.name};
    std::vector<std::string> sizing_row = row;
    if (grouped) row.push_back(w.groups.empty() ? "-" : Joined(w.groups, ", "));
    row.push_back(Seconds(w.age_seconds));
    row.push_back(w.covered_seconds ? Seconds(w.covered_seconds) + " of " + m.window : "-");
    row.push_back(Count(w.samples));
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      if (shown[i]) (i < kMeasuredFigures ? row : sizing_row).push_back(Number(w.figures[i]));
    }
    workloads.push_back(std::move(row));
    sizing.push_back(std::move(sizing_row));
    // Why, per reason: "startup time (s): too young ...".
    std::map<std::string, std::vector<std::string>> by_reason;
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      if (shown[i] && !w.missing[i].empty()) by_reason[w.missing[i]].push_back(kFigures[i].label);
    }
    for (const auto& [why, figures] : by_reason) {
      const std::string who = w.kind + " " + w.runtime + " " + w.name;
      missing += md ? "- " + MarkdownCell(who) + ": " + MarkdownCell(Joined(figures, ", ")) + ": " + why + "\n"
                    : "  " + Printable(who) + ": " + Joined(figures, ", ") + ": " + why + "\n";
    }
  }
  out += Table(workloads, md);
  out += "\n" + Heading("Sizing per workload", md) + Table(sizing, md);
  if (!missing.empty()) out += "\n" + Heading("Why figures are missing", md) + missing;
  return out;
}

bj::value CellJson(const Cell& c) {
  bj::object missing;
  for (const auto& [why, n] : c.missing) missing[why] = n;
  return bj::object{{"mean", json::Figure(c.mean)},
                    {"workloads", c.workloads},
                    {"with_figure", c.with_figure},
                    {"samples_min", json::Figure(c.samples_min)},
                    {"samples_max", json::Figure(c.samples_max)},
                    {"missing", std::move(missing)}};
}

std::string JsonReport(const ReportModel& m) {
  bj::array selectors, groups, runtimes, workloads;
  for (const auto& s : m.selectors) selectors.emplace_back(s);
  // Every selected workload by kind: the means of the whole selection, grouped or not.
  std::map<std::string, std::vector<Cell>> all;
  for (const WorkloadLine& w : m.workloads) {
    auto& cells = all[w.kind];
    cells.resize(kFigureCount);
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      Cell& c = cells[i];
      ++c.workloads;
      if (w.figures[i]) {
        c.mean = (c.mean.value_or(0) * c.with_figure + *w.figures[i]) / (c.with_figure + 1);
        ++c.with_figure;
      }
    }
  }
  bj::object kinds;
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    bj::object per_kind;
    for (const char* kind : kComparedKinds) {
      const auto it = all.find(kind);
      per_kind[kind] = json::Figure(it == all.end() ? std::nullopt : it->second[i].mean);
    }
    kinds[kFigures[i].key] = std::move(per_kind);
  }
  for (const Group& g : m.groups) {
    bj::object figures;
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      bj::object f;
      for (const char* kind : kComparedKinds) f[kind] = CellJson(CellOf(g, kind, i));
      f["difference"] = json::Figure(g.Difference(i));
      figures[kFigures[i].key] = std::move(f);
    }
    groups.emplace_back(bj::object{{"group", g.name}, {"figures", std::move(figures)}});
  }
  for (const RuntimeLine& r : m.runtimes) {
    bj::object figures;
    for (std::size_t i = 0; i < kFigureCount; ++i) figures[kFigures[i].key] = CellJson(r.cells[i]);
    runtimes.emplace_back(bj::object{{"kind", r.kind}, {"runtime", r.runtime}, {"figures", std::move(figures)}});
  }
  for (const WorkloadLine& w : m.workloads) {
    bj::array in;
    for (const auto& g : w.groups) in.emplace_back(g);
    bj::object row{{"kind", w.kind},
                   {"runtime", w.runtime},
                   {"id", w.id},
                   {"name", w.name},
                   {"groups", std::move(in)},
                   {"age_seconds", json::Figure(w.age_seconds)},
                   {"covered_seconds", json::Figure(w.covered_seconds)},
                   {"samples", json::Figure(w.samples)}};
    bj::object missing;
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      row[kFigures[i].key] = json::Figure(w.figures[i]);
      if (!w.missing[i].empty()) missing[kFigures[i].key] = w.missing[i];
    }
    row["missing"] = std::move(missing);
    workloads.emplace_back(std::move(row));
  }
  return json::Serialize(bj::object{{"source", m.source},
                                    {"window", m.window},
                                    {"time", json::Figure(m.time)},
                                    {"total", m.total},
                                    {"selected", m.workloads.size()},
                                    {"selectors", std::move(selectors)},
                                    {"grouping", m.grouping},
                                    {"ungrouped", m.ungrouped},
                                    {"kinds", std::move(kinds)},
                                    {"groups", std::move(groups)},
                                    {"runtimes", std::move(runtimes)},
                                    {"workloads", std::move(workloads)}});
}

// The shortest text that reads back as the same double, in plain notation where that is as
// short ("311.64622592926025", not Boost.JSON's "3.1164622592926025E2"); "" when absent.
std::string CsvNumber(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "";
  char buf[64];
  const auto end = std::to_chars(buf, buf + sizeof buf, *v).ptr;
  return std::string(buf, end);
}

std::string CsvReport(const ReportModel& m) {
  std::string out;
  auto row = [&out](std::initializer_list<std::string> fields) {
    bool first = true;
    for (const auto& f : fields) {
      out += (first ? "" : ",") + CsvField(f);
      first = false;
    }
    out += "\r\n";
  };
  row({"section", "group", "kind", "runtime", "name", "figure", "value", "with_figure", "workloads", "window",
       "samples_min", "samples_max", "missing"});
  for (const Group& g : m.groups) {
    for (const char* kind : kComparedKinds) {
      for (std::size_t i = 0; i < kFigureCount; ++i) {
        const Cell& c = CellOf(g, kind, i);
        row({"group", g.name, kind, "", "", kFigures[i].label, CsvNumber(c.mean), std::to_string(c.with_figure),
             std::to_string(c.workloads), m.window, CsvNumber(c.samples_min), CsvNumber(c.samples_max),
             MissingText(c)});
      }
    }
  }
  for (const RuntimeLine& r : m.runtimes) {
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      const Cell& c = r.cells[i];
      row({"runtime", "", r.kind, r.runtime, "", kFigures[i].label, CsvNumber(c.mean), std::to_string(c.with_figure),
           std::to_string(c.workloads), m.window, CsvNumber(c.samples_min), CsvNumber(c.samples_max), MissingText(c)});
    }
  }
  for (const WorkloadLine& w : m.workloads) {
    for (std::size_t i = 0; i < kFigureCount; ++i) {
      const std::string samples = kFigures[i].windowed && w.figures[i] ? CsvNumber(w.samples) : "";
      row({"workload", Joined(w.groups, ";"), w.kind, w.runtime, w.name, kFigures[i].label, CsvNumber(w.figures[i]),
           w.figures[i] ? "1" : "0", "1", m.window, samples, samples, w.missing[i]});
    }
  }
  return out;
}

}  // namespace

bool IsReportFormat(std::string_view format) {
  return format == "table" || format == "markdown" || format == "json" || format == "csv";
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char ch : Printable(text)) {
    if (ch == '\\' || ch == '|') out += '\\';
    out += ch;
  }
  return out;
}

std::string FormatReport(const ReportModel& model, std::string_view format) {
  if (format == "json") return JsonReport(model);
  if (format == "csv") return CsvReport(model);
  return TextReport(model, format == "markdown");
}

}  // namespace we
