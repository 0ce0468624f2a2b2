#include "daemon/metrics.h"

#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "daemon/gzip.h"

namespace we {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Builds one family at a time; Add* do nothing for an absent value.
class FamilyBuilder {
 public:
  FamilyBuilder(std::vector<MetricFamily>* out, std::string name, std::string help, MetricType type)
      : out_(out) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }
  ~FamilyBuilder() {
    if (!family_.metric.empty()) out_->push_back(std::move(family_));
  }

  template <typename T>
  void Add(const Labels& labels, const std::optional<T>& value) {
    if (value) Add(labels, static_cast<double>(*value));
  }
  void Add(const Labels& labels, double value) {
    ClientMetric m;
    m.label = labels;
    switch (family_.type) {
      case MetricType::Counter: m.counter.value = value; break;
      case MetricType::Gauge: m.gauge.value = value; break;
      default: m.untyped.value = value; break;
    }
    family_.metric.push_back(std::move(m));
  }

 private:
  std::vector<MetricFamily>* out_;
  MetricFamily family_;
};

// The labels of every workload series: who it is, and for containers what their runtime says
// (stable for a container's life), each only when known.
Labels WorkloadLabels(const Sample& s) {
  const WorkloadIdentity& id = s.identity;
  Labels labels = {{"kind", id.kind}, {"runtime", id.runtime}, {"id", id.id}, {"name", id.name}};
  if (s.metadata) {
    if (!s.metadata->image.empty()) labels.push_back({"image", s.metadata->image});
    if (!s.metadata->k8s_namespace.empty()) labels.push_back({"namespace", s.metadata->k8s_namespace});
    if (!s.metadata->pod.empty()) labels.push_back({"pod", s.metadata->pod});
    if (!s.metadata->container.empty()) labels.push_back({"container", s.metadata->container});
  }
  return labels;
}

