#pragma once
// `workload_exporter report`: what each workload, and each kind on average, costs at rest and at
// its peak, read from a running daemon's /api/v1/workloads (the same snapshot as /metrics), as a
// "VM vs container" table:
//
//   | Metric | VM | Container | Difference |
//
// Figures are those of the daemon's longest window; per kind, the mean over the workloads that
// have the figure. Difference is (container - VM) / VM.
//
// Thread-safety: every function may be called from any thread.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace we {

// Renders the report from the endpoint's JSON; format is "table", "markdown" or "json". Pure.
// "json" is {"window": "1h", "kinds": {"<figure>": {"vm": n, "container": n}, ...},
//            "workloads": [{"kind", "name", "<figure>": n, ...}, ...]}, absent figures null.
std::optional<std::string> RenderReport(const std::string& workloads_json, const std::string& format,
                                        std::string* error);

struct FetchTimeouts {
  std::chrono::milliseconds connect{10'000};  // to resolve nothing slower than DNS, then connect
  std::chrono::milliseconds read{10'000};     // from sending the request to the answer's last byte
};

// GET /api/v1/workloads from the daemon at `url` (http://host:port; a path is ignored), with
// Boost.Beast. The body of a 200 answer; otherwise nullopt with `error` naming the URL and what
// went wrong, e.g. "http://127.0.0.1:9746/api/v1/workloads: no answer within 10s".
std::optional<std::string> FetchWorkloadsJson(const std::string& url, FetchTimeouts timeouts, std::string* error);

// The subcommand: args after "report". Returns the exit code (0, 1 on a failed fetch, 2 on usage).
int RunReport(const std::vector<std::string>& args);

}  // namespace we
