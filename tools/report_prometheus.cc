#include "tools/report_prometheus.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <tuple>

#include "collectors/json.h"
#include "config/duration.h"
#include "tools/report_sizing.h"

namespace we {
namespace {

namespace bj = json::bj;

// Labels every workload series carries: a matcher on them may go into every query.
bool OnEverySeries(const std::string& key) {
  return key == "name" || key == "id" || key == "runtime" || key == "kind" || key == "instance" || key == "job";
}

// A PromQL string literal.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The matchers of the selectors that every series can answer: {kind="vm",instance!="h2:9746"}.
std::string Matchers(const std::vector<Selector>& selectors) {
  std::string m;
  for (const Selector& s : selectors) {
    if (!OnEverySeries(s.key) || s.glob) continue;
    if (s.op != Selector::Op::kEqual && s.op != Selector::Op::kNotEqual) continue;  // RE2 is not ECMAScript
    m += (m.empty() ? "" : ",") + s.key + (s.op == Selector::Op::kEqual ? "=" : "!=") + Quoted(s.value);
  }
  return m.empty() ? "" : "{" + m + "}";
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(std::llround(s)));
  return buf;
}

std::string Rfc3339(double unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The days of the range, newest first: (end time, length) of each, the oldest cut at the start.
std::vector<std::pair<double, double>> Days(const PrometheusRange& r) {
  std::vector<std::pair<double, double>> days;
  for (double back = 0; back < r.range_seconds - 0.5; back += SizingConstants::kDaySeconds) {
    days.emplace_back(r.end_seconds - back, std::min(SizingConstants::kDaySeconds, r.range_seconds - back));
  }
  return days;
}

// A workload as Prometheus names it.
using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
Key KeyOf(const std::map<std::string, std::string>& labels) {
  auto get = [&](const char* k) {
    const auto it = labels.find(k);
    return it == labels.end() ? std::string() : it->second;
  };
  return {get("instance"), get("job"), get("kind"), get("runtime"), get("id"), get("name")};
}

struct Gathered {
  std::map<std::string, std::string> labels;
  std::map<std::string, double> values;                                     // query key -> value
  std::map<std::string, std::map<std::string, double>> windowed;            // query key -> window -> value
  std::map<std::string, std::vector<std::pair<std::string, double>>> days;  // window -> (day key, peak)
};

}  // namespace

std::vector<PromQuery> PrometheusQueries(const PrometheusRange& r, const std::vector<Selector>& selectors) {
  const std::string m = Matchers(selectors);
  const std::string range = "[" + Seconds(r.range_seconds) + "]";
  char q[32];
  std::snprintf(q, sizeof q, "%g", r.idle_quantile);
  auto over = [&](const char* fn, const char* metric, const std::string& param = "") {
    return std::string(fn) + "(" + (param.empty() ? "" : param + ", ") + metric + m + range + ")";
  };
  // The working set, or usage where a host has no working set (the daemon's memory sample).
  auto memory = [&](const char* fn, const std::string& param = "") {
    return over(fn, "workload_memory_working_set_bytes", param) + " or " +
           over(fn, "workload_memory_usage_bytes", param);
  };
  std::vector<PromQuery> out = {
      {"info", over("last_over_time", "workload_info"), r.end_seconds},
      {"start", over("last_over_time", "workload_start_time_seconds"), r.end_seconds},
      {"startup", over("last_over_time", "workload_startup_seconds"), r.end_seconds},
      {"cpu_last", over("last_over_time", "workload_cpu_usage_cores"), r.end_seconds},
      {"cpu_count", over("count_over_time", "workload_cpu_usage_cores"), r.end_seconds},
      {"cpu_idle", over("quantile_over_time", "workload_cpu_usage_cores", q), r.end_seconds},
      {"cpu_p90", over("quantile_over_time", "workload_cpu_usage_cores", "0.9"), r.end_seconds},
      {"cpu_p95", over("quantile_over_time", "workload_cpu_usage_cores", "0.95"), r.end_seconds},
      {"cpu_peak", over("max_over_time", "workload_cpu_peak_cores"), r.end_seconds},
      {"memory_last", memory("last_over_time"), r.end_seconds},
      {"memory_count", memory("count_over_time"), r.end_seconds},
      {"memory_idle", memory("quantile_over_time", q), r.end_seconds},
      {"memory_peak", over("max_over_time", "workload_memory_peak_bytes"), r.end_seconds},
      {"listen", over("last_over_time", "workload_listen_seconds"), r.end_seconds},
      {"ready", over("last_over_time", "workload_ready_seconds"), r.end_seconds},
      {"probe_success", over("last_over_time", "workload_probe_success"), r.end_seconds},
      {"probe_responses", over("increase", "workload_probe_duration_seconds_count"), r.end_seconds},
      {"probe_response",
       over("increase", "workload_probe_duration_seconds_sum") + " / " +
           over("increase", "workload_probe_duration_seconds_count"),
       r.end_seconds},
  };
  const auto days = Days(r);
  for (std::size_t i = 0; i < days.size(); ++i) {
    out.push_back({"memory_day_" + std::to_string(i),
                   "max_over_time(workload_memory_peak_bytes" + m + "[" + Seconds(days[i].second) + "])",
                   days[i].first});
  }
  return out;
}

std::string PrometheusQueryTarget(const std::string& base_path, const PromQuery& query) {
  std::string path = base_path;
  if (const auto q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string encoded;
  for (unsigned char c : query.promql) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", query.time);
  return path + "/api/v1/query?query=" + encoded + "&time=" + time;
}

std::optional<std::vector<PromSample>> ParsePrometheusAnswer(unsigned status, const std::string& reason,
                                                             const std::string& body, const std::string& where,
                                                             const std::string& query, std::string* error) {
  const std::string what = where + ": query `" + query + "`: ";
  const std::string http = "HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
  std::string parse_error;
  auto doc = json::Parse(body, &parse_error, /*allow_invalid_utf8=*/true);
  if (!doc || !doc->is_object()) {
    *error = what + (status != 200 ? http + (status == 401 ? " (check --user and --password-file)" : "")
                                   : "the answer is not JSON (" + parse_error + ")");
    return std::nullopt;
  }
  const auto state = json::String(json::Find(*doc, {"status"}));
  if (state != "success" || status != 200) {
    const auto type = json::String(json::Find(*doc, {"errorType"}));
    const auto text = json::String(json::Find(*doc, {"error"}));
    *error = what + std::string(type.value_or("error")) + ": " + std::string(text.value_or("(no message)")) + " (" +
             http + ")";
    return std::nullopt;
  }
  const auto type = json::String(json::Find(*doc, {"data", "resultType"}));
  const bj::value* result = json::Find(*doc, {"data", "result"});
  if (type != "vector" || result == nullptr || !result->is_array()) {
    *error = what + "expected an instant vector, got " + (type ? "a " + std::string(*type) : std::string("no result"));
    return std::nullopt;
  }
  std::vector<PromSample> out;
  for (const bj::value& e : result->get_array()) {
    const bj::value* metric = json::Find(e, {"metric"});
    const bj::value* value = json::Find(e, {"value"});
    if (value == nullptr || !value->is_array() || value->get_array().size() != 2) continue;
    const auto text = json::String(&value->get_array()[1]);
    if (!text) continue;
    char* end = nullptr;
    const std::string s(*text);
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || !std::isfinite(v)) continue;
    PromSample sample;
    sample.value = v;
    if (metric != nullptr && metric->is_object()) {
      for (const auto& kv : metric->get_object()) {
        if (kv.key() == "__name__" || !kv.value().is_string()) continue;
        sample.labels[std::string(kv.key())] = std::string(kv.value().get_string());
      }
    }
    out.push_back(std::move(sample));
  }
  return out;
}

std::string PeakWindow(const std::vector<std::string>& windows) {
  std::string longest;
  double longest_s = -1;
  for (const auto& w : windows) {
    const auto d = ParseDuration(w);
    if (!d) continue;
    const double s = std::chrono::duration<double>(*d).count();
    if (s > longest_s) {
      longest = w;
      longest_s = s;
    }
  }
  return longest;
}

std::string PrometheusWorkloadsJson(const PrometheusRange& r, const std::vector<PromQuery>& queries,
                                    const std::vector<std::vector<PromSample>>& answers) {
  std::map<Key, Gathered> found;
  for (std::size_t i = 0; i < queries.size() && i < answers.size(); ++i) {
    const std::string& key = queries[i].key;
    for (const PromSample& s : answers[i]) {
      Gathered& g = found[KeyOf(s.labels)];
      for (const auto& [name, value] : s.labels) {
        if (name == "window" || name == "cgroup" || name == "pod_uid") continue;
        g.labels.emplace(name, value);
      }
      const auto window = s.labels.find("window");
      if (key.starts_with("memory_day_")) {
        if (window != s.labels.end()) g.days[window->second].emplace_back(key, s.value);
      } else if (window != s.labels.end()) {
        g.windowed[key][window->second] = s.value;
      } else {
        g.values[key] = s.value;
      }
    }
  }

  bj::array workloads;
  for (auto& entry : found) {
    // Not a structured binding: clang before 16 cannot capture one in the lambdas below.
    const auto& key = entry.first;
    auto& g = entry.second;
    auto value = [&](const char* k) -> std::optional<double> {
      const auto it = g.values.find(k);
      return it == g.values.end() ? std::nullopt : std::optional<double>(it->second);
    };
    // Each peak from its longest window (PeakWindow) of those the workload has.
    auto window_of = [&](const char* k) {
      std::vector<std::string> windows;
      for (const auto& [w, v] : g.windowed[k]) windows.push_back(w);
      return PeakWindow(windows);
    };
    auto peak = [&](const char* k) -> std::optional<double> {
      const auto& per = g.windowed[k];
      const auto it = per.find(window_of(k));
      return it == per.end() ? std::nullopt : std::optional<double>(it->second);
    };
    const std::string memory_window = window_of("memory_peak");
    std::vector<double> daily;
    for (const auto& [day, v] : g.days[memory_window]) daily.push_back(v);

    bj::object figures{
        {"samples", json::Figure(value("cpu_count") ? value("cpu_count") : value("memory_count"))},
        {"memory_samples", json::Figure(value("memory_count"))},
        {"cpu_idle_cores", json::Figure(value("cpu_idle"))},
        {"cpu_peak_cores", json::Figure(peak("cpu_peak"))},
        {"memory_idle_bytes", json::Figure(value("memory_idle"))},
        {"memory_peak_bytes", json::Figure(peak("memory_peak"))},
        {"cpu_p90_cores", json::Figure(value("cpu_p90"))},
        {"cpu_p95_cores", json::Figure(value("cpu_p95"))},
        {"memory_daily_peak_p90_bytes",
         json::Figure(NearestRankQuantile(daily, SizingConstants::kVpaMemoryPercentile))},
        {"memory_days", daily.size()},
        {"peak_window", memory_window},
    };
    bj::object labels;
    for (const auto& [name, v] : g.labels) {
      if (name != "kind" && name != "runtime" && name != "id" && name != "name") labels[name] = v;
    }
    bj::object why;
    if (!value("startup")) {
      why["startup_seconds"] =
          "no workload_startup_seconds in the range: not timed while Prometheus scraped it (too young, not "
          "settled, or already running when the daemon first saw it)";
    }
    if (!peak("memory_peak")) why["memory_peak_bytes"] = "no workload_memory_peak_bytes in the range";
    if (!peak("cpu_peak")) why["cpu_peak_cores"] = "no workload_cpu_peak_cores in the range";
    if (!value("cpu_idle")) why["cpu_idle_cores"] = "no workload_cpu_usage_cores in the range";
    if (!value("memory_idle")) why["memory_idle_bytes"] = "no memory usage series in the range";
    if (!value("cpu_p90")) {
      why["vpa_cpu_request_cores"] = why["krr_cpu_request_cores"] = "no workload_cpu_usage_cores in the range";
    }
    workloads.emplace_back(bj::object{
        {"kind", std::get<2>(key)},
        {"runtime", std::get<3>(key)},
        {"id", std::get<4>(key)},
        {"name", std::get<5>(key)},
        {"start_time_seconds", json::Figure(value("start"))},
        {"startup_seconds", json::Figure(value("startup"))},
        {"cpu_usage_cores", json::Figure(value("cpu_last"))},
        {"memory_working_set_bytes", json::Figure(value("memory_last"))},
        {"listen_seconds", json::Figure(value("listen"))},
        {"ready_seconds", json::Figure(value("ready"))},
        {"probe_success", json::Figure(value("probe_success"))},
        {"probe_responses", json::Figure(value("probe_responses"))},
        {"probe_response_seconds", json::Figure(value("probe_response"))},
        {"windows", bj::object{{r.range_label, std::move(figures)}}},
        {"labels", std::move(labels)},
        {"why_missing", std::move(why)},
    });
  }
  char q[32];
  std::snprintf(q, sizeof q, "%g", r.idle_quantile);
  const std::string source =
      "Prometheus " + r.url + ", the " + r.range_label + " ending " + Rfc3339(r.end_seconds) +
      " (idle: quantile_over_time(" + q +
      ") of the daemon's per-interval values as scraped; peak: max_over_time of "
      "its peak series of its longest window; startup: the last recorded; samples: values scraped)";
  return json::Serialize(bj::object{{"time", r.end_seconds},
                                    {"source", source},
                                    {"windows", bj::array{bj::value(r.range_label)}},
                                    {"workloads", std::move(workloads)}});
}

std::optional<std::string> FetchPrometheusWorkloadsJson(const PrometheusRange& range,
                                                        const std::vector<Selector>& selectors,
                                                        const HttpGetOptions& options, std::string* error) {
  auto url = ParseHttpUrl(range.url, error);
  if (!url) return std::nullopt;
  const auto queries = PrometheusQueries(range, selectors);
  std::vector<std::vector<PromSample>> answers;
  for (const PromQuery& q : queries) {
    const std::string target = PrometheusQueryTarget(url->target, q);
    const std::string where = (url->tls ? "https://" : "http://") + url->authority + target.substr(0, target.find('?'));
    auto answer = HttpFetch(range.url, target, options, error);
    if (!answer) {
      // "URL?query=%28...: what" as "URL: query `...`: what": the query readable.
      const std::string full = (url->tls ? "https://" : "http://") + url->authority + target + ": ";
      if (error->starts_with(full)) *error = where + ": query `" + q.promql + "`: " + error->substr(full.size());
      return std::nullopt;
    }
    auto samples = ParsePrometheusAnswer(answer->status, answer->reason, answer->body, where, q.promql, error);
    if (!samples) return std::nullopt;
    answers.push_back(std::move(*samples));
  }
  return PrometheusWorkloadsJson(range, queries, answers);
}

}  // namespace we
