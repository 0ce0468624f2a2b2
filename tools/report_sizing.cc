#include "tools/report_sizing.h"

#include <algorithm>
#include <cmath>

namespace we {

using C = SizingConstants;

// v + 15%, as v * 115 / 100: whole numbers first, so that 0.2 gives 0.23 and not
// 0.22999999999999998, as the recording rules (packaging/prometheus) compute it too.
double PlusMargin(double v, double margin) { return v * std::round(100 * (1 + margin)) / 100; }

std::optional<double> NearestRankQuantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * values.size())));
  return values[std::min(rank, values.size()) - 1];
}

std::optional<double> VpaCpuRequest(std::optional<double> p90) {
  if (!p90) return std::nullopt;
  return std::max(C::kVpaMinCpuCores, PlusMargin(*p90, C::kVpaMargin));
}

std::optional<double> VpaMemoryRequest(std::optional<double> p90) {
  if (!p90) return std::nullopt;
  return std::max(C::kVpaMinMemoryBytes, PlusMargin(*p90, C::kVpaMargin));
}

std::optional<double> KrrCpuRequest(std::optional<double> p95, std::optional<double> points) {
  if (!p95 || !points || *points < C::kKrrPointsRequired) return std::nullopt;
  return *p95;
}

std::optional<double> KrrMemory(std::optional<double> max_bytes, std::optional<double> points) {
  if (!max_bytes || !points || *points < C::kKrrPointsRequired) return std::nullopt;
  return PlusMargin(*max_bytes, C::kKrrMemoryBuffer);
}

}  // namespace we
