#pragma once
// A Snapshot is everything one tick learned, immutable once published. The sampler publishes one
// per tick to the SnapshotStore; the HTTP side reads the newest. That store is the only thing the
// two sides share.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collectors/sample.h"
#include "pipeline/probe_results.h"
#include "pipeline/window.h"

namespace we {

// Where a workload's startup time stands (why startup_seconds is absent, when it is).
enum class StartupState : uint8_t {
  kNotComputed,   // no idle/peak windows are configured, so no startup is timed
  kTimed,         // startup_seconds holds it
  kWaiting,       // seen from its start: waiting for the shortest window to fill and its CPU to settle
  kSeenLate,      // already running for a while when first seen (e.g. started before the daemon)
  kNoStartTime,   // no start time was known when it was first seen
  kNeverSettled,  // its start left the windows before its CPU settled: it will not be timed
};

// A workload's recent per-interval values, as its windows' plain ring holds them
// (WorkloadWindows::CopyRecent): WindowScale codes, oldest first, the last one this snapshot's;
// WindowScale::kGap for a slot without a value. Empty unless the snapshot keeps series
// (Snapshot::series_kept): copying them costs 4 bytes per slot per workload, paid only while
// someone looks (Sampler::WantSeries).
struct WorkloadSeries {
  std::vector<uint16_t> cpu_cores;     // WindowScale::Cores()
  std::vector<uint16_t> memory_bytes;  // WindowScale::Bytes(): the memory that feeds idle memory
};

// One workload as exported: the raw sample plus what the normaliser derived from it.
struct WorkloadView {
  Sample sample;
  std::optional<double> cpu_usage_cores;  // rate over the last interval, same instance only
  std::vector<WindowFigures> windows;     // one per configured window, in layout order
  std::optional<double> startup_seconds;  // from start until its CPU first settled
  StartupState startup_state = StartupState::kNotComputed;
  uint64_t samples = 0;  // samples of this instance so far, this one included
  // From the workload's start until a TCP socket was first seen in LISTEN state in its network
  // namespace (Sample::listening); absent until then, and for a workload not seen from its start.
  std::optional<double> listen_seconds;
  // Its ready probe's figures (probe_results.h), where a probe is configured for it.
  std::optional<double> ready_seconds;                    // start -> first successful response
  std::optional<double> probe_success;                    // 1 or 0: the last probe's result
  std::shared_ptr<const ProbeDurations> probe_durations;  // successful probes' response times
  WorkloadSeries series;
};

struct CollectorStatus {
  std::string name;
  double duration_seconds = 0;
  bool success = false;
  std::vector<std::string> errors;
};

struct Snapshot {
  uint64_t sequence = 0;                // 1 for the first tick's snapshot, +1 per tick
  double time_seconds = 0;              // Unix time the tick began
  std::vector<WorkloadView> workloads;  // sorted by identity key, for stable output
  std::vector<CollectorStatus> collectors;
  ProcessFigures process;
  std::shared_ptr<const WindowLayout> windows;      // labels of WorkloadView::windows; may be null
  std::string cgroup_layout;                        // "v2", "v1", "hybrid" or "none"
  std::string peak_source;                          // where peak memory comes from, see README.md
  std::map<std::string, uint64_t> metadata_errors;  // unreadable runtime state files, by runtime
  std::map<std::string, uint64_t> opener_requests;  // by result; empty without an opener
  bool series_kept = false;                         // WorkloadView::series are filled
  double interval_seconds = 0;                      // the sampling interval
};

// Thread-safety: Publish and Get may be called from any thread.
class SnapshotStore {
 public:
  void Publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mu_);
    latest_ = std::move(snapshot);
  }
  std::shared_ptr<const Snapshot> Get() const {
    std::lock_guard lock(mu_);
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> latest_;
};

}  // namespace we
