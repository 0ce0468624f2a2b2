#include "tools/report_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <tuple>

#include "config/duration.h"
#include "tools/report_sizing.h"

namespace we {
namespace {

namespace bj = json::bj;

std::string Text(const bj::value& object, std::string_view key) {
  return std::string(json::String(json::Find(object, {key})).value_or(""));
}

// Why workload `w` has no figure `f` in `window`, from what the document says about it.
std::string WhyMissing(const bj::value& w, const FigureDef& f, const std::string& window,
                       std::optional<double> age_seconds, const std::string& shortest_window, double shortest_seconds) {
  const std::string_view key = f.key;
  if (key == "listen_seconds") {
    if (json::String(json::Find(w, {"kind"})) == "vm") {
      return "a VM's listening sockets are its guest's, which the host cannot see";
    }
    return "no listening TCP socket seen in its network namespace since its start (or not seen from its start)";
  }
  if (key == "ready_seconds" || key == "probe_response_seconds") {
    if (const bj::value* probe = json::Find(w, {"probe_success"}); probe == nullptr || probe->is_null()) {
      return "no ready probe configured for it (probes: in the daemon's config)";
    }
    if (key == "probe_response_seconds" || !json::Number(json::Find(w, {"probe_responses"})).value_or(0)) {
      return "no successful probe yet";
    }
    return "not timed: already running when the daemon first saw it";
  }
  if (!f.windowed) {
    if (const auto state = json::String(json::Find(w, {"startup_state"}))) {
      const bool young = age_seconds && *age_seconds < shortest_seconds;
      if (*state == "waiting") {
        return young ? "too young: timed once the " + shortest_window + " window has filled"
                     : "not settled yet: its CPU has not come down to rest";
      }
      if (*state == "seen_late") return "not timed: already running when the daemon first saw it";
      if (*state == "no_start_time") return "no start time known";
      if (*state == "never_settled") return "never settled while its start was in the windows";
      if (*state == "not_computed") return "the daemon times no startups (no windows configured)";
    }
    // A daemon without startup_state: what the age tells.
    if (!age_seconds) return "no start time known";
    if (*age_seconds < shortest_seconds) return "too young: timed once the " + shortest_window + " window has filled";
    // The document does not tell these two apart (the normaliser knows, the JSON does not say).
    return "not timed: it had started before the daemon saw it, or never settled";
  }
  if (json::Find(w, {"windows", window}) == nullptr) return "no " + window + " window in the daemon's answer";
  const bool cpu = std::string_view(f.key).find("cpu_") != std::string_view::npos;
  if (cpu) {
    return json::Number(json::Find(w, {"cpu_usage_cores"}))
               ? "no CPU sample in the window yet"
               : "no CPU rate: a single sample of this instance so far, or no CPU counter on this host";
  }
  if (!json::Number(json::Find(w, {"memory_usage_bytes"})) &&
      !json::Number(json::Find(w, {"memory_working_set_bytes"}))) {
    return "no memory usage file on this host (memory.current / memory.usage_in_bytes)";
  }
  return "no memory sample in the window yet";
}

void Add(Cell& cell, std::optional<double> value, const std::string& missing, std::optional<double> samples) {
  ++cell.workloads;
  if (value) {
    cell.mean = (cell.mean.value_or(0) * cell.with_figure + *value) / (cell.with_figure + 1);
    ++cell.with_figure;
    if (samples) {
      cell.samples_min = std::min(cell.samples_min.value_or(*samples), *samples);
      cell.samples_max = std::max(cell.samples_max.value_or(*samples), *samples);
    }
  } else {
    ++cell.missing[missing];
  }
}

// The samples behind figure i of a workload: its window's, for windowed figures.
std::optional<double> SamplesOf(const WorkloadLine& line, std::size_t i) {
  return kFigures[i].windowed ? line.samples : std::nullopt;
}

// A sizing figure of one window (report_sizing.h), in the document's unit; nullopt with `why`
// when the window has what the figure needs but the tool would not recommend from it, or ""
// when an input is absent for the measured figure's reasons.
std::optional<double> Sizing(const FigureDef& f, const bj::value* window, double window_seconds, std::string* why) {
  const auto in = [&](std::string_view key) { return json::Number(json::Find(window, {key})); };
  const std::string_view key = f.key;
  // krr's data points: the window's samples (Prometheus: values scraped, its memory's own count).
  auto points = in("samples");
  if (key == "krr_memory_bytes" && in("memory_samples")) points = in("memory_samples");
  auto few_points = [&](std::optional<double> result, std::optional<double> input) {
    if (!result && input && points) {
      *why = "krr needs " + std::to_string(static_cast<int>(SizingConstants::kKrrPointsRequired)) +
             " data points, the window holds " + std::to_string(std::llround(*points));
    }
    return result;
  };
  if (key == "vpa_cpu_request_cores") {
    const auto p90 = in("cpu_p90_cores");
    if (!p90 && in("cpu_peak_cores")) {
      *why = "no p90 of per-interval CPU in the daemon's answer (a daemon too old to send one)";
    }
    return VpaCpuRequest(p90);
  }
  if (key == "krr_cpu_request_cores") {
    const auto p95 = in("cpu_p95_cores");
    if (!p95 && in("cpu_peak_cores")) {
      *why = "no p95 of per-interval CPU in the daemon's answer (a daemon too old to send one)";
      return std::nullopt;
    }
    return few_points(KrrCpuRequest(p95, points), p95);
  }
  if (key == "vpa_memory_request_bytes") {
    auto p90 = in("memory_daily_peak_p90_bytes");
    // A window of up to a day holds one day's peak (or less of one): its peak.
    if (!p90 && window_seconds <= SizingConstants::kDaySeconds) p90 = in("memory_peak_bytes");
    return VpaMemoryRequest(p90);
  }
  if (key == "krr_memory_bytes") {
    const auto peak = in("memory_peak_bytes");
    return few_points(KrrMemory(peak, points), peak);
  }
  return std::nullopt;
}

bool NameMatches(const std::string& pattern, const std::string& name) {
  Selector s;
  s.key = "name";
  s.value = pattern;
  s.glob = pattern.find_first_of("*?[") != std::string::npos;
  return MatchesValue(s, name);
}

}  // namespace

constexpr double kMiB = 1.0 / (1 << 20);
const FigureDef kFigures[kFigureCount] = {
    {"Startup time (s)", "startup_seconds", 1, false, false, "STARTUP (s)", false},
    {"Idle memory (MiB)", "memory_idle_bytes", kMiB, true, false, "IDLE MEM (MiB)", false},
    {"Peak memory (MiB)", "memory_peak_bytes", kMiB, true, false, "PEAK MEM (MiB)", false},
    {"Idle CPU (cores)", "cpu_idle_cores", 1, true, false, "IDLE CPU", false},
    {"Peak CPU (cores)", "cpu_peak_cores", 1, true, false, "PEAK CPU", false},
    {"Startup to listening (s)", "listen_seconds", 1, false, false, "LISTEN (s)", true},
    {"Startup to first response (s)", "ready_seconds", 1, false, false, "READY (s)", true},
    {"Response time (ms)", "probe_response_seconds", 1000, false, false, "RESPONSE (ms)", true},
    {"VPA CPU request (cores)", "vpa_cpu_request_cores", 1, true, true, "VPA CPU REQ", false},
    {"VPA memory request (MiB)", "vpa_memory_request_bytes", kMiB, true, true, "VPA MEM REQ (MiB)", false},
    {"krr CPU request (cores)", "krr_cpu_request_cores", 1, true, true, "KRR CPU REQ", false},
    {"krr memory request = limit (MiB)", "krr_memory_bytes", kMiB, true, true, "KRR MEM REQ=LIM (MiB)", false},
};

bool FigureShown(const ReportModel& model, std::size_t i) {
  if (!kFigures[i].where_present) return true;
  return std::any_of(model.workloads.begin(), model.workloads.end(),
                     [i](const WorkloadLine& w) { return w.figures[i].has_value(); });
}

const char* const kComparedKinds[2] = {"vm", "container"};

std::optional<double> Group::Difference(std::size_t figure) const {
  const auto vm = kinds.find("vm"), container = kinds.find("container");
  if (vm == kinds.end() || container == kinds.end()) return std::nullopt;
  const auto& a = vm->second[figure].mean;
  const auto& b = container->second[figure].mean;
  if (!a || !b || *a == 0) return std::nullopt;
  return (*b - *a) / *a;
}

std::optional<ComparePair> ParseComparePair(const std::string& first, const std::string& second, std::string* error) {
  ComparePair pair;
  bool vm = false, container = false;
  for (const std::string* arg : {&first, &second}) {
    if (arg->starts_with("vm:") && !vm && arg->size() > 3) {
      pair.vm = arg->substr(3);
      vm = true;
    } else if (arg->starts_with("container:") && !container && arg->size() > 10) {
      pair.container = arg->substr(10);
      container = true;
    }
  }
  if (!vm || !container) {
    *error = "--compare \"" + first + "\" \"" + second + "\": expected vm:NAME container:NAME (a name or a glob each)";
    return std::nullopt;
  }
  return pair;
}

std::optional<std::regex> ParseGroupPattern(const std::string& text, std::string* error) {
  try {
    std::regex re(text, std::regex::ECMAScript);
    if (re.mark_count() < 1) {
      *error = "--group-pattern \"" + text + "\": needs a capture group, whose match is the group";
      return std::nullopt;
    }
    return re;
  } catch (const std::regex_error& e) {
    *error = "--group-pattern \"" + text + "\": not a regex: " + e.what();
    return std::nullopt;
  }
}

std::optional<ReportModel> BuildReportModel(const std::string& text, const std::vector<Selector>& selectors,
                                            const Grouping& grouping, std::string* error) {
  // Lenient about UTF-8: a name with a stray byte must not cost the whole report.
  auto doc = json::Parse(text, error, /*allow_invalid_utf8=*/true);
  if (!doc) {
    *error = "cannot read the daemon's answer: " + *error;
    return std::nullopt;
  }
  ReportModel model;
  model.time = json::Number(json::Find(*doc, {"time"}));
  model.source = std::string(json::String(json::Find(*doc, {"source"})).value_or(""));
  for (const Selector& s : selectors) model.selectors.push_back(s.text);

  // The longest window holds the figures; the shortest decides when startup is timed.
  std::string shortest;
  double shortest_seconds = 0;
  if (const bj::value* windows = json::Find(*doc, {"windows"}); windows != nullptr && windows->is_array()) {
    for (const bj::value& w : windows->get_array()) {
      const auto label = json::String(&w);
      const auto d = label ? ParseDuration(*label) : std::nullopt;
      if (!d) continue;
      const double seconds = std::chrono::duration<double>(*d).count();
      if (seconds > model.window_seconds) {
        model.window_seconds = seconds;
        model.window = *label;
      }
      if (shortest.empty() || seconds < shortest_seconds) {
        shortest_seconds = seconds;
        shortest = *label;
      }
    }
  }

  if (!grouping.pairs.empty()) {
    for (const ComparePair& p : grouping.pairs)
      model.groups.push_back({"vm:" + p.vm + " container:" + p.container, {}});
    model.grouping = "--compare pairs";
  } else if (!grouping.key.empty()) {
    model.grouping =
        grouping.pattern ? grouping.key + " matching " + grouping.pattern_text + ", its first group" : grouping.key;
  } else {
    model.groups.push_back({"", {}});
  }
  std::map<std::string, std::size_t> group_index;  // for --group-by: name -> index in model.groups
  std::map<std::pair<std::string, std::string>, std::size_t> runtime_index;

  const bj::value* list = json::Find(*doc, {"workloads"});
  if (list == nullptr || !list->is_array()) return model;
  model.total = list->get_array().size();
  for (const bj::value& w : list->get_array()) {
    if (!Selected(selectors, w)) continue;
    WorkloadLine line{Text(w, "kind"), Text(w, "runtime"), Text(w, "id"), Text(w, "name"), {}, {}, {}, {}, {}, {}};
    const auto start = json::Number(json::Find(w, {"start_time_seconds"}));
    if (start && model.time) {
      line.age_seconds = std::max(0.0, *model.time - *start);
      if (!model.window.empty()) line.covered_seconds = std::min(*line.age_seconds, model.window_seconds);
    }
    line.samples = json::Number(json::Find(w, {"windows", model.window, "samples"}));
    const bj::value* window = json::Find(w, {"windows", model.window});
    for (const FigureDef& f : kFigures) {
      std::string why;
      const auto n = f.sizing     ? Sizing(f, window, model.window_seconds, &why)
                     : f.windowed ? json::Number(json::Find(window, {f.key}))
                                  : json::Number(json::Find(w, {f.key}));
      if (const auto told = json::String(json::Find(w, {"why_missing", f.key})); !n && told) why = *told;
      if (!n && why.empty()) why = WhyMissing(w, f, model.window, line.age_seconds, shortest, shortest_seconds);
      line.figures.push_back(n ? std::optional<double>(*n * f.scale) : std::nullopt);
      line.missing.push_back(n ? "" : why);
    }

    // The groups this workload is in.
    std::vector<std::size_t> in;
    if (!grouping.pairs.empty()) {
      for (std::size_t i = 0; i < grouping.pairs.size(); ++i) {
        const ComparePair& p = grouping.pairs[i];
        if ((line.kind == "vm" && NameMatches(p.vm, line.name)) ||
            (line.kind == "container" && NameMatches(p.container, line.name))) {
          in.push_back(i);
        }
      }
    } else if (!grouping.key.empty()) {
      std::string name = WorkloadLabel(w, grouping.key);
      if (grouping.pattern) {
        std::smatch m;
        name = std::regex_match(name, m, *grouping.pattern) && m[1].matched ? m[1].str() : "";
      }
      if (!name.empty()) {
        auto [it, inserted] = group_index.try_emplace(name, model.groups.size());
        if (inserted) model.groups.push_back({name, {}});
        in.push_back(it->second);
      }
    } else {
      in.push_back(0);
    }
    if (in.empty()) ++model.ungrouped;
    for (std::size_t g : in) {
      line.groups.push_back(model.groups[g].name);
      auto& cells = model.groups[g].kinds[line.kind];
      cells.resize(kFigureCount);
      for (std::size_t i = 0; i < kFigureCount; ++i)
        Add(cells[i], line.figures[i], line.missing[i], SamplesOf(line, i));
    }
    auto [r, inserted] = runtime_index.try_emplace({line.kind, line.runtime}, model.runtimes.size());
    if (inserted) model.runtimes.push_back({line.kind, line.runtime, std::vector<Cell>(kFigureCount)});
    for (std::size_t i = 0; i < kFigureCount; ++i)
      Add(model.runtimes[r->second].cells[i], line.figures[i], line.missing[i], SamplesOf(line, i));
    model.workloads.push_back(std::move(line));
  }
  if (!grouping.key.empty() && grouping.pairs.empty()) {
    std::sort(model.groups.begin(), model.groups.end(), [](const Group& a, const Group& b) { return a.name < b.name; });
  }
  std::sort(model.runtimes.begin(), model.runtimes.end(), [](const RuntimeLine& a, const RuntimeLine& b) {
    return std::tie(a.kind, a.runtime) < std::tie(b.kind, b.runtime);
  });
  return model;
}

}  // namespace we
