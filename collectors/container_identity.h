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
//   machine-<name>.scope (systemd-nspawn, machinectl)         runtime "systemd-nspawn"
//   machine-qemu\x2d<N>\x2d<name>.scope, machine/qemu-<N>-<name>.libvirt-qemu
//                                                             kind "vm", runtime "libvirt"
// Not workloads: conmon scopes (libpod-conmon-*, crio-conmon-*), lxc.monitor.*, slices, services.

#include <optional>
#include <string>
#include <string_view>

#include "collectors/sample.h"

namespace we {

std::optional<WorkloadIdentity> IdentifyCgroup(std::string_view cgroup_path);

// A systemd service as a workload (kind="service", runtime="systemd", id and name = the unit name
// without ".service"), for `system.slice/<name>.service` directly under system.slice. Pure.
std::optional<WorkloadIdentity> IdentifyService(std::string_view cgroup_path);

// Undoes systemd's unit-name escaping ("\x2d" -> "-").
std::string UnescapeSystemdName(std::string_view name);

// True for exactly 64 lower-case hex digits, the id format of OCI runtimes.
bool IsContainerId(std::string_view s);

}  // namespace we
