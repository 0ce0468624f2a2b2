#include "collectors/container_identity.h"

#include <algorithm>
#include <vector>

#include "collectors/parse.h"

namespace we {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<prefix><64hex><suffix>" -> the id.
std::optional<std::string_view> IdBetween(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (!StartsWith(name, prefix) || !EndsWith(name, suffix)) return std::nullopt;
  std::string_view id = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!IsContainerId(id)) return std::nullopt;
  return id;
}

// A systemd-driver name of the kubelet's: "kubepods...", or "<cgroup root>-kubepods..." when the
// kubelet runs with --cgroup-root (CgroupName.ToSystemd joins every component with '-').
bool IsKubepodsSlice(std::string_view component) {
  return EndsWith(component, ".slice") &&
         (StartsWith(component, "kubepods") || component.find("-kubepods") != std::string_view::npos);
}

// A Kubernetes pod UID from a path component: "pod<uid>" (cgroupfs driver) or
// "[<root>-]kubepods[-<qos>]-pod<uid with '_' for '-'>.slice" (systemd driver).
std::optional<std::string> PodUid(std::string_view component) {
  std::string_view uid;
  if (IsKubepodsSlice(component)) {
    size_t pos = component.rfind("-pod");
    if (pos == std::string_view::npos) return std::nullopt;
    uid = component.substr(pos + 4, component.size() - pos - 4 - 6);
  } else if (StartsWith(component, "pod")) {
    uid = component.substr(3);
  } else {
    return std::nullopt;
  }
  if (uid.size() != 36) return std::nullopt;
  std::string out(uid);
  for (char& c : out) {
    if (c == '_') c = '-';
    if (!(IsHex(c) || c == '-')) return std::nullopt;
  }
  return out;
}

WorkloadIdentity Container(std::string runtime, std::string_view id) {
  WorkloadIdentity w;
  w.kind = "container";
  w.runtime = std::move(runtime);
  w.id = std::string(id);
  w.name = std::string(id.substr(0, 12));
  return w;
}

