#pragma once
// Sizing: a recommended CPU and memory request (and limit) for a workload, computed as two tools
// users already trust compute theirs, and named after them:
//
//   VPA   the Kubernetes Vertical Pod Autoscaler's recommender (kubernetes/autoscaler,
//         vertical-pod-autoscaler/pkg/recommender/logic, its default flags): the target is
//         CPU p90 of per-interval usage and memory p90 of the peaks of each day
//         (--memory-aggregation-interval 24h), each plus a 15% safety margin
//         (--recommendation-margin-fraction), then at least 25 mCPU and 250 MiB per pod
//         (--pod-recommendation-min-cpu-millicores, -min-memory-mb). The VPA recommends requests
//         only: its admission controller scales a pod's limits in proportion to them, so there is
//         no VPA limit of its own.
//   krr   robusta-dev/krr's `simple` strategy (robusta_krr/strategies/simple.py): CPU request =
//         p95 of usage, no CPU limit; memory request = memory limit = the maximum + 15%; no
//         recommendation from fewer than 100 data points (points_required).
//
// Left out of both: the VPA's decaying histogram weights (a day-old sample counts half) and its
// OOM bump, krr's OOM and HPA rules. What feeds them (README.md, "Sizing"): percentiles and peaks
// of the daemon's per-second samples, finer than either tool's usual input (the VPA's one sample a
// minute from metrics-server, krr's Prometheus rate over 1.25-minute steps).
//
// Thread-safety: every function is pure.

#include <optional>
#include <vector>

namespace we {

struct SizingConstants {
  static constexpr double kVpaCpuPercentile = 0.90;
  static constexpr double kVpaMemoryPercentile = 0.90;
  static constexpr double kVpaMargin = 0.15;
  static constexpr double kVpaMinCpuCores = 0.025;
  static constexpr double kVpaMinMemoryBytes = 250.0 * 1024 * 1024;
  static constexpr double kKrrCpuPercentile = 0.95;
  static constexpr double kKrrMemoryBuffer = 0.15;
  static constexpr double kKrrPointsRequired = 100;
  static constexpr double kDaySeconds = 86400;
};

// The value of rank max(1, ceil(q * n)) among `values` ascending (nearest rank, as the daemon's
// idle quantile, README.md "Idle and peak"); nullopt for none. For the VPA's p90 of daily peaks:
// with up to 10 days it is the highest day.
std::optional<double> NearestRankQuantile(std::vector<double> values, double q);

// VPA target CPU (cores) from the p90 of per-interval CPU: max(25 mCPU, p90 * 1.15).
std::optional<double> VpaCpuRequest(std::optional<double> cpu_p90_cores);
// VPA target memory (bytes) from the p90 of the daily peaks: max(250 MiB, p90 * 1.15).
std::optional<double> VpaMemoryRequest(std::optional<double> daily_peak_p90_bytes);
// krr simple CPU request (cores): the p95 itself, when `points` >= 100.
std::optional<double> KrrCpuRequest(std::optional<double> cpu_p95_cores, std::optional<double> points);
// krr simple memory request and limit (bytes): max * 1.15, when `points` >= 100.
std::optional<double> KrrMemory(std::optional<double> max_bytes, std::optional<double> points);

}  // namespace we
