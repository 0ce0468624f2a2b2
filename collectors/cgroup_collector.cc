#include "collectors/cgroup_collector.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "collectors/container_identity.h"
#include "collectors/parse.h"

namespace we {
namespace {

// Deep enough for kubepods.slice/kubepods-burstable.slice/...-pod.slice/cri-containerd-*.scope
// under rootless user slices, shallow enough that a runaway tree cannot stall a tick.
constexpr int kMaxWalkDepth = 16;
constexpr int kMaxNestedDepth = 8;
// A workload whose memory.peak gave no resettable descriptor tries again after this many ticks: the
// opener may have been starting or restarting. Where the file cannot be reset at all (no
// memory.peak, a kernel before 6.12) that is one failed open a minute per workload.
constexpr uint32_t kWatermarkRetryTicks = 60;
// A workload in the host's network namespace: at most this many of its processes have their
// descriptors matched against the namespace's listeners per tick.
constexpr std::size_t kMaxListenerProcesses = 16;
// Listeners are looked for only for an instance first seen within this long of its start (the
// normaliser gives workload_listen_seconds only for one seen from its start, within two intervals
// and a second), every tick for its first kListenEveryTickFor ticks, then every kReprobeTicks.
constexpr double kListenSeenLateSeconds = 120;
constexpr uint64_t kListenEveryTickFor = 60;

// The v1 controllers read per workload. blkio joins with the I/O figures.
const std::vector<std::string>& V1Controllers() {
  static const std::vector<std::string> controllers = {"cpu", "cpuacct", "memory", "pids", "blkio"};
  return controllers;
}

// The workloads that hold others, whose trees the walk goes on into (any other workload's nested
// cgroups are its own, and not listed): a pod's containers, and the containers inside a system
// container (Docker in an LXC or Incus container, or in an nspawn machine). runtime null: any.
struct NestingRule {
  const char* kind;
  const char* runtime;
};
constexpr NestingRule kNestingRules[] = {
    {"pod", nullptr},
    {"container", "lxc"},
    {"container", "systemd-nspawn"},
};

uint64_t HashCombine(uint64_t h, uint64_t v) {
  // FNV-1a over the 8 bytes of v.
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (i * 8)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

bool HoldsWorkloads(const WorkloadIdentity& id) {
  for (const NestingRule& rule : kNestingRules) {
    if (id.kind == rule.kind && (rule.runtime == nullptr || id.runtime == rule.runtime)) return true;
  }
  return false;
}

}  // namespace

CgroupCollector::CgroupCollector(const FileSystem& fs, std::string root, bool services, std::string procfs)
    : fs_(fs),
      root_(std::move(root)),
      layout_(DetectCgroupLayout(fs_, root_)),
      services_(services),
      procfs_(std::move(procfs)),
      kept_reads_prove_liveness_(layout_.unified && fs_.KeptReadsProveLiveness(*layout_.unified)) {}

void CgroupCollector::Walk(const std::string& hierarchy_root, const std::string& rel, int depth,
                           const std::vector<std::string>& controllers, std::map<std::string, WorkloadLocation>* found,
                           std::vector<WatchedDir>* watched, const WorkloadIdentity* enclosing) const {
  if (depth > kMaxWalkDepth) return;
  const std::string path = JoinPath(hierarchy_root, rel);
  // Its link count before its entries: a directory made in between shows as a change next tick.
  if (watched != nullptr) {
    const auto st = fs_.Stat(path);
    watched->push_back({path, st ? st->links : 0});
  }
  auto entries = fs_.ListDir(path);
  if (!entries) return;  // vanished while we walked: not an error
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) continue;
    std::string child_rel = rel + "/" + e.name;
    auto identity = IdentifyCgroup(child_rel, machines_);
    // A service inside a workload (systemd in an LXC container) is part of that workload.
    if (!identity && services_ && enclosing == nullptr) identity = IdentifyService(child_rel);
    if (!identity) {
      Walk(hierarchy_root, child_rel, depth + 1, controllers, found, watched, enclosing);
      continue;
    }
    if (enclosing != nullptr) identity->parent = enclosing->id;
    auto [it, inserted] = found->try_emplace(identity->Key());
    WorkloadLocation& loc = it->second;
    if (inserted) loc.identity = *identity;
    if (loc.identity.pod_uid.empty()) loc.identity.pod_uid = identity->pod_uid;
    if (loc.identity.parent.empty()) loc.identity.parent = identity->parent;
    std::string dir = JoinPath(hierarchy_root, child_rel);
    if (controllers.empty()) {
      if (!loc.unified_dir) {
        loc.unified_dir = dir;
        loc.unified_rel = child_rel;
      }
    } else {
      for (const std::string& c : controllers) {
        loc.v1_dirs.try_emplace(c, dir);
        loc.v1_rels.try_emplace(c, child_rel);
      }
    }
    // Its nested cgroups belong to it, except the workloads a pod or a system container holds:
    // walk on into those only (an application container's tree is not listed).
    if (HoldsWorkloads(*identity)) {
      Walk(hierarchy_root, child_rel, depth + 1, controllers, found, watched, &loc.identity);
    }
  }
}