WorkloadIdentity Named(std::string kind, std::string runtime, std::string name) {
  WorkloadIdentity w;
  w.kind = std::move(kind);
  w.runtime = std::move(runtime);
  w.id = name;
  w.name = std::move(name);
  return w;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Firecracker's instance ids: 1 to 64 of [A-Za-z0-9-] (src/utils/src/validators.rs).
bool IsFirecrackerId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

// A machined scope: its record when machined has one, else what its name suggests.
std::optional<WorkloadIdentity> MachineScope(std::string name, const MachineLookup* machines) {
  std::optional<MachineRecord> record = machines != nullptr ? machines->Find(name) : std::nullopt;
  const std::string cls = record ? record->machine_class : "";
  std::optional<std::string> domain = LibvirtDomainName(name);
  std::optional<WorkloadIdentity> id;
  if (cls == "container" || (cls.empty() && !domain && !StartsWith(name, "qemu-"))) {
    id = Named("container", "systemd-nspawn", std::move(name));
  } else if (domain) {
    id = Named("vm", "libvirt", std::move(*domain));
  } else if (cls == "vm") {
    id = Named("vm", "machined", std::move(name));  // vmspawn, or another manager's VM
  } else {
    return std::nullopt;  // "qemu-..." that is no libvirt name, and nothing says otherwise
  }
  if (id->kind == "vm" && record && !record->uuid.empty()) id->id = record->uuid;
  return id;
}

std::optional<WorkloadIdentity> IdentifyLeaf(std::string_view leaf, std::string_view parent,
                                             const MachineLookup* machines) {
  if (auto id = IdBetween(leaf, "docker-", ".scope")) return Container("docker", *id);
  if (parent == "docker" && IsContainerId(leaf)) return Container("docker", leaf);
  if (auto id = IdBetween(leaf, "cri-containerd-", ".scope")) return Container("containerd", *id);
  if (auto id = IdBetween(leaf, "crio-", ".scope")) return Container("cri-o", *id);
  if (auto id = IdBetween(leaf, "libpod-", ".scope")) return Container("podman", *id);
  if (auto id = IdBetween(leaf, "libpod-", "")) return Container("podman", *id);
  if (IsContainerId(leaf) && PodUid(parent)) return Container("cri", leaf);

  if (StartsWith(leaf, "lxc.payload.") && leaf.size() > 12) {
    WorkloadIdentity lxc = Named("container", "lxc", std::string(leaf.substr(12)));
    lxc.name = IncusInstanceName(lxc.id);
    return lxc;
  }
  if (parent == "lxc" && !StartsWith(leaf, "lxc.")) return Named("container", "lxc", std::string(leaf));

  // libvirt without systemd: /machine/<machine name>.libvirt-qemu
  if (parent == "machine" && EndsWith(leaf, ".libvirt-qemu")) {
    if (auto domain = LibvirtDomainName(leaf.substr(0, leaf.size() - 13))) return Named("vm", "libvirt", *domain);
    return std::nullopt;
  }
  // systemd machined scopes: libvirt VMs and nspawn containers.
  if (StartsWith(leaf, "machine-") && EndsWith(leaf, ".scope") && leaf.size() > 14) {
    return MachineScope(UnescapeSystemdName(leaf.substr(8, leaf.size() - 8 - 6)), machines);
  }
  // Proxmox VE's VMs: qemu.slice/<vmid>.scope (PVE/QemuServer.pm, enter_systemd_scope).
  if (parent == "qemu.slice" && EndsWith(leaf, ".scope") && IsDigits(leaf.substr(0, leaf.size() - 6))) {
    return Named("vm", "proxmox", std::string(leaf.substr(0, leaf.size() - 6)));
  }
  // Firecracker's jailer: <parent cgroup, by default the exec file's name>/<id> (jailer/src/env.rs):
  // "firecracker", or a release's "firecracker-v1.7.0-x86_64".
  if ((parent == "firecracker" || StartsWith(parent, "firecracker-v")) && IsFirecrackerId(leaf)) {
    return Named("vm", "firecracker", std::string(leaf));
  }
  return std::nullopt;
}

// A Kubernetes pod's own cgroup (pkg/kubelet/cm/pod_container_manager_linux.go GetPodContainerName:
// kubepods[/<qos>]/pod<uid>; Guaranteed pods have no QoS level). The systemd driver writes it as
// one slice, "kubepods[-<qos>]-pod<uid, '-' as '_'>.slice" (cgroup_manager_linux.go ToSystemd);
// the cgroupfs one as "pod<uid>" below a "kubepods" directory.
std::optional<WorkloadIdentity> PodCgroup(const std::vector<std::string_view>& parts) {
  const std::string_view leaf = parts.back();
  const bool systemd = IsKubepodsSlice(leaf);
  if (!systemd) {
    if (!StartsWith(leaf, "pod")) return std::nullopt;
    if (std::find(parts.begin(), parts.end() - 1, std::string_view("kubepods")) == parts.end() - 1) return std::nullopt;
  }
  std::optional<std::string> uid = PodUid(leaf);
  if (!uid) return std::nullopt;
  return Named("pod", "kubernetes", *uid);
}

// Kata Containers' overhead cgroup, with sandbox_cgroup_only=false: the VMM, the shim and
// virtiofsd of one pod sandbox, outside the pod's cgroup. The Go runtime makes
// /kata_overhead/<sandbox id>, the Rust one kata_overhead/<the sandbox's cgroup path>
// (runtime-rs resource/cgroups/utils.rs gen_overhead_path), whose leaf is the sandbox id or its
// systemd scope.
std::optional<WorkloadIdentity> KataOverhead(std::string_view leaf) {
  std::optional<std::string_view> id;
  if (IsContainerId(leaf)) id = leaf;
  for (std::string_view prefix : {"cri-containerd-", "crio-", "docker-"}) {
    if (!id) id = IdBetween(leaf, prefix, ".scope");
  }
  if (!id) return std::nullopt;
  return Named("vm", "kata", std::string(*id));
}

}  // namespace

