#include "pipeline/workload_join.h"

#include <map>

namespace we {
namespace {

template <typename T>
void Fill(std::optional<T>& into, const std::optional<T>& from) {
  if (!into && from) into = from;
}

// Guest-side figures from libvirt win over what a process shows; the rest fills gaps.
void MergeVm(VmFigures& into, const VmFigures& from, bool from_wins) {
  if (into.uuid.empty()) into.uuid = from.uuid;
  auto take = [&](auto& a, const auto& b) {
    if (from_wins && b) {
      a = b;
    } else {
      Fill(a, b);
    }
  };
  take(into.vcpus, from.vcpus);
  if (!from.vcpu.empty() && (from_wins || into.vcpu.empty())) into.vcpu = from.vcpu;
  take(into.memory_assigned_bytes, from.memory_assigned_bytes);
  take(into.memory_max_bytes, from.memory_max_bytes);
  take(into.guest_memory_used_bytes, from.guest_memory_used_bytes);
  take(into.guest_memory_stats_age_seconds, from.guest_memory_stats_age_seconds);
  take(into.state, from.state);
  take(into.state_reason, from.state_reason);
  if (!from.block.empty()) into.block = from.block;
  if (!from.net.empty()) into.net = from.net;
}

void FillCpu(CpuFigures& into, const CpuFigures& from) {
  if (into.usage_seconds) return;  // one source's counters, never a mix
  into.usage_seconds = from.usage_seconds;
  into.user_seconds = from.user_seconds;
  into.system_seconds = from.system_seconds;
}

// The name a VMM scan gives a VM its command line does not name: "<runtime>-<pid>".
bool IsPlaceholderName(const WorkloadIdentity& id) {
  const std::string& n = id.name;
  if (n.size() <= id.runtime.size() + 1 || n.compare(0, id.runtime.size(), id.runtime) != 0 ||
      n[id.runtime.size()] != '-') {
    return false;
  }
  return n.find_first_not_of("0123456789", id.runtime.size() + 1) == std::string::npos;
}

// KubeVirt's QEMU runs in its virt-launcher pod's "compute" container
// (pkg/virt-controller/services/template.go), beside virt-launcher and virtqemud: a QEMU in a
// Kubernetes container named so, or whose state is unknown, is KubeVirt's VM.
bool IsKubeVirtCompute(const Sample& c) {
  if (c.identity.kind != "container" || c.identity.pod_uid.empty()) return false;
  return !c.metadata || c.metadata->container.empty() || c.metadata->container == "compute";
}

// KubeVirt names the domain "<namespace>_<vmi>" (virtwrap/api VMINamespaceKeyFunc; neither
// name may hold '_', and SplitDomainName splits at the first): "<namespace>/<vmi>".
std::string KubeVirtName(std::string name) {
  const std::size_t sep = name.find('_');
  if (sep != std::string::npos && sep > 0 && sep + 1 < name.size()) name[sep] = '/';
  return name;
}

}  // namespace

std::vector<Sample> JoinWorkloads(std::vector<Sample> cgroup, std::vector<Sample> qemu, std::vector<Sample> libvirt) {
  std::vector<Sample> out = std::move(cgroup);
  // Only QEMU processes join by key: without any, no key of the (many) cgroup workloads is made.
  std::map<std::string, std::size_t> by_key;
  if (!qemu.empty()) {
    for (std::size_t i = 0; i < out.size(); ++i) by_key.emplace(out[i].identity.Key(), i);
  }

  for (Sample& q : qemu) {
    auto it = q.cgroup_workload_key.empty() ? by_key.end() : by_key.find(q.cgroup_workload_key);
    if (it == by_key.end()) {
      out.push_back(std::move(q));
      continue;
    }
    Sample& c = out[it->second];
    const bool kubevirt = IsKubeVirtCompute(c);
    c.identity.kind = "vm";
    // Kata's overhead keeps the sandbox id, by which it is its pod's (pods.h).
    if (q.vm && !q.vm->uuid.empty() && c.identity.runtime != "kata") c.identity.id = q.vm->uuid;
    if (!IsPlaceholderName(q.identity)) c.identity.name = q.identity.name;
    if (kubevirt) {
      c.identity.runtime = "kubevirt";
      c.identity.name = KubeVirtName(c.identity.name);
    }
    FillCpu(c.cpu, q.cpu);
    Fill(c.memory.usage_bytes, q.memory.usage_bytes);
    Fill(c.memory.working_set_bytes, q.memory.working_set_bytes);
    Fill(c.memory.max_usage_bytes, q.memory.max_usage_bytes);
    Fill(c.start_time_seconds, q.start_time_seconds);
    Fill(c.tasks, q.tasks);
    if (!c.vm) c.vm = VmFigures{};
    if (q.vm) MergeVm(*c.vm, *q.vm, /*from_wins=*/false);
  }

  for (Sample& l : libvirt) {
    const std::string uuid = l.vm ? l.vm->uuid : "";
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < out.size() && !match; ++i) {
      if (out[i].identity.kind == "vm" && !uuid.empty() &&
          (out[i].identity.id == uuid || (out[i].vm && out[i].vm->uuid == uuid))) {
        match = i;
      }
    }
    for (std::size_t i = 0; i < out.size() && !match; ++i) {
      if (out[i].identity.kind == "vm" && out[i].identity.name == l.identity.name) match = i;
    }
    if (!match) {
      out.push_back(std::move(l));
      continue;
    }
    Sample& v = out[*match];
    v.identity.runtime = "libvirt";
    if (!uuid.empty()) v.identity.id = uuid;
    FillCpu(v.cpu, l.cpu);
    if (!v.vm) v.vm = VmFigures{};
    if (l.vm) MergeVm(*v.vm, *l.vm, /*from_wins=*/true);
  }
  return out;
}

}  // namespace we
