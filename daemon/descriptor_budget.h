#pragma once
// The daemon's file descriptors, planned once at start: how many HTTP connections it may hold and
// how many cgroup files the sampler may keep open (a descriptor per file it re-reads with pread,
// ~13 per workload), so that neither starves the other and accept() never fails with EMFILE
// where eviction at the connection cap would not.
//
// Thread-safety: PlanDescriptors is pure; RaiseAndPlanDescriptors changes the process's
// RLIMIT_NOFILE and is called once, by App, before any other thread starts.

#include <cstddef>
#include <cstdint>

namespace we {

struct DescriptorPlan {
  uint64_t limit = 0;                // the soft RLIMIT_NOFILE
  std::size_t http_connections = 0;  // HttpServerOptions::max_connections
  uint64_t cgroup_files = 0;         // SamplerSettings::cgroup_descriptors
};

// For a soft limit of `soft` descriptors: HTTP gets half of it, at least 16 and at most
// `max_connections` (the server's own cap); everything else (/proc reads, libvirt, logs, memory.peak
// watermarks) a reserve of a sixteenth, at least 256; the cgroup files what is left, possibly 0.
// 20,000 -> 1,024 connections and 17,726 files; 8,192 -> 1,024 and 6,656; 1,024 -> 512 and 256.
DescriptorPlan PlanDescriptors(uint64_t soft, std::size_t max_connections);

// Raises the soft RLIMIT_NOFILE to the hard one (as Go's runtime does: the usual soft 1024 would
// run out first), then plans for the limit in effect. No limit at all plans for 2^20.
DescriptorPlan RaiseAndPlanDescriptors(std::size_t max_connections);

}  // namespace we
