#include "exposition/text.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "exposition/gzip.h"

namespace we {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// One family definition, two outputs: every family below is emitted once, through a sink. The
// TextSink writes the exposition text straight into one string (what /metrics serves); the
// FamilySink builds prometheus-cpp's model (SnapshotFamilies, kept for tools and for the tests
// that hold the two byte for byte equal). Labels are views into the snapshot: nothing is copied
// per series.
struct LabelView {
  std::string_view name;
  std::string_view value;
};

// A workload's own labels, computed once per render; `text` is them already written out as
// the text format wants them (k="v",k="v"), so a series costs a memcpy of it.
struct BaseLabels {
  std::vector<LabelView> labels;
  std::string text;
};

// Label values escaped as the text format (and prometheus-cpp 1.0's TextSerializer) wants:
// '\\' -> "\\\\", '"' -> "\\\"", newline -> "\\n".
void AppendEscaped(std::string* out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out->append(value.data() + start, i - start);
    out->append(c == '\n' ? "\\n" : c == '"' ? "\\\"" : "\\\\");
    start = i + 1;
  }
  out->append(value.data() + start, value.size() - start);
}

void AppendLabel(std::string* out, const LabelView& l) {
  out->append(l.name);
  out->append("=\"");
  AppendEscaped(out, l.value);
  out->push_back('"');
}

}  // namespace

void AppendSampleValue(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("Nan");
  } else if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
  } else {
    // As an ostream with precision 16 (prometheus-cpp 1.0) writes it: printf's %.16g, which
    // to_chars' general format with precision 16 is defined to match.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
    out->append(buf, r.ptr);
  }
}

namespace {

class TextSink {
 public:
  // `drain`, when given, is handed *out (and empties it) whenever it holds kDrainAt bytes or more.
  explicit TextSink(std::string* out, std::function<void(std::string*)> drain = nullptr)
      : out_(out), drain_(std::move(drain)) {}
  static constexpr std::size_t kDrainAt = 64 << 10;
  void Begin(std::string_view name, std::string_view help, MetricType type) {
    name_ = name;
    help_ = help;
    type_ = type;
    header_ = false;
  }
  void Add(const BaseLabels* base, std::span<const LabelView> extra, double value) {
    std::string& out = *out_;
    if (!header_) {
      header_ = true;
      if (!help_.empty()) {
        out.append("# HELP ").append(name_).append(" ").append(help_).append("\n");
      }
      out.append("# TYPE ").append(name_).append(type_ == MetricType::Counter ? " counter\n"
                                                  : type_ == MetricType::Gauge ? " gauge\n"
                                                                               : " untyped\n");
    }
    out.append(name_);
    const bool has_base = base != nullptr && !base->labels.empty();
    if (has_base || !extra.empty()) {
      out.push_back('{');
      if (has_base) out.append(base->text);
      bool first = !has_base;
      for (const LabelView& l : extra) {
        if (!first) out.push_back(',');
        first = false;
        AppendLabel(&out, l);
      }
      out.push_back('}');
    }
    out.push_back(' ');
    AppendSampleValue(&out, value);
    out.push_back('\n');
    if (drain_ && out.size() >= kDrainAt) drain_(&out);
  }
  void End() {}

 private:
  std::string* out_;
  std::function<void(std::string*)> drain_;
  std::string_view name_, help_;
  MetricType type_ = MetricType::Untyped;
  bool header_ = false;
};

class FamilySink {
 public:
  explicit FamilySink(std::vector<MetricFamily>* out) : out_(out) {}
  void Begin(std::string_view name, std::string_view help, MetricType type) {
    family_ = MetricFamily{};
    family_.name = std::string(name);
    family_.help = std::string(help);
    family_.type = type;
  }
  void Add(const BaseLabels* base, std::span<const LabelView> extra, double value) {
    ClientMetric m;
    if (base != nullptr) {
      for (const LabelView& l : base->labels) m.label.push_back({std::string(l.name), std::string(l.value)});
    }
    for (const LabelView& l : extra) m.label.push_back({std::string(l.name), std::string(l.value)});
    switch (family_.type) {
      case MetricType::Counter: m.counter.value = value; break;
      case MetricType::Gauge: m.gauge.value = value; break;
      default: m.untyped.value = value; break;
    }
    family_.metric.push_back(std::move(m));
  }
  void End() {
    if (!family_.metric.empty()) out_->push_back(std::move(family_));
  }

