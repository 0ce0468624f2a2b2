#pragma once
// /api/v1/workloads: the newest snapshot's workloads as JSON, for `workload_exporter report` and
// for people. Built from the same snapshot as /metrics, so the two always agree, and like /metrics
// at most once per snapshot (WorkloadsJsonCache): every request between two ticks shares one
// document.
//
// {"time": <unix s>, "windows": ["1m", ...],
//  "workloads": [{"kind", "runtime", "id", "name", "parent", "start_time_seconds", "startup_seconds",
//                 "startup_state", "samples", "cpu_usage_cores", "memory_usage_bytes",
//                 "memory_working_set_bytes", "listen_seconds", "ready_seconds", "probe_success",
//                 "probe_responses", "probe_response_seconds",
//                 "windows": {"1m": {"samples", "cpu_idle_cores", "cpu_peak_cores",
//                                    "memory_idle_bytes", "memory_peak_bytes",
//                                    "cpu_p90_cores", "cpu_p95_cores"}, ...},
//                 "labels": {"image", "namespace", "pod", "container", "label_<x>", ...}}, ...]}
// Figures are JSON numbers (whole ones written as integers); a figure the snapshot lacks is null.
// "samples" counts the samples of this instance of the workload (a recreated container starts
// again at 1); a window's "samples" is the most of them its slots can hold, min(samples, window /
// interval): fewer when the sampler missed ticks. "startup_state" says why startup_seconds is
// null (StartupState): "timed", "waiting" (seen from its start, not settled yet), "seen_late"
// (already running when first seen), "no_start_time", "never_settled", or "not_computed" (no
// windows configured).
// "listen_seconds" is workload_listen_seconds (start -> first listening TCP socket) and
// "ready_seconds" workload_ready_seconds (start -> first successful ready probe); "probe_success"
// is null for a workload no probe is configured for, else the last probe's 1 or 0;
// "probe_responses" counts its successful probes and "probe_response_seconds" is their mean
// response time (the histogram's sum / count), both null before the first. "cpu_p90_cores" and
// "cpu_p95_cores" are the window's CPU percentiles (pipeline/window.h), the sizing's inputs.
// "labels" holds the workload's other /metrics labels, named and valued as there: the runtime's
// image, namespace, pod and container where known, and the allowed container labels as
// label_<x> (workload_info's); empty ({}) for a workload that has none.
// Before the first snapshot the document is {"workloads":[]}.
//
// /api/v1/workloads/series: each workload's recent per-interval values, for the plots of the page
// at / (http/dashboard.h), from the same snapshot:
//
// {"time": <unix s of the last value>, "interval_seconds": 1, "kept": true, "slots": 300,
//  "covers": ["1m", "5m"],
//  "workloads": [{"kind", "runtime", "id", "name",
//                 "cpu_cores": [...], "memory_bytes": [...]}, ...]}
//
// The arrays are what the windows' plain ring holds (window.h): the last `slots` intervals at
// most (fewer for a younger workload), oldest first, the last one at "time", element i at
// time - (n - 1 - i) * interval_seconds; null where the interval has no value (a missed tick, a
// counter reset, the first sample of an instance has no CPU rate). "memory_bytes" is the memory
// the idle memory is taken from (the working set, else usage); the peak memory also counts the
// kernel's watermarks between samples, so it may be above every value here. "covers" names the
// windows whose whole span the arrays hold: the longer ones (1h by default) keep only packed,
// per-minute sorted values, which have lost their order, so no per-second series exists for them.
// Values are the windows' 16-bit codes decoded (relative error below 0.04%), to 5 significant
// digits. Copying the series costs memory, so the snapshots keep them only while someone asks:
// "kept" is false (and the arrays absent) for a snapshot taken before the first request of a
// while; the next one has them.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "pipeline/snapshot.h"

namespace we {

// The document for one snapshot. Pure.
std::string WorkloadsJson(const Snapshot& snapshot);
// The series document for one snapshot. Pure.
std::string WorkloadSeriesJson(const Snapshot& snapshot);

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

  using Builder = std::function<std::string(const Snapshot&)>;
  // `build` makes the document of a snapshot: WorkloadsJson, or WorkloadSeriesJson.
  explicit WorkloadsJsonCache(const SnapshotStore& store, Builder build = WorkloadsJson);
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
  Builder build_;
  mutable std::mutex mu_;
  std::weak_ptr<const Snapshot> of_;
  std::shared_ptr<const std::string> document_;
  uint64_t builds_ = 0;
  std::unique_ptr<boost::asio::thread_pool> worker_;
};

}  // namespace we
