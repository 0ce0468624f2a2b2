#pragma once
// Virtual machines found as their VMM processes under --path.procfs, with or without a manager
// (libvirt, Proxmox VE, a jailer): each row of kVmms (qemu_process.cc) says which executables are
// one VMM, how its command line names the VM, and how its vCPU threads are named.
//   qemu              qemu-system-*, qemu-kvm: `-name guest=NAME,...` or `-name NAME`, `-uuid`
//   proxmox           QEMU as Proxmox VE runs it: argv[0] `/usr/bin/kvm` (a link to qemu-system-*),
//                     `-id <vmid>`, `-name NAME[,debug-threads=on]`, the UUID from
//                     `-smbios type=1,...,uuid=U` when there is no `-uuid`
//   incus             QEMU as Incus runs it: `-name NAME -uuid U`, the project only in
//                     `-pidfile /run/incus/<project>_<name>/qemu.pid` (no prefix in the default
//                     project); named "<project>/<name>" outside the default project
//   kata              Kata Containers' sandbox VMM: QEMU `-name sandbox-<sandbox id>`, Cloud
//                     Hypervisor `--api-socket /run/vc/vm/<sandbox id>/clh-api.sock`; it joins
//                     only its /kata_overhead/<sandbox id> (so does a Firecracker whose --id it is)
//   firecracker       `--id ID` (Firecracker's default: anonymous-instance); threads `fc_vcpu N`
//   cloud-hypervisor  identity only in `--api-socket [path=]PATH`; threads `vcpuN`
// The id is the UUID where there is one, else the VMM's own id, else the name. CPU comes from the
// process's own /proc/PID/stat (all its threads), vCPU threads counted apart, memory from
// smaps_rollup's Rss (status VmRSS when there is no smaps_rollup; a microVM's guest memory is the
// VMM's anonymous memory, so it is in there), VmHWM as its watermark, and the start from the
// process's start time.
//
// The VM joins the cgroup workload its /proc/PID/cgroup names (workload_join.h). QEMU joins any
// (libvirt's and Proxmox's scopes are the VM's own) but Incus' (its QEMU stays in incusd's cgroup,
// which is never one VM's: the VM is its process alone); Firecracker and Cloud Hypervisor only a
// cgroup that the naming rules give to that VMM and id (the jailer's <parent>/<id>): a microVM
// inside a container is not the container. A VM that joins none but runs inside a workload's
// cgroup (or, with services reported, a host service's) gets that workload's id as its parent
// (its figures are in that one's too).
//
// Thread-safety: not thread-safe; owned and called by the sampler. The parsers are pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/container_identity.h"
#include "collectors/file_system.h"

namespace we {

struct VmmCommandLine {
  std::string runtime;  // the kVmms row: "qemu", "proxmox", "firecracker", "cloud-hypervisor"
  std::string name;     // empty when the command line names no VM
  std::string uuid;     // empty when it has none
  std::string vmm_id;   // the VMM's own id (Proxmox's vmid, Firecracker's --id, CH's API socket)
  std::string vmm;      // the kVmms row ("qemu", "firecracker", "cloud-hypervisor"); empty: runtime's
};

// /proc/PID/cmdline (arguments separated by NUL bytes). nullopt when argv[0] is no VMM of kVmms.
std::optional<VmmCommandLine> ParseVmmCommandLine(std::string_view cmdline);

// A "Key:   123 kB" line of /proc/PID/status or smaps_rollup, in bytes. nullopt when absent.
std::optional<uint64_t> ParseKbField(std::string_view text, std::string_view key);

// The vCPU index of a QEMU thread name ("CPU 3/KVM", "CPU 0/TCG"), or nullopt.
std::optional<int> ParseVcpuThreadName(std::string_view comm);
// The same for the VMM `runtime` (VmmCommandLine::runtime): "fc_vcpu 3", "vcpu3" for the microVMs.
std::optional<int> ParseVmmVcpuThreadName(std::string_view runtime, std::string_view comm);

// Whether the VMM process `cmdline` joins the cgroup workload `cgroup` it runs in (see above).
bool VmmJoinsCgroup(const VmmCommandLine& cmdline, const WorkloadIdentity& cgroup);

class QemuProcessCollector final : public Collector {
 public:
  // `fs` must outlive the collector, and `machines` (machined's records, to name a process's
  // machine-*.scope as the cgroup collector does; null: by its name only) too. `services`: the
  // cgroup collector reports systemd services, so a VM running in one (Incus' QEMU in
  // incus.service) has it as its parent.
  QemuProcessCollector(const FileSystem& fs, std::string procfs, double ticks_per_second,
                       const MachineLookup* machines = nullptr, bool services = false);

  std::string name() const override { return "qemu"; }
  CollectResult Collect() override;

 private:
  std::optional<Sample> ReadProcess(const std::string& pid, const VmmCommandLine& cmdline, double boot_time,
                                    std::vector<std::string>* errors) const;

  const FileSystem& fs_;
  std::string procfs_;
  double ticks_per_second_;
  const MachineLookup* machines_;
  bool services_ = false;
  // Verdicts of earlier ticks, by PID: processes that are no VMM are not re-read while their PID lives.
  std::map<std::string, std::optional<VmmCommandLine>> known_;
};

}  // namespace we