// "com.example.team" -> "label_com_example_team".
std::string SanitizedLabelName(const std::string& name) {
  std::string out = "label_";
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

Labels With(Labels labels, std::string name, std::string value) {
  labels.push_back({std::move(name), std::move(value)});
  return labels;
}

// One family over all workloads, for a figure selected by `get`.
template <typename Get>
void PerWorkload(std::vector<MetricFamily>* out, const std::vector<WorkloadView>& views,
                 const std::vector<Labels>& labels, const char* name, const char* help, MetricType type,
                 Get get) {
  FamilyBuilder f(out, name, help, type);
  for (size_t i = 0; i < views.size(); ++i) f.Add(labels[i], get(views[i]));
}

void PressureFamilies(std::vector<MetricFamily>* out, const std::vector<WorkloadView>& views,
                      const std::vector<Labels>& labels, const char* resource,
                      PressureFigures Sample::*field) {
  std::string base = std::string("workload_pressure_") + resource;
  PerWorkload(out, views, labels, (base + "_waiting_seconds_total").c_str(),
              (std::string("Total time in seconds that at least one task of the workload waited for ") +
               resource + " (PSI \"some\").").c_str(),
              MetricType::Counter, [&](const WorkloadView& v) { return (v.sample.*field).some_seconds; });
  PerWorkload(out, views, labels, (base + "_stalled_seconds_total").c_str(),
              (std::string("Total time in seconds that all non-idle tasks of the workload stalled on ") +
               resource + " at once (PSI \"full\").").c_str(),
              MetricType::Counter, [&](const WorkloadView& v) { return (v.sample.*field).full_seconds; });
}

std::string VmStateName(int state) {
  static const char* const kNames[] = {"nostate", "running", "blocked", "paused",
                                       "shutdown", "shutoff", "crashed", "pmsuspended"};
  return state >= 0 && state < 8 ? kNames[state] : "unknown";
}

void VmFamilies(std::vector<MetricFamily>* out, const std::vector<WorkloadView>& views,
                const std::vector<Labels>& labels) {
  auto vm_gauge = [&](const char* name, const char* help, auto get) {
    FamilyBuilder f(out, name, help, MetricType::Gauge);
    for (size_t i = 0; i < views.size(); ++i) {
      if (views[i].sample.vm) f.Add(labels[i], get(*views[i].sample.vm));
    }
  };
  vm_gauge("workload_vm_vcpus", "Number of virtual CPUs of the VM.", [](const VmFigures& vm) { return vm.vcpus; });
  {
    FamilyBuilder f(out, "workload_vm_vcpu_seconds_total", "Time each vCPU of the VM ran, in seconds.",
                    MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& v : views[i].sample.vm->vcpu) f.Add(With(labels[i], "vcpu", std::to_string(v.index)), v.seconds);
    }
  }
  {
    FamilyBuilder f(out, "workload_vm_vcpu_delay_seconds_total",
                    "Time each vCPU of the VM waited for a host CPU while runnable, in seconds (libvirt).",
                    MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& v : views[i].sample.vm->vcpu) {
        f.Add(With(labels[i], "vcpu", std::to_string(v.index)), v.delay_seconds);
      }
    }
  }
  vm_gauge("workload_vm_memory_assigned_bytes", "Memory currently assigned to the guest (balloon current), in bytes.",
           [](const VmFigures& vm) { return vm.memory_assigned_bytes; });
  vm_gauge("workload_vm_memory_max_bytes", "Maximum memory the guest may be given (balloon maximum), in bytes.",
           [](const VmFigures& vm) { return vm.memory_max_bytes; });
  vm_gauge("workload_vm_guest_memory_used_bytes",
           "Memory the guest itself uses (balloon available minus unused), in bytes; only when the guest reports "
           "balloon statistics.",
           [](const VmFigures& vm) { return vm.guest_memory_used_bytes; });
  vm_gauge("workload_vm_guest_memory_stats_age_seconds",
           "Age of the guest's last balloon statistics report, in seconds.",
           [](const VmFigures& vm) { return vm.guest_memory_stats_age_seconds; });
  {
    FamilyBuilder f(out, "workload_vm_state",
                    "libvirt state of the VM: the value is the virDomainState code, the labels its name and the "
                    "numeric reason.",
                    MetricType::Gauge);
    for (size_t i = 0; i < views.size(); ++i) {
      const auto& vm = views[i].sample.vm;
      if (!vm || !vm->state) continue;
      f.Add(With(With(labels[i], "state", VmStateName(*vm->state)), "reason", std::to_string(vm->state_reason.value_or(0))),
            static_cast<double>(*vm->state));
    }
  }
  auto devices = [&](const char* name, const char* help, std::vector<DeviceCounters> VmFigures::*list,
                     std::optional<uint64_t> DeviceCounters::*field) {
    FamilyBuilder f(out, name, help, MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& d : (*views[i].sample.vm).*list) f.Add(With(labels[i], "device", d.device), d.*field);
    }
  };
  devices("workload_vm_block_read_bytes_total", "Bytes read by the VM from each block device.", &VmFigures::block,
          &DeviceCounters::read_bytes);
  devices("workload_vm_block_written_bytes_total", "Bytes written by the VM to each block device.", &VmFigures::block,
          &DeviceCounters::write_bytes);
  devices("workload_vm_block_reads_total", "Read requests of the VM to each block device.", &VmFigures::block,
          &DeviceCounters::read_requests);
  devices("workload_vm_block_writes_total", "Write requests of the VM to each block device.", &VmFigures::block,
          &DeviceCounters::write_requests);
  devices("workload_vm_network_receive_bytes_total", "Bytes received by the VM on each interface.", &VmFigures::net,
          &DeviceCounters::read_bytes);
  devices("workload_vm_network_transmit_bytes_total", "Bytes sent by the VM on each interface.", &VmFigures::net,
          &DeviceCounters::write_bytes);
  devices("workload_vm_network_receive_packets_total", "Packets received by the VM on each interface.",
          &VmFigures::net, &DeviceCounters::read_requests);
  devices("workload_vm_network_transmit_packets_total", "Packets sent by the VM on each interface.", &VmFigures::net,
          &DeviceCounters::write_requests);
}

}  // namespace

