#include "collectors/qemu_process.h"

#include <algorithm>
#include <cstdint>

#include "collectors/container_identity.h"
#include "collectors/parse.h"
#include "collectors/process_self.h"

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

// A QEMU option list ("guest=a,,b,debug-threads=on", "type=1,manufacturer=a,,b,uuid=U") split at
// each lone ',', with ",," unescaped to ','.
std::vector<std::string> SplitOptions(std::string_view value) {
  std::vector<std::string> items(1);
  for (std::size_t k = 0; k < value.size(); ++k) {
    if (value[k] != ',') {
      items.back() += value[k];
    } else if (k + 1 < value.size() && value[k + 1] == ',') {
      items.back() += ',';
      ++k;
    } else {
      items.emplace_back();
    }
  }
  return items;
}

// The value of `key=` in an option list.
std::optional<std::string> OptionValue(std::string_view value, std::string_view key) {
  for (std::string& item : SplitOptions(value)) {
    if (item.size() > key.size() && item.compare(0, key.size(), key) == 0 && item[key.size()] == '=') {
      return item.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

using Args = std::vector<std::string_view>;

// "--flag value" or "--flag=value" (Rust's clap takes both; QEMU's and Firecracker's parsers only
// the first, but an '=' form never means anything else to them).
std::optional<std::string_view> FlagValue(const Args& args, std::size_t i, std::string_view flag) {
  const std::string_view a = args[i];
  if (a == flag) return i + 1 < args.size() ? std::optional<std::string_view>(args[i + 1]) : std::nullopt;
  if (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=') {
    return a.substr(flag.size() + 1);
  }
  return std::nullopt;
}

// The instance in Incus' QEMU pid file, "/run/incus/<project>_<name>/qemu.pid"; empty for others.
std::string_view IncusInstance(std::string_view pidfile) {
  constexpr std::string_view kPrefix = "/run/incus/", kSuffix = "/qemu.pid";
  if (pidfile.size() <= kPrefix.size() + kSuffix.size() || pidfile.substr(0, kPrefix.size()) != kPrefix ||
      pidfile.substr(pidfile.size() - kSuffix.size()) != kSuffix) {
    return {};
  }
  std::string_view instance = pidfile.substr(kPrefix.size(), pidfile.size() - kPrefix.size() - kSuffix.size());
  return instance.find('/') == std::string_view::npos ? instance : std::string_view{};
}

void ParseQemuArgs(const Args& args, VmmCommandLine* out) {
  std::string smbios_uuid;
  std::string_view incus;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::optional<std::string_view> v;
    if ((v = FlagValue(args, i, "-name")) || (v = FlagValue(args, i, "--name"))) {
      // "-name guest=NAME,debug-threads=on" (libvirt) or "-name NAME[,debug-threads=on]".
      std::string_view rest = *v;
      if (rest.substr(0, 6) == "guest=") rest.remove_prefix(6);
      out->name = SplitOptions(rest).front();
    } else if ((v = FlagValue(args, i, "-uuid")) || (v = FlagValue(args, i, "--uuid"))) {
      out->uuid = std::string(*v);
    } else if ((v = FlagValue(args, i, "-id"))) {
      // Proxmox VE's own option (pve-qemu): the vmid. Upstream QEMU has no -id.
      out->vmm_id = std::string(*v);
    } else if ((v = FlagValue(args, i, "-pidfile"))) {
      incus = IncusInstance(*v);
    } else if ((v = FlagValue(args, i, "-smbios"))) {
      // Proxmox keeps the VM's UUID in its smbios1 setting: "-smbios type=1,...,uuid=U".
      if (OptionValue(*v, "type") == "1") {
        if (auto u = OptionValue(*v, "uuid")) smbios_uuid = *u;
      }
    }
  }
  if (out->uuid.empty()) out->uuid = smbios_uuid;
  // Kata Containers names its sandbox VM "sandbox-<sandbox id>" (virtcontainers/qemu.go).
  if (out->name.size() == 8 + 64 && out->name.compare(0, 8, "sandbox-") == 0 && IsContainerId(out->name.substr(8))) {
    out->runtime = "kata";
    out->vmm_id = out->name.substr(8);
    return;
  }
  if (!out->vmm_id.empty()) {
    out->runtime = "proxmox";
  } else if (!incus.empty()) {
    // Incus: -name <name>, the project only in the pid file's directory.
    out->runtime = "incus";
    out->vmm_id = std::string(incus);
    out->name = IncusInstanceName(incus);
  }
}

void ParseFirecrackerArgs(const Args& args, VmmCommandLine* out) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (auto v = FlagValue(args, i, "--id")) out->vmm_id = std::string(*v);
  }
  // Firecracker's default (src/vmm/src/logger/logging.rs DEFAULT_INSTANCE_ID) names the VM; the id
  // gets the PID (QemuProcessCollector), since every such VM on a host has that name.
  out->name = out->vmm_id.empty() ? "anonymous-instance" : out->vmm_id;
}