 private:
  std::vector<MetricFamily>* out_;
  MetricFamily family_;
};

// One family: Begin on construction, End on destruction; Add* do nothing for an absent value.
template <typename Sink>
class Family {
 public:
  Family(Sink& sink, std::string_view name, std::string_view help, MetricType type) : sink_(sink) {
    sink_.Begin(name, help, type);
  }
  ~Family() { sink_.End(); }
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  template <typename T>
  void Add(const BaseLabels* base, std::initializer_list<LabelView> extra, const std::optional<T>& value) {
    if (value) sink_.Add(base, std::span<const LabelView>(extra.begin(), extra.size()), static_cast<double>(*value));
  }
  void Add(const BaseLabels* base, std::initializer_list<LabelView> extra, double value) {
    sink_.Add(base, std::span<const LabelView>(extra.begin(), extra.size()), value);
  }
  void AddSpan(const BaseLabels* base, std::span<const LabelView> extra, double value) {
    sink_.Add(base, extra, value);
  }

 private:
  Sink& sink_;
};

// The labels of every workload series: who it is, and for containers what their runtime says
// (stable for a container's life), each only when known.
BaseLabels WorkloadLabels(const Sample& s) {
  const WorkloadIdentity& id = s.identity;
  BaseLabels b;
  b.labels = {{"kind", id.kind}, {"runtime", id.runtime}, {"id", id.id}, {"name", id.name}};
  if (s.metadata) {
    if (!s.metadata->image.empty()) b.labels.push_back({"image", s.metadata->image});
    if (!s.metadata->k8s_namespace.empty()) b.labels.push_back({"namespace", s.metadata->k8s_namespace});
    if (!s.metadata->pod.empty()) b.labels.push_back({"pod", s.metadata->pod});
    if (!s.metadata->container.empty()) b.labels.push_back({"container", s.metadata->container});
  }
  size_t size = 0;
  for (const LabelView& l : b.labels) size += l.name.size() + l.value.size() + 4;
  b.text.reserve(size + 8);
  for (size_t i = 0; i < b.labels.size(); ++i) {
    if (i > 0) b.text.push_back(',');
    AppendLabel(&b.text, b.labels[i]);
  }
  return b;
}

// "com.example.team" -> "label_com_example_team".
std::string SanitizedLabelName(const std::string& name) {
  std::string out = "label_";
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return out;
}

// An integer label value without allocating.
struct IntText {
  explicit IntText(long long v) { end = std::to_chars(buf, buf + sizeof buf, v).ptr; }
  std::string_view view() const { return {buf, static_cast<size_t>(end - buf)}; }
  char buf[24];
  char* end;
};

// One family over all workloads, for a figure selected by `get`.
template <typename Sink, typename Get>
void PerWorkload(Sink& sink, const std::vector<WorkloadView>& views, const std::vector<BaseLabels>& labels,
                 std::string_view name, std::string_view help, MetricType type, Get get) {
  Family f(sink, name, help, type);
  for (size_t i = 0; i < views.size(); ++i) f.Add(&labels[i], {}, get(views[i]));
}

template <typename Sink>
void PressureFamilies(Sink& sink, const std::vector<WorkloadView>& views, const std::vector<BaseLabels>& labels,
                      const char* resource, PressureFigures Sample::*field) {
  const std::string base = std::string("workload_pressure_") + resource;
  PerWorkload(sink, views, labels, base + "_waiting_seconds_total",
              std::string("Total time in seconds that at least one task of the workload waited for ") + resource +
                  " (PSI \"some\").",
              MetricType::Counter, [&](const WorkloadView& v) { return (v.sample.*field).some_seconds; });
  PerWorkload(sink, views, labels, base + "_stalled_seconds_total",
              std::string("Total time in seconds that all non-idle tasks of the workload stalled on ") + resource +
                  " at once (PSI \"full\").",
              MetricType::Counter, [&](const WorkloadView& v) { return (v.sample.*field).full_seconds; });
}

std::string_view VmStateName(int state) {
  static const char* const kNames[] = {"nostate", "running", "blocked", "paused",
                                       "shutdown", "shutoff", "crashed", "pmsuspended"};
  return state >= 0 && state < 8 ? kNames[state] : "unknown";
}

template <typename Sink>
void VmFamilies(Sink& sink, const std::vector<WorkloadView>& views, const std::vector<BaseLabels>& labels) {
  auto vm_gauge = [&](std::string_view name, std::string_view help, auto get) {
    Family f(sink, name, help, MetricType::Gauge);
    for (size_t i = 0; i < views.size(); ++i) {
      if (views[i].sample.vm) f.Add(&labels[i], {}, get(*views[i].sample.vm));
    }
  };
  vm_gauge("workload_vm_vcpus", "Number of virtual CPUs of the VM.", [](const VmFigures& vm) { return vm.vcpus; });
  {
    Family f(sink, "workload_vm_vcpu_seconds_total", "Time each vCPU of the VM ran, in seconds.", MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& v : views[i].sample.vm->vcpu) {
        const IntText index(v.index);
        f.Add(&labels[i], {{"vcpu", index.view()}}, v.seconds);
      }
    }
  }
  {
    Family f(sink, "workload_vm_vcpu_delay_seconds_total",
             "Time each vCPU of the VM waited for a host CPU while runnable, in seconds (libvirt).",
             MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& v : views[i].sample.vm->vcpu) {
        const IntText index(v.index);
        f.Add(&labels[i], {{"vcpu", index.view()}}, v.delay_seconds);
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
    Family f(sink, "workload_vm_state",
             "libvirt state of the VM: the value is the virDomainState code, the labels its name and the "
             "numeric reason.",
             MetricType::Gauge);
    for (size_t i = 0; i < views.size(); ++i) {
      const auto& vm = views[i].sample.vm;
      if (!vm || !vm->state) continue;
      const IntText reason(vm->state_reason.value_or(0));
      f.Add(&labels[i], {{"state", VmStateName(*vm->state)}, {"reason", reason.view()}},
            static_cast<double>(*vm->state));
    }
  }
  auto devices = [&](std::string_view name, std::string_view help, std::vector<DeviceCounters> VmFigures::*list,
                     std::optional<uint64_t> DeviceCounters::*field) {
    Family f(sink, name, help, MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      if (!views[i].sample.vm) continue;
      for (const auto& d : (*views[i].sample.vm).*list) f.Add(&labels[i], {{"device", d.device}}, d.*field);
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

// Every family of one snapshot, in a fixed order. Absent figures emit no series.
template <typename Sink>
void EmitSnapshot(const Snapshot& snap, const BuildInfo& build, Sink& out) {
  const auto& views = snap.workloads;
  std::vector<BaseLabels> labels;
  labels.reserve(views.size());
  for (const auto& v : views) labels.push_back(WorkloadLabels(v.sample));

  {
    Family f(out, "workload_info",
                    "Workload metadata: always 1. The cgroup label is the workload's cgroup path.",
                    MetricType::Gauge);
    std::vector<LabelView> extra;
    std::vector<std::string> names;  // sanitized label names, alive while `extra` points at them
    std::set<std::string_view> used;
    for (size_t i = 0; i < views.size(); ++i) {
      const Sample& s = views[i].sample;
      extra.clear();
      extra.push_back({"cgroup", s.cgroup});
      if (!s.identity.pod_uid.empty()) extra.push_back({"pod_uid", s.identity.pod_uid});
      if (s.metadata && !s.metadata->labels.empty()) {
        names.clear();
        names.reserve(s.metadata->labels.size());
        used.clear();
        for (const auto& [name, value] : s.metadata->labels) {
          names.push_back(SanitizedLabelName(name));
          if (used.insert(names.back()).second) extra.push_back({names.back(), value});  // first of a clash wins
        }
      }
      f.AddSpan(&labels[i], extra, 1.0);
    }
  }
  PerWorkload(out, views, labels, "workload_start_time_seconds",
              "Unix time the workload started: the creation time of its cgroup directory.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.start_time_seconds; });
  {
    Family f(out, "workload_cpu_seconds_total", "CPU time consumed by the workload, in seconds, by mode.",
                    MetricType::Counter);
    for (size_t i = 0; i < views.size(); ++i) {
      f.Add(&labels[i], {{"mode", "user"}}, views[i].sample.cpu.user_seconds);
      f.Add(&labels[i], {{"mode", "system"}}, views[i].sample.cpu.system_seconds);
    }
  }
  PerWorkload(out, views, labels, "workload_cpu_usage_cores",
              "CPU used over the last sampling interval, in cores (CPU seconds per second).", MetricType::Gauge,
              [](const WorkloadView& v) { return v.cpu_usage_cores; });
  PerWorkload(out, views, labels, "workload_cpu_limit_cores",
              "CPU limit (CFS quota divided by period), in cores. Absent when unlimited.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.cpu.limit_cores; });
  PerWorkload(out, views, labels, "workload_cpu_periods_total",
              "Number of CFS enforcement periods that elapsed while the workload was runnable.",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.cpu.periods; });
  PerWorkload(out, views, labels, "workload_cpu_throttled_periods_total",
              "Number of CFS enforcement periods in which the workload was throttled.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.cpu.throttled_periods; });
  PerWorkload(out, views, labels, "workload_cpu_throttled_seconds_total",
              "Total time the workload was throttled by its CPU limit, in seconds.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.cpu.throttled_seconds; });

  PerWorkload(out, views, labels, "workload_memory_usage_bytes",
              "Memory charged to the workload, in bytes (memory.current / memory.usage_in_bytes).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.usage_bytes; });
  PerWorkload(out, views, labels, "workload_memory_working_set_bytes",
              "Working set: memory usage minus inactive file pages, in bytes (as the kubelet computes it).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.working_set_bytes; });
  PerWorkload(out, views, labels, "workload_memory_rss_bytes",
              "Anonymous memory of the workload, in bytes.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.rss_bytes; });
  PerWorkload(out, views, labels, "workload_memory_cache_bytes",
              "Page cache (file-backed memory) charged to the workload, in bytes.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.cache_bytes; });
  PerWorkload(out, views, labels, "workload_memory_swap_bytes", "Swap used by the workload, in bytes.",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.swap_bytes; });
  PerWorkload(out, views, labels, "workload_memory_limit_bytes",
              "Memory limit of the workload, in bytes. Absent when unlimited.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.memory.limit_bytes; });
  PerWorkload(out, views, labels, "workload_memory_max_usage_bytes",
              "Kernel high-water mark of the workload's memory usage over its lifetime, in bytes "
              "(memory.peak / memory.max_usage_in_bytes).",
              MetricType::Gauge, [](const WorkloadView& v) { return v.sample.memory.max_usage_bytes; });
  PerWorkload(out, views, labels, "workload_oom_kills_total",
              "Number of processes of the workload killed by the OOM killer.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.memory.oom_kills; });
  PerWorkload(out, views, labels, "workload_tasks",
              "Number of tasks (threads) in the workload.", MetricType::Gauge,
              [](const WorkloadView& v) { return v.sample.tasks; });

  PerWorkload(out, views, labels, "workload_io_read_bytes_total",
              "Bytes read from block devices by the workload (io.stat rbytes / blkio.throttle.io_service_bytes).",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.io.read_bytes; });
  PerWorkload(out, views, labels, "workload_io_write_bytes_total",
              "Bytes written to block devices by the workload (io.stat wbytes / blkio.throttle.io_service_bytes).",
              MetricType::Counter, [](const WorkloadView& v) { return v.sample.io.write_bytes; });
  PerWorkload(out, views, labels, "workload_io_reads_total",
              "Read requests completed on block devices for the workload.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.io.reads; });
  PerWorkload(out, views, labels, "workload_io_writes_total",
              "Write requests completed on block devices for the workload.", MetricType::Counter,
              [](const WorkloadView& v) { return v.sample.io.writes; });

  {
    auto net = [&](const char* name, const char* help, std::optional<uint64_t> NetworkFigures::*field) {
      PerWorkload(out, views, labels, name, help, MetricType::Counter,
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

  PressureFamilies(out, views, labels, "cpu", &Sample::cpu_pressure);
  PressureFamilies(out, views, labels, "memory", &Sample::memory_pressure);
  PressureFamilies(out, views, labels, "io", &Sample::io_pressure);

  // The guest-side view of VMs (kind="vm").
  VmFamilies(out, views, labels);

  // Idle and peak, per window (README.md, "Idle and peak").
  if (snap.windows) {
    auto windowed = [&](const char* name, const char* help, std::optional<double> WindowFigures::*field) {
      Family f(out, name, help, MetricType::Gauge);
      for (size_t i = 0; i < views.size(); ++i) {
        for (size_t w = 0; w < views[i].windows.size() && w < snap.windows->specs.size(); ++w) {
          f.Add(&labels[i], {{"window", snap.windows->specs[w].label}}, views[i].windows[w].*field);
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
  PerWorkload(out, views, labels, "workload_startup_seconds",
              "Seconds from the workload's start until its CPU first settled to its idle level; absent until it "
              "settles.",
              MetricType::Gauge, [](const WorkloadView& v) { return v.startup_seconds; });

  // The exporter itself.
  {
    Family f(out, "workload_exporter_build_info",
                    "A metric with a constant 1 labelled by the version and revision the exporter was built from.",
                    MetricType::Gauge);
    f.Add(nullptr, {{"version", build.version}, {"revision", build.revision}}, 1.0);
  }
  {
    std::map<std::string, double> by_kind = {{"container", 0}, {"vm", 0}, {"service", 0}};
    for (const auto& v : views) by_kind[v.sample.identity.kind] += 1;
    Family f(out, "workload_exporter_workloads", "Number of workloads found, by kind.", MetricType::Gauge);
    for (const auto& [kind, n] : by_kind) f.Add(nullptr, {{"kind", kind}}, n);
  }
  if (!snap.metadata_errors.empty()) {
    Family f(out, "workload_exporter_metadata_errors_total",
                    "Container runtime state files that could not be read or parsed (the container keeps its id "
                    "as its name), by runtime.",
                    MetricType::Counter);
    for (const auto& [runtime, n] : snap.metadata_errors) f.Add(nullptr, {{"runtime", runtime}}, static_cast<double>(n));
  }
  if (!snap.peak_source.empty()) {
    Family f(out, "workload_exporter_peak_source_info",
                    "Where workload_memory_peak_bytes comes from on this host's cgroup layout: interval_watermark "
                    "(memory.peak reset every interval), lifetime_watermark_while_young (memory.peak or "
                    "max_usage_in_bytes while the workload is younger than the window, sampled maximum after), "
                    "or sampled.",
                    MetricType::Gauge);
    f.Add(nullptr, {{"layout", snap.cgroup_layout}, {"source", snap.peak_source}}, 1.0);
  }
  {
    Family f(out, "workload_exporter_collector_duration_seconds",
                    "Duration of the collector's last run, in seconds.", MetricType::Gauge);
    for (const auto& c : snap.collectors) f.Add(nullptr, {{"collector", c.name}}, c.duration_seconds);
  }
  {
    Family f(out, "workload_exporter_collector_success",
                    "1 if the collector's last run read everything it tried to, 0 otherwise.", MetricType::Gauge);
    for (const auto& c : snap.collectors) f.Add(nullptr, {{"collector", c.name}}, c.success ? 1.0 : 0.0);
  }
  {
    Family f(out, "workload_exporter_last_sample_timestamp_seconds",
                    "Unix time at which the published sample was taken.", MetricType::Gauge);
    f.Add(nullptr, {}, snap.time_seconds);
  }

  const ProcessFigures& p = snap.process;
  Family(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                MetricType::Counter).Add(nullptr, {}, p.cpu_seconds);
  Family(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge)
      .Add(nullptr, {}, p.max_fds);
  Family(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge)
      .Add(nullptr, {}, p.open_fds);
  Family(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge)
      .Add(nullptr, {}, p.resident_memory_bytes);
  Family(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                MetricType::Gauge).Add(nullptr, {}, p.start_time_seconds);
  Family(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge)
      .Add(nullptr, {}, p.virtual_memory_bytes);
}

}  // namespace

std::vector<MetricFamily> SnapshotFamilies(const Snapshot& snap, const BuildInfo& build) {
  std::vector<MetricFamily> out;
  FamilySink sink(&out);
  EmitSnapshot(snap, build, sink);
  return out;
}

void AppendText(const Snapshot& snap, const BuildInfo& build, std::string* out) {
  TextSink sink(out);
  EmitSnapshot(snap, build, sink);
}

bool AppendTextGzip(const Snapshot& snap, const BuildInfo& build, std::string_view tail, int level,
                    std::string* gzip) {
  GzipStream gz(gzip, level);
  std::string piece;
  piece.reserve(TextSink::kDrainAt + 4096);
  bool ok = true;
  TextSink sink(&piece, [&](std::string* text) {
    ok = gz.Write(*text) && ok;
    text->clear();
  });
  EmitSnapshot(snap, build, sink);
  ok = gz.Write(piece) && ok;
  ok = gz.Write(tail) && ok;
  return gz.Finish() && ok;
}

std::string RenderText(const Snapshot& snap, const BuildInfo& build) {
  std::string out;
  AppendText(snap, build, &out);
  return out;
}

std::string SerializeText(const std::vector<MetricFamily>& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return std::move(os).str();
}

}  // namespace we