std::vector<MetricFamily> SnapshotFamilies(const Snapshot& snap, const BuildInfo& build) {
  std::vector<MetricFamily> out;
  const auto& views = snap.workloads;
  std::vector<Labels> labels;
  labels.reserve(views.size());
  for (const auto& v : views) labels.push_back(WorkloadLabels(v.sample));

  {
    FamilyBuilder f(&out, "workload_info",
                    "Workload metadata: always 1. The cgroup label is the workload's cgroup path.",
                    MetricType::Gauge);
    for (size_t i = 0; i < views.size(); ++i) {
      Labels l = With(labels[i], "cgroup", views[i].sample.cgroup);
      if (!views[i].sample.identity.pod_uid.empty()) l = With(std::move(l), "pod_uid", views[i].sample.identity.pod_uid);
      if (views[i].sample.metadata) {
        std::set<std::string> used;
        for (const auto& [name, value] : views[i].sample.metadata->labels) {
          std::string key = SanitizedLabelName(name);
          if (used.insert(key).second) l = With(std::move(l), key, value);  // first of a clash wins
        }
      }
      f.Add(l, 1.0);
    }
  }
  PerWorkload(&out, views, labels, "workload_start_time_seconds",
              "Unix time the workload started: the creation time of its cgroup directory.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.start_time_seconds; });
  {
    FamilyBuilder f(&out, "workload_cpu_seconds_total", "CPU time consumed by the workload, in seconds, by mode.",
                    MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      f.Add(With(labels[i], "mode", "user"), views[i].sample.cpu.user_seconds);
      f.Add(With(labels[i], "mode", "system"), views[i].sample.cpu.system_seconds);
    }
  }
  PerWorkload(&out, views, labels, "workload_cpu_usage_cores",
              "CPU used over the last sampling interval, in cores (CPU seconds per second).", MetricType::Gauge,
              [](const WorkloadView& v) { return v.cpu_usage_cores; });
  PerWorkload(&out, views, labels, "workload_cpu_limit_cores",
              "CPU limit (CFS quota divided by period), in cores. Absent when unlimited.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.cpu.limit_cores; });
  PerWorkload(&out, views, labels, "workload_cpu_periods_total",
              "Number of CFS enforcement periods that elapsed while the workload was runnable.",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.cpu.periods; });
  PerWorkload(&out, views, labels, "workload_cpu_throttled_periods_total",
              "Number of CFS enforcement periods in which the workload was throttled.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.cpu.throttled_periods; });
  PerWorkload(&out, views, labels, "workload_cpu_throttled_seconds_total",
              "Total time the workload was throttled by its CPU limit, in seconds.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.cpu.throttled_seconds; });

  PerWorkload(&out, views, labels, "workload_memory_usage_bytes",
              "Memory charged to the workload, in bytes (memory.current / memory.usage_in_bytes).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.usage_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_working_set_bytes",
              "Working set: memory usage minus inactive file pages, in bytes (as the kubelet computes it).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.working_set_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_rss_bytes",
              "Anonymous memory of the workload, in bytes.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.rss_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_cache_bytes",
              "Page cache (file-backed memory) charged to the workload, in bytes.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.cache_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_swap_bytes", "Swap used by the workload, in bytes.",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.swap_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_limit_bytes",
              "Memory limit of the workload, in bytes. Absent when unlimited.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.limit_bytes; });
  PerWorkload(&out, views, labels, "workload_memory_max_usage_bytes",
              "Kernel high-water mark of the workload's memory usage over its lifetime, in bytes "
              "(memory.peak / memory.max_usage_in_bytes).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.max_usage_bytes; });
  PerWorkload(&out, views, labels, "workload_oom_kills_total",
              "Number of processes of the workload killed by the OOM killer.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.memory.oom_kills; });
  PerWorkload(&out, views, labels, "workload_tasks",
              "Number of tasks (threads) in the workload.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.tasks; });

  PerWorkload(&out, views, labels, "workload_io_read_bytes_total",
              "Bytes read from block devices by the workload (io.stat rbytes / blkio.throttle.io_service_bytes).",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.io.read_bytes; });
  PerWorkload(&out, views, labels, "workload_io_write_bytes_total",
              "Bytes written to block devices by the workload (io.stat wbytes / blkio.throttle.io_service_bytes).",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.io.write_bytes; });
  PerWorkload(&out, views, labels, "workload_io_reads_total",
              "Read requests completed on block devices for the workload.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.io.reads; });
  PerWorkload(&out, views, labels, "workload_io_writes_total",
              "Write requests completed on block devices for the workload.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.io.writes; });

  {
    auto net = [&](const char* name, const char* help, std::optional<uint64_t> NetworkFigures::*field) {
      PerWorkload(&out, views, labels, name, help, MetricType::Counter,
                  [field](const WorkloadView& v) { return v.sample.network.*field; });
    };
    net("workload_network_receive_bytes_total",
        "Bytes received in the workload's network namespace, all interfaces but lo (/proc/PID/net/dev).",
        &NetworkFigures::receive_bytes);
    net("workload_network_transmit_bytes_total", "Bytes sent from the workload's network namespace, all interfaces but lo.",
        &NetworkFigures::transmit_bytes);
    net("workload_network_receive_packets_total", "Packets received in the workload's network namespace.",
        &NetworkFigures::receive_packets);
    net("workload_network_transmit_packets_total", "Packets sent from the workload's network namespace.",
        &NetworkFigures::transmit_packets);
    net("workload_network_receive_errors_total", "Receive errors in the workload's network namespace.",
        &NetworkFigures::receive_errors);
    net("workload_network_transmit_errors_total", "Transmit errors in the workload's network namespace.",
        &NetworkFigures::transmit_errors);
  }

  PressureFamilies(&out, views, labels, "cpu", &Sample::cpu_pressure);
  PressureFamilies(&out, views, labels, "memory", &Sample::memory_pressure);
  PressureFamilies(&out, views, labels, "io", &Sample::io_pressure);

  // The guest-side view of VMs (kind="vm").
  VmFamilies(&out, views, labels);

  // Idle and peak, per window (README.md, "Idle and peak").
  if (snap.windows) {
    auto windowed = [&](const char* name, const char* help, std::optional<double> WindowFigures::*field) {
      FamilyBuilder f(&out, name, help, MetricType::Gauge);
      for (size_t i = 0; i < views.size(); ++i) {
        for (size_t w = 0; w < views[i].windows.size() && w < snap.windows->specs.size(); ++w) {
          f.Add(With(labels[i], "window", snap.windows->specs[w].label), views[i].windows[w].*field);
        }
      }
    };
    windowed("workload_cpu_idle_cores",
             "CPU at rest over the window: a low quantile (idle_quantile) of the per-interval CPU, in cores.",
             &WindowFigures::cpu_idle_cores);
    windowed("workload_cpu_peak_cores", "Highest per-interval CPU in the window, in cores.",
             &WindowFigures::cpu_peak_cores);
    windowed("workload_memory_idle_bytes",
             "Memory at rest over the window: a low quantile (idle_quantile) of the sampled working set, in bytes.",
             &WindowFigures::memory_idle_bytes);
    windowed("workload_memory_peak_bytes",
             "Highest memory in the window, in bytes, including spikes between samples where the kernel keeps a "
             "high-water mark (see workload_exporter_peak_source_info).",
             &WindowFigures::memory_peak_bytes);
  }
  PerWorkload(&out, views, labels, "workload_startup_seconds",
              "Seconds from the workload's start until its CPU first settled to its idle level; absent until it "
              "settles.",
              MetricType::Gauge, [](const WorkloadView& v) { return v.startup_seconds; });

  // The exporter itself.
  {
    FamilyBuilder f(&out, "workload_exporter_build_info",
                    "A metric with a constant 1 labelled by the version and revision the exporter was built from.",
                    MetricType::Gauge);
    f.Add({{"version", build.version}, {"revision", build.revision}}, 1.0);
  }
  {
    std::map<std::string, double> by_kind = {{"container", 0}, {"vm", 0}, {"service", 0}};
    for (const auto& v : views) by_kind[v.sample.identity.kind] += 1;
    FamilyBuilder f(&out, "workload_exporter_workloads", "Number of workloads found, by kind.", MetricType::Gauge);
    for (const auto& [kind, n] : by_kind) f.Add({{"kind", kind}}, n);
  }
  if (!snap.metadata_errors.empty()) {
    FamilyBuilder f(&out, "workload_exporter_metadata_errors_total",
                    "Container runtime state files that could not be read or parsed (the container keeps its id "
                    "as its name), by runtime.",
                    MetricType::Counter);
    for (const auto& [runtime, n] : snap.metadata_errors) f.Add({{"runtime", runtime}}, static_cast<double>(n));
  }
  if (!snap.peak_source.empty()) {
    FamilyBuilder f(&out, "workload_exporter_peak_source_info",
                    "Where workload_memory_peak_bytes comes from on this host's cgroup layout: interval_watermark "
                    "(memory.peak reset every interval), lifetime_watermark_while_young (memory.peak or "
                    "max_usage_in_bytes while the workload is younger than the window, sampled maximum after), "
                    "or sampled.",
                    MetricType::Gauge);
    f.Add({{"layout", snap.cgroup_layout}, {"source", snap.peak_source}}, 1.0);
  }
  {
    FamilyBuilder f(&out, "workload_exporter_collector_duration_seconds",
                    "Duration of the collector's last run, in seconds.", MetricType::Gauge);
    for (const auto& c : snap.collectors) f.Add({{"collector", c.name}}, c.duration_seconds);
  }
  {
    FamilyBuilder f(&out, "workload_exporter_collector_success",
                    "1 if the collector's last run read everything it tried to, 0 otherwise.", MetricType::Gauge);
    for (const auto& c : snap.collectors) f.Add({{"collector", c.name}}, c.success ? 1.0 : 0.0);
  }
  {
    FamilyBuilder f(&out, "workload_exporter_last_sample_timestamp_seconds",
                    "Unix time at which the published sample was taken.", MetricType::Gauge);
    f.Add({}, snap.time_seconds);
  }

  const ProcessFigures& p = snap.process;
  FamilyBuilder(&out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                MetricType::Counter).Add({}, p.cpu_seconds);
  FamilyBuilder(&out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge)
      .Add({}, p.max_fds);
  FamilyBuilder(&out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge)
      .Add({}, p.open_fds);
  FamilyBuilder(&out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge)
      .Add({}, p.resident_memory_bytes);
  FamilyBuilder(&out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                MetricType::Gauge).Add({}, p.start_time_seconds);
  FamilyBuilder(&out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge)
      .Add({}, p.virtual_memory_bytes);
  return out;
}

std::string SerializeText(const std::vector<MetricFamily>& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return std::move(os).str();
}

MetricsRenderer::MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                                 std::vector<std::shared_ptr<prometheus::Collectable>> extra)
    : store_(store), build_(std::move(build)), extra_(std::move(extra)) {}

std::shared_ptr<const MetricsBody> MetricsRenderer::Current() {
  auto snap = store_.Get();
  if (!snap) return nullptr;
  if (snap == cached_for_ && cached_) return cached_;
  auto families = SnapshotFamilies(*snap, build_);
  for (const auto& c : extra_) {
    auto more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  auto body = std::make_shared<MetricsBody>();
  body->text = SerializeText(families);
  body->gzip = GzipCompress(body->text);
  cached_for_ = std::move(snap);
  cached_ = std::move(body);
  return cached_;
}

}  // namespace we