bool IsContainerId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsHex(c)) return false;
  }
  return true;
}

std::string IncusInstanceName(std::string_view project_name) {
  const std::size_t sep = project_name.rfind('_');
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == project_name.size()) return std::string(project_name);
  return std::string(project_name.substr(0, sep)) + "/" + std::string(project_name.substr(sep + 1));
}

std::string UnescapeSystemdName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 3 < name.size() && name[i + 1] == 'x' && IsHex(name[i + 2]) && IsHex(name[i + 3])) {
      auto hex = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      out.push_back(static_cast<char>(hex(name[i + 2]) * 16 + hex(name[i + 3])));
      i += 3;
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

MachineRecord ParseMachineRecord(std::string_view text) {
  MachineRecord r;
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "CLASS") {
      r.machine_class = std::string(value);
    } else if (key == "ID" && value.size() == 32) {
      std::string uuid;
      for (std::size_t i = 0; i < 32; ++i) {
        char c = value[i];
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!IsHex(c)) {
          uuid.clear();
          break;
        }
        if (i == 8 || i == 12 || i == 16 || i == 20) uuid += '-';
        uuid += c;
      }
      r.uuid = std::move(uuid);
    }
  }
  return r;
}

std::optional<std::string> LibvirtDomainName(std::string_view machine) {
  if (!StartsWith(machine, "qemu-")) return std::nullopt;
  std::vector<std::string_view> parts;
  for (std::size_t start = 5;;) {
    const std::size_t dash = machine.find('-', start);
    parts.push_back(machine.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  // The first all-digit part is <N>: the user name before it may hold dashes, the domain name
  // after it too. An embedded driver's 8-hex hash may be all digits: it is skipped by position.
  std::size_t first = 0;
  if (parts.size() > 2 && parts[0] == "embed" && parts[1].size() == 8) first = 2;
  for (std::size_t i = first; i + 1 < parts.size(); ++i) {
    if (!IsDigits(parts[i])) continue;
    const std::size_t at = static_cast<std::size_t>(parts[i + 1].data() - machine.data());
    if (at >= machine.size()) return std::nullopt;
    return std::string(machine.substr(at));
  }
  return std::nullopt;
}

std::optional<WorkloadIdentity> IdentifyCgroup(std::string_view cgroup_path, const MachineLookup* machines) {
  std::vector<std::string_view> parts = SplitNonEmpty(cgroup_path, '/');
  if (parts.empty()) return std::nullopt;
  std::string_view leaf = parts.back();
  std::string_view parent = parts.size() >= 2 ? parts[parts.size() - 2] : std::string_view{};
  std::optional<WorkloadIdentity> identity;
  if (std::find(parts.begin(), parts.end(), std::string_view("kata_overhead")) != parts.end()) {
    identity = KataOverhead(leaf);  // nothing else in it is a workload of its own
  } else {
    identity = IdentifyLeaf(leaf, parent, machines);
    if (!identity) identity = PodCgroup(parts);
  }
  if (!identity) return std::nullopt;
  for (std::string_view part : parts) {
    if (auto uid = PodUid(part)) identity->pod_uid = *uid;
  }
  return identity;
}

std::optional<WorkloadIdentity> IdentifyService(std::string_view path) {
  constexpr std::string_view kSlice = "/system.slice/";
  constexpr std::string_view kSuffix = ".service";
  const std::size_t at = path.rfind(kSlice);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view unit = path.substr(at + kSlice.size());
  if (unit.find('/') != std::string_view::npos || unit.size() <= kSuffix.size() ||
      unit.substr(unit.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  const std::string name = UnescapeSystemdName(unit.substr(0, unit.size() - kSuffix.size()));
  WorkloadIdentity id;
  id.kind = "service";
  id.runtime = "systemd";
  id.id = name;
  id.name = name;
  return id;
}

}  // namespace we
