#pragma once
// The daemon's own CPU, memory and descriptors, read from <procfs>/self, for the standard
// process_* metrics. Absent figures (a fixture procfs without "self") emit no series.

#include <optional>
#include <string>

#include "collectors/file_system.h"
#include "collectors/sample.h"

namespace we {

// CLOCK_REALTIME - CLOCK_BOOTTIME now, in seconds: this host's boot time to the nanosecond, for
// PreciseBootTime (collectors/parse.h). nullopt when a clock cannot be read. Any thread.
std::optional<double> ClockBootTime();

// Reads <procfs>/self/{stat,limits,fd} and <procfs>/stat. Never fails: what cannot be read is left
// empty. `ticks_per_second` and `page_size` come from sysconf in production.
ProcessFigures ReadProcessFigures(const FileSystem& fs, const std::string& procfs, double ticks_per_second,
                                  uint64_t page_size);

}  // namespace we
