#pragma once
// /api/v1/workloads: the newest snapshot's workloads as JSON, for `workload_exporter report` and
// for people. Built from the same snapshot as /metrics, so the two always agree, and like /metrics
// at most once per snapshot (WorkloadsJsonCache): every request between two ticks shares one
// document.
//
// {"time": <unix s>, "windows": ["1m", ...],
//  "workloads": [{"kind", "runtime", "id", "name", "start_time_seconds", "startup_seconds",
//                 "cpu_usage_cores", "memory_usage_bytes", "memory_working_set_bytes",
//                 "windows": {"1m": {"cpu_idle_cores", "cpu_peak_cores", "memory_idle_bytes",
//                                    "memory_peak_bytes"}, ...}}, ...]}
// Figures are JSON numbers (whole ones written as integers); a figure the snapshot lacks is null.
// Before the first snapshot the document is {"workloads":[]}.

#include <memory>
#include <mutex>
#include <string>

#include "pipeline/snapshot.h"

namespace we {

// The document for one snapshot. Pure.
std::string WorkloadsJson(const Snapshot& snapshot);

// The document for the store's newest snapshot, built on the first request for that snapshot and
// shared by every later one until the next snapshot is published.
// Ownership: `store` must outlive the cache. The cache holds its snapshot weakly, so that the
// sampler may reuse it (SamplingPipeline::Tick); it is compared by owner only, never locked.
// Thread-safety: Current may be called from any thread; a call that arrives while the document
// is being built waits for that build instead of building another.
class WorkloadsJsonCache {
 public:
  explicit WorkloadsJsonCache(const SnapshotStore& store);

  // Never null.
  std::shared_ptr<const std::string> Current();

  // Documents built so far (one per snapshot that was asked for).
  uint64_t builds() const;

 private:
  const SnapshotStore& store_;
  mutable std::mutex mu_;
  std::weak_ptr<const Snapshot> of_;
  std::shared_ptr<const std::string> document_;
  uint64_t builds_ = 0;
};

}  // namespace we