void ParseCloudHypervisorArgs(const Args& args, VmmCommandLine* out) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    auto v = FlagValue(args, i, "--api-socket");
    if (!v) continue;
    // "path=<path>", "fd=<fd>" or a bare path (cloud-hypervisor/src/main.rs parse_api_socket).
    if (v->substr(0, 3) == "fd=") continue;  // an inherited socket names nothing
    const std::string path = OptionValue(*v, "path").value_or(std::string(*v));
    if (!path.empty()) out->vmm_id = out->name = path;
    // Kata Containers' socket: /run/vc/vm/<sandbox id>/clh-api.sock (virtcontainers/clh.go).
    constexpr std::string_view kKata = "/run/vc/vm/", kSocket = "/clh-api.sock";
    if (path.size() == kKata.size() + 64 + kSocket.size() && path.compare(0, kKata.size(), kKata) == 0 &&
        path.compare(kKata.size() + 64, kSocket.size(), kSocket) == 0 && IsContainerId(path.substr(kKata.size(), 64))) {
      out->runtime = "kata";
      out->vmm_id = path.substr(kKata.size(), 64);
      out->name = "sandbox-" + out->vmm_id;
    }
  }
}

bool IsQemuExe(std::string_view exe) {
  return exe.substr(0, 12) == "qemu-system-" || exe == "qemu-kvm" || exe == "kvm";
}
// The jailer copies the exec file under its own name, which release builds carry their version in.
bool IsFirecrackerExe(std::string_view exe) { return exe == "firecracker" || exe.substr(0, 13) == "firecracker-v"; }
bool IsCloudHypervisorExe(std::string_view exe) {
  return exe == "cloud-hypervisor" || exe.substr(0, 23) == "cloud-hypervisor-static";
}

std::optional<int> VcpuIndex(std::string_view digits) {
  auto index = ParseU64(digits);
  if (!index || *index > 4096) return std::nullopt;
  return static_cast<int>(*index);
}
std::optional<int> FirecrackerVcpu(std::string_view comm) {  // "fc_vcpu N" (vmm/src/vstate/vcpu.rs)
  comm = Trim(comm);
  if (comm.substr(0, 8) != "fc_vcpu ") return std::nullopt;
  return VcpuIndex(comm.substr(8));
}
std::optional<int> CloudHypervisorVcpu(std::string_view comm) {  // "vcpuN" (vmm/src/cpu.rs)
  comm = Trim(comm);
  if (comm.substr(0, 4) != "vcpu") return std::nullopt;
  return VcpuIndex(comm.substr(4));
}

// One VMM: which executables are it, how its arguments name the VM, how its vCPU threads are
// named, and whether it joins only a cgroup the naming rules give to it (see the header).
struct VmmRule {
  std::string_view runtime;
  bool (*is_exe)(std::string_view basename);
  void (*parse)(const Args& args, VmmCommandLine* out);
  std::optional<int> (*vcpu)(std::string_view comm);
  bool own_cgroup_only;
};

constexpr VmmRule kVmms[] = {
    {"qemu", IsQemuExe, ParseQemuArgs, ParseVcpuThreadName, false},
    {"firecracker", IsFirecrackerExe, ParseFirecrackerArgs, FirecrackerVcpu, true},
    {"cloud-hypervisor", IsCloudHypervisorExe, ParseCloudHypervisorArgs, CloudHypervisorVcpu, true},
};

const VmmRule* RuleOf(std::string_view runtime) {
  if (runtime == "proxmox" || runtime == "incus") runtime = "qemu";
  for (const VmmRule& r : kVmms) {
    if (r.runtime == runtime) return &r;
  }
  return nullptr;
}

}  // namespace

std::optional<VmmCommandLine> ParseVmmCommandLine(std::string_view cmdline) {
  Args args;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    std::size_t end = cmdline.find('\0', start);
    if (end == std::string_view::npos) end = cmdline.size();
    args.push_back(cmdline.substr(start, end - start));
    start = end + 1;
  }
  if (args.empty()) return std::nullopt;
  const std::string_view exe = Basename(args[0]);
  for (const VmmRule& rule : kVmms) {
    if (!rule.is_exe(exe)) continue;
    VmmCommandLine out;
    out.runtime = std::string(rule.runtime);
    out.vmm = out.runtime;
    rule.parse(args, &out);
    return out;
  }
  return std::nullopt;
}

std::optional<int> ParseVmmVcpuThreadName(std::string_view runtime, std::string_view comm) {
  const VmmRule* rule = RuleOf(runtime);
  return rule != nullptr ? rule->vcpu(comm) : std::nullopt;
}

