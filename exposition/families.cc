#include "exposition/families.h"

#include <cctype>
#include <map>
#include <set>

namespace we {
namespace {

using prometheus::MetricType;
using W = const WorkloadView&;

constexpr MetricType kCounter = MetricType::Counter;
constexpr MetricType kGauge = MetricType::Gauge;

std::string_view VmStateName(int state) {
  static const char* const kNames[] = {"nostate",  "running", "blocked", "paused",
                                       "shutdown", "shutoff", "crashed", "pmsuspended"};
  return state >= 0 && state < 8 ? kNames[state] : "unknown";
}

// workload_info: the cgroup path, the pod UID and the parent when known, and the allowed container labels.
void EmitInfo(const Snapshot& snap, std::span<const BaseLabels> labels, const BuildInfo&, SeriesSink& sink) {
  std::vector<LabelView> extra;
  std::vector<std::string> names;  // sanitized label names, alive while `extra` points at them
  std::set<std::string_view> used;
  for (size_t i = 0; i < snap.workloads.size(); ++i) {
    const Sample& s = snap.workloads[i].sample;
    extra.clear();
    extra.push_back({"cgroup", s.cgroup});
    if (!s.identity.pod_uid.empty()) extra.push_back({"pod_uid", s.identity.pod_uid});
    if (!s.identity.parent.empty()) extra.push_back({"parent", s.identity.parent});
    if (s.metadata && !s.metadata->labels.empty()) {
      names.clear();
      names.reserve(s.metadata->labels.size());
      used.clear();
      for (const auto& [name, value] : s.metadata->labels) {
        names.push_back(ContainerLabelName(name));
        if (used.insert(names.back()).second) extra.push_back({names.back(), value});  // first of a clash wins
      }
    }
    sink.Add(&labels[i], extra, 1.0);
  }
}

void EmitVmState(const Snapshot& snap, std::span<const BaseLabels> labels, const BuildInfo&, SeriesSink& sink) {
  for (size_t i = 0; i < snap.workloads.size(); ++i) {
    const auto& vm = snap.workloads[i].sample.vm;
    if (!vm || !vm->state) continue;
    const IntText reason(vm->state_reason.value_or(0));
    const LabelView extra[] = {{"state", VmStateName(*vm->state)}, {"reason", reason.view()}};
    sink.Add(&labels[i], extra, static_cast<double>(*vm->state));
  }
}

// workload_probe_duration_seconds: one histogram per workload with a successful probe.
void EmitProbeDurations(const Snapshot& snap, std::span<const BaseLabels> labels, const BuildInfo&, SeriesSink& sink) {
  for (size_t i = 0; i < snap.workloads.size(); ++i) {
    const auto& d = snap.workloads[i].probe_durations;
    if (!d) continue;
    sink.AddHistogram(&labels[i], ProbeDurations::kBounds, d->buckets, d->count, d->sum);
  }
}

void EmitBuildInfo(const Snapshot&, std::span<const BaseLabels>, const BuildInfo& build, SeriesSink& sink) {
  const LabelView extra[] = {{"version", build.version}, {"revision", build.revision}};
  sink.Add(nullptr, extra, 1.0);
}

void EmitWorkloadCount(const Snapshot& snap, std::span<const BaseLabels>, const BuildInfo&, SeriesSink& sink) {
  std::map<std::string, double> by_kind = {{"container", 0}, {"vm", 0}, {"service", 0}};
  for (const auto& v : snap.workloads) by_kind[v.sample.identity.kind] += 1;
  for (const auto& [kind, n] : by_kind) {
    const LabelView extra[] = {{"kind", kind}};
    sink.Add(nullptr, extra, n);
  }
}

void EmitMetadataErrors(const Snapshot& snap, std::span<const BaseLabels>, const BuildInfo&, SeriesSink& sink) {
  for (const auto& [runtime, n] : snap.metadata_errors) {
    const LabelView extra[] = {{"runtime", runtime}};
    sink.Add(nullptr, extra, static_cast<double>(n));
  }
}

void EmitOpenerRequests(const Snapshot& snap, std::span<const BaseLabels>, const BuildInfo&, SeriesSink& sink) {
  for (const auto& [result, n] : snap.opener_requests) {
    const LabelView extra[] = {{"result", result}};
    sink.Add(nullptr, extra, static_cast<double>(n));
  }
}

void EmitPeakSource(const Snapshot& snap, std::span<const BaseLabels>, const BuildInfo&, SeriesSink& sink) {
  if (snap.peak_source.empty()) return;
  const LabelView extra[] = {{"layout", snap.cgroup_layout}, {"source", snap.peak_source}};
  sink.Add(nullptr, extra, 1.0);
}

constexpr std::string_view kCpuModes[] = {"user", "system"};

const FamilySpec kFamilies[] = {
    // Per workload (README.md, "Metrics").
    {"workload_info", kGauge, "Workload metadata: always 1. The cgroup label is the workload's cgroup path.",
     shape::Custom{"cgroup,pod_uid,parent", EmitInfo}, MetricsTable::kWorkload,
     "always 1; the cgroup path (the cgroup2 one where it exists), the id of the workload it runs inside "
     "(`parent`, see \"Workloads inside workloads\"), and allowed container labels as `label_*`"},
    {"workload_start_time_seconds", kGauge,
     "Unix time the workload started: the creation time of its cgroup directory.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.start_time_seconds; }}, MetricsTable::kWorkload,
     "change time of the workload's oldest cgroup directory"},
    {"workload_cpu_seconds_total", kCounter, "CPU time consumed by the workload, in seconds, by mode.",
     shape::PerWorkloadLabel{
         "mode", kCpuModes,
         [](W v, size_t mode) -> Value { return mode == 0 ? v.sample.cpu.user_seconds : v.sample.cpu.system_seconds; }},
     MetricsTable::kWorkload, "`cpu.stat` user/system_usec / `cpuacct.usage_user`/`_sys` (or `cpuacct.stat` ticks)"},
    {"workload_cpu_usage_cores", kGauge, "CPU used over the last sampling interval, in cores (CPU seconds per second).",
     shape::PerWorkload{[](W v) -> Value { return v.cpu_usage_cores; }}, MetricsTable::kWorkload,
     "rate of `usage_usec` / `cpuacct.usage` over the last interval"},
    {"workload_cpu_limit_cores", kGauge, "CPU limit (CFS quota divided by period), in cores. Absent when unlimited.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu.limit_cores; }}, MetricsTable::kWorkload,
     "`cpu.max` / `cpu.cfs_quota_us ÷ cpu.cfs_period_us`; absent when unlimited"},
    {"workload_cpu_periods_total", kCounter,
     "Number of CFS enforcement periods that elapsed while the workload was runnable.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu.periods; }}, MetricsTable::kWorkload, "`nr_periods`"},
    {"workload_cpu_throttled_periods_total", kCounter,
     "Number of CFS enforcement periods in which the workload was throttled.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu.throttled_periods; }}, MetricsTable::kWorkload,
     "`nr_throttled`"},
    {"workload_cpu_throttled_seconds_total", kCounter,
     "Total time the workload was throttled by its CPU limit, in seconds.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu.throttled_seconds; }}, MetricsTable::kWorkload,
     "`throttled_usec` / `throttled_time`"},
    {"workload_memory_usage_bytes", kGauge,
     "Memory charged to the workload, in bytes (memory.current / memory.usage_in_bytes).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.usage_bytes; }}, MetricsTable::kWorkload,
     "`memory.current` / `memory.usage_in_bytes`, as the kernel gives it: it includes the charge each CPU keeps in "
     "reserve for the cgroup (up to 64 pages per CPU), so on a cgroup of a few hundred KiB it can move by more than "
     "a percent with nothing inside it running"},
    {"workload_memory_working_set_bytes", kGauge,
     "Working set: memory usage minus inactive file pages, in bytes (as the kubelet computes it).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.working_set_bytes; }}, MetricsTable::kWorkload,
     "usage − `inactive_file` (v1: `total_inactive_file`), as cAdvisor and the kubelet compute it"},
    {"workload_memory_rss_bytes", kGauge, "Anonymous memory of the workload, in bytes.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.rss_bytes; }}, MetricsTable::kWorkload,
     "`memory.stat` `anon` / `total_rss`"},
    {"workload_memory_cache_bytes", kGauge, "Page cache (file-backed memory) charged to the workload, in bytes.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.cache_bytes; }}, MetricsTable::kWorkload,
     "`memory.stat` `file` / `total_cache`"},
    {"workload_memory_swap_bytes", kGauge, "Swap used by the workload, in bytes.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.swap_bytes; }}, MetricsTable::kWorkload,
     "`memory.swap.current` / `total_swap`"},
    {"workload_memory_limit_bytes", kGauge, "Memory limit of the workload, in bytes. Absent when unlimited.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.limit_bytes; }}, MetricsTable::kWorkload,
     "`memory.max` / `memory.limit_in_bytes`; absent when unlimited"},
    {"workload_memory_max_usage_bytes", kGauge,
     "Kernel high-water mark of the workload's memory usage over its lifetime, in bytes "
     "(memory.peak / memory.max_usage_in_bytes).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.max_usage_bytes; }}, MetricsTable::kWorkload,
     "kernel lifetime high-water mark: `memory.peak` / `memory.max_usage_in_bytes`"},
    {"workload_oom_kills_total", kCounter, "Number of processes of the workload killed by the OOM killer.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory.oom_kills; }}, MetricsTable::kWorkload,
     "`memory.events` `oom_kill` / `memory.oom_control` `oom_kill`"},
    {"workload_tasks", kGauge, "Number of tasks (threads) in the workload.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.tasks; }}, MetricsTable::kWorkload,
     "`pids.current`; without a pids controller, threads counted from `cgroup.threads` (v1: `tasks`) in the "
     "workload and its nested cgroups"},
    {"workload_io_read_bytes_total", kCounter,
     "Bytes read from block devices by the workload (io.stat rbytes / blkio.throttle.io_service_bytes).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io.read_bytes; }}, MetricsTable::kWorkload,
     "`io.stat` `rbytes` / `blkio.throttle.io_service_bytes` `Read`, summed over devices (on v1, see \"Names, "
     "images and labels\")"},
    {"workload_io_write_bytes_total", kCounter,
     "Bytes written to block devices by the workload (io.stat wbytes / blkio.throttle.io_service_bytes).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io.write_bytes; }}, MetricsTable::kWorkload,
     "`io.stat` `wbytes` / `blkio.throttle.io_service_bytes` `Write`"},
    {"workload_io_reads_total", kCounter, "Read requests completed on block devices for the workload.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io.reads; }}, MetricsTable::kWorkload,
     "`io.stat` `rios` / `blkio.throttle.io_serviced` `Read`"},
    {"workload_io_writes_total", kCounter, "Write requests completed on block devices for the workload.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io.writes; }}, MetricsTable::kWorkload,
     "`io.stat` `wios` / `blkio.throttle.io_serviced` `Write`"},
    {"workload_network_receive_bytes_total", kCounter,
     "Bytes received in the workload's network namespace, all interfaces but lo (/proc/PID/net/dev).",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.receive_bytes; }}, MetricsTable::kWorkload,
     "`/proc/PID/net/dev` of one of its processes, every interface but `lo`, once per namespace (see \"Names, "
     "images and labels\")"},
    {"workload_network_transmit_bytes_total", kCounter,
     "Bytes sent from the workload's network namespace, all interfaces but lo.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.transmit_bytes; }}, MetricsTable::kWorkload,
     "the same, transmitted"},
    {"workload_network_receive_packets_total", kCounter, "Packets received in the workload's network namespace.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.receive_packets; }}, MetricsTable::kWorkload,
     "the same, packets"},
    {"workload_network_transmit_packets_total", kCounter, "Packets sent from the workload's network namespace.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.transmit_packets; }}, MetricsTable::kWorkload,
     "the same, packets"},
    {"workload_network_receive_errors_total", kCounter, "Receive errors in the workload's network namespace.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.receive_errors; }}, MetricsTable::kWorkload,
     "the same, errors"},
    {"workload_network_transmit_errors_total", kCounter, "Transmit errors in the workload's network namespace.",
     shape::PerWorkload{[](W v) -> Value { return v.sample.network.transmit_errors; }}, MetricsTable::kWorkload,
     "the same, errors"},
    {"workload_pressure_cpu_waiting_seconds_total", kCounter,
     "Total time in seconds that at least one task of the workload waited for cpu (PSI \"some\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu_pressure.some_seconds; }}, MetricsTable::kWorkload,
     "PSI `some` total (`cpu.pressure`)"},
    {"workload_pressure_cpu_stalled_seconds_total", kCounter,
     "Total time in seconds that all non-idle tasks of the workload stalled on cpu at once (PSI \"full\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.cpu_pressure.full_seconds; }}, MetricsTable::kWorkload,
     "PSI `full` total (`cpu.pressure`)"},
    {"workload_pressure_memory_waiting_seconds_total", kCounter,
     "Total time in seconds that at least one task of the workload waited for memory (PSI \"some\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory_pressure.some_seconds; }}, MetricsTable::kWorkload,
     "PSI `some` total (`memory.pressure`)"},
    {"workload_pressure_memory_stalled_seconds_total", kCounter,
     "Total time in seconds that all non-idle tasks of the workload stalled on memory at once (PSI \"full\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.memory_pressure.full_seconds; }}, MetricsTable::kWorkload,
     "PSI `full` total (`memory.pressure`)"},
    {"workload_pressure_io_waiting_seconds_total", kCounter,
     "Total time in seconds that at least one task of the workload waited for io (PSI \"some\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io_pressure.some_seconds; }}, MetricsTable::kWorkload,
     "PSI `some` total (`io.pressure`)"},
    {"workload_pressure_io_stalled_seconds_total", kCounter,
     "Total time in seconds that all non-idle tasks of the workload stalled on io at once (PSI \"full\").",
     shape::PerWorkload{[](W v) -> Value { return v.sample.io_pressure.full_seconds; }}, MetricsTable::kWorkload,
     "PSI `full` total (`io.pressure`)"},

