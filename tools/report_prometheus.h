#pragma once
// `workload_exporter report --prometheus URL --range 24h [--end TIME]`: the report over any time
// range, from what Prometheus has scraped of one daemon or several. The same table as from a live
// daemon: the answers of Prometheus' /api/v1/query are turned into a workloads document of the
// daemon's own shape (exposition/workloads_json.h) with one "window", the range, which
// report_model.h reads as it reads the daemon's, so that selection, grouping and formats are one
// code. A workload is one (instance, job, kind, runtime, id, name): `--select instance=h1:9746`
// keeps one host's, and instance and job are labels like the others.
//
// Instant queries, every one evaluated at --end over the range R (README.md, "The comparison
// report"):
//   startup  last_over_time(workload_startup_seconds[R]): the last recorded startup
//   idle     quantile_over_time(q, workload_cpu_usage_cores[R]) and of the working set (usage
//            where there is none), q = 0.1 as the daemon's idle_quantile: the daemon's
//            per-interval values, as many as were scraped
//   peak     max_over_time(workload_cpu_peak_cores[R]) and of workload_memory_peak_bytes, of the
//            longest window (PeakWindow): the daemon's peaks of every per-second sample and, while
//            a workload is younger than that window, of the kernel's watermarks, so no scrape
//            interval up to the window misses a peak. A peak up to that window (1h by default)
//            before the range's start can count.
//   sizing   quantile_over_time(0.9 and 0.95, workload_cpu_usage_cores[R]), count_over_time of the
//            CPU and memory series (krr's data points), and the daily peaks: max_over_time of the
//            peak series over each day ending at --end, --end - 1d, ... (the oldest day cut at the
//            range's start), each an instant query of its own, their p90 taken here
//            (NearestRankQuantile, report_sizing.h)
//   probes   last_over_time of workload_listen_seconds, workload_ready_seconds and
//            workload_probe_success; the response time is increase() of the probe histogram's
//            _sum over the range divided by that of its _count: the mean of the range's probes
// Equality selectors on name, id, runtime, kind, instance and job are also put in the queries'
// matchers, which every workload series carries; the rest are applied to the document.
//
// Prometheus' errors (a bad query, 4xx/5xx with its error JSON, a response that is not JSON) name
// the URL and the query: "http://p:9090/api/v1/query: query `max_over_time(...)`: bad_data: ...".
//
// Thread-safety: every function but FetchPrometheusWorkloadsJson is pure; that one blocks.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tools/http_client.h"
#include "tools/report_select.h"

namespace we {

struct PrometheusRange {
  std::string url;           // as given to --prometheus, for the document's "source"
  double end_seconds = 0;    // --end, Unix seconds
  double range_seconds = 0;  // --range
  std::string range_label;   // "24h", the document's window
  double idle_quantile = 0.10;
};

// One instant query: what it answers, its PromQL, when it is evaluated.
struct PromQuery {
  std::string key;  // "startup", "cpu_idle", ..., "memory_day_3"
  std::string promql;
  double time = 0;
};

// One element of an instant vector.
struct PromSample {
  std::map<std::string, std::string> labels;  // without __name__
  double value = 0;
};

// The queries for the range, in the order FetchPrometheusWorkloadsJson sends them.
std::vector<PromQuery> PrometheusQueries(const PrometheusRange& range, const std::vector<Selector>& selectors);

// The GET target of one query beneath Prometheus' base path ("" or "/prometheus"):
// "/prometheus/api/v1/query?query=...&time=1764766800.000", query percent-encoded.
std::string PrometheusQueryTarget(const std::string& base_path, const PromQuery& query);

// One answer of /api/v1/query, whatever its HTTP status: the vector of a success; nullopt with
// `error` naming `where` (the URL) and the query for an error answer (its errorType and error),
// for a status other than 200 without Prometheus' JSON, for text that is not JSON, or for a result
// that is not a vector. Non-finite values (NaN, ±Inf) are left out.
std::optional<std::vector<PromSample>> ParsePrometheusAnswer(unsigned status, const std::string& reason,
                                                             const std::string& body, const std::string& where,
                                                             const std::string& query, std::string* error);

// The peak window to read of those a workload has: the longest. "" for none.
std::string PeakWindow(const std::vector<std::string>& windows);

// The workloads document (report_model.h) from the answers, answers[i] to queries[i].
std::string PrometheusWorkloadsJson(const PrometheusRange& range, const std::vector<PromQuery>& queries,
                                    const std::vector<std::vector<PromSample>>& answers);

// Sends every query to Prometheus at `url` (http[s]://host:port[/base path]) and builds the
// document. nullopt with `error` at the first failed query.
std::optional<std::string> FetchPrometheusWorkloadsJson(const PrometheusRange& range,
                                                        const std::vector<Selector>& selectors,
                                                        const HttpGetOptions& options, std::string* error);

}  // namespace we
