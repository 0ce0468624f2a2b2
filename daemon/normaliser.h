#pragma once
// The normaliser turns each tick's samples into exported views: counters into rates, kept to one
// instance of a workload. A rate needs two samples of the same instance (the cgroup directories'
// inodes unchanged) with a counter that did not go backwards; anything else yields no rate, so a
// restarted container never shows a negative or doubled rate. Workloads not seen in a tick are
// forgotten at once, so their series vanish from the next scrape.
//
// Thread-safety: not thread-safe; owned and called by the sampler.

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/snapshot.h"

namespace we {

class Normaliser {
 public:
  using Clock = std::chrono::steady_clock;

  // `now` is when the samples were taken, on a monotonic clock.
  std::vector<WorkloadView> Update(std::vector<Sample> samples, Clock::time_point now);

  size_t tracked() const { return previous_.size(); }

 private:
  struct Previous {
    uint64_t instance = 0;
    std::optional<double> cpu_usage_seconds;
    Clock::time_point when;
  };
  std::unordered_map<std::string, Previous> previous_;
};

}  // namespace we
