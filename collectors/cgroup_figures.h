#pragma once
// Turns the raw text of one workload's cgroup files into figures: pure, no I/O. The reader
// (cgroup_collector.cc) fills RawCgroupFiles from whichever hierarchies hold the workload; this
// takes each figure from cgroup v2 where the file exists and from v1 otherwise, so pure v2, v1 and
// hybrid hosts all go through the same code.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/sample.h"

namespace we {

// Views, not copies: the reader owns the bytes (its per-file buffers, reused tick after tick) and
// keeps them alive until ParseCgroupFiles returns.
struct CgroupFile {
  std::string_view path;  // for error messages
  std::string_view data;
};
using MaybeFile = std::optional<CgroupFile>;

struct RawCgroupFiles {
  // cgroup v2, from the workload's directory in the unified hierarchy.
  MaybeFile cpu_stat;  // usage_usec user_usec system_usec [nr_periods nr_throttled throttled_usec]
  MaybeFile cpu_max;   // "max 100000" | "<quota> <period>"
  MaybeFile memory_current;
  MaybeFile memory_stat;  // anon file inactive_file ...
  MaybeFile memory_swap_current;
  MaybeFile memory_max;
  MaybeFile memory_peak;
  MaybeFile memory_events;  // oom_kill
  MaybeFile pids_current;
  MaybeFile cpu_pressure;
  MaybeFile memory_pressure;
  MaybeFile io_pressure;
  MaybeFile io_stat;  // per device: rbytes wbytes rios wios

  // cgroup v1, from the workload's directory in each controller's hierarchy.
  MaybeFile cpuacct_usage;       // ns
  MaybeFile cpuacct_usage_user;  // ns
  MaybeFile cpuacct_usage_sys;   // ns
  MaybeFile cpuacct_stat;        // user/system in USER_HZ ticks, when usage_user/sys are absent
  MaybeFile cpu_stat_v1;         // nr_periods nr_throttled throttled_time(ns)
  MaybeFile cpu_cfs_quota_us;    // -1 for no limit
  MaybeFile cpu_cfs_period_us;
  MaybeFile memory_usage_in_bytes;
  MaybeFile memory_stat_v1;  // total_rss total_cache total_inactive_file total_swap ...
  MaybeFile memory_limit_in_bytes;
  MaybeFile memory_max_usage_in_bytes;
  MaybeFile memory_oom_control;  // oom_kill (Linux 4.13+)
  MaybeFile pids_current_v1;
  MaybeFile blkio_service_bytes;  // blkio.throttle.io_service_bytes
  MaybeFile blkio_serviced;       // blkio.throttle.io_serviced

  // Threads counted from cgroup.threads / tasks, for hosts without a pids controller.
  std::optional<uint64_t> counted_threads;
};

// USER_HZ, the unit of cpuacct.stat. Linux fixes it at 100 on every architecture it exports it.
inline constexpr double kUserHz = 100.0;

// v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages); anything
// at or above 2^62 bytes is treated as unlimited.
inline constexpr uint64_t kV1UnlimitedBytes = uint64_t{1} << 62;

// Fills the figures of `sample` (cpu, memory, tasks, pressure). Parse failures are appended to
// `errors` as "path: what was wrong" and leave only the affected figures empty.
void ParseCgroupFiles(const RawCgroupFiles& raw, Sample* sample, std::vector<std::string>* errors);

}  // namespace we
