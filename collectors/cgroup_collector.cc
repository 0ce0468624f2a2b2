#include "collectors/cgroup_collector.h"

#include <algorithm>
#include <set>

#include "collectors/container_identity.h"
#include "collectors/parse.h"

namespace we {
namespace {

// Deep enough for kubepods.slice/kubepods-burstable.slice/...-pod.slice/cri-containerd-*.scope
// under rootless user slices, shallow enough that a runaway tree cannot stall a tick.
constexpr int kMaxWalkDepth = 16;
constexpr int kMaxNestedDepth = 8;

// The v1 controllers read per workload. blkio joins with the I/O figures.
const std::vector<std::string>& V1Controllers() {
  static const std::vector<std::string> controllers = {"cpu", "cpuacct", "memory", "pids", "blkio"};
  return controllers;
}

uint64_t HashCombine(uint64_t h, uint64_t v) {
  // FNV-1a over the 8 bytes of v.
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (i * 8)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

CgroupCollector::CgroupCollector(const FileSystem& fs, std::string root, bool services, std::string procfs)
    : fs_(fs),
      root_(std::move(root)),
      layout_(DetectCgroupLayout(fs_, root_)),
      services_(services),
      procfs_(std::move(procfs)) {}

void CgroupCollector::Walk(const std::string& hierarchy_root, const std::string& rel, int depth,
                           const std::vector<std::string>& controllers,
                           std::map<std::string, WorkloadLocation>* found) const {
  if (depth > kMaxWalkDepth) return;
  auto entries = fs_.ListDir(JoinPath(hierarchy_root, rel));
  if (!entries) return;  // vanished while we walked: not an error
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) continue;
    std::string child_rel = rel + "/" + e.name;
    auto identity = IdentifyCgroup(child_rel);
    if (!identity && services_) identity = IdentifyService(child_rel);
    if (!identity) {
      Walk(hierarchy_root, child_rel, depth + 1, controllers, found);
      continue;
    }
    // A workload's nested cgroups belong to it: do not descend.
    auto [it, inserted] = found->try_emplace(identity->Key());
    WorkloadLocation& loc = it->second;
    if (inserted) loc.identity = *identity;
    if (loc.identity.pod_uid.empty()) loc.identity.pod_uid = identity->pod_uid;
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
  }
}

std::map<std::string, WorkloadLocation> CgroupCollector::Discover(std::vector<std::string>* errors) const {
  std::map<std::string, WorkloadLocation> found;
  if (layout_.kind == CgroupLayout::Kind::kNone) {
    errors->push_back(root_ + ": no cgroup hierarchy found (neither cgroup2 nor v1 controllers)");
    return found;
  }
  if (layout_.unified) Walk(*layout_.unified, "", 0, {}, &found);
  // Co-mounted v1 controllers share a directory: walk each directory once.
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const std::string& c : V1Controllers()) {
    if (const std::string* path = layout_.V1Path(c)) by_dir[*path].push_back(c);
  }
  for (const auto& [dir, controllers] : by_dir) Walk(dir, "", 0, controllers, &found);
  return found;
}

