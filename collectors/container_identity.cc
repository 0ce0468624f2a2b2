#include "collectors/container_identity.h"

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

// A Kubernetes pod UID from a path component: "pod<uid>" (cgroupfs driver) or
// "kubepods[-<qos>]-pod<uid with '_' for '-'>.slice" (systemd driver).
std::optional<std::string> PodUid(std::string_view component) {
  std::string_view uid;
  if (StartsWith(component, "kubepods") && EndsWith(component, ".slice")) {
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

std::optional<WorkloadIdentity> IdentifyLeaf(std::string_view leaf, std::string_view parent) {
  if (auto id = IdBetween(leaf, "docker-", ".scope")) return Container("docker", *id);
  if (parent == "docker" && IsContainerId(leaf)) return Container("docker", leaf);
  if (auto id = IdBetween(leaf, "cri-containerd-", ".scope")) return Container("containerd", *id);
  if (auto id = IdBetween(leaf, "crio-", ".scope")) return Container("cri-o", *id);
  if (auto id = IdBetween(leaf, "libpod-", ".scope")) return Container("podman", *id);
  if (auto id = IdBetween(leaf, "libpod-", "")) return Container("podman", *id);
  if (IsContainerId(leaf) && PodUid(parent)) return Container("cri", leaf);

  if (StartsWith(leaf, "lxc.payload.") && leaf.size() > 12) {
    return Named("container", "lxc", std::string(leaf.substr(12)));
  }
  if (parent == "lxc" && !StartsWith(leaf, "lxc.")) return Named("container", "lxc", std::string(leaf));

  // libvirt without systemd: /machine/qemu-<N>-<name>.libvirt-qemu
  if (parent == "machine" && StartsWith(leaf, "qemu-") && EndsWith(leaf, ".libvirt-qemu")) {
    std::string_view rest = leaf.substr(5, leaf.size() - 5 - 13);
    size_t dash = rest.find('-');
    if (dash != std::string_view::npos && dash > 0 && dash + 1 < rest.size()) {
      return Named("vm", "libvirt", std::string(rest.substr(dash + 1)));
    }
    return std::nullopt;
  }
  // systemd machined scopes: libvirt VMs and nspawn containers.
  if (StartsWith(leaf, "machine-") && EndsWith(leaf, ".scope") && leaf.size() > 14) {
    std::string name = UnescapeSystemdName(leaf.substr(8, leaf.size() - 8 - 6));
    if (StartsWith(name, "qemu-")) {
      // qemu-<N>-<name>
      size_t dash = name.find('-', 5);
      if (dash != std::string::npos && dash + 1 < name.size()) {
        return Named("vm", "libvirt", name.substr(dash + 1));
      }
      return std::nullopt;
    }
    return Named("container", "systemd-nspawn", std::move(name));
  }
  return std::nullopt;
}

}  // namespace

bool IsContainerId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!IsHex(c)) return false;
  }
  return true;
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

std::optional<WorkloadIdentity> IdentifyCgroup(std::string_view cgroup_path) {
  std::vector<std::string_view> parts = SplitNonEmpty(cgroup_path, '/');
  if (parts.empty()) return std::nullopt;
  std::string_view leaf = parts.back();
  std::string_view parent = parts.size() >= 2 ? parts[parts.size() - 2] : std::string_view{};
  auto identity = IdentifyLeaf(leaf, parent);
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
