#include "collectors/qemu_process.h"

#include <algorithm>
#include <cstdint>

#include "collectors/container_identity.h"
#include "collectors/parse.h"

namespace we {
namespace {

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint64_t Hash(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::optional<QemuCommandLine> ParseQemuCommandLine(std::string_view cmdline) {
  std::vector<std::string_view> args;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    std::size_t end = cmdline.find('\0', start);
    if (end == std::string_view::npos) end = cmdline.size();
    args.push_back(cmdline.substr(start, end - start));
    start = end + 1;
  }
  if (args.empty()) return std::nullopt;
  const std::string_view exe = Basename(args[0]);
  if (exe.substr(0, 12) != "qemu-system-" && exe != "qemu-kvm") return std::nullopt;
  QemuCommandLine out;
  for (std::size_t i = 1; i + 1 < args.size(); ++i) {
    const std::string_view flag = args[i];
    const std::string_view value = args[i + 1];
    if (flag == "-name" || flag == "--name") {
      // "-name guest=NAME,debug-threads=on" or "-name NAME" (",," escapes a comma).
      std::string name;
      std::string_view rest = value;
      if (rest.substr(0, 6) == "guest=") rest.remove_prefix(6);
      for (std::size_t k = 0; k < rest.size(); ++k) {
        if (rest[k] == ',') {
          if (k + 1 < rest.size() && rest[k + 1] == ',') {
            name += ',';
            ++k;
            continue;
          }
          break;
        }
        name += rest[k];
      }
      out.name = name;
    } else if (flag == "-uuid" || flag == "--uuid") {
      out.uuid = std::string(value);
    }
  }
  return out;
}

std::optional<uint64_t> ParseKbField(std::string_view text, std::string_view key) {
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    std::string_view value = Trim(line.substr(key.size() + 1));
    if (value.size() > 3 && value.substr(value.size() - 3) == " kB") value = Trim(value.substr(0, value.size() - 3));
    if (auto kb = ParseU64(value); kb && *kb <= UINT64_MAX / 1024) return *kb * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<int> ParseVcpuThreadName(std::string_view comm) {
  comm = Trim(comm);
  if (comm.substr(0, 4) != "CPU ") return std::nullopt;
  const std::size_t slash = comm.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view accel = comm.substr(slash + 1);
  if (accel != "KVM" && accel != "TCG" && accel != "HVF" && accel != "WHPX") return std::nullopt;
  auto index = ParseU64(comm.substr(4, slash - 4));
  if (!index || *index > 4096) return std::nullopt;
  return static_cast<int>(*index);
}

QemuProcessCollector::QemuProcessCollector(const FileSystem& fs, std::string procfs, double ticks_per_second)
    : fs_(fs), procfs_(std::move(procfs)), ticks_per_second_(ticks_per_second) {}

CollectResult QemuProcessCollector::Collect() {
  CollectResult result;
  auto entries = fs_.ListDir(procfs_);
  if (!entries) {
    result.errors.push_back(procfs_ + ": cannot list the proc file system");
    return result;
  }
  std::optional<double> boot_time;
  std::map<std::string, std::optional<QemuCommandLine>> known;
  for (const DirEntry& e : *entries) {
    if (!e.is_dir || !IsAllDigits(e.name)) continue;
    std::optional<QemuCommandLine> cmdline;
    if (auto it = known_.find(e.name); it != known_.end()) {
      cmdline = it->second;
    } else {
      ReadResult r = fs_.ReadFile(JoinPath(procfs_, e.name + "/cmdline"));
      if (!r.ok()) continue;  // exited, or a kernel thread's empty cmdline is read as ok below
      cmdline = ParseQemuCommandLine(r.data);
    }
    known.emplace(e.name, cmdline);
    if (!cmdline) continue;
    if (!boot_time) {
      std::string error;
      ReadResult stat = fs_.ReadFile(JoinPath(procfs_, "stat"));
      if (stat.ok()) {
        if (auto b = ParseBootTime(stat.data, &error)) boot_time = static_cast<double>(*b);
      }
      if (!boot_time) boot_time = 0;
    }
    if (auto s = ReadProcess(e.name, *cmdline, *boot_time, &result.errors)) result.samples.push_back(std::move(*s));
  }
  known_ = std::move(known);
  return result;
}

std::optional<Sample> QemuProcessCollector::ReadProcess(const std::string& pid, const QemuCommandLine& cmdline,
                                                        double boot_time, std::vector<std::string>* errors) const {
  const std::string dir = JoinPath(procfs_, pid);
  ReadResult stat_file = fs_.ReadFile(dir + "/stat");
  if (!stat_file.ok()) {
    if (stat_file.status == ReadResult::Status::kError) errors->push_back(stat_file.error);
    return std::nullopt;  // exited between listing and reading: gone, not broken
  }
  std::string error;
  auto stat = ParseProcPidStat(stat_file.data, &error);
  if (!stat) {
    errors->push_back(dir + "/stat: " + error);
    return std::nullopt;
  }
  Sample s;
  s.identity.kind = "vm";
  s.identity.runtime = "qemu";
  s.identity.name = !cmdline.name.empty() ? cmdline.name : "qemu-" + pid;
  s.identity.id = !cmdline.uuid.empty() ? cmdline.uuid : s.identity.name;
  s.instance = Hash(Hash(14695981039346656037ull, std::stoull(pid)), stat->starttime_ticks);
  s.start_time_seconds = boot_time + static_cast<double>(stat->starttime_ticks) / ticks_per_second_;
  s.cpu.user_seconds = static_cast<double>(stat->utime_ticks) / ticks_per_second_;
  s.cpu.system_seconds = static_cast<double>(stat->stime_ticks) / ticks_per_second_;
  s.cpu.usage_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks_per_second_;

  // What the host pays: resident memory. smaps_rollup (4.14+) is exact; status's VmRSS is the
  // kernel's cheaper per-mm counter.
  std::optional<uint64_t> rss;
  if (ReadResult r = fs_.ReadFile(dir + "/smaps_rollup"); r.ok()) rss = ParseKbField(r.data, "Rss");
  if (ReadResult r = fs_.ReadFile(dir + "/status"); r.ok()) {
    if (!rss) rss = ParseKbField(r.data, "VmRSS");
    s.memory.max_usage_bytes = ParseKbField(r.data, "VmHWM");
  }
  s.memory.usage_bytes = rss;
  s.memory.working_set_bytes = rss;

  VmFigures vm;
  vm.uuid = cmdline.uuid;
  if (auto tasks = fs_.ListDir(dir + "/task")) {
    s.tasks = tasks->size();
    for (const DirEntry& t : *tasks) {
      ReadResult comm = fs_.ReadFile(dir + "/task/" + t.name + "/comm");
      if (!comm.ok()) continue;
      auto index = ParseVcpuThreadName(comm.data);
      if (!index) continue;
      VcpuFigures v;
      v.index = *index;
      if (ReadResult ts = fs_.ReadFile(dir + "/task/" + t.name + "/stat"); ts.ok()) {
        if (auto tstat = ParseProcPidStat(ts.data, &error)) {
          v.seconds = static_cast<double>(tstat->utime_ticks + tstat->stime_ticks) / ticks_per_second_;
        }
      }
      vm.vcpu.push_back(v);
    }
    std::sort(vm.vcpu.begin(), vm.vcpu.end(),
              [](const VcpuFigures& a, const VcpuFigures& b) { return a.index < b.index; });
    if (!vm.vcpu.empty()) vm.vcpus = vm.vcpu.size();
  }
  s.vm = std::move(vm);

  // The cgroup it runs in, to be joined with (libvirt's machine-qemu... or qemu-N-NAME.libvirt-qemu).
  if (ReadResult r = fs_.ReadFile(dir + "/cgroup"); r.ok()) {
    if (auto entries = ParseProcCgroup(r.data, &error)) {
      for (const ProcCgroupEntry& entry : *entries) {
        std::string path = entry.path;
        while (!path.empty() && path != "/") {
          if (auto id = IdentifyCgroup(path)) {
            s.cgroup_workload_key = id->Key();
            s.cgroup = path;
            break;
          }
          path = path.substr(0, path.rfind('/'));
        }
        if (!s.cgroup_workload_key.empty()) break;
      }
    }
  }
  return s;
}

}  // namespace we
