#pragma once
// /api/v1/workloads: the newest snapshot's workloads as JSON, for `workload_exporter report` and
// for people. Built from the same snapshot as /metrics, so the two always agree. Pure.
//
// {"time": <unix s>, "windows": ["1m", ...],
//  "workloads": [{"kind", "runtime", "id", "name", "start_time_seconds", "startup_seconds",
//                 "cpu_usage_cores", "memory_usage_bytes", "memory_working_set_bytes",
//                 "windows": {"1m": {"cpu_idle_cores", "cpu_peak_cores", "memory_idle_bytes",
//                                    "memory_peak_bytes"}, ...}}, ...]}
// A figure the snapshot lacks is null.

#include <string>

#include "pipeline/snapshot.h"

namespace we {

std::string WorkloadsJson(const Snapshot& snapshot);

}  // namespace we