    // The guest-side view of VMs, kind="vm" (README.md, "Virtual machines").
    {"workload_vm_vcpus", kGauge, "Number of virtual CPUs of the VM.",
     shape::PerVm{[](const VmFigures& vm) -> Value { return vm.vcpus; }}, MetricsTable::kVm,
     "vCPU threads of the process / libvirt `vcpu.current`"},
    {"workload_vm_vcpu_seconds_total", kCounter, "Time each vCPU of the VM ran, in seconds.",
     shape::PerVcpu{[](const VcpuFigures& c) -> Value { return c.seconds; }}, MetricsTable::kVm,
     "the vCPU thread's CPU time / libvirt `vcpu.N.time`"},
    {"workload_vm_vcpu_delay_seconds_total", kCounter,
     "Time each vCPU of the VM waited for a host CPU while runnable, in seconds (libvirt).",
     shape::PerVcpu{[](const VcpuFigures& c) -> Value { return c.delay_seconds; }}, MetricsTable::kVm,
     "libvirt `vcpu.N.delay`: time the vCPU waited for a host CPU"},
    {"workload_vm_memory_assigned_bytes", kGauge, "Memory currently assigned to the guest (balloon current), in bytes.",
     shape::PerVm{[](const VmFigures& vm) -> Value { return vm.memory_assigned_bytes; }}, MetricsTable::kVm,
     "balloon current"},
    {"workload_vm_memory_max_bytes", kGauge, "Maximum memory the guest may be given (balloon maximum), in bytes.",
     shape::PerVm{[](const VmFigures& vm) -> Value { return vm.memory_max_bytes; }}, MetricsTable::kVm,
     "balloon maximum"},
    {"workload_vm_guest_memory_used_bytes", kGauge,
     "Memory the guest itself uses (balloon available minus unused), in bytes; only when the guest reports "
     "balloon statistics.",
     shape::PerVm{[](const VmFigures& vm) -> Value { return vm.guest_memory_used_bytes; }}, MetricsTable::kVm,
     "balloon available − unused, only when the guest reports balloon stats"},
    {"workload_vm_guest_memory_stats_age_seconds", kGauge,
     "Age of the guest's last balloon statistics report, in seconds.",
     shape::PerVm{[](const VmFigures& vm) -> Value { return vm.guest_memory_stats_age_seconds; }}, MetricsTable::kVm,
     "now − balloon `last-update`"},
    {"workload_vm_state", kGauge,
     "libvirt state of the VM: the value is the virDomainState code, the labels its name and the numeric reason.",
     shape::Custom{"state,reason", EmitVmState}, MetricsTable::kVm,
     "libvirt state code (value), its name and numeric reason"},
    {"workload_vm_block_read_bytes_total", kCounter, "Bytes read by the VM from each block device.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.block; },
                        [](const DeviceCounters& d) -> Value { return d.read_bytes; }},
     MetricsTable::kVm, "libvirt block stats `rd.bytes`"},
    {"workload_vm_block_written_bytes_total", kCounter, "Bytes written by the VM to each block device.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.block; },
                        [](const DeviceCounters& d) -> Value { return d.write_bytes; }},
     MetricsTable::kVm, "libvirt block stats `wr.bytes`"},
    {"workload_vm_block_reads_total", kCounter, "Read requests of the VM to each block device.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.block; },
                        [](const DeviceCounters& d) -> Value { return d.read_requests; }},
     MetricsTable::kVm, "libvirt block stats `rd.reqs`"},
    {"workload_vm_block_writes_total", kCounter, "Write requests of the VM to each block device.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.block; },
                        [](const DeviceCounters& d) -> Value { return d.write_requests; }},
     MetricsTable::kVm, "libvirt block stats `wr.reqs`"},
    {"workload_vm_network_receive_bytes_total", kCounter, "Bytes received by the VM on each interface.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.net; },
                        [](const DeviceCounters& d) -> Value { return d.read_bytes; }},
     MetricsTable::kVm, "libvirt interface stats `rx.bytes`"},
    {"workload_vm_network_transmit_bytes_total", kCounter, "Bytes sent by the VM on each interface.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.net; },
                        [](const DeviceCounters& d) -> Value { return d.write_bytes; }},
     MetricsTable::kVm, "libvirt interface stats `tx.bytes`"},
    {"workload_vm_network_receive_packets_total", kCounter, "Packets received by the VM on each interface.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.net; },
                        [](const DeviceCounters& d) -> Value { return d.read_requests; }},
     MetricsTable::kVm, "libvirt interface stats `rx.pkts`"},
    {"workload_vm_network_transmit_packets_total", kCounter, "Packets sent by the VM on each interface.",
     shape::PerVmDevice{[](const VmFigures& vm) -> const std::vector<DeviceCounters>& { return vm.net; },
                        [](const DeviceCounters& d) -> Value { return d.write_requests; }},
     MetricsTable::kVm, "libvirt interface stats `tx.pkts`"},

    // Idle and peak, per window (README.md, "Idle and peak").
    {"workload_cpu_idle_cores", kGauge,
     "CPU at rest over the window: a low quantile (idle_quantile) of the per-interval CPU, in cores.",
     shape::PerWindow{[](const WindowFigures& w) -> Value { return w.cpu_idle_cores; }}, MetricsTable::kIdlePeak,
     "the `idle_quantile` (default 0.10) of the window's per-interval CPU"},
    {"workload_cpu_peak_cores", kGauge, "Highest per-interval CPU in the window, in cores.",
     shape::PerWindow{[](const WindowFigures& w) -> Value { return w.cpu_peak_cores; }}, MetricsTable::kIdlePeak,
     "the highest per-interval CPU in the window"},
    {"workload_memory_idle_bytes", kGauge,
     "Memory at rest over the window: a low quantile (idle_quantile) of the sampled working set, in bytes.",
     shape::PerWindow{[](const WindowFigures& w) -> Value { return w.memory_idle_bytes; }}, MetricsTable::kIdlePeak,
     "the `idle_quantile` of the window's sampled working set"},
    {"workload_memory_peak_bytes", kGauge,
     "Highest memory in the window, in bytes, including spikes between samples where the kernel keeps a "
     "high-water mark (see workload_exporter_peak_source_info).",
     shape::PerWindow{[](const WindowFigures& w) -> Value { return w.memory_peak_bytes; }}, MetricsTable::kIdlePeak,
     "the highest memory in the window, spikes between samples included (below)"},
    {"workload_startup_seconds", kGauge,
     "Seconds from the workload's start until its CPU first settled to its idle level; absent until it settles.",
     shape::PerWorkload{[](W v) -> Value { return v.startup_seconds; }}, MetricsTable::kIdlePeak,
     "from the workload's start until its CPU first settled (below); absent until then"},
    {"workload_listen_seconds", kGauge,
     "Seconds from the workload's start until a TCP socket was first seen listening in its network namespace.",
     shape::PerWorkload{[](W v) -> Value { return v.listen_seconds; }}, MetricsTable::kIdlePeak,
     "from the workload's start until the first TCP socket in `LISTEN` state in its network namespace "
     "(`/proc/PID/net/tcp{,6}`), at most one sampling interval late; absent until then, and where it cannot be told "
     "(below)"},
    {"workload_ready_seconds", kGauge,
     "Seconds from the workload's start until its ready probe first succeeded (startup to first response).",
     shape::PerWorkload{[](W v) -> Value { return v.ready_seconds; }}, MetricsTable::kIdlePeak,
     "from the workload's start until its ready probe (`probes:`) first succeeded: startup to first response; "
     "absent until then"},
    {"workload_probe_success", kGauge, "1 if the workload's last ready probe succeeded, 0 if it failed.",
     shape::PerWorkload{[](W v) -> Value { return v.probe_success; }}, MetricsTable::kIdlePeak,
     "the last probe's result (every sampling interval until the first success, then every `interval`)"},
    {"workload_probe_duration_seconds", prometheus::MetricType::Histogram,
     "Response time of the workload's successful ready probes, in seconds.", shape::Custom{"le", EmitProbeDurations},
     MetricsTable::kIdlePeak,
     "response time of the successful probes: connect to the status line (http) or to the connection (tcp)"},

    // The exporter itself (README.md, "Metrics"). The daemon's own Registry adds its families after these.
    {"workload_exporter_build_info", kGauge,
     "A metric with a constant 1 labelled by the version and revision the exporter was built from.",
     shape::Custom{"version,revision", EmitBuildInfo}, MetricsTable::kExporter, ""},
    {"workload_exporter_workloads", kGauge, "Number of workloads found, by kind.",
     shape::Custom{"kind", EmitWorkloadCount}, MetricsTable::kExporter, ""},
    {"workload_exporter_metadata_errors_total", kCounter,
     "Container runtime state files that could not be read or parsed (the container keeps its id as its name), by "
     "runtime.",
     shape::Custom{"runtime", EmitMetadataErrors}, MetricsTable::kExporter, ""},
    {"workload_exporter_opener_requests_total", kCounter,
     "Requests to the opener (--opener.socket) for root-only files, by result: ok, refused (the opener "
     "answered with an error, e.g. an absent file), unavailable (no opener or no answer in time: the daemon "
     "read what its own user may). Absent without an opener.",
     shape::Custom{"result", EmitOpenerRequests}, MetricsTable::kExporter, ""},
    {"workload_exporter_peak_source_info", kGauge,
     "Where workload_memory_peak_bytes comes from on this host's cgroup layout: interval_watermark (memory.peak "
     "reset every interval), lifetime_watermark_while_young (memory.peak or max_usage_in_bytes while the workload "
     "is younger than the window, sampled maximum after), or sampled.",
     shape::Custom{"layout,source", EmitPeakSource}, MetricsTable::kIdlePeak,
     "where peak memory comes from on this host"},
    {"workload_exporter_collector_duration_seconds", kGauge, "Duration of the collector's last run, in seconds.",
     shape::PerCollector{[](const CollectorStatus& c) { return c.duration_seconds; }}, MetricsTable::kExporter, ""},
    {"workload_exporter_collector_success", kGauge,
     "1 if the collector's last run read everything it tried to, 0 otherwise.",
     shape::PerCollector{[](const CollectorStatus& c) { return c.success ? 1.0 : 0.0; }}, MetricsTable::kExporter, ""},
    {"workload_exporter_last_sample_timestamp_seconds", kGauge, "Unix time at which the published sample was taken.",
     shape::Once{[](const Snapshot& s) -> Value { return s.time_seconds; }}, MetricsTable::kExporter, ""},
    {"process_cpu_seconds_total", kCounter, "Total user and system CPU time spent in seconds.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.cpu_seconds; }}, MetricsTable::kExporter, ""},
    {"process_max_fds", kGauge, "Maximum number of open file descriptors.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.max_fds; }}, MetricsTable::kExporter, ""},
    {"process_open_fds", kGauge, "Number of open file descriptors.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.open_fds; }}, MetricsTable::kExporter, ""},
    {"process_resident_memory_bytes", kGauge, "Resident memory size in bytes.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.resident_memory_bytes; }}, MetricsTable::kExporter,
     ""},
    {"process_start_time_seconds", kGauge, "Start time of the process since unix epoch in seconds.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.start_time_seconds; }}, MetricsTable::kExporter, ""},
    {"process_virtual_memory_bytes", kGauge, "Virtual memory size in bytes.",
     shape::Once{[](const Snapshot& s) -> Value { return s.process.virtual_memory_bytes; }}, MetricsTable::kExporter,
     ""},
};

std::string_view TypeName(MetricType type) {
  return type == MetricType::Counter     ? "counter"
         : type == MetricType::Gauge     ? "gauge"
         : type == MetricType::Histogram ? "histogram"
                                         : "untyped";
}

}  // namespace

std::string ContainerLabelName(const std::string& name) {
  std::string out = "label_";
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

std::span<const FamilySpec> Families() { return kFamilies; }

std::string FamilyLabelsDoc(const FamilySpec& family) {
  return std::visit(Overloaded{
                        [](const shape::PerWorkloadLabel& s) {
                          std::string doc = std::string(s.label) + "=";
                          for (size_t i = 0; i < s.values.size(); ++i) {
                            if (i > 0) doc += "\\|";
                            doc += "\"" + std::string(s.values[i]) + "\"";
                          }
                          return doc;
                        },
                        [](const shape::Custom& s) { return std::string(s.labels); },
                        [](const auto& s) -> std::string {
                          if constexpr (requires { s.kLabel; }) {
                            return std::string(s.kLabel);
                          } else {
                            return {};
                          }
                        },
                    },
                    family.shape);
}

std::string_view MetricsTableName(MetricsTable table) {
  switch (table) {
    case MetricsTable::kWorkload:
      return "workload";
    case MetricsTable::kVm:
      return "vm";
    case MetricsTable::kIdlePeak:
      return "idle_peak";
    case MetricsTable::kExporter:
      return "exporter";
  }
  return "";
}

std::string MetricsTableMarkdown(MetricsTable table) {
  std::string out = table == MetricsTable::kWorkload ? "| metric | type | source (cgroup v2 / v1) |\n"
                    : table == MetricsTable::kVm     ? "| metric | type | source |\n"
                                                     : "| metric | type | meaning |\n";
  out += "|---|---|---|\n";
  for (const FamilySpec& f : kFamilies) {
    if (f.table != table) continue;
    const std::string labels = FamilyLabelsDoc(f);
    out += "| `" + std::string(f.name) + (labels.empty() ? "" : "{" + labels + "}") + "` | ";
    out += std::string(TypeName(f.type)) + " | " + std::string(f.doc.empty() ? f.help : f.doc) + " |\n";
  }
  return out;
}

}  // namespace we
