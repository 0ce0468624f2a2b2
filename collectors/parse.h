#pragma once
// Pure parsers for the text files of cgroupfs and procfs. No I/O: each takes the file's content and
// returns typed values, or nullopt with *error set to what was wrong (without the path: the caller,
// who knows the path, prefixes it). These are what the unit tests and fuzzers call.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/sample.h"

namespace we {

// Parses one unsigned decimal integer, surrounding whitespace allowed ("12345\n").
std::optional<uint64_t> ParseU64(std::string_view text);
// Parses one signed decimal integer ("-1\n" in cpu.cfs_quota_us).
std::optional<int64_t> ParseI64(std::string_view text);

// A single-value file that may say "max" (memory.max, pids.max): nullopt value means unlimited.
struct MaxOrValue {
  std::optional<uint64_t> value;  // empty when the file says "max"
};
std::optional<MaxOrValue> ParseMaxOrU64(std::string_view text, std::string* error);

// "key value" lines (cpu.stat, memory.stat, memory.events, cpuacct.stat, v1 cpu.stat,
// memory.oom_control). Keys keep the file's order. A line that is not "key <unsigned>" is an error
// naming the line number.
class FlatKeyed {
 public:
  std::optional<uint64_t> Get(std::string_view key) const;
  const std::vector<std::pair<std::string, uint64_t>>& entries() const { return entries_; }
  void Add(std::string key, uint64_t value) { entries_.emplace_back(std::move(key), value); }

 private:
  std::vector<std::pair<std::string, uint64_t>> entries_;
};
std::optional<FlatKeyed> ParseFlatKeyed(std::string_view text, std::string* error);

// The same format and the same errors as ParseFlatKeyed, without building the table: out[i]
// receives the value of keys[i] (the first line with that key), or stays empty when no line has
// it. `out` must have keys.size() elements. No allocation unless the text is malformed: this is
// what the sampler calls every tick on memory.stat (50 lines, of which it wants 3).
bool ParseFlatKeyedPick(std::string_view text, std::span<const std::string_view> keys,
                        std::span<std::optional<uint64_t>> out, std::string* error);

// cgroup v2 cpu.max: "max 100000" (no limit: value empty) or "50000 100000" (0.5 cores).
std::optional<std::optional<double>> ParseCpuMax(std::string_view text, std::string* error);

// PSI files (cpu.pressure, memory.pressure, io.pressure): the cumulative "total=" of the "some" and
// "full" lines, converted from microseconds to seconds. Either line may be missing (cpu "full" came
// in Linux 5.13).
std::optional<PressureFigures> ParsePressure(std::string_view text, std::string* error);

// cgroup v2 io.stat: one line per device, "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...", summed
// over devices; unknown keys are ignored. Every counter starts at 0: the kernel writes a line only
// for a device the cgroup has done I/O on (each line has all four keys), so an empty io.stat is a
// cgroup with no I/O yet, whose counters exist at 0. Leaving them absent would hide the series
// until the first I/O, and rate() would never see that first increase.
std::optional<IoFigures> ParseIoStat(std::string_view text, std::string* error);

// cgroup v1 blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Read N" ... and a final
// "Total N"; the Read and Write lines summed over devices, as (read, write).
std::optional<std::pair<uint64_t, uint64_t>> ParseBlkioThrottle(std::string_view text, std::string* error);

// /proc/PID/net/dev: every interface but "lo", summed. Two header lines, then
// "iface: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes tx_packets tx_errs ...".
std::optional<NetworkFigures> ParseNetDev(std::string_view text, std::string* error);

// /proc/PID/net/tcp and tcp6: the sockets in LISTEN state (st 0A) of the namespace, each by its
// inode (the number behind a process's "socket:[N]" descriptor). A header line, then
// "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...".
// A line without those columns, or whose state or inode is not a number, is an error naming the line.
struct TcpListeners {
  std::vector<uint64_t> inodes;  // in the file's order; inode 0 (a socket being torn down) included
  bool any() const { return !inodes.empty(); }
};
std::optional<TcpListeners> ParseTcpListeners(std::string_view text, std::string* error);

// /proc/PID/net/fib_trie: the namespace's own IPv4 addresses (the "/32 host LOCAL" leaves), each
// once, in ascending numeric order, host byte order. The only procfs file that lists a namespace's
// IPv4 addresses (net/route has networks and gateways, if_inet6 is IPv6 only) and, like net/dev,
// readable by any user. Lines it does not know are skipped: the format has no version.
std::vector<uint32_t> ParseFibTrieLocalAddresses(std::string_view text);
// The first of those that is not loopback (127.0.0.0/8), as "a.b.c.d"; empty when none.
std::string FirstNonLoopbackIpv4(std::string_view fib_trie);
// "a.b.c.d" (host byte order) and back; nullopt for anything else.
std::optional<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);

// One line of /proc/PID/cgroup: "hierarchy-ID:controller-list:cgroup-path".
struct ProcCgroupEntry {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the cgroup2 entry ("0::/path")
  std::string path;
};
std::optional<std::vector<ProcCgroupEntry>> ParseProcCgroup(std::string_view text, std::string* error);

// /proc/PID/stat. comm may hold spaces and parentheses, so the fields are counted after the last ')'.
struct ProcPidStat {
  std::string comm;
  char state = '?';
  uint64_t utime_ticks = 0;      // field 14, in USER_HZ
  uint64_t stime_ticks = 0;      // field 15
  uint64_t starttime_ticks = 0;  // field 22, since boot
  uint64_t vsize_bytes = 0;      // field 23
  uint64_t rss_pages = 0;        // field 24
};
std::optional<ProcPidStat> ParseProcPidStat(std::string_view text, std::string* error);

// The "btime" line of /proc/stat: boot time in Unix seconds.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat, std::string* error);

// The boot's wall-clock time, to better than btime's whole second: `clock_boot_time` is
// CLOCK_REALTIME - CLOCK_BOOTTIME read now (the moment the boot clock's zero was, which is what
// /proc/PID/stat's starttime counts from), taken when it lies within btime's second, as it does on
// the host whose /proc is read; else btime (a fixture's /proc, or no clock reading). A process
// start is then right to a clock tick, not up to a second early.
double PreciseBootTime(uint64_t btime, std::optional<double> clock_boot_time);

// The soft "Max open files" limit from /proc/PID/limits; nullopt value when "unlimited".
std::optional<std::optional<uint64_t>> ParseMaxOpenFiles(std::string_view limits, std::string* error);

// Number of non-empty lines (cgroup.procs, cgroup.threads, tasks).
uint64_t CountNonEmptyLines(std::string_view text);

// Splits on a delimiter, dropping empty pieces.
std::vector<std::string_view> SplitNonEmpty(std::string_view text, char delimiter);

// SplitNonEmpty's pieces one at a time, without a vector: the parsers on the per-tick path use it.
class PieceReader {
 public:
  PieceReader(std::string_view text, char delimiter) : rest_(text), delimiter_(delimiter) {}
  // The next non-empty piece; false when there is none left.
  bool Next(std::string_view* piece) {
    while (!rest_.empty()) {
      const size_t end = rest_.find(delimiter_);
      const std::string_view p = rest_.substr(0, end);
      rest_ = end == std::string_view::npos ? std::string_view() : rest_.substr(end + 1);
      if (!p.empty()) {
        *piece = p;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view rest_;
  char delimiter_;
};

// Removes leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view text);

}  // namespace we
