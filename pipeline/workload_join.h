#pragma once
// One VM is one workload, whichever sources see it. JoinWorkloads merges, per tick:
//   * a QEMU process (qemu_process.h) into the cgroup workload its /proc/PID/cgroup names
//     (libvirt's machine-qemu\x2dN\x2dNAME.scope or qemu-N-NAME.libvirt-qemu, Proxmox's
//     qemu.slice/VMID.scope, the jailer's firecracker/ID; qemu_process.h says which): the cgroup's
//     figures (CPU of every thread, memory, PSI, limits) stay, the process adds the UUID, the
//     vCPU threads and its VmHWM where the cgroup has no watermark;
//   * a libvirt domain into the VM with its UUID (or, failing that, its name): libvirt adds the
//     guest's view (balloon, vCPU delay, state, devices) and the CPU where no other source has it.
// A QEMU in a Kubernetes pod's container (KubeVirt's virt-launcher "compute" container, whose
// figures hold virt-launcher's and virtqemud's too) makes that container the VM: kind "vm",
// runtime "kubevirt", named "<namespace>/<vmi>" from QEMU's "-name guest=<namespace>_<vmi>",
// keeping the container's state (the pod's namespace, pod and image labels) and its parent, the
// pod. A VM seen by one source only stands alone. The id is the UUID wherever any source knows it; the
// cgroup's runtime stays ("proxmox", "libvirt"): it names the manager, the process only the VMM.
//
// Pure; thread-safe.

#include <vector>

#include "collectors/sample.h"

namespace we {

std::vector<Sample> JoinWorkloads(std::vector<Sample> cgroup, std::vector<Sample> qemu, std::vector<Sample> libvirt);

}  // namespace we
