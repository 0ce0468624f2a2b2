#pragma once
// Virtual machines found as QEMU processes under --path.procfs, with or without libvirt: any
// process whose executable is a QEMU system emulator (qemu-system-*, qemu-kvm). Its name comes
// from `-name guest=NAME,...` or `-name NAME`, its id from `-uuid` (the name when there is none),
// CPU from the process's own /proc/PID/stat (all its threads), vCPU threads ("CPU N/KVM",
// "CPU N/TCG") counted apart, memory from smaps_rollup's Rss (status VmRSS when there is no
// smaps_rollup), VmHWM as its watermark, and the start from the process's start time.
//
// Thread-safety: not thread-safe; owned and called by the sampler. The parsers are pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/file_system.h"

namespace we {

struct QemuCommandLine {
  std::string name;  // empty when the command line has no -name
  std::string uuid;  // empty when it has no -uuid
};

// /proc/PID/cmdline (arguments separated by NUL bytes). nullopt when argv[0] is not a QEMU
// system emulator.
std::optional<QemuCommandLine> ParseQemuCommandLine(std::string_view cmdline);

// A "Key:   123 kB" line of /proc/PID/status or smaps_rollup, in bytes. nullopt when absent.
std::optional<uint64_t> ParseKbField(std::string_view text, std::string_view key);

// The vCPU index of a QEMU thread name ("CPU 3/KVM", "CPU 0/TCG"), or nullopt.
std::optional<int> ParseVcpuThreadName(std::string_view comm);

class QemuProcessCollector final : public Collector {
 public:
  // `fs` must outlive the collector.
  QemuProcessCollector(const FileSystem& fs, std::string procfs, double ticks_per_second);

  std::string name() const override { return "qemu"; }
  CollectResult Collect() override;

 private:
  std::optional<Sample> ReadProcess(const std::string& pid, const QemuCommandLine& cmdline, double boot_time,
                                    std::vector<std::string>* errors) const;

  const FileSystem& fs_;
  std::string procfs_;
  double ticks_per_second_;
  // Verdicts of earlier ticks, by PID: non-QEMU processes are not re-read while their PID lives.
  std::map<std::string, std::optional<QemuCommandLine>> known_;
};

}  // namespace we
