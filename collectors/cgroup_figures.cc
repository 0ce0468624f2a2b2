#include "collectors/cgroup_figures.h"

#include <algorithm>

#include "collectors/parse.h"

namespace we {
namespace {

// Small helpers that parse one optional file and report a failure under its path.
class FileParser {
 public:
  explicit FileParser(std::vector<std::string>* errors) : errors_(errors) {}

  std::optional<FlatKeyed> Keyed(const MaybeFile& f) {
    if (!f) return std::nullopt;
    std::string error;
    auto parsed = ParseFlatKeyed(f->data, &error);
    if (!parsed) Fail(*f, error);
    return parsed;
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
  void Fail(const CgroupFile& f, const std::string& what) { errors_->push_back(f.path + ": " + what); }
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
  if (auto stat = p.Keyed(raw.cpu_stat)) {
    cpu.usage_seconds = Scaled(stat->Get("usage_usec"), 1e6);
    cpu.user_seconds = Scaled(stat->Get("user_usec"), 1e6);
    cpu.system_seconds = Scaled(stat->Get("system_usec"), 1e6);
    cpu.periods = stat->Get("nr_periods");
    cpu.throttled_periods = stat->Get("nr_throttled");
    cpu.throttled_seconds = Scaled(stat->Get("throttled_usec"), 1e6);
  }
  if (auto max = p.CpuMax(raw.cpu_max)) cpu.limit_cores = *max;

  // v1 fills whatever v2 did not.
  SetIfEmpty(cpu.usage_seconds, Scaled(p.U64(raw.cpuacct_usage), 1e9));
  SetIfEmpty(cpu.user_seconds, Scaled(p.U64(raw.cpuacct_usage_user), 1e9));
  SetIfEmpty(cpu.system_seconds, Scaled(p.U64(raw.cpuacct_usage_sys), 1e9));
  if (!cpu.user_seconds || !cpu.system_seconds) {
    if (auto stat = p.Keyed(raw.cpuacct_stat)) {
      SetIfEmpty(cpu.user_seconds, Scaled(stat->Get("user"), kUserHz));
      SetIfEmpty(cpu.system_seconds, Scaled(stat->Get("system"), kUserHz));
    }
  }
  if (auto stat = p.Keyed(raw.cpu_stat_v1)) {
    SetIfEmpty(cpu.periods, stat->Get("nr_periods"));
    SetIfEmpty(cpu.throttled_periods, stat->Get("nr_throttled"));
    SetIfEmpty(cpu.throttled_seconds, Scaled(stat->Get("throttled_time"), 1e9));
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
  if (auto stat = p.Keyed(raw.memory_stat)) {
    mem.rss_bytes = stat->Get("anon");
    mem.cache_bytes = stat->Get("file");
    inactive_file = stat->Get("inactive_file");
  }
  mem.swap_bytes = p.U64(raw.memory_swap_current);
  if (auto max = p.MaxOr(raw.memory_max)) mem.limit_bytes = max->value;
  mem.max_usage_bytes = p.U64(raw.memory_peak);
  if (auto events = p.Keyed(raw.memory_events)) mem.oom_kills = events->Get("oom_kill");

  // v1: the total_* keys are hierarchical, covering cgroups nested inside the workload.
  bool v1_usage = false;
  if (!mem.usage_bytes) {
    mem.usage_bytes = p.U64(raw.memory_usage_in_bytes);
    v1_usage = mem.usage_bytes.has_value();
  }
  if (auto stat = p.Keyed(raw.memory_stat_v1)) {
    auto total_or_local = [&](const char* key) {
      auto v = stat->Get(std::string("total_") + key);
      return v ? v : stat->Get(key);
    };
    SetIfEmpty(mem.rss_bytes, total_or_local("rss"));
    SetIfEmpty(mem.cache_bytes, total_or_local("cache"));
    SetIfEmpty(mem.swap_bytes, total_or_local("swap"));
    if (v1_usage || !inactive_file) inactive_file = total_or_local("inactive_file");
  }
  if (!raw.memory_max) {
    if (auto limit = p.U64(raw.memory_limit_in_bytes); limit && *limit < kV1UnlimitedBytes) {
      mem.limit_bytes = limit;
    }
  }
  SetIfEmpty(mem.max_usage_bytes, p.U64(raw.memory_max_usage_in_bytes));
  if (!mem.oom_kills) {
    if (auto oom = p.Keyed(raw.memory_oom_control)) mem.oom_kills = oom->Get("oom_kill");
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