MaybeFile CgroupCollector::ReadOptional(const std::string& dir, const char* file,
                                        std::vector<std::string>* errors) const {
  std::string path = JoinPath(dir, file);
  ReadResult r = fs_.ReadFile(path);
  if (r.status == ReadResult::Status::kOk) return CgroupFile{std::move(path), std::move(r.data)};
  if (r.status == ReadResult::Status::kError) errors->push_back(r.error);
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

Sample CgroupCollector::Read(const WorkloadLocation& loc, std::vector<std::string>* errors) const {
  Sample sample;
  sample.identity = loc.identity;
  RawCgroupFiles raw;
  uint64_t instance = 14695981039346656037ull;
  std::optional<double> start;
  auto note_dir = [&](const std::string& dir) {
    if (auto st = fs_.Stat(dir)) {
      instance = HashCombine(HashCombine(instance, st->device), st->inode);
      if (!start || st->ctime_seconds < *start) start = st->ctime_seconds;
    }
  };

  if (loc.unified_dir) {
    const std::string& d = *loc.unified_dir;
    note_dir(d);
    raw.cpu_stat = ReadOptional(d, "cpu.stat", errors);
    raw.cpu_max = ReadOptional(d, "cpu.max", errors);
    raw.memory_current = ReadOptional(d, "memory.current", errors);
    raw.memory_stat = ReadOptional(d, "memory.stat", errors);
    raw.memory_swap_current = ReadOptional(d, "memory.swap.current", errors);
    raw.memory_max = ReadOptional(d, "memory.max", errors);
    raw.memory_peak = ReadOptional(d, "memory.peak", errors);
    raw.memory_events = ReadOptional(d, "memory.events", errors);
    raw.pids_current = ReadOptional(d, "pids.current", errors);
    raw.cpu_pressure = ReadOptional(d, "cpu.pressure", errors);
    raw.memory_pressure = ReadOptional(d, "memory.pressure", errors);
    raw.io_pressure = ReadOptional(d, "io.pressure", errors);
    raw.io_stat = ReadOptional(d, "io.stat", errors);
  }
  // Each v1 directory is stat'ed once even when controllers share it.
  std::set<std::string> seen_dirs;
  for (const auto& [controller, dir] : loc.v1_dirs) {
    if (seen_dirs.insert(dir).second) note_dir(dir);
  }
  auto v1 = [&](const char* controller) -> const std::string* {
    auto it = loc.v1_dirs.find(controller);
    return it == loc.v1_dirs.end() ? nullptr : &it->second;
  };
  if (const std::string* d = v1("cpuacct"); d && !raw.cpu_stat) {
    raw.cpuacct_usage = ReadOptional(*d, "cpuacct.usage", errors);
    raw.cpuacct_usage_user = ReadOptional(*d, "cpuacct.usage_user", errors);
    raw.cpuacct_usage_sys = ReadOptional(*d, "cpuacct.usage_sys", errors);
    if (!raw.cpuacct_usage_user || !raw.cpuacct_usage_sys) {
      raw.cpuacct_stat = ReadOptional(*d, "cpuacct.stat", errors);
    }
  }
  if (const std::string* d = v1("cpu")) {
    raw.cpu_stat_v1 = ReadOptional(*d, "cpu.stat", errors);
    if (!raw.cpu_max) {
      raw.cpu_cfs_quota_us = ReadOptional(*d, "cpu.cfs_quota_us", errors);
      raw.cpu_cfs_period_us = ReadOptional(*d, "cpu.cfs_period_us", errors);
    }
  }
  if (const std::string* d = v1("memory"); d && !raw.memory_current) {
    raw.memory_usage_in_bytes = ReadOptional(*d, "memory.usage_in_bytes", errors);
    raw.memory_stat_v1 = ReadOptional(*d, "memory.stat", errors);
    raw.memory_limit_in_bytes = ReadOptional(*d, "memory.limit_in_bytes", errors);
    raw.memory_max_usage_in_bytes = ReadOptional(*d, "memory.max_usage_in_bytes", errors);
    raw.memory_oom_control = ReadOptional(*d, "memory.oom_control", errors);
  }
  if (const std::string* d = v1("blkio"); d && !raw.io_stat) {
    raw.blkio_service_bytes = ReadOptional(*d, "blkio.throttle.io_service_bytes", errors);
    raw.blkio_serviced = ReadOptional(*d, "blkio.throttle.io_serviced", errors);
  }
  if (const std::string* d = v1("pids"); d && !raw.pids_current) {
    raw.pids_current_v1 = ReadOptional(*d, "pids.current", errors);
  }
  if (!raw.pids_current && !raw.pids_current_v1) {
    // No pids controller anywhere: count threads, nested cgroups included.
    if (loc.unified_dir) {
      raw.counted_threads = CountThreads(*loc.unified_dir, "cgroup.threads", 0);
    } else if (const std::string* d = v1("memory")) {
      raw.counted_threads = CountThreads(*d, "tasks", 0);
    }
  }

  ParseCgroupFiles(raw, &sample, errors);
  sample.instance = instance;
  sample.start_time_seconds = start;
  if (loc.unified_rel) {
    sample.cgroup = *loc.unified_rel;
  } else if (auto it = loc.v1_rels.find("memory"); it != loc.v1_rels.end()) {
    sample.cgroup = it->second;
  } else if (!loc.v1_rels.empty()) {
    sample.cgroup = loc.v1_rels.begin()->second;
  }
  return sample;
}

CollectResult CgroupCollector::Collect() {
  CollectResult result;
  if (layout_.kind == CgroupLayout::Kind::kNone) layout_ = DetectCgroupLayout(fs_, root_);
  auto locations = Discover(&result.errors);
  result.samples.reserve(locations.size());
  for (const auto& [key, loc] : locations) {
    std::vector<std::string> errors;
    Sample s = Read(loc, &errors);
    // A workload whose every directory vanished mid-read is gone, not broken.
    if (s.instance == 14695981039346656037ull) continue;
    result.samples.push_back(std::move(s));
    result.errors.insert(result.errors.end(), errors.begin(), errors.end());
  }
  ReadIntervalPeaks(locations, &result.samples);
  if (!procfs_.empty()) ReadNetwork(locations, &result.samples, &result.errors);
  return result;
}

void CgroupCollector::ReadNetwork(const std::map<std::string, WorkloadLocation>& locations,
                                  std::vector<Sample>* samples, std::vector<std::string>* errors) const {
  const std::optional<std::string> host_netns = fs_.ReadLink(JoinPath(procfs_, "1/ns/net"));
  std::set<std::string> seen;
  for (Sample& s : *samples) {  // in identity order, as Discover returned them
    if (s.identity.kind != "container") continue;
    auto loc = locations.find(s.identity.Key());
    if (loc == locations.end()) continue;
    // One of its processes: cgroup.procs where it lives.
    std::optional<std::string> dir = loc->second.unified_dir;
    for (const char* c : {"memory", "pids", "cpu"}) {
      if (auto it = loc->second.v1_dirs.find(c); !dir && it != loc->second.v1_dirs.end()) dir = it->second;
    }
    if (!dir) continue;
    ReadResult procs = fs_.ReadFile(JoinPath(*dir, "cgroup.procs"));
    if (!procs.ok()) continue;
    const auto pids = SplitNonEmpty(procs.data, '\n');
    if (pids.empty()) continue;
    const std::string pid_dir = JoinPath(procfs_, std::string(Trim(pids.front())));
    const auto netns = fs_.ReadLink(pid_dir + "/ns/net");
    if (!netns || (host_netns && *netns == *host_netns) || !seen.insert(*netns).second) continue;
    ReadResult dev = fs_.ReadFile(pid_dir + "/net/dev");
    if (!dev.ok()) continue;  // the process exited: no figure this tick
    std::string error;
    if (auto net = ParseNetDev(dev.data, &error)) {
      s.network = *net;
    } else {
      errors->push_back(pid_dir + "/net/dev: " + error);
    }
  }
}

void CgroupCollector::ReadIntervalPeaks(const std::map<std::string, WorkloadLocation>& locations,
                                        std::vector<Sample>* samples) {
  std::map<std::string, Watermark> next;
  for (Sample& s : *samples) {
    const std::string key = s.identity.Key();
    auto loc = locations.find(key);
    if (loc == locations.end() || !loc->second.unified_dir || !s.memory.max_usage_bytes) continue;
    auto it = watermarks_.find(key);
    if (it != watermarks_.end() && it->second.instance == s.instance) {
      if (it->second.file) s.memory.interval_peak_bytes = it->second.file->ReadAndReset();
      next.emplace(key, std::move(it->second));
      continue;
    }
    // First tick of this instance: open (which resets), read from the next tick on.
    next.emplace(key, Watermark{s.instance, fs_.OpenResettableWatermark(JoinPath(*loc->second.unified_dir, "memory.peak"))});
  }
  watermarks_ = std::move(next);
}

}  // namespace we
