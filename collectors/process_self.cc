#include "collectors/process_self.h"

#include <time.h>

#include "collectors/parse.h"

namespace we {

std::optional<double> ClockBootTime() {
  timespec real{}, boot{};
  if (clock_gettime(CLOCK_REALTIME, &real) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return std::nullopt;
  return static_cast<double>(real.tv_sec - boot.tv_sec) + static_cast<double>(real.tv_nsec - boot.tv_nsec) * 1e-9;
}

ProcessFigures ReadProcessFigures(const FileSystem& fs, const std::string& procfs, double ticks_per_second,
                                  uint64_t page_size) {
  ProcessFigures p;
  std::string error;
  std::string self = JoinPath(procfs, "self");
  if (ReadResult r = fs.ReadFile(JoinPath(self, "stat")); r.ok()) {
    if (auto st = ParseProcPidStat(r.data, &error)) {
      p.cpu_seconds = static_cast<double>(st->utime_ticks + st->stime_ticks) / ticks_per_second;
      p.resident_memory_bytes = st->rss_pages * page_size;
      p.virtual_memory_bytes = st->vsize_bytes;
      if (ReadResult boot = fs.ReadFile(JoinPath(procfs, "stat")); boot.ok()) {
        if (auto btime = ParseBootTime(boot.data, &error)) {
          p.start_time_seconds =
              PreciseBootTime(*btime, ClockBootTime()) + static_cast<double>(st->starttime_ticks) / ticks_per_second;
        }
      }
    }
  }
  if (ReadResult r = fs.ReadFile(JoinPath(self, "limits")); r.ok()) {
    if (auto max = ParseMaxOpenFiles(r.data, &error); max && *max) p.max_fds = **max;
  }
  if (auto fds = fs.CountEntries(JoinPath(self, "fd"))) p.open_fds = *fds;
  return p;
}

}  // namespace we