std::map<std::string, WorkloadLocation> CgroupCollector::Discover(std::vector<std::string>* errors) const {
  return Discover(errors, nullptr);
}

std::map<std::string, WorkloadLocation> CgroupCollector::Discover(std::vector<std::string>* errors,
                                                                  std::vector<WatchedDir>* watched) const {
  std::map<std::string, WorkloadLocation> found;
  if (layout_.kind == CgroupLayout::Kind::kNone) {
    errors->push_back(root_ + ": no cgroup hierarchy found (neither cgroup2 nor v1 controllers)");
    return found;
  }
  if (machines_ != nullptr) machines_->Forget();
  if (layout_.unified) Walk(*layout_.unified, "", 0, {}, &found, watched, nullptr);
  // Co-mounted v1 controllers share a directory: walk each directory once.
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const std::string& c : V1Controllers()) {
    if (const std::string* path = layout_.V1Path(c)) by_dir[*path].push_back(c);
  }
  for (const auto& [dir, controllers] : by_dir) Walk(dir, "", 0, controllers, &found, watched, nullptr);
  return found;
}

bool CgroupCollector::TreeMayHaveChanged() const {
  if (walked_tick_ == 0 || rescan_ || tick_ >= walked_tick_ + kRewalkTicks) return true;
  for (const WatchedDir& d : watched_) {
    const auto st = fs_.Stat(d.path);
    // 0 or 1: this filesystem does not count subdirectories; walk every tick as before.
    if (!st || st->links < 2 || st->links != d.links) return true;
  }
  return false;
}

namespace {

using Raw = RawCgroupFiles;

// Every file the collector reads for a workload, in the order it reads them: cgroup2 first, then
// v1, where a v1 file stands in only for a figure the cgroup2 directory did not give. Each row is
// the file's slot (its kept descriptor and state), the hierarchy (nullptr: the workload's cgroup2
// directory; else the v1 controller), the file, where its text goes, how often it is read
// (CgroupCollector::Cadence), and when it is not needed: a figure the table already read.
using Cadence = CgroupCollector::Cadence;
constexpr Cadence kTick = Cadence::kTick;
constexpr Cadence kScrape = Cadence::kScrape;
constexpr Cadence kLimit = Cadence::kLimit;
struct CgroupFileRule {
  uint8_t slot;
  const char* controller;
  const char* file;
  MaybeFile Raw::*into;
  Cadence cadence = kTick;
  bool (*unneeded)(const Raw&) = nullptr;
};

bool HaveCpuStat(const Raw& r) { return r.cpu_stat.has_value(); }
bool HaveCpuUserSys(const Raw& r) { return r.cpu_stat || (r.cpuacct_usage_user && r.cpuacct_usage_sys); }
bool HaveCpuMax(const Raw& r) { return r.cpu_max.has_value(); }
bool HaveMemoryCurrent(const Raw& r) { return r.memory_current.has_value(); }
bool HaveIoStat(const Raw& r) { return r.io_stat.has_value(); }
bool HavePidsCurrent(const Raw& r) { return r.pids_current.has_value(); }

}  // namespace

