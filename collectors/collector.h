#pragma once
// The interface every source of workloads implements. App builds the list of collectors from the
// configuration; the sampler calls Collect() once per tick and records each one's duration and
// success for workload_exporter_collector_{duration_seconds,success}.
//
// Thread-safety: a collector is called from one thread at a time (the sampler's). It may keep state
// between calls (open descriptors, caches), which is why Collect() is not const.

#include <string>
#include <vector>

#include "collectors/sample.h"

namespace we {

struct CollectResult {
  std::vector<Sample> samples;
  // Empty when the collector did its job. A partial failure (one unreadable file) is logged and
  // counted here; the samples it did get are still used.
  std::vector<std::string> errors;
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Short and stable: it becomes the `collector` label ("cgroup", later "libvirt", "qemu").
  virtual std::string name() const = 0;
  virtual CollectResult Collect() = 0;
  // Samples the pipeline is done with (their figures stale, their strings still holding their
  // capacity). A collector may take them and fill them on the next Collect() instead of making
  // new ones, so that a steady tick allocates nothing per workload; the default leaves them.
  virtual void Recycle(std::vector<Sample>* spent) { (void)spent; }
};

}  // namespace we
