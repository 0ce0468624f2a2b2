// The report's figures on a hand-made document whose means are worked out here: per kind, per
// runtime, and per group made each way (--group-by a label, a name pattern, --compare pairs),
// with why each absent figure is absent. Then every format is parsed back: JSON with Boost.JSON,
// CSV with an RFC 4180 reader written here, Markdown row by row (every row has the header's
// cells, escaped pipes included), so that names holding quotes, commas, pipes, line breaks and
// non-ASCII text cannot break any of them.

#include "tools/report_format.h"

#include <gtest/gtest.h>

#include "tools/report_model.h"

namespace we {
namespace {

namespace bj = json::bj;

constexpr double kMiB = 1 << 20;
const std::string kOdd = "odd \"name\", a|b\\c\nnext line, caf\xc3\xa9";

bj::object Window(std::optional<double> idle_mib, std::optional<double> peak_mib, std::optional<double> idle_cpu,
                  std::optional<double> peak_cpu) {
  auto bytes = [](std::optional<double> mib) { return mib ? std::optional<double>(*mib * kMiB) : std::nullopt; };
  return {{"memory_idle_bytes", json::Figure(bytes(idle_mib))},
          {"memory_peak_bytes", json::Figure(bytes(peak_mib))},
          {"cpu_idle_cores", json::Figure(idle_cpu)},
          {"cpu_peak_cores", json::Figure(peak_cpu)}};
}

// `samples`: what the 1h window holds for it; `startup_state` none when empty (an older daemon's
// document, for which the report goes by the workload's age).
bj::object Workload(const char* kind, const char* runtime, const std::string& name, std::optional<double> start,
                    std::optional<double> startup, const char* startup_state, bool cpu_rate, bool memory_file,
                    double samples, bj::object window, bj::object labels = {}) {
  window["samples"] = samples;
  bj::object w{{"kind", kind},
               {"runtime", runtime},
               {"id", name + "-id"},
               {"name", name},
               {"start_time_seconds", json::Figure(start)},
               {"startup_seconds", json::Figure(startup)},
               {"cpu_usage_cores", json::Figure(cpu_rate ? std::optional<double>(0.01) : std::nullopt)},
               {"memory_usage_bytes", json::Figure(memory_file ? std::optional<double>(kMiB) : std::nullopt)},
               {"memory_working_set_bytes", json::Figure(memory_file ? std::optional<double>(kMiB) : std::nullopt)},
               {"windows", bj::object{{"1m", Window(1, 1, 0.5, 0.5)}, {"1h", std::move(window)}}},
               {"labels", std::move(labels)}};
  if (*startup_state != '\0') w["startup_state"] = startup_state;
  return w;
}

// The snapshot at t = 1000 s, windows 1m and 1h.
std::string Document() {
  bj::array w;
  w.emplace_back(Workload("vm", "libvirt", "flask-vm", 0, 20, "timed", true, true, 1000, Window(512, 1024, 0.1, 2)));
  w.emplace_back(Workload("container", "docker", "flask-ctr", 400, 2, "timed", true, true, 600,
                          Window(64, 128, 0.01, 1.5), {{"label_app", "flask"}}));
  // 10 s old: younger than the 1m window that startup waits for; a single sample, so no CPU rate.
  w.emplace_back(Workload("container", "podman", "flask-ctr2", 990, std::nullopt, "waiting", false, true, 10,
                          Window(32, 40, std::nullopt, std::nullopt), {{"label_app", "flask"}}));
  // No start time, no memory file.
  w.emplace_back(Workload("container", "docker", "db", std::nullopt, std::nullopt, "no_start_time", true, false, 3600,
                          Window(std::nullopt, std::nullopt, 0.2, 0.4), {{"label_app", "db"}}));
  // Old enough, not timed, from a daemon that does not say why.
  w.emplace_back(
      Workload("container", "docker", kOdd, 0, std::nullopt, "", true, true, 1000, Window(16, 20, 0.03, 0.05)));
  return json::Serialize(bj::object{{"time", 1000}, {"windows", bj::array{"1m", "1h"}}, {"workloads", std::move(w)}});
}

ReportModel Model(const Grouping& grouping = {}, const std::vector<std::string>& selectors = {}) {
  std::string error;
  std::vector<Selector> parsed;
  for (const auto& s : selectors) {
    auto p = ParseSelector(s, &error);
    EXPECT_TRUE(p) << error;
    if (p) parsed.push_back(*p);
  }
  auto m = BuildReportModel(Document(), parsed, grouping, &error);
  EXPECT_TRUE(m) << error;
  return m ? *m : ReportModel{};
}

enum Figure { kStartup, kIdleMemory, kPeakMemory, kIdleCpu, kPeakCpu };

TEST(ReportModel, MeansPerKindOverTheWorkloadsThatHaveTheFigure) {
  const ReportModel m = Model();
  EXPECT_EQ(m.window, "1h");
  EXPECT_EQ(m.total, 5u);
  ASSERT_EQ(m.groups.size(), 1u);
  const auto& vm = m.groups[0].kinds.at("vm");
  const auto& ctr = m.groups[0].kinds.at("container");
  EXPECT_EQ(vm[kIdleMemory].mean, 512);
  EXPECT_EQ(vm[kIdleMemory].with_figure, 1);
  // Containers: 64, 32 and 16 MiB; db has no memory file.
  EXPECT_DOUBLE_EQ(*ctr[kIdleMemory].mean, (64.0 + 32 + 16) / 3);
  EXPECT_EQ(ctr[kIdleMemory].with_figure, 3);
  EXPECT_EQ(ctr[kIdleMemory].workloads, 4);
  EXPECT_EQ(
      ctr[kIdleMemory].missing,
      (std::map<std::string, int>{{"no memory usage file on this host (memory.current / memory.usage_in_bytes)", 1}}));
  // Startup: only flask-ctr's 2 s; the others, each for its reason.
  EXPECT_EQ(ctr[kStartup].mean, 2);
  EXPECT_EQ(ctr[kStartup].missing, (std::map<std::string, int>{
                                       {"too young: timed once the 1m window has filled", 1},
                                       {"no start time known", 1},
                                       {"not timed: it had started before the daemon saw it, or never settled", 1},
                                   }));
  EXPECT_DOUBLE_EQ(*ctr[kIdleCpu].mean, (0.01 + 0.2 + 0.03) / 3);
  EXPECT_EQ(ctr[kIdleCpu].missing.begin()->first,
            "no CPU rate: a single sample of this instance so far, or no CPU counter on this host");
  // (container - VM) / VM.
  EXPECT_DOUBLE_EQ(*m.groups[0].Difference(kPeakCpu), ((1.5 + 0.4 + 0.05) / 3 - 2) / 2);
  // A line per runtime.
  ASSERT_EQ(m.runtimes.size(), 3u);
  EXPECT_EQ(m.runtimes[0].runtime, "docker");
  EXPECT_DOUBLE_EQ(*m.runtimes[0].cells[kPeakMemory].mean, (128.0 + 20) / 2);
  EXPECT_EQ(m.runtimes[1].runtime, "podman");
  EXPECT_EQ(m.runtimes[1].cells[kPeakMemory].mean, 40);
  EXPECT_EQ(m.runtimes[2].kind, "vm");
  // What each figure is from: the part of the window each workload has lived.
  EXPECT_EQ(m.workloads[0].covered_seconds, 1000);
  EXPECT_EQ(m.workloads[1].covered_seconds, 600);
  EXPECT_EQ(m.workloads[3].covered_seconds, std::nullopt);
  // And from how many samples: the workloads' own, the fewest and most of each mean.
  EXPECT_EQ(m.workloads[2].samples, 10);
  EXPECT_EQ(ctr[kIdleMemory].samples_min, 10);
  EXPECT_EQ(ctr[kIdleMemory].samples_max, 1000);
  EXPECT_EQ(ctr[kIdleCpu].samples_min, 600);  // flask-ctr2's 10 samples gave no CPU figure
  EXPECT_EQ(ctr[kIdleCpu].samples_max, 3600);
  EXPECT_EQ(ctr[kStartup].samples_min, std::nullopt);  // startup is no window's
}

TEST(ReportModel, EachStartupStateHasItsReason) {
  const std::pair<const char*, const char*> states[] = {
      {"waiting", "not settled yet: its CPU has not come down to rest"},
      {"seen_late", "not timed: already running when the daemon first saw it"},
      {"no_start_time", "no start time known"},
      {"never_settled", "never settled while its start was in the windows"},
      {"not_computed", "the daemon times no startups (no windows configured)"},
  };
  for (const auto& [state, why] : states) {
    bj::array w;
    w.emplace_back(Workload("vm", "qemu", "v", 0, std::nullopt, state, true, true, 600, Window(1, 1, 1, 1)));
    std::string error;
    auto m = BuildReportModel(
        json::Serialize(bj::object{{"time", 600}, {"windows", bj::array{"1m", "1h"}}, {"workloads", std::move(w)}}), {},
        {}, &error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->workloads[0].missing[kStartup], why) << state;
  }
}

TEST(ReportModel, SelectionKeepsOnlyWhatMatches) {
  const ReportModel m = Model({}, {"name=~flask.*", "kind!=vm"});
  ASSERT_EQ(m.workloads.size(), 2u);
  EXPECT_EQ(m.workloads[0].name, "flask-ctr");
  EXPECT_EQ(m.workloads[1].name, "flask-ctr2");
  EXPECT_EQ(m.total, 5u);
  EXPECT_EQ(m.groups[0].kinds.count("vm"), 0u);
  EXPECT_EQ(m.groups[0].kinds.at("container")[kIdleMemory].mean, 48);
}

TEST(ReportModel, GroupByALabel) {
  const ReportModel m = Model(Grouping{.key = "label_app"});
  ASSERT_EQ(m.groups.size(), 2u);
  EXPECT_EQ(m.groups[0].name, "db");
  EXPECT_EQ(m.groups[1].name, "flask");
  EXPECT_EQ(m.groups[1].kinds.at("container")[kIdleMemory].mean, 48);
  EXPECT_EQ(m.groups[1].kinds.count("vm"), 0u);  // a VM carries no container labels
  EXPECT_EQ(m.ungrouped, 2u);                    // flask-vm and the odd one
}

TEST(ReportModel, GroupByANamePatternPutsTheVmAndItsContainersInOneRow) {
  std::string error;
  auto re = ParseGroupPattern("(.*)-(vm|ctr2?)", &error);
  ASSERT_TRUE(re) << error;
  const ReportModel m = Model(Grouping{.key = "name", .pattern = *re, .pattern_text = "(.*)-(vm|ctr2?)"});
  ASSERT_EQ(m.groups.size(), 1u);
  const Group& flask = m.groups[0];
  EXPECT_EQ(flask.name, "flask");
  EXPECT_EQ(flask.kinds.at("vm")[kPeakMemory].mean, 1024);
  EXPECT_EQ(flask.kinds.at("container")[kPeakMemory].mean, 84);  // (128 + 40) / 2
  EXPECT_EQ(flask.kinds.at("container")[kPeakMemory].workloads, 2);
  EXPECT_DOUBLE_EQ(*flask.Difference(kPeakMemory), (84.0 - 1024) / 1024);
  EXPECT_EQ(m.ungrouped, 2u);
  EXPECT_EQ(m.workloads[0].groups, std::vector<std::string>{"flask"});
}

TEST(ReportModel, ComparePairsByExactNameOrGlob) {
  std::string error;
  auto exact = ParseComparePair("vm:flask-vm", "container:flask-ctr", &error);
  auto glob = ParseComparePair("container:flask-ctr*", "vm:flask-*", &error);  // either order
  ASSERT_TRUE(exact && glob) << error;
  const ReportModel m = Model(Grouping{.pairs = {*exact, *glob}});
  ASSERT_EQ(m.groups.size(), 2u);
  EXPECT_EQ(m.groups[0].name, "vm:flask-vm container:flask-ctr");
  EXPECT_EQ(m.groups[0].kinds.at("container")[kIdleMemory].workloads, 1);
  EXPECT_EQ(m.groups[0].kinds.at("container")[kIdleMemory].mean, 64);
  EXPECT_EQ(m.groups[1].kinds.at("container")[kIdleMemory].workloads, 2);
  EXPECT_EQ(m.groups[1].kinds.at("vm")[kIdleMemory].mean, 512);
  // A container named like the VM pattern is not the VM.
  auto wrong = ParseComparePair("vm:flask-ctr", "container:nothing", &error);
  ASSERT_TRUE(wrong);
  EXPECT_TRUE(Model(Grouping{.pairs = {*wrong}}).groups[0].kinds.empty());
}

TEST(ReportModel, BadGroupingArgumentsAreNamed) {
  std::string error;
  EXPECT_FALSE(ParseComparePair("vm:a", "vm:b", &error));
  EXPECT_EQ(error, "--compare \"vm:a\" \"vm:b\": expected vm:NAME container:NAME (a name or a glob each)");
  EXPECT_FALSE(ParseGroupPattern("flask-.*", &error));
  EXPECT_EQ(error, "--group-pattern \"flask-.*\": needs a capture group, whose match is the group");
  EXPECT_FALSE(ParseGroupPattern("(", &error));
  EXPECT_EQ(error.rfind("--group-pattern \"(\": not a regex: ", 0), 0u) << error;
  EXPECT_FALSE(BuildReportModel("{\"workloads\":[", {}, {}, &error));
  EXPECT_EQ(error, "cannot read the daemon's answer: line 1, column 15: incomplete JSON");
}

// ---------------------------------------------------------------- the formats, parsed back

TEST(FormatReport, JsonHoldsTheFiguresAndAnyName) {
  std::string error;
  auto re = ParseGroupPattern("(.*)-(vm|ctr2?)", &error);
  const std::string text = FormatReport(Model(Grouping{.key = "name", .pattern = *re, .pattern_text = "x"}), "json");
  auto doc = json::Parse(text, &error);
  ASSERT_TRUE(doc) << error << "\n" << text;
  EXPECT_EQ(doc->at("window"), "1h");
  EXPECT_EQ(doc->at("selected"), 5);
  EXPECT_EQ(doc->at("ungrouped"), 2);
  const bj::value& flask = doc->at("groups").at(0);
  EXPECT_EQ(flask.at("group"), "flask");
  const bj::value& peak = flask.at("figures").at("memory_peak_bytes");
  EXPECT_EQ(json::Number(&peak.at("vm").at("mean")), 1024);
  EXPECT_EQ(json::Number(&peak.at("container").at("mean")), 84);
  EXPECT_EQ(peak.at("container").at("workloads"), 2);
  EXPECT_EQ(json::Number(&peak.at("difference")), (84.0 - 1024) / 1024);
  const bj::value& startup = flask.at("figures").at("startup_seconds").at("container");
  EXPECT_EQ(startup.at("with_figure"), 1);
  EXPECT_EQ(startup.at("missing").at("too young: timed once the 1m window has filled"), 1);
  const bj::value& odd = doc->at("workloads").at(4);
  EXPECT_EQ(odd.at("name"), bj::value(kOdd));
  EXPECT_EQ(json::Number(&odd.at("memory_idle_bytes")), 16);
  EXPECT_EQ(odd.at("missing").at("startup_seconds"),
            "not timed: it had started before the daemon saw it, or never settled");
  EXPECT_EQ(json::Number(&odd.at("covered_seconds")), 1000);
  // The whole selection per kind, as before groups existed.
  EXPECT_EQ(json::Number(&doc->at("kinds").at("memory_idle_bytes").at("vm")), 512);
}

// RFC 4180: records end in CRLF; a field in quotes may hold commas, CRLF and doubled quotes.
std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "a quote inside an unquoted field at byte " << i;
      quoted = was_quoted = true;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      was_quoted = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      was_quoted = false;
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "a bare LF outside quotes at byte " << i;
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "an unterminated quoted field";
  EXPECT_TRUE(record.empty() && field.empty()) << "the last record lacks its CRLF";
  return records;
}

TEST(FormatReport, CsvReadsBackAsRfc4180) {
  const auto records = ReadCsv(FormatReport(Model(), "csv"));
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0],
            (std::vector<std::string>{"section", "group", "kind", "runtime", "name", "figure", "value", "with_figure",
                                      "workloads", "window", "samples_min", "samples_max", "missing"}));
  // 2 kinds x 12 figures (8 measured, 4 sizing) for the group, 3 runtimes x 12, 5 workloads x 12.
  constexpr std::size_t n = kFigureCount;
  ASSERT_EQ(records.size(), 1u + 2 * n + 3 * n + 5 * n);
  for (const auto& r : records) EXPECT_EQ(r.size(), records[0].size());
  const auto& container_idle = records[1 + n + kIdleMemory];
  EXPECT_EQ(container_idle[0], "group");
  EXPECT_EQ(container_idle[2], "container");
  EXPECT_EQ(container_idle[5], "Idle memory (MiB)");
  EXPECT_EQ(container_idle[6], "37.333333333333336");  // (64 + 32 + 16) / 3, the shortest text of the double
  EXPECT_EQ(container_idle[7], "3");
  EXPECT_EQ(container_idle[8], "4");
  EXPECT_EQ(container_idle[10], "10");
  EXPECT_EQ(container_idle[11], "1000");
  const auto& odd_startup = records[1 + 2 * n + 3 * n + 4 * n + kStartup];
  EXPECT_EQ(odd_startup[4], kOdd);
  EXPECT_EQ(odd_startup[6], "");
  EXPECT_EQ(odd_startup[12], "not timed: it had started before the daemon saw it, or never settled");
  EXPECT_EQ(records[1 + 2 * n + 3 * n + 4 * n + kIdleMemory][6], "16");
}