// kTick: CPU usage and the working set feed the idle/peak windows, and memory.peak (lifetime)
// the young-workload peak rule, so they are read every tick; cpu.stat carries the throttling too.
constexpr CgroupFileRule kCgroupFiles[] = {
    {CgroupCollector::kCpuStat, nullptr, "cpu.stat", &Raw::cpu_stat},
    {CgroupCollector::kCpuMax, nullptr, "cpu.max", &Raw::cpu_max, kLimit},
    {CgroupCollector::kMemoryCurrent, nullptr, "memory.current", &Raw::memory_current},
    {CgroupCollector::kMemoryStat, nullptr, "memory.stat", &Raw::memory_stat},
    {CgroupCollector::kMemorySwapCurrent, nullptr, "memory.swap.current", &Raw::memory_swap_current, kScrape},
    {CgroupCollector::kMemoryMax, nullptr, "memory.max", &Raw::memory_max, kLimit},
    {CgroupCollector::kMemoryPeak, nullptr, "memory.peak", &Raw::memory_peak},
    {CgroupCollector::kMemoryEvents, nullptr, "memory.events", &Raw::memory_events, kScrape},
    {CgroupCollector::kPidsCurrent, nullptr, "pids.current", &Raw::pids_current, kScrape},
    {CgroupCollector::kCpuPressure, nullptr, "cpu.pressure", &Raw::cpu_pressure, kScrape},
    {CgroupCollector::kMemoryPressure, nullptr, "memory.pressure", &Raw::memory_pressure, kScrape},
    {CgroupCollector::kIoPressure, nullptr, "io.pressure", &Raw::io_pressure, kScrape},
    {CgroupCollector::kIoStat, nullptr, "io.stat", &Raw::io_stat, kScrape},
    {CgroupCollector::kCpuacctUsage, "cpuacct", "cpuacct.usage", &Raw::cpuacct_usage, kTick, HaveCpuStat},
    {CgroupCollector::kCpuacctUsageUser, "cpuacct", "cpuacct.usage_user", &Raw::cpuacct_usage_user, kTick, HaveCpuStat},
    {CgroupCollector::kCpuacctUsageSys, "cpuacct", "cpuacct.usage_sys", &Raw::cpuacct_usage_sys, kTick, HaveCpuStat},
    {CgroupCollector::kCpuacctStat, "cpuacct", "cpuacct.stat", &Raw::cpuacct_stat, kTick, HaveCpuUserSys},
    {CgroupCollector::kCpuStatV1, "cpu", "cpu.stat", &Raw::cpu_stat_v1, kScrape},
    {CgroupCollector::kCfsQuota, "cpu", "cpu.cfs_quota_us", &Raw::cpu_cfs_quota_us, kLimit, HaveCpuMax},
    {CgroupCollector::kCfsPeriod, "cpu", "cpu.cfs_period_us", &Raw::cpu_cfs_period_us, kLimit, HaveCpuMax},
    {CgroupCollector::kMemoryUsageV1, "memory", "memory.usage_in_bytes", &Raw::memory_usage_in_bytes, kTick,
     HaveMemoryCurrent},
    {CgroupCollector::kMemoryStatV1, "memory", "memory.stat", &Raw::memory_stat_v1, kTick, HaveMemoryCurrent},
    {CgroupCollector::kMemoryLimitV1, "memory", "memory.limit_in_bytes", &Raw::memory_limit_in_bytes, kLimit,
     HaveMemoryCurrent},
    {CgroupCollector::kMemoryMaxUsageV1, "memory", "memory.max_usage_in_bytes", &Raw::memory_max_usage_in_bytes, kTick,
     HaveMemoryCurrent},
    {CgroupCollector::kMemoryOomControl, "memory", "memory.oom_control", &Raw::memory_oom_control, kScrape,
     HaveMemoryCurrent},
    {CgroupCollector::kBlkioBytes, "blkio", "blkio.throttle.io_service_bytes", &Raw::blkio_service_bytes, kScrape,
     HaveIoStat},
    {CgroupCollector::kBlkioServiced, "blkio", "blkio.throttle.io_serviced", &Raw::blkio_serviced, kScrape, HaveIoStat},
    {CgroupCollector::kPidsCurrentV1, "pids", "pids.current", &Raw::pids_current_v1, kScrape, HavePidsCurrent},
};
// Slots past the table's are read by hand: the thread counts and cgroup.procs.
static_assert(std::size(kCgroupFiles) == CgroupCollector::kThreads);
static_assert([] {
  for (std::size_t i = 0; i < std::size(kCgroupFiles); ++i) {
    if (kCgroupFiles[i].slot != i) return false;
  }
  return true;
}());

CgroupCollector::Cadence CgroupCollector::CadenceOf(Slot slot) {
  // Past the table: the thread counts (tasks) are a scrape's figure; cgroup.procs finds the
  // network namespace, read when the network is (ReadNetwork).
  return slot < std::size(kCgroupFiles) ? kCgroupFiles[slot].cadence : Cadence::kScrape;
}

