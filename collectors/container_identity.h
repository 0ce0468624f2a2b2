#pragma once
// The container runtimes' cgroup naming rules, as pure functions: given a cgroup path (relative to
// its hierarchy's root, e.g. "/system.slice/docker-<id>.scope"), say which workload it is, if any.
//
// Recognised, anywhere in the tree (the matching directory is the workload; cgroups nested inside
// it belong to it):
//   docker-<64hex>.scope, docker/<64hex>                      runtime "docker"
//   cri-containerd-<64hex>.scope                              runtime "containerd"
//   crio-<64hex>.scope                                        runtime "cri-o"
//   libpod-<64hex>.scope, libpod-<64hex> (cgroupfs manager)   runtime "podman"
//   kubepods cgroupfs layout .../pod<uid>/<64hex>              runtime "cri"
//   lxc.payload.<name>, lxc/<name>                            runtime "lxc"
//     (Incus: lxc.payload.<project>_<name>, named "<project>/<name>", IncusInstanceName)
//     (Proxmox VE: lxc/<vmid>, its processes in lxc/<vmid>/ns/...)
//   machine-<name>.scope (systemd-nspawn, machinectl)         runtime "systemd-nspawn"
//   machine-qemu\x2d<N>\x2d<name>.scope, machine/qemu-<N>-<name>.libvirt-qemu
//     (also qemu-<user>-<N>-<name>, qemu-embed-<hash>-<N>-<name>)
//                                                             kind "vm", runtime "libvirt"
//   qemu.slice/<vmid>.scope (Proxmox VE)                      kind "vm", runtime "proxmox"
//   firecracker/<id>, firecracker-v<version>/<id> (the jailer's <exec file name>/<id>)
//                                                             kind "vm", runtime "firecracker"
//   kata_overhead/<sandbox id> (Kata's overhead: its VMM, shim, virtiofsd) kind "vm", runtime "kata";
//     nothing else below kata_overhead is a workload
//   kubepods[-<qos>]-pod<uid>.slice, kubepods/[<qos>/]pod<uid> (a Kubernetes pod's own cgroup)
//                                                             kind "pod", runtime "kubernetes", id the UID
// A workload may hold others (a pod its containers, an LXC container a Docker one): the caller
// walks on into it (cgroup_collector.h) and gives the inner ones their parent.
// A machine-<name>.scope is whatever systemd-machined says it is when its record is known
// (MachineLookup: CLASS=container or vm, ID= the UUID, which is then the id); only without one
// does the name decide, and an nspawn container named like a libvirt VM is taken for one.
// Not workloads: conmon scopes (libpod-conmon-*, crio-conmon-*), lxc.monitor.* and
// lxc.monitor/<vmid> (LXC's monitor), slices, services.

#include <optional>
#include <string>
#include <string_view>

#include "collectors/sample.h"

namespace we {

// What systemd-machined keeps of one machine in /run/systemd/machines/<name>.
struct MachineRecord {
  std::string machine_class;  // CLASS=: "container", "vm"; empty when the file has none
  std::string uuid;           // ID= as 8-4-4-4-12 lower-case hex; empty when absent or malformed
};

// The state file's text (KEY=value lines). Pure; keys it does not know are skipped.
MachineRecord ParseMachineRecord(std::string_view text);

// Finds machined's record of a machine by its (unescaped) name. Implementations say their own
// thread-safety; machined_registry.h reads the files.
class MachineLookup {
 public:
  virtual ~MachineLookup() = default;
  virtual std::optional<MachineRecord> Find(const std::string& name) const = 0;
};

// `machines`, when given, is asked about machine-<name>.scope directories only.
std::optional<WorkloadIdentity> IdentifyCgroup(std::string_view cgroup_path, const MachineLookup* machines = nullptr);

// The domain name in one of libvirt's machine names (virDomainDriverGenerateMachineName):
// "qemu-<N>-<name>", "qemu-<user>-<N>-<name>" (session daemons), "qemu-embed-<8 hex>-<N>-<name>"
// (embedded drivers). <N> changes at every start and is dropped. nullopt for other names.
std::optional<std::string> LibvirtDomainName(std::string_view machine);

// A systemd service as a workload (kind="service", runtime="systemd", id and name = the unit name
// without ".service"), for `system.slice/<name>.service` directly under system.slice. Pure.
std::optional<WorkloadIdentity> IdentifyService(std::string_view cgroup_path);

// An Incus instance's "<project>_<name>" (the default project has no prefix; Incus'
// internal/server/project/project.go Instance) as "<project>/<name>", split at the last '_'
// (InstanceParts: instance names hold no '_', project names may); a name without '_' as it is.
std::string IncusInstanceName(std::string_view project_name);

// Undoes systemd's unit-name escaping ("\x2d" -> "-").
std::string UnescapeSystemdName(std::string_view name);

// True for exactly 64 lower-case hex digits, the id format of OCI runtimes.
bool IsContainerId(std::string_view s);

}  // namespace we
