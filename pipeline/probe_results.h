#pragma once
// What the ready probes (pipeline/prober.h) found, handed to the sampling pipeline, which copies
// each workload's figures into its WorkloadView at the next tick. The prober runs on the daemon's
// event loop and the pipeline on the sampler's thread: ProbeResultsStore is the one thing they
// share, as SnapshotStore is between the sampler and the HTTP side.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace we {

// Response times of the successful probes of one workload: a Prometheus histogram. The buckets
// are the client libraries' defaults (DefBuckets), as blackbox_exporter users know them; they
// span 5 ms to 10 s, and every probe ends by its deadline (1 s unless configured).
struct ProbeDurations {
  static constexpr std::array<double, 11> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<uint64_t, kBounds.size()> buckets{};  // cumulative: observations <= kBounds[i]
  uint64_t count = 0;                              // the +Inf bucket
  double sum = 0;

  void Observe(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      if (seconds <= kBounds[i]) ++buckets[i];
    }
    ++count;
    sum += seconds;
  }
};

// One workload's probe figures, for one instance of it.
struct ProbeFigures {
  uint64_t instance = 0;                            // Sample::instance the figures belong to
  std::optional<double> ready_seconds;              // start -> first success, when seen from its start
  std::optional<bool> success;                      // the last finished probe's result
  std::shared_ptr<const ProbeDurations> durations;  // null until a probe succeeds
};

// By workload identity key (WorkloadIdentity::Key).
using ProbeFiguresMap = std::map<std::string, ProbeFigures>;

// Thread-safety: Publish and Get may be called from any thread.
class ProbeResultsStore {
 public:
  void Publish(std::shared_ptr<const ProbeFiguresMap> results) {
    std::lock_guard lock(mu_);
    latest_ = std::move(results);
  }
  std::shared_ptr<const ProbeFiguresMap> Get() const {
    std::lock_guard lock(mu_);
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ProbeFiguresMap> latest_;
};

}  // namespace we