void CgroupCollector::DropSlot(FileSlot& slot) {
  if (slot.file && slot.file->holds_descriptor()) --kept_descriptors_;
  slot.file.reset();
  slot.has_data = false;
}

MaybeFile CgroupCollector::ReadSlot(Cached& cached, Slot slot, const std::string& dir, const char* file,
                                    std::vector<std::string>* errors) {
  FileSlot& s = cached.slots[slot];
  const Cadence cadence = CadenceOf(slot);
  if (s.has_data && s.file &&
      ((cadence == Cadence::kLimit && tick_ < s.next_try) || (cadence == Cadence::kScrape && !scrape_figures_due_))) {
    return CgroupFile{s.file->path(), s.kept};
  }
  if (!s.file) {
    if (s.absent && tick_ < s.next_try) return std::nullopt;
    ReadResult failure;
    // Limits are read once in kSlowTicks: not worth a descriptor.
    const bool keep = cadence != Cadence::kLimit && kept_descriptors_ < descriptor_budget_;
    s.file = fs_.Open(JoinPath(dir, file), keep, &failure);
    if (!s.file) {
      if (failure.status == ReadResult::Status::kError) {
        errors->push_back(std::move(failure.error));  // tried again next tick
      } else {
        s.absent = true;
        s.next_try = tick_ + kReprobeTicks;
      }
      return std::nullopt;
    }
    s.absent = false;
    if (s.file->holds_descriptor()) ++kept_descriptors_;
  }
  std::string& buffer = cadence == Cadence::kTick ? buffers_[slot] : s.kept;
  std::string error;
  const ReadResult::Status status = s.file->ReadAll(&buffer, &error);
  if (status == ReadResult::Status::kOk) {
    if (cadence == Cadence::kLimit) {
      // The first re-read of a new instance falls on a tick of its own (phase), so that a
      // thousand workloads found at start-up do not re-read their limits on the same tick.
      s.next_try = tick_ + (s.has_data ? kSlowTicks : 1 + cached.phase % kSlowTicks);
    }
    s.has_data = cadence != Cadence::kTick;
    return CgroupFile{s.file->path(), buffer};
  }
  DropSlot(s);
  if (status == ReadResult::Status::kError) {
    errors->push_back(std::move(error));
  } else {
    s.absent = true;  // vanished: the cgroup is going, or its controller was disabled
    s.next_try = tick_ + kReprobeTicks;
  }
  return std::nullopt;
}

std::optional<uint64_t> CgroupCollector::CountThreads(const std::string& dir, const char* file, int depth) const {
  ReadResult r = fs_.ReadFile(JoinPath(dir, file));
  if (!r.ok()) return std::nullopt;
  uint64_t count = CountNonEmptyLines(r.data);
  if (depth < kMaxNestedDepth) {
    if (auto entries = fs_.ListDir(dir)) {
      for (const DirEntry& e : *entries) {
        if (!e.is_dir) continue;
        count += CountThreads(JoinPath(dir, e.name), file, depth + 1).value_or(0);
      }
    }
  }
  return count;
}

