#pragma once
// CgroupCollector finds the workloads in the cgroup filesystem and reads their figures.
//
// Each tick it walks every hierarchy it reads from (the cgroup2 tree and the v1 cpu, cpuacct,
// memory and pids trees), names each directory with the runtimes' rules (container_identity.h),
// and joins a workload's directories across hierarchies by identity, not by path: on hybrid hosts
// a container's v1 memory cgroup can sit under another parent than its cgroup2 one.
//
// A workload's nested cgroups are part of it and are not walked, except in the workloads that
// hold others (kNestingRules, cgroup_collector.cc: pods, LXC/Incus and nspawn containers): there
// the walk goes on, and each workload found inside gets the outer one's id as its parent
// (WorkloadIdentity::parent). Systemd services inside a workload are never services of the host.
//
// It walks the hierarchies again only when they may have changed: a walked directory's link count
// changed (cgroupfs counts 2 + its subdirectories, so a cgroup made or removed under it shows),
// a workload's directory vanished or was recreated, or kRewalkTicks passed. Where the filesystem
// does not count subdirectories (links 0 or 1: btrfs, overlayfs) it walks every tick.
//
// What it keeps between ticks, per workload instance (the inodes of its directories; a changed
// instance drops everything kept for the old one). The instance is checked by one stat per
// directory, except where cgroup2 is cgroupfs and its cpu.stat is read through a kept descriptor:
// kernfs fails that read (ENODEV) once the cgroup is removed, so its success vouches for the
// instance, and the directories are stat'ed only every kSlowTicks ticks (and whenever that read
// fails). On other file systems (a tmpfs fixture) an open file outlives its removal: every tick.
//
//   - an open descriptor per file it reads, re-read with pread (FileSystem::Open), up to
//     set_descriptor_budget() descriptors in all; files beyond that are read by path each time;
//   - which files were absent, probed again only every kReprobeTicks ticks (a hybrid host's
//     cgroup2 directory lacks 9 of the 13 cgroup2 files every tick; controllers enabled later
//     show up within that many ticks);
//   - the limits (cpu.max, memory.max, cpu.cfs_quota_us, cpu.cfs_period_us,
//     memory.limit_in_bytes), re-read only every kSlowTicks ticks: they change by hand
//     (docker update), not by load. A new instance reads them at once;
//   - the last content of the files only a scrape shows (PSI, io.stat, memory.events, swap,
//     pids.current, v1 throttling, OOM and blkio; the thread counts and the network), re-read only
//     on the ticks the sampler marks with set_scrape_figures_due(true), the ones just before a
//     scrape (pipeline/scrape_schedule.h). CPU usage, the working set and memory.peak feed the
//     idle/peak windows and are read every tick. A new instance reads everything at once.
// A read that finds the cgroup gone (ENOENT, ENODEV) leaves the figure absent for that tick.
//
// Thread-safety: not thread-safe; owned and called by the sampler.

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/cgroup_figures.h"
#include "collectors/cgroup_layout.h"
#include "collectors/collector.h"
#include "collectors/file_system.h"
#include "collectors/machined_registry.h"

namespace we {

// Where one workload lives: its directory in each hierarchy that has it.
struct WorkloadLocation {
  WorkloadIdentity identity;
  std::optional<std::string> unified_dir;      // absolute
  std::optional<std::string> unified_rel;      // relative to the cgroup2 root, "/system.slice/..."
  std::map<std::string, std::string> v1_dirs;  // controller -> absolute directory
  std::map<std::string, std::string> v1_rels;  // controller -> path relative to its hierarchy
};

class CgroupCollector final : public Collector {
 public:
  // An absent file is probed again every this many ticks.
  static constexpr uint64_t kReprobeTicks = 30;
  // Limits are re-read every this many ticks.
  static constexpr uint64_t kSlowTicks = 10;
  // The tree is walked at least every this many ticks.
  static constexpr uint64_t kRewalkTicks = 30;

  // How often a file is read: every tick, on the ticks a scrape is near, or as a limit (every
  // kSlowTicks). The cadence of each file is a column of kCgroupFiles (cgroup_collector.cc).
  enum class Cadence : uint8_t { kTick, kScrape, kLimit };

  // `fs` must outlive the collector. `root` is --path.cgroupfs.
  // `services`: also report systemd services (system.slice/*.service) as kind="service".
  // `procfs` (empty: none) is where each container's network namespace is read from
  // (/proc/PID/net/dev of one of its processes).
  CgroupCollector(const FileSystem& fs, std::string root, bool services = false, std::string procfs = "");

  std::string name() const override { return "cgroup"; }
  CollectResult Collect() override;
  // Whether the next Collect() re-reads the files only a scrape shows (true, the default: every
  // tick reads everything) or gives their kept content. Set before each Collect by the sampler.
  void set_scrape_figures_due(bool due) { scrape_figures_due_ = due; }
  void Recycle(std::vector<Sample>* spent) override;

