#pragma once
// A Sample is what one collector saw of one workload at one tick. Every figure is optional: a file
// that is absent (no such controller, an older kernel, a cgroup that vanished mid-read) leaves its
// field empty, and an empty field emits no series.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace we {

// Who a workload is. (kind, runtime, id) is its key; name is for people.
struct WorkloadIdentity {
  std::string kind;     // "container", "vm", "pod", "service"
  std::string runtime;  // "docker", "containerd", "cri-o", "podman", "lxc", "systemd-nspawn", "libvirt", ...
  std::string id;       // the runtime's id (64 hex for OCI runtimes), or the name where it has none
  std::string name;     // the id's short form or the path-derived name, until runtime metadata lands
  std::string pod_uid;  // Kubernetes pod UID when the cgroup path carries one, else empty
  // The id of the workload whose cgroup holds this one's (a pod's containers, Docker inside an LXC
  // container), else empty. Its figures are counted in that one's too: totals sum only workloads
  // without a parent (README, "Workloads inside workloads").
  std::string parent;

  std::string Key() const {
    std::string key;
    KeyInto(&key);
    return key;
  }
  // Key() written into *out, reusing its capacity: no allocation once it has held a key.
  void KeyInto(std::string* out) const {
    out->assign(kind);
    out->push_back('\x1f');
    out->append(runtime);
    out->push_back('\x1f');
    out->append(id);
  }
  friend bool operator==(const WorkloadIdentity&, const WorkloadIdentity&) = default;
};

struct CpuFigures {
  std::optional<double> usage_seconds;  // user + system (or the kernel's total)
  std::optional<double> user_seconds;
  std::optional<double> system_seconds;
  std::optional<uint64_t> periods;  // CFS enforcement periods elapsed
  std::optional<uint64_t> throttled_periods;
  std::optional<double> throttled_seconds;
  std::optional<double> limit_cores;  // quota / period; absent when unlimited
};

struct MemoryFigures {
  std::optional<uint64_t> usage_bytes;        // memory.current / usage_in_bytes
  std::optional<uint64_t> working_set_bytes;  // usage - inactive_file, floored at 0
  std::optional<uint64_t> rss_bytes;          // anon (v2) / total_rss (v1)
  std::optional<uint64_t> cache_bytes;        // file (v2) / total_cache (v1)
  std::optional<uint64_t> swap_bytes;
  std::optional<uint64_t> limit_bytes;      // absent when unlimited
  std::optional<uint64_t> max_usage_bytes;  // kernel lifetime high-water mark
  // Highest usage since the previous tick, from a memory.peak descriptor reset every tick
  // (cgroup v2 on Linux 6.12+); absent elsewhere and on a workload's first tick.
  std::optional<uint64_t> interval_peak_bytes;
  std::optional<uint64_t> oom_kills;
};

// Block I/O, summed over the workload's devices.
struct IoFigures {
  std::optional<uint64_t> read_bytes;
  std::optional<uint64_t> write_bytes;
  std::optional<uint64_t> reads;  // completed read requests
  std::optional<uint64_t> writes;
};

// Network traffic of the workload's network namespace, summed over its interfaces but lo.
struct NetworkFigures {
  std::optional<uint64_t> receive_bytes, transmit_bytes, receive_packets, transmit_packets;
  std::optional<uint64_t> receive_errors, transmit_errors;
};

// Pressure stall information: cumulative stalled time in seconds.
struct PressureFigures {
  std::optional<double> some_seconds;  // exported as *_waiting_seconds_total
  std::optional<double> full_seconds;  // exported as *_stalled_seconds_total
};

// One block device or network interface of a VM, as libvirt counts it.
struct DeviceCounters {
  std::string device;                                                              // "vda", "vnet0"
  std::optional<uint64_t> read_bytes, write_bytes, read_requests, write_requests;  // rx/tx for interfaces
};

struct VcpuFigures {
  int index = 0;
  std::optional<double> seconds;        // time the vCPU ran
  std::optional<double> delay_seconds;  // time it waited for a host CPU (libvirt's vcpu.N.delay)
};

