#pragma once
// /api/v1/workloads: the newest snapshot's workloads as JSON, for `workload_exporter report` and
// for people. Built from the same snapshot as /metrics, so the two always agree, and like /metrics
// at most once per snapshot (WorkloadsJsonCache): every request between two ticks shares one
// document.
//
// {"time": <unix s>, "windows": ["1m", ...],
//  "workloads": [{"kind", "runtime", "id", "name", "start_time_seconds", "startup_seconds",
//                 "startup_state", "samples", "cpu_usage_cores", "memory_usage_bytes",
//                 "memory_working_set_bytes",
//                 "windows": {"1m": {"samples", "cpu_idle_cores", "cpu_peak_cores",
//                                    "memory_idle_bytes", "memory_peak_bytes"}, ...},
//                 "labels": {"image", "namespace", "pod", "container", "label_<x>", ...}}, ...]}
// Figures are JSON numbers (whole ones written as integers); a figure the snapshot lacks is null.
// "samples" counts the samples of this instance of the workload (a recreated container starts
// again at 1); a window's "samples" is the most of them its slots can hold, min(samples, window /
// interval): fewer when the sampler missed ticks. "startup_state" says why startup_seconds is
// null (StartupState): "timed", "waiting" (seen from its start, not settled yet), "seen_late"
// (already running when first seen), "no_start_time", "never_settled", or "not_computed" (no
// windows configured).
// "labels" holds the workload's other /metrics labels, named and valued as there: the runtime's
// image, namespace, pod and container where known, and the allowed container labels as
// label_<x> (workload_info's); empty ({}) for a workload that has none.
// Before the first snapshot the document is {"workloads":[]}.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "pipeline/snapshot.h"

namespace we {

// The document for one snapshot. Pure.
std::string WorkloadsJson(const Snapshot& snapshot);

// The document for the store's newest snapshot, built on the first request for that snapshot and
// shared by every later one until the next snapshot is published.
// Ownership: `store` must outlive the cache. The cache holds its snapshot weakly, so that the
// sampler may reuse it (SamplingPipeline::Tick); it is compared by owner only, never locked. It
// owns one worker thread, on which CurrentAsync builds; the destructor waits for a build in
// progress and drops queued requests without calling them.
// Thread-safety: Current and CurrentAsync may be called from any thread; a call that arrives while
// the document is being built waits for that build instead of building another.
class WorkloadsJsonCache {
 public:
  using Done = std::function<void(std::shared_ptr<const std::string>)>;

  explicit WorkloadsJsonCache(const SnapshotStore& store);
  ~WorkloadsJsonCache();
  WorkloadsJsonCache(const WorkloadsJsonCache&) = delete;
  WorkloadsJsonCache& operator=(const WorkloadsJsonCache&) = delete;

  // Never null. Builds on the calling thread when the newest snapshot has no document yet.
  std::shared_ptr<const std::string> Current();
  // Current without building on this thread (the daemon's event loop): `done(document)` is
  // called at once when the newest snapshot's document is built, else on the worker after the
  // build. Never null.
  void CurrentAsync(Done done);

  // Documents built so far (one per snapshot that was asked for).
  uint64_t builds() const;

 private:
  const SnapshotStore& store_;
  mutable std::mutex mu_;
  std::weak_ptr<const Snapshot> of_;
  std::shared_ptr<const std::string> document_;
  uint64_t builds_ = 0;
  std::unique_ptr<boost::asio::thread_pool> worker_;
};

}  // namespace we