CgroupCollector::Cached* CgroupCollector::ReadInto(const std::string& key, const WorkloadLocation& loc, Cached* kept,
                                                   Sample* out, std::vector<std::string>* errors) {
  out->Clear();
  Sample& sample = *out;
  sample.identity = loc.identity;
  RawCgroupFiles raw;
  Cached& cached = *kept;
  // A workload read before whose cgroup2 cpu.stat is read through a kept descriptor on cgroupfs:
  // that read succeeding proves its directory was neither removed nor re-created since the last
  // tick, so the instance stands without a stat of each of its directories (4 us each on this
  // host, 4 per workload on a hybrid one: a sixth of a tick at 1,000). They are stat'ed anyway
  // every kSlowTicks (the link count, and a v1 directory re-created on its own).
  MaybeFile vouching_cpu_stat;
  bool vouched_for = false;
  bool cpu_stat_read = false;
  if (kept_reads_prove_liveness_ && cached.instance != 0 && loc.unified_dir && tick_ < cached.restat_tick) {
    const FileSlot& s = cached.slots[kCpuStat];
    if (s.file && s.file->holds_descriptor()) {
      vouching_cpu_stat = ReadSlot(cached, kCpuStat, *loc.unified_dir, "cpu.stat", errors);
      cpu_stat_read = true;
      vouched_for = vouching_cpu_stat.has_value();
    }
  }
  uint64_t instance = 14695981039346656037ull;
  std::optional<double> start;
  auto note_dir = [&](const std::string& dir) -> uint64_t {
    if (auto st = fs_.Stat(dir)) {
      instance = HashCombine(HashCombine(instance, st->device), st->inode);
      if (!start || st->ctime_seconds < *start) start = st->ctime_seconds;
      return st->links;
    }
    return 0;
  };
  uint64_t unified_links = 0;
  if (vouched_for) {
    instance = cached.instance;
    start = cached.start_time_seconds;
    unified_links = cached.unified_links;
  } else if (loc.unified_dir) {
    unified_links = note_dir(*loc.unified_dir);
  }
  // Each v1 directory is stat'ed once even when controllers share it.
  // (A handful of directories: a linear search, and nothing allocated per workload per tick.)
  std::vector<std::pair<std::string_view, uint64_t>>& v1_links = v1_links_;
  v1_links.clear();
  const auto links_of = [&](std::string_view dir) -> uint64_t* {
    for (auto& [d, links] : v1_links) {
      if (d == dir) return &links;
    }
    return nullptr;
  };
  for (const auto& [controller, dir] : loc.v1_dirs) {
    if (vouched_for) break;  // their link counts unknown: a count of nested tasks lists the directory
    if (!links_of(dir)) v1_links.emplace_back(dir, note_dir(dir));
  }
  sample.instance = instance;
  sample.start_time_seconds = start;
  if (instance == 14695981039346656037ull) return nullptr;  // every directory vanished: gone

  // Everything kept for an earlier instance of this workload is for files that no longer exist.
  const bool inserted = cached.instance == 0;  // never read (an instance hash is never 0)
  if (inserted || cached.instance != instance) {
    if (!inserted) rescan_ = true;  // recreated: its siblings may have changed too
    for (FileSlot& slot : cached.slots) DropSlot(slot);
    cached = Cached{};
    cached.instance = instance;
    cached.phase = std::hash<std::string>()(key);
    cpu_stat_read = false;  // that read was of the old instance's file: read the new one below
  }
  if (!vouched_for) {
    cached.start_time_seconds = start;
    cached.unified_links = unified_links;
    // The first re-stat falls on a tick of its own (phase), as the limits' re-reads do.
    cached.restat_tick = tick_ + (cached.restat_tick == 0 ? 1 + cached.phase % kSlowTicks : kSlowTicks);
  }
  cached.seen_tick = tick_;
  auto read = [&](Slot slot, const std::string& dir, const char* file) {
    return ReadSlot(cached, slot, dir, file, errors);
  };

  auto v1 = [&](const char* controller) -> const std::string* {
    auto it = loc.v1_dirs.find(controller);
    return it == loc.v1_dirs.end() ? nullptr : &it->second;
  };
  for (const CgroupFileRule& rule : kCgroupFiles) {
    const std::string* dir =
        rule.controller == nullptr ? (loc.unified_dir ? &*loc.unified_dir : nullptr) : v1(rule.controller);
    if (dir == nullptr || (rule.unneeded != nullptr && rule.unneeded(raw))) continue;
    if (cpu_stat_read && rule.slot == kCpuStat && dir == &*loc.unified_dir) {
      raw.*rule.into = vouching_cpu_stat;  // read above, this tick
      continue;
    }
    raw.*rule.into = read(static_cast<Slot>(rule.slot), *dir, rule.file);
  }
  if (!raw.pids_current && !raw.pids_current_v1) {
    // No pids controller anywhere: count threads, nested cgroups included. A directory with
    // exactly 2 links has no subdirectories (cgroupfs, tmpfs, ext4 count them), so there is
    // nothing nested to list; any other count (btrfs and overlayfs say 1) is listed.
    auto count = [&](Slot slot, const std::string& dir, const char* file, uint64_t links) -> std::optional<uint64_t> {
      MaybeFile own = read(slot, dir, file);
      if (!own) return std::nullopt;
      uint64_t n = CountNonEmptyLines(own->data);
      if (links == 2) return n;
      if (auto entries = fs_.ListDir(dir)) {
        for (const DirEntry& e : *entries) {
          if (e.is_dir) n += CountThreads(JoinPath(dir, e.name), file, 1).value_or(0);
        }
      }
      return n;
    };
    // A scrape's figure: counted on the ticks a scrape is near, kept in between.
    if (!scrape_figures_due_ && cached.threads_counted) {
      raw.counted_threads = cached.counted_threads;
    } else if (loc.unified_dir) {
      raw.counted_threads = count(kThreads, *loc.unified_dir, "cgroup.threads", unified_links);
    } else if (const std::string* d = v1("memory")) {
      const uint64_t* links = links_of(*d);
      raw.counted_threads = count(kTasksV1, *d, "tasks", links ? *links : 0);
    }
    cached.counted_threads = raw.counted_threads;
    cached.threads_counted = true;
  }

  ParseCgroupFiles(raw, &sample, errors);
  if (loc.unified_rel) {
    sample.cgroup = *loc.unified_rel;
  } else if (auto it = loc.v1_rels.find("memory"); it != loc.v1_rels.end()) {
    sample.cgroup = it->second;
  } else if (!loc.v1_rels.empty()) {
    sample.cgroup = loc.v1_rels.begin()->second;
  }
  return &cached;
}

