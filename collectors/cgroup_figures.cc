#include "collectors/cgroup_figures.h"

#include <algorithm>
#include <array>

#include "collectors/parse.h"

namespace we {
namespace {

// Small helpers that parse one optional file and report a failure under its path.
class FileParser {
 public:
  explicit FileParser(std::vector<std::string>* errors) : errors_(errors) {}

  // The values of `keys` in a flat-keyed file, in the same order (ParseFlatKeyedPick: only the
  // keys wanted, no table built). False when the file is absent or broken.
  template <size_t N>
  bool Keyed(const MaybeFile& f, const std::array<std::string_view, N>& keys,
             std::array<std::optional<uint64_t>, N>* out) {
    if (!f) return false;
    std::string error;
    if (ParseFlatKeyedPick(f->data, keys, *out, &error)) return true;
    Fail(*f, error);
    return false;
  }

  std::optional<uint64_t> U64(const MaybeFile& f) {
    if (!f) return std::nullopt;
    auto v = ParseU64(f->data);
    if (!v) Fail(*f, "expected an unsigned integer, got \"" + std::string(Trim(f->data).substr(0, 64)) + "\"");
    return v;
  }

  std::optional<int64_t> I64(const MaybeFile& f) {
    if (!f) return std::nullopt;
    auto v = ParseI64(f->data);
    if (!v) Fail(*f, "expected an integer, got \"" + std::string(Trim(f->data).substr(0, 64)) + "\"");
    return v;
  }

  // nullopt: absent or broken; optional-inside empty: "max".
  std::optional<MaxOrValue> MaxOr(const MaybeFile& f) {
    if (!f) return std::nullopt;
    std::string error;
    auto v = ParseMaxOrU64(f->data, &error);
    if (!v) Fail(*f, error);
    return v;
  }

  std::optional<std::optional<double>> CpuMax(const MaybeFile& f) {
    if (!f) return std::nullopt;
    std::string error;
    auto v = ParseCpuMax(f->data, &error);
    if (!v) Fail(*f, error);
    return v;
  }

  std::optional<IoFigures> IoStat(const MaybeFile& f) {
    if (!f) return std::nullopt;
    std::string error;
    auto v = ParseIoStat(f->data, &error);
    if (!v) Fail(*f, error);
    return v;
  }

  std::optional<std::pair<uint64_t, uint64_t>> Blkio(const MaybeFile& f) {
    if (!f) return std::nullopt;
    std::string error;
    auto v = ParseBlkioThrottle(f->data, &error);
    if (!v) Fail(*f, error);
    return v;
  }

  PressureFigures Pressure(const MaybeFile& f) {
    if (!f) return {};
    std::string error;
    auto v = ParsePressure(f->data, &error);
    if (!v) {
      Fail(*f, error);
      return {};
    }
    return *v;
  }

 private:
  void Fail(const CgroupFile& f, const std::string& what) { errors_->push_back(std::string(f.path) + ": " + what); }
  std::vector<std::string>* errors_;
};

template <typename T>
std::optional<double> Scaled(std::optional<T> v, double divisor) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v) / divisor;
}

template <typename T>
void SetIfEmpty(std::optional<T>& field, std::optional<T> value) {
  if (!field && value) field = value;
}

void ParseCpu(const RawCgroupFiles& raw, FileParser& p, CpuFigures& cpu) {
  // v2 cpu.stat: present in every cgroup2 directory, even without the cpu controller; the
  // nr_* and throttled_usec keys only with it.
  static constexpr std::array<std::string_view, 6> kCpuStat = {"usage_usec", "user_usec",    "system_usec",
                                                               "nr_periods", "nr_throttled", "throttled_usec"};
  if (std::array<std::optional<uint64_t>, 6> v; p.Keyed(raw.cpu_stat, kCpuStat, &v)) {
    cpu.usage_seconds = Scaled(v[0], 1e6);
    cpu.user_seconds = Scaled(v[1], 1e6);
    cpu.system_seconds = Scaled(v[2], 1e6);
    cpu.periods = v[3];
    cpu.throttled_periods = v[4];
    cpu.throttled_seconds = Scaled(v[5], 1e6);
  }
  if (auto max = p.CpuMax(raw.cpu_max)) cpu.limit_cores = *max;

  // v1 fills whatever v2 did not.
  SetIfEmpty(cpu.usage_seconds, Scaled(p.U64(raw.cpuacct_usage), 1e9));
  SetIfEmpty(cpu.user_seconds, Scaled(p.U64(raw.cpuacct_usage_user), 1e9));
  SetIfEmpty(cpu.system_seconds, Scaled(p.U64(raw.cpuacct_usage_sys), 1e9));
  if (!cpu.user_seconds || !cpu.system_seconds) {
    static constexpr std::array<std::string_view, 2> kCpuacctStat = {"user", "system"};
    if (std::array<std::optional<uint64_t>, 2> v; p.Keyed(raw.cpuacct_stat, kCpuacctStat, &v)) {
      SetIfEmpty(cpu.user_seconds, Scaled(v[0], kUserHz));
      SetIfEmpty(cpu.system_seconds, Scaled(v[1], kUserHz));
    }
  }
  static constexpr std::array<std::string_view, 3> kCpuStatV1 = {"nr_periods", "nr_throttled", "throttled_time"};
  if (std::array<std::optional<uint64_t>, 3> v; p.Keyed(raw.cpu_stat_v1, kCpuStatV1, &v)) {
    SetIfEmpty(cpu.periods, v[0]);
    SetIfEmpty(cpu.throttled_periods, v[1]);
    SetIfEmpty(cpu.throttled_seconds, Scaled(v[2], 1e9));
  }
  if (!raw.cpu_max) {
    auto quota = p.I64(raw.cpu_cfs_quota_us);
    auto period = p.U64(raw.cpu_cfs_period_us);
    if (quota && *quota > 0 && period && *period > 0) {
      cpu.limit_cores = static_cast<double>(*quota) / static_cast<double>(*period);
    }
  }
  if (!cpu.usage_seconds && cpu.user_seconds && cpu.system_seconds) {
    cpu.usage_seconds = *cpu.user_seconds + *cpu.system_seconds;
  }
}

