#pragma once
// `workload_exporter report`: what chosen workloads cost at rest and at their peak, VM against
// container, and what to size them at, read from a running daemon's /api/v1/workloads (the same
// snapshot as /metrics), or from Prometheus over any range (--prometheus, report_prometheus.h):
//
//   | Metric | VM | Container | Difference |          (per group with --group-by / --compare)
//
// The subcommand in three pure steps and one fetch: ParseReportArgs (the command line),
// FetchWorkloadsJson (tools/http_client.h), RenderReport (report_select.h chooses,
// report_model.h computes, report_format.h prints). Difference is (container - VM) / VM.
//
// Thread-safety: every function may be called from any thread.

#include <optional>
#include <string>
#include <vector>

#include "tools/http_client.h"
#include "tools/report_model.h"
#include "tools/report_prometheus.h"
#include "tools/report_select.h"

namespace we {

struct ReportOptions {
  std::string format = "table";  // table, markdown, json, csv (report_format.h)
  std::vector<Selector> selectors{};
  Grouping grouping{};
};

// Renders the report from the endpoint's JSON. Pure. nullopt with `error` for text that is not
// JSON or an unknown format.
std::optional<std::string> RenderReport(const std::string& workloads_json, const ReportOptions& options,
                                        std::string* error);

// GET /api/v1/workloads from the daemon at `url` (http[s]://host:port; a path is ignored). The
// body of a 200 answer; otherwise nullopt with `error` naming the URL and what went wrong, e.g.
// "http://127.0.0.1:9746/api/v1/workloads: no answer within 10s".
std::optional<std::string> FetchWorkloadsJson(const std::string& url, const HttpGetOptions& options,
                                              std::string* error);

// The command line after "report", understood.
struct ReportArgs {
  std::string url = "http://localhost:9746";
  // --prometheus URL --range D [--end TIME]: the report from Prometheus (report_prometheus.h)
  // instead of the daemon at `url`; `range.end_seconds` is 0 until RunReport takes the time.
  bool from_prometheus = false;
  PrometheusRange range;
  bool end_given = false;
  HttpGetOptions http;  // with the password read from --password-file
  ReportOptions report;
  bool help = false;
};

// Parses the arguments and reads --password-file (one trailing newline stripped). nullopt with
// `error` naming the argument (or the file) for a usage error.
std::optional<ReportArgs> ParseReportArgs(const std::vector<std::string>& args, std::string* error);

// --end: RFC 3339 ("2026-12-03T12:00:00Z", "...+01:00", fractions of a second allowed) or Unix
// seconds ("1764763200"). Pure.
std::optional<double> ParseReportTime(const std::string& text);

// The usage text, with every option.
extern const char* const kReportUsage;

// The subcommand: args after "report". Returns the exit code (0, 1 on a failed fetch or an
// unreadable answer, 2 on a usage error).
int RunReport(const std::vector<std::string>& args);

}  // namespace we