void CgroupCollector::Recycle(std::vector<Sample>* spent) {
  // Collect() took the previous spares, so nothing is lost here.
  spares_.swap(*spent);
  spent->clear();
}

CollectResult CgroupCollector::Collect() {
  ++tick_;
  CollectResult result;
  if (layout_.kind == CgroupLayout::Kind::kNone) {
    layout_ = DetectCgroupLayout(fs_, root_);
    kept_reads_prove_liveness_ = layout_.unified && fs_.KeptReadsProveLiveness(*layout_.unified);
  }
  if (layout_.kind == CgroupLayout::Kind::kNone || TreeMayHaveChanged()) {
    watched_.clear();
    locations_ = Discover(&result.errors, &watched_);
    // The walk's workloads with their kept state, in a vector: a tick then follows pointers
    // instead of looking each one up by key (cold memory, ~3 cache misses a look-up).
    walked_.clear();
    walked_.reserve(locations_.size());
    for (const auto& [key, loc] : locations_) walked_.push_back({&key, &loc, &cache_.try_emplace(key).first->second});
    walked_tick_ = tick_;
    rescan_ = false;
  }
  const auto& locations = locations_;
  // The recycled samples are filled in place (their strings keep their buffers); more are made
  // only when there are more workloads than last time.
  std::vector<Sample>& samples = result.samples;
  samples.swap(spares_);
  samples.reserve(locations.size());
  read_.clear();
  read_.reserve(locations.size());
  std::size_t used = 0;
  std::vector<std::string> errors;
  for (const Walked& w : walked_) {
    if (used == samples.size()) samples.emplace_back();
    errors.clear();
    Cached* cached = ReadInto(*w.key, *w.location, w.cached, &samples[used], &errors);
    // A workload whose every directory vanished mid-read is gone, not broken; walk again next
    // tick (its parent may hold a new one with the same link count).
    if (cached == nullptr) {
      rescan_ = true;
      continue;
    }
    ++used;
    read_.emplace_back(w.location, cached);
    result.errors.insert(result.errors.end(), errors.begin(), errors.end());
  }
  samples.erase(samples.begin() + static_cast<std::ptrdiff_t>(used), samples.end());
  // Workloads not seen this tick are gone: close what was kept for them.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.seen_tick == tick_) {
      ++it;
      continue;
    }
    for (FileSlot& slot : it->second.slots) DropSlot(slot);
    it = cache_.erase(it);
  }
  ReadIntervalPeaks(&result.samples);
  if (!procfs_.empty()) {
    ReadNetwork(&result.samples, &result.errors);
    ReadListeners(&result.samples, &result.errors);
  }
  return result;
}

std::optional<std::string> CgroupCollector::NetnsOf(const std::string& pid_dir) const {
  // A network namespace is known by the inode of its /proc/PID/net/dev: each namespace has its
  // own proc entries (on this machine the host's is 4026531874, a test namespace's 4026532255).
  // Unlike readlink(/proc/PID/ns/net), stat needs no ptrace access to the process, so the daemon's
  // own unprivileged user tells namespaces apart as well as root (and where even root cannot read
  // /proc/1/ns/net, as in this project's CI sandbox, the host's namespace is still recognised).
  auto st = fs_.Stat(pid_dir + "/net/dev");
  if (!st) return std::nullopt;
  return std::to_string(st->device) + ":" + std::to_string(st->inode);
}