void ParseMemory(const RawCgroupFiles& raw, FileParser& p, MemoryFigures& mem) {
  std::optional<uint64_t> inactive_file;
  // v2
  mem.usage_bytes = p.U64(raw.memory_current);
  static constexpr std::array<std::string_view, 3> kMemoryStat = {"anon", "file", "inactive_file"};
  if (std::array<std::optional<uint64_t>, 3> v; p.Keyed(raw.memory_stat, kMemoryStat, &v)) {
    mem.rss_bytes = v[0];
    mem.cache_bytes = v[1];
    inactive_file = v[2];
  }
  mem.swap_bytes = p.U64(raw.memory_swap_current);
  if (auto max = p.MaxOr(raw.memory_max)) mem.limit_bytes = max->value;
  mem.max_usage_bytes = p.U64(raw.memory_peak);
  static constexpr std::array<std::string_view, 1> kOomKill = {"oom_kill"};
  if (std::array<std::optional<uint64_t>, 1> v; p.Keyed(raw.memory_events, kOomKill, &v)) mem.oom_kills = v[0];

  // v1: the total_* keys are hierarchical, covering cgroups nested inside the workload.
  bool v1_usage = false;
  if (!mem.usage_bytes) {
    mem.usage_bytes = p.U64(raw.memory_usage_in_bytes);
    v1_usage = mem.usage_bytes.has_value();
  }
  // Each hierarchical total_<key>, else the cgroup's own <key>.
  static constexpr std::array<std::string_view, 8> kMemoryStatV1 = {
      "total_rss", "rss", "total_cache", "cache", "total_swap", "swap", "total_inactive_file", "inactive_file"};
  if (std::array<std::optional<uint64_t>, 8> v; p.Keyed(raw.memory_stat_v1, kMemoryStatV1, &v)) {
    auto total_or_local = [&](size_t i) { return v[i] ? v[i] : v[i + 1]; };
    SetIfEmpty(mem.rss_bytes, total_or_local(0));
    SetIfEmpty(mem.cache_bytes, total_or_local(2));
    SetIfEmpty(mem.swap_bytes, total_or_local(4));
    if (v1_usage || !inactive_file) inactive_file = total_or_local(6);
  }
  if (!raw.memory_max) {
    if (auto limit = p.U64(raw.memory_limit_in_bytes); limit && *limit < kV1UnlimitedBytes) {
      mem.limit_bytes = limit;
    }
  }
  SetIfEmpty(mem.max_usage_bytes, p.U64(raw.memory_max_usage_in_bytes));
  if (!mem.oom_kills) {
    if (std::array<std::optional<uint64_t>, 1> v; p.Keyed(raw.memory_oom_control, kOomKill, &v)) mem.oom_kills = v[0];
  }

  // Working set as cAdvisor and the kubelet compute it: usage minus inactive file pages.
  if (mem.usage_bytes) {
    uint64_t inactive = inactive_file.value_or(0);
    mem.working_set_bytes = *mem.usage_bytes > inactive ? *mem.usage_bytes - inactive : 0;
  }
}

}  // namespace

void ParseCgroupFiles(const RawCgroupFiles& raw, Sample* sample, std::vector<std::string>* errors) {
  FileParser p(errors);
  ParseCpu(raw, p, sample->cpu);
  ParseMemory(raw, p, sample->memory);

  sample->tasks = p.U64(raw.pids_current);
  SetIfEmpty(sample->tasks, p.U64(raw.pids_current_v1));
  SetIfEmpty(sample->tasks, raw.counted_threads);

  if (auto io = p.IoStat(raw.io_stat)) {
    sample->io = *io;
  } else {
    if (auto bytes = p.Blkio(raw.blkio_service_bytes)) {
      sample->io.read_bytes = bytes->first;
      sample->io.write_bytes = bytes->second;
    }
    if (auto ops = p.Blkio(raw.blkio_serviced)) {
      sample->io.reads = ops->first;
      sample->io.writes = ops->second;
    }
  }

  sample->cpu_pressure = p.Pressure(raw.cpu_pressure);
  sample->memory_pressure = p.Pressure(raw.memory_pressure);
  sample->io_pressure = p.Pressure(raw.io_pressure);
}

}  // namespace we