// The guest-side figures of a virtual machine (kind="vm"). Host-side CPU and memory stay in the
// common CpuFigures / MemoryFigures.
struct VmFigures {
  std::string uuid;
  std::optional<uint64_t> vcpus;
  std::vector<VcpuFigures> vcpu;
  std::optional<uint64_t> memory_assigned_bytes;    // balloon current
  std::optional<uint64_t> memory_max_bytes;         // balloon maximum
  std::optional<uint64_t> guest_memory_used_bytes;  // balloon available - unused (guest-reported)
  std::optional<double> guest_memory_stats_age_seconds;
  std::optional<int> state;  // virDomainState
  std::optional<int> state_reason;
  std::vector<DeviceCounters> block;
  std::vector<DeviceCounters> net;
};

// What the container runtime says about a container (runtime_metadata.h).
struct ContainerMetadata {
  std::string name;  // as its users name it ("web-1"), empty when unknown
  std::string image;
  std::string k8s_namespace, pod, container;  // Kubernetes, from the CRI annotations
  std::map<std::string, std::string> labels;  // container labels (exported only if allowed)
  // A pod's sandbox (pause) container, as its runtime marks it: counted in its pod, not reported.
  bool sandbox = false;
  std::string sandbox_id;  // the id of its pod's sandbox (io.kubernetes.cri.sandbox-id), else empty
};

struct Sample {
  WorkloadIdentity identity;
  std::string cgroup;  // the workload's cgroup path (the cgroup2 one where it exists), for workload_info
  // Changes whenever any of the workload's cgroup directories is recreated (hash of their inodes).
  // Counters are turned into rates only between two samples of the same instance.
  uint64_t instance = 0;
  std::optional<double> start_time_seconds;  // Unix time the workload appeared

  CpuFigures cpu;
  MemoryFigures memory;
  std::optional<uint64_t> tasks;
  IoFigures io;
  NetworkFigures network;
  PressureFigures cpu_pressure;
  PressureFigures memory_pressure;
  PressureFigures io_pressure;

  std::optional<VmFigures> vm;  // VMs only
  // Containers whose runtime state was readable. Shared with the resolver's cache, which reads
  // each container's state once: a tick copies a pointer, not the strings.
  std::shared_ptr<const ContainerMetadata> metadata;
  // For a QEMU process: the key of the cgroup workload it runs in, if its cgroup names one; the
  // pipeline joins the two into one workload.
  std::string cgroup_workload_key;
  // Whether a TCP socket was in LISTEN state in its network namespace (containers and services;
  // CgroupCollector::ReadListeners): true from the tick one is first seen, and for the rest of the
  // instance (it stops looking); false while none is; absent where it cannot be told (no procfs,
  // or a workload in the host's namespace whose descriptors the daemon may not read).
  std::optional<bool> listening;
  // The first non-loopback IPv4 address of its own network namespace ("10.0.3.2"), the probes'
  // {ip}; empty in the host's namespace or when it has none.
  std::string netns_ipv4;

  // Back to a default Sample, its strings emptied but keeping their buffers, to be filled again
  // without allocating (collector.h, Collector::Recycle).
  void Clear() {
    Sample fresh;
    auto keep = [](std::string& from, std::string& to) {
      to.swap(from);
      to.clear();
    };
    keep(identity.kind, fresh.identity.kind);
    keep(identity.runtime, fresh.identity.runtime);
    keep(identity.id, fresh.identity.id);
    keep(identity.name, fresh.identity.name);
    keep(identity.pod_uid, fresh.identity.pod_uid);
    keep(identity.parent, fresh.identity.parent);
    keep(cgroup, fresh.cgroup);
    keep(cgroup_workload_key, fresh.cgroup_workload_key);
    keep(netns_ipv4, fresh.netns_ipv4);
    *this = std::move(fresh);
  }
};

// The daemon's own process figures (from /proc/self under --path.procfs), for process_* metrics.
struct ProcessFigures {
  std::optional<double> cpu_seconds;
  std::optional<uint64_t> resident_memory_bytes;
  std::optional<uint64_t> virtual_memory_bytes;
  std::optional<uint64_t> open_fds;
  std::optional<uint64_t> max_fds;
  std::optional<double> start_time_seconds;
};

}  // namespace we