const std::string* CgroupCollector::ProcsDir(const WorkloadLocation& loc) {
  if (loc.unified_dir) return &*loc.unified_dir;
  for (const char* controller : {"memory", "pids", "cpu"}) {
    if (auto it = loc.v1_dirs.find(controller); it != loc.v1_dirs.end()) return &it->second;
  }
  return nullptr;
}

void CgroupCollector::TrackNetns(Cached& c, std::string_view pid, const std::string& pid_dir) {
  if (c.netns_tick != 0 && c.netns_pid == pid && tick_ < c.netns_tick + kReprobeTicks) return;
  c.netns_pid = std::string(pid);
  c.netns = NetnsOf(pid_dir);
  c.netns_tick = tick_;
}

void CgroupCollector::ReadNetwork(std::vector<Sample>* samples, std::vector<std::string>* errors) {
  const std::optional<std::string> host_netns = NetnsOf(JoinPath(procfs_, "1"));
  std::set<std::string> seen;
  std::vector<std::string> ignored;                    // an unreadable cgroup.procs only means no figures
  for (std::size_t i = 0; i < samples->size(); ++i) {  // in identity order, as Discover returned them
    Sample& s = (*samples)[i];
    if (s.identity.kind != "container") continue;
    const WorkloadLocation& loc = *read_[i].first;
    Cached& c = *read_[i].second;
    // A scrape's figure: read on the ticks a scrape is near, kept in between (and for a workload
    // that has not been read yet, read now).
    if (!scrape_figures_due_ && c.network_read) {
      s.network = c.network;
      continue;
    }
    c.network_read = true;
    c.network = {};
    // One of its processes: cgroup.procs where it lives.
    const std::string* dir = ProcsDir(loc);
    if (!dir) continue;
    MaybeFile procs = ReadSlot(c, kProcs, *dir, "cgroup.procs", &ignored);
    if (!procs) continue;
    std::string_view first;
    if (!PieceReader(procs->data, '\n').Next(&first)) continue;
    first = Trim(first);
    const std::string pid_dir = JoinPath(procfs_, std::string(first));
    TrackNetns(c, first, pid_dir);
    const auto& netns = c.netns;
    if (!netns || (host_netns && *netns == *host_netns) || !seen.insert(*netns).second) continue;
    ReadResult dev = fs_.ReadFile(pid_dir + "/net/dev");
    if (!dev.ok()) {
      c.netns_tick = 0;  // the process exited: no figure this tick, and look again next tick
      continue;
    }
    std::string error;
    if (auto net = ParseNetDev(dev.data, &error)) {
      s.network = *net;
      c.network = *net;
    } else {
      errors->push_back(pid_dir + "/net/dev: " + error);
    }
  }
}

