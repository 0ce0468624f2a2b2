#include "daemon/normaliser.h"

#include <algorithm>

namespace we {

std::vector<WorkloadView> Normaliser::Update(std::vector<Sample> samples, Clock::time_point now) {
  std::vector<WorkloadView> views;
  views.reserve(samples.size());
  std::unordered_map<std::string, Previous> next;
  next.reserve(samples.size());

  for (Sample& s : samples) {
    std::string key = s.identity.Key();
    WorkloadView view;
    auto it = previous_.find(key);
    if (it != previous_.end() && it->second.instance == s.instance && it->second.cpu_usage_seconds &&
        s.cpu.usage_seconds) {
      double dt = std::chrono::duration<double>(now - it->second.when).count();
      double used = *s.cpu.usage_seconds - *it->second.cpu_usage_seconds;
      if (dt > 0 && used >= 0) view.cpu_usage_cores = used / dt;
    }
    next[key] = Previous{s.instance, s.cpu.usage_seconds, now};
    view.sample = std::move(s);
    views.push_back(std::move(view));
  }
  previous_ = std::move(next);
  std::sort(views.begin(), views.end(), [](const WorkloadView& a, const WorkloadView& b) {
    const auto& x = a.sample.identity;
    const auto& y = b.sample.identity;
    return std::tie(x.kind, x.runtime, x.name, x.id) < std::tie(y.kind, y.runtime, y.name, y.id);
  });
  return views;
}

}  // namespace we