bool VmmJoinsCgroup(const VmmCommandLine& cmdline, const WorkloadIdentity& cgroup) {
  const VmmRule* rule = RuleOf(cmdline.vmm.empty() ? cmdline.runtime : cmdline.vmm);
  if (rule == nullptr) return false;
  // Kata's overhead cgroup is its sandbox VMM's, whichever VMM (a jailed Firecracker keeps the
  // sandbox id as its --id); a sandbox VMM elsewhere (in its pod's cgroup, with
  // sandbox_cgroup_only=true) makes no workload a VM.
  if (cgroup.runtime == "kata") return cgroup.kind == "vm" && cgroup.id == cmdline.vmm_id;
  if (cmdline.runtime == "kata") return false;
  // Incus gives its VMs no cgroup: QEMU stays in incusd's, which is no VM's.
  if (cmdline.runtime == "incus") return false;
  if (!rule->own_cgroup_only) return true;
  return cgroup.kind == "vm" && cgroup.runtime == cmdline.runtime && cgroup.id == cmdline.vmm_id;
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

QemuProcessCollector::QemuProcessCollector(const FileSystem& fs, std::string procfs, double ticks_per_second,
                                           const MachineLookup* machines, bool services)
    : fs_(fs),
      procfs_(std::move(procfs)),
      ticks_per_second_(ticks_per_second),
      machines_(machines),
      services_(services) {}

CollectResult QemuProcessCollector::Collect() {
  CollectResult result;
  auto entries = fs_.ListDir(procfs_);
  if (!entries) {
    result.errors.push_back(procfs_ + ": cannot list the proc file system");
    return result;
  }
  std::optional<double> boot_time;
  std::map<std::string, std::optional<VmmCommandLine>> known;
  for (const DirEntry& e : *entries) {
    if (!e.is_dir || !IsAllDigits(e.name)) continue;
    std::optional<VmmCommandLine> cmdline;
    if (auto it = known_.find(e.name); it != known_.end()) {
      cmdline = it->second;
    } else {
      ReadResult r = fs_.ReadFile(JoinPath(procfs_, e.name + "/cmdline"));
      if (!r.ok()) continue;  // exited, or a kernel thread's empty cmdline is read as ok below
      cmdline = ParseVmmCommandLine(r.data);
    }
    known.emplace(e.name, cmdline);
    if (!cmdline) continue;
    if (!boot_time) {
      std::string error;
      ReadResult stat = fs_.ReadFile(JoinPath(procfs_, "stat"));
      if (stat.ok()) {
        if (auto b = ParseBootTime(stat.data, &error)) boot_time = PreciseBootTime(*b, ClockBootTime());
      }
      if (!boot_time) boot_time = 0;
    }
    if (auto s = ReadProcess(e.name, *cmdline, *boot_time, &result.errors)) result.samples.push_back(std::move(*s));
  }
  known_ = std::move(known);
  return result;
}

std::optional<Sample> QemuProcessCollector::ReadProcess(const std::string& pid, const VmmCommandLine& cmdline,
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
  s.identity.runtime = cmdline.runtime;
  s.identity.name = !cmdline.name.empty() ? cmdline.name : cmdline.runtime + "-" + pid;
  if (!cmdline.uuid.empty()) {
    s.identity.id = cmdline.uuid;
  } else if (!cmdline.vmm_id.empty()) {
    s.identity.id = cmdline.vmm_id;
  } else if (cmdline.runtime == "firecracker") {
    s.identity.id = s.identity.name + "-" + pid;  // "anonymous-instance" is every unnamed one's
  } else {
    s.identity.id = s.identity.name;
  }
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
      auto index = ParseVmmVcpuThreadName(cmdline.vmm.empty() ? cmdline.runtime : cmdline.vmm, comm.data);
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

  // The cgroup it runs in, to be joined with (libvirt's machine-qemu... or qemu-N-NAME.libvirt-qemu,
  // Proxmox's qemu.slice/<vmid>.scope, the jailer's firecracker/<id>), if it may join it.
  if (ReadResult r = fs_.ReadFile(dir + "/cgroup"); r.ok()) {
    if (auto entries = ParseProcCgroup(r.data, &error)) {
      for (const ProcCgroupEntry& entry : *entries) {
        std::string path = entry.path;
        std::optional<WorkloadIdentity> service;  // the host's service it runs in, if reported
        while (!path.empty() && path != "/") {
          if (services_ && !service) service = IdentifyService(path);
          if (auto id = IdentifyCgroup(path, machines_)) {
            if (VmmJoinsCgroup(cmdline, *id)) {
              s.cgroup_workload_key = id->Key();
              s.cgroup = path;
            } else {
              // Not its own: its figures are in that workload's too (a microVM in a container,
              // a Kata VMM in its pod), which the totals must not count twice.
              s.identity.parent = id->id;
            }
            service.reset();  // a service inside a workload is the workload's
            break;            // the innermost workload is the one it is in
          }
          path = path.substr(0, path.rfind('/'));
        }
        // Incus' QEMU in incusd's incus.service: the service counts it too.
        if (service && s.identity.parent.empty()) s.identity.parent = service->id;
        if (!s.cgroup_workload_key.empty()) break;
      }
    }
  }
  return s;
}

}  // namespace we