void CgroupCollector::ReadListeners(std::vector<Sample>* samples, std::vector<std::string>* errors) {
  std::optional<std::optional<std::string>> host_netns;  // read on first need
  std::vector<std::string> ignored;
  std::vector<uint64_t> inodes;
  for (std::size_t i = 0; i < samples->size(); ++i) {
    Sample& s = (*samples)[i];
    if (s.identity.kind != "container" && s.identity.kind != "service") continue;
    const WorkloadLocation& loc = *read_[i].first;
    Cached& c = *read_[i].second;
    if (c.listen_found) s.listening = true;
    // A workload that never listens (a batch job; in the host's namespace net/tcp is the host's
    // whole table, and its processes' descriptors are listed) costs next to nothing after its
    // first minute, and one seen late, whose listen time cannot be given, nothing; so does one
    // without an address (the host's namespace has none of its own).
    if (c.listen_first_tick == 0) {
      c.listen_first_tick = tick_;
      const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      c.listen_wanted = s.start_time_seconds && now - *s.start_time_seconds <= kListenSeenLateSeconds;
    }
    const uint64_t age = tick_ - c.listen_first_tick;
    const bool early_or_due = age < kListenEveryTickFor || age % kReprobeTicks == 0;
    const bool look = !c.listen_found && c.listen_wanted && early_or_due;
    const bool want_address = c.ipv4_tick == 0 ? early_or_due : tick_ >= c.ipv4_tick + kReprobeTicks;
    if (!look && !want_address) {
      s.netns_ipv4 = c.ipv4;
      continue;
    }
    const std::string* dir = ProcsDir(loc);
    if (!dir) continue;
    MaybeFile procs = ReadSlot(c, kProcs, *dir, "cgroup.procs", &ignored);
    if (!procs) continue;
    std::vector<std::string> pids;
    {
      PieceReader reader(procs->data, '\n');
      std::string_view pid;
      while (pids.size() < kMaxListenerProcesses && reader.Next(&pid)) {
        if (!Trim(pid).empty()) pids.emplace_back(Trim(pid));
      }
    }
    if (pids.empty()) continue;
    const std::string pid_dir = JoinPath(procfs_, pids.front());
    TrackNetns(c, pids.front(), pid_dir);
    if (!c.netns) continue;  // exited between the two reads
    if (!host_netns) host_netns = NetnsOf(JoinPath(procfs_, "1"));
    // Unknown host namespace: treat as shared, so that only descriptors can claim a listener.
    const bool own_namespace = *host_netns && **host_netns != *c.netns;
    if (want_address) {
      c.ipv4.clear();
      if (own_namespace) {
        ReadResult trie = fs_.ReadFile(pid_dir + "/net/fib_trie");
        if (trie.ok()) c.ipv4 = FirstNonLoopbackIpv4(trie.data);
      }
      // Found: re-read every kReprobeTicks. Not found: looked for again as listeners are (still
      // starting: every tick in its first minute).
      c.ipv4_tick = c.ipv4.empty() ? 0 : tick_;
    }
    s.netns_ipv4 = c.ipv4;
    if (!look) continue;

    inodes.clear();
    bool readable = false;
    for (const char* file : {"/net/tcp", "/net/tcp6"}) {
      ReadResult r = fs_.ReadFile(pid_dir + file);
      if (r.status == ReadResult::Status::kError) errors->push_back(std::move(r.error));
      if (!r.ok()) continue;  // tcp6 is absent without IPv6
      readable = true;
      std::string error;
      if (auto listeners = ParseTcpListeners(r.data, &error)) {
        inodes.insert(inodes.end(), listeners->inodes.begin(), listeners->inodes.end());
      } else {
        errors->push_back(pid_dir + file + ": " + error);
      }
    }
    if (!readable) continue;
    if (own_namespace) {
      s.listening = !inodes.empty();
    } else if (!inodes.empty()) {
      // The host's namespace: only a listener behind one of the workload's own descriptors.
      std::sort(inodes.begin(), inodes.end());
      bool all_read = true, found = false;
      for (const std::string& pid : pids) {
        const std::string fd_dir = JoinPath(procfs_, pid) + "/fd";
        auto entries = fs_.ListDir(fd_dir);
        if (!entries) {
          all_read = false;  // not ours to read (or exited): cannot tell
          continue;
        }
        for (const DirEntry& e : *entries) {
          auto target = fs_.ReadLink(fd_dir + "/" + e.name);
          if (!target || !target->starts_with("socket:[") || target->back() != ']') continue;
          auto inode = ParseU64(std::string_view(*target).substr(8, target->size() - 9));
          if (inode && *inode != 0 && std::binary_search(inodes.begin(), inodes.end(), *inode)) {
            found = true;
            break;
          }
        }
        if (found) break;
      }
      if (found || all_read) s.listening = found;
    } else {
      s.listening = false;
    }
    if (s.listening == true) c.listen_found = true;
  }
}

void CgroupCollector::ReadIntervalPeaks(std::vector<Sample>* samples) {
  for (std::size_t i = 0; i < samples->size(); ++i) {
    Sample& s = (*samples)[i];
    const WorkloadLocation& loc = *read_[i].first;
    Cached& c = *read_[i].second;
    if (!loc.unified_dir || !s.memory.max_usage_bytes) continue;
    if (c.watermark_opened) {
      if (c.watermark) {
        s.memory.interval_peak_bytes = c.watermark->ReadAndReset();
        continue;
      }
      if (++c.ticks_without_watermark < kWatermarkRetryTicks) continue;
      c.ticks_without_watermark = 0;  // and try again below
    }
    // First tick of this instance: open (which resets), read from the next tick on. A new
    // instance starts from a fresh Cached, so it opens its own.
    c.watermark = fs_.OpenResettableWatermark(JoinPath(*loc.unified_dir, "memory.peak"));
    c.watermark_opened = true;
  }
}

}  // namespace we
