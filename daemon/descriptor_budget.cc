#include "daemon/descriptor_budget.h"

#include <sys/resource.h>

#include <algorithm>

namespace we {

DescriptorPlan PlanDescriptors(uint64_t soft, std::size_t max_connections) {
  DescriptorPlan plan;
  plan.limit = soft;
  plan.http_connections =
      static_cast<std::size_t>(std::clamp<uint64_t>(soft / 2, 16, std::max<uint64_t>(16, max_connections)));
  const uint64_t reserve = plan.http_connections + std::max<uint64_t>(256, soft / 16);
  plan.cgroup_files = soft > reserve ? soft - reserve : 0;
  return plan;
}

DescriptorPlan RaiseAndPlanDescriptors(std::size_t max_connections) {
  constexpr uint64_t kUnlimited = uint64_t{1} << 20;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return PlanDescriptors(1024, max_connections);
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  const uint64_t soft = limit.rlim_cur == RLIM_INFINITY ? kUnlimited : static_cast<uint64_t>(limit.rlim_cur);
  return PlanDescriptors(soft, max_connections);
}

}  // namespace we