// The brief's startup and response time: rows of the tables only where some workload has them,
// means of the workloads that do, and why the others have none.
TEST(FormatReport, ProbeRowsWhereSomeWorkloadHasThem) {
  const std::string plain = FormatReport(Model(), "table");
  EXPECT_EQ(plain.find("Startup to first response"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("Response time"), std::string::npos);
  EXPECT_EQ(plain.find("Startup to listening"), std::string::npos);

  bj::array w;
  bj::object vm = Workload("vm", "libvirt", "app-vm", 0, 20, "timed", true, true, 1000, Window(512, 1024, 0.1, 2));
  vm["ready_seconds"] = 31.5;
  vm["probe_success"] = 1;
  vm["probe_responses"] = 10;
  vm["probe_response_seconds"] = 0.0125;
  bj::object ctr = Workload("container", "runc", "app-ctr", 400, 2, "timed", true, true, 600, Window(64, 128, 0.01, 1));
  ctr["listen_seconds"] = 2.25;
  ctr["ready_seconds"] = 3.5;
  ctr["probe_success"] = 1;
  ctr["probe_responses"] = 10;
  ctr["probe_response_seconds"] = 0.002;
  bj::object other = Workload("container", "runc", "other", 400, 2, "timed", true, true, 600, Window(8, 9, 0, 0));
  bj::object failing = Workload("container", "runc", "failing", 400, 2, "timed", true, true, 600, Window(8, 9, 0, 0));
  failing["probe_success"] = 0;
  failing["probe_responses"] = nullptr;
  w.emplace_back(std::move(vm));
  w.emplace_back(std::move(ctr));
  w.emplace_back(std::move(other));
  w.emplace_back(std::move(failing));
  const std::string doc =
      json::Serialize(bj::object{{"time", 1000}, {"windows", bj::array{"1m", "1h"}}, {"workloads", std::move(w)}});
  std::string error;
  auto m = BuildReportModel(doc, {}, {}, &error);
  ASSERT_TRUE(m) << error;
  const std::string table = FormatReport(*m, "table");
  EXPECT_NE(table.find("Startup to listening (s)"), std::string::npos) << table;
  EXPECT_NE(table.find("Startup to first response (s)"), std::string::npos);
  EXPECT_NE(table.find("Response time (ms)"), std::string::npos);
  ASSERT_EQ(m->groups.size(), 1u);
  const Group& g = m->groups[0];
  constexpr std::size_t kListen = 5, kReady = 6, kResponse = 7;
  EXPECT_EQ(g.kinds.at("vm")[kReady].mean, 31.5);
  EXPECT_EQ(g.kinds.at("container")[kReady].mean, 3.5);
  EXPECT_EQ(g.kinds.at("container")[kReady].with_figure, 1);
  EXPECT_EQ(g.kinds.at("container")[kReady].workloads, 3);
  EXPECT_EQ(g.kinds.at("vm")[kResponse].mean, 12.5);
  EXPECT_EQ(g.kinds.at("container")[kResponse].mean, 2);
  EXPECT_EQ(g.kinds.at("container")[kListen].mean, 2.25);
  EXPECT_EQ(m->workloads[2].missing[kReady], "no ready probe configured for it (probes: in the daemon's config)");
  EXPECT_EQ(m->workloads[3].missing[kReady], "no successful probe yet");
  EXPECT_EQ(m->workloads[3].missing[kResponse], "no successful probe yet");
  EXPECT_EQ(m->workloads[0].missing[kListen], "a VM's listening sockets are its guest's, which the host cannot see");
  EXPECT_TRUE(m->workloads[2].missing[kListen].starts_with("no listening TCP socket"))
      << m->workloads[2].missing[kListen];
  // JSON carries the rows whether shown or not.
  auto parsed = json::Parse(FormatReport(Model(), "json"), &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_NE(json::Find(*parsed, {"kinds", "ready_seconds"}), nullptr);
}

TEST(CsvField, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\r\nlines"), "\"two\r\nlines\"");
}

// A Markdown table row's cells: split at pipes not escaped by a backslash, escapes undone.
std::vector<std::string> MarkdownCells(const std::string& row) {
  EXPECT_TRUE(row.size() >= 2 && row.front() == '|' && row.back() == '|') << row;
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size()) {
      cell += row[++i];
    } else if (row[i] == '|') {
      const auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  return cells;
}

TEST(FormatReport, MarkdownRowsHaveTheirHeadersCellsWhateverTheNames) {
  std::string error;
  auto re = ParseGroupPattern("(.*)", &error);  // every name its own group, the odd one too
  for (const Grouping& grouping : {Grouping{}, Grouping{.key = "name", .pattern = *re, .pattern_text = "(.*)"}}) {
    const std::string text = FormatReport(Model(grouping), "markdown");
    std::size_t tables = 0, header = 0;
    bool in_table = false, saw_odd = false;
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = text.find('\n', start);
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.empty() || line[0] != '|') {
        in_table = false;
        continue;
      }
      const auto cells = MarkdownCells(line);
      if (!in_table) {
        in_table = true;
        header = cells.size();
        ++tables;
        continue;
      }
      EXPECT_EQ(cells.size(), header) << line;
      for (const auto& c : cells) saw_odd = saw_odd || c == "odd \"name\", a|b\\c\\x0anext line, caf\xc3\xa9";
    }
    EXPECT_EQ(tables, grouping.key.empty() ? 4u : 3u) << text;  // comparison, (by runtime,) workloads, sizing
    EXPECT_TRUE(saw_odd) << text;
  }
}

TEST(FormatReport, TableSaysWhatEachFigureIsFromAndWhyOnesAreMissing) {
  const std::string text = FormatReport(Model(), "table");
  EXPECT_NE(text.find("VM vs container (window 1h, mean per kind)"), std::string::npos) << text;
  EXPECT_NE(text.find("Selected 5 of 5 workloads."), std::string::npos);
  // The VM's 512 MiB from one workload, the containers' mean from 3 of 4.
  // (The Metric column is as wide as its longest label, "krr memory request = limit (MiB)".)
  EXPECT_NE(text.find("Idle memory (MiB)                 512 (1; 1000 samples)    37.33 (3 of 4; 10-1000 samples)   "
                      "-93%"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container  podman   - (0 of 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("16m40s of 1h"), std::string::npos);
  EXPECT_NE(text.find("container docker db: Idle memory (MiB), Peak memory (MiB), VPA memory request (MiB), krr "
                      "memory request = limit (MiB): no memory usage file"),
            std::string::npos)
      << text;
  // A line break in a name does not start a row.
  EXPECT_NE(text.find("a|b\\c\\x0anext line"), std::string::npos);
}

}  // namespace
}  // namespace we