  const CgroupLayout& layout() const { return layout_; }
  // machined's records, to name machine-*.scope directories by (null, the default: by name only).
  // Each walk forgets what the registry read before, so a record written late is read on the next
  // one. It must outlive the collector.
  void set_machines(const MachinedRegistry* machines) { machines_ = machines; }

  // Walks the hierarchies and returns every workload found, keyed by identity. Public for tests.
  std::map<std::string, WorkloadLocation> Discover(std::vector<std::string>* errors) const;

  // Descriptors held open for cgroup files right now, and the most it will hold.
  uint64_t kept_descriptors() const { return kept_descriptors_; }
  void set_descriptor_budget(uint64_t budget) { descriptor_budget_ = budget; }

 private:
  // A directory the walk listed (not a workload's), with its link count when listed.
  struct WatchedDir {
    std::string path;
    uint64_t links = 0;
  };
  std::map<std::string, WorkloadLocation> Discover(std::vector<std::string>* errors,
                                                   std::vector<WatchedDir>* watched) const;
  struct Cached;
  // Reads one workload's files into *sample (cleared first), keeping its descriptors in `kept`
  // (its entry in cache_, under its identity key `key`) for the next tick. Returns `kept`, or null
  // when every one of its directories has vanished (it is gone).
  Cached* ReadInto(const std::string& key, const WorkloadLocation& location, Cached* kept, Sample* sample,
                   std::vector<std::string>* errors);
  // `enclosing`: the workload whose tree this is (the parent of any found in it), or null.
  void Walk(const std::string& hierarchy_root, const std::string& rel, int depth,
            const std::vector<std::string>& controllers, std::map<std::string, WorkloadLocation>* found,
            std::vector<WatchedDir>* watched, const WorkloadIdentity* enclosing) const;
  bool TreeMayHaveChanged() const;

 public:
  // Every file the collector may read for a workload, cgroup2 first, then v1: the rows of
  // kCgroupFiles (cgroup_collector.cc), then the files read by hand.
  enum Slot : uint8_t {
    kCpuStat,
    kCpuMax,
    kMemoryCurrent,
    kMemoryStat,
    kMemorySwapCurrent,
    kMemoryMax,
    kMemoryPeak,
    kMemoryEvents,
    kPidsCurrent,
    kCpuPressure,
    kMemoryPressure,
    kIoPressure,
    kIoStat,
    kCpuacctUsage,
    kCpuacctUsageUser,
    kCpuacctUsageSys,
    kCpuacctStat,
    kCpuStatV1,
    kCfsQuota,
    kCfsPeriod,
    kMemoryUsageV1,
    kMemoryStatV1,
    kMemoryLimitV1,
    kMemoryMaxUsageV1,
    kMemoryOomControl,
    kBlkioBytes,
    kBlkioServiced,
    kPidsCurrentV1,
    kThreads,
    kTasksV1,
    kProcs,
    kSlotCount
  };

 private:
  struct FileSlot {
    std::unique_ptr<OpenFile> file;  // null: not open (absent, or not tried yet)
    uint64_t next_try = 0;           // tick from which an absent file is probed / a limit re-read
    bool absent = false;             // the last probe found no file
    bool has_data = false;           // `kept` holds the last good content (limits and kScrape files)
    std::string kept;
  };
  struct Cached {
    uint64_t instance = 0;
    uint64_t seen_tick = 0;
    uint64_t phase = 0;  // spreads the slow re-reads of many workloads over the ticks
    std::array<FileSlot, kSlotCount> slots;
    // The thread count (where no pids.current) and network figures of the last tick that read them.
    bool threads_counted = false;
    std::optional<uint64_t> counted_threads;
    bool network_read = false;
    NetworkFigures network;
    // The network namespace (its net/dev's "device:inode") of the process ReadNetwork looked at
    // (nullopt: it had none to read), kept while that stays the cgroup's first process, for up to
    // kReprobeTicks: no stat per container per tick.
    std::string netns_pid;
    std::optional<std::string> netns;
    uint64_t netns_tick = 0;  // when netns was read; 0: never
    // ReadListeners: a listener was found (then it stops looking), and the namespace's address.
    bool listen_found = false;
    uint64_t listen_first_tick = 0;  // the first tick that considered looking; 0: none yet
    bool listen_wanted = false;      // seen from its start, so that its listen time can be given
    std::string ipv4;
    uint64_t ipv4_tick = 0;  // when ipv4 was read; 0: never
    // The memory.peak descriptor reset every tick (ResettableWatermark), once opened; null until
    // then, or when this instance's file cannot be reset.
    bool watermark_opened = false;
    std::unique_ptr<ResettableWatermark> watermark;
    // Ticks since an open that gave no watermark: retried every kWatermarkRetryTicks, as the
    // opener that would give it may only just have started (socket activation) or be restarting.
    uint32_t ticks_without_watermark = 0;
    // What the last stat of its directories said (ReadInto), and when they are stat'ed next: in
    // between, a read of cgroup2 cpu.stat through its kept descriptor vouches for the instance.
    std::optional<double> start_time_seconds;
    uint64_t unified_links = 0;
    uint64_t restat_tick = 0;
  };
  // Reads one file of the workload through its slot: the kept descriptor, a probe of an absent
  // file when due, or the kept content of a limit or a scrape's file. The view stays valid until
  // the next ReadSlot of the same slot.
  MaybeFile ReadSlot(Cached& cached, Slot slot, const std::string& dir, const char* file,
                     std::vector<std::string>* errors);
  void DropSlot(FileSlot& slot);
  static Cadence CadenceOf(Slot slot);
  std::optional<uint64_t> CountThreads(const std::string& dir, const char* file, int depth) const;

  // Fills each container's network figures, once per network namespace: containers sharing one
  // (a Kubernetes pod) show it on the first of them by identity, and a namespace shared with the
  // host (as /proc/1 sees it) is not a container's traffic. A process that exits mid-read leaves
  // the figures absent for this tick; a net/dev that does not parse is an error naming the file.
  // Both read the samples of this tick alongside read_ (the same order).
  void ReadNetwork(std::vector<Sample>* samples, std::vector<std::string>* errors);
  // Looks for each container's and service's first TCP listener (Sample::listening) and reads its
  // namespace's address (Sample::netns_ipv4). In a namespace of its own, any socket in LISTEN
  // state in /proc/PID/net/tcp{,6} is the workload's; in the host's, a listener counts only when
  // its inode is one of the workload's processes' descriptors (/proc/PID/fd, readable only for the
  // daemon's own user or root: otherwise the figure is absent). Once found, an instance is not
  // looked at again, so a workload that listens costs nothing after its start.
  void ReadListeners(std::vector<Sample>* samples, std::vector<std::string>* errors);
  // What both share. NetnsOf: the network namespace of <pid_dir>, the "device:inode" of its
  // net/dev (ReadNetwork's comment says why not ns/net); nullopt when it cannot be stat'ed.
  // ProcsDir: where a workload's processes are listed, its cgroup2 directory, else its v1 memory,
  // pids or cpu one; null when it has none. TrackNetns: c's namespace as of process `pid`,
  // re-read when that process changed, when never read, or every kReprobeTicks.
  std::optional<std::string> NetnsOf(const std::string& pid_dir) const;
  static const std::string* ProcsDir(const WorkloadLocation& loc);
  void TrackNetns(Cached& c, std::string_view pid, const std::string& pid_dir);
  // Reads and resets each workload's memory.peak descriptor (see ResettableWatermark), opening
  // it on an instance's first tick.
  void ReadIntervalPeaks(std::vector<Sample>* samples);

  const FileSystem& fs_;
  std::string root_;
  CgroupLayout layout_;
  bool services_ = false;
  std::string procfs_;
  const MachinedRegistry* machines_ = nullptr;
  std::unordered_map<std::string, Cached> cache_;  // by identity key
  std::array<std::string, kSlotCount> buffers_;    // this workload's reads, reused across workloads
  // This tick's samples' locations and kept state, in the samples' order: no look-up by key after
  // the read. Valid only within one Collect().
  std::vector<std::pair<const WorkloadLocation*, Cached*>> read_;
  std::vector<Sample> spares_;                                   // from Recycle, refilled by the next Collect
  std::vector<std::pair<std::string_view, uint64_t>> v1_links_;  // scratch: one workload's v1 dirs
  uint64_t tick_ = 0;
  bool scrape_figures_due_ = true;
  std::map<std::string, WorkloadLocation> locations_;  // the last walk's workloads
  // The same, each with its entry in cache_, made at each walk. An entry is erased only for a
  // workload that was not read, which sets rescan_: the next tick walks (and remakes this) first.
  struct Walked {
    const std::string* key;
    const WorkloadLocation* location;
    Cached* cached;
  };
  std::vector<Walked> walked_;
  std::vector<WatchedDir> watched_;  // the directories it listed
  uint64_t walked_tick_ = 0;         // 0: never walked
  bool rescan_ = false;              // a workload vanished or was recreated
  uint64_t kept_descriptors_ = 0;
  uint64_t descriptor_budget_ = 0;  // set_descriptor_budget; none until then
  // The cgroup2 hierarchy is cgroupfs, where a kept descriptor's read fails once its cgroup is
  // removed (FileSystem::KeptReadsProveLiveness): set with the layout.
  bool kept_reads_prove_liveness_ = false;
};

}  // namespace we
