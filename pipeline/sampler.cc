#include "pipeline/sampler.h"

#include <unistd.h>

#include <atomic>
#include <map>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "collectors/cgroup_collector.h"
#include "collectors/libvirt_collector.h"
#include "collectors/process_self.h"
#include "collectors/qemu_process.h"
#include "pipeline/utf8.h"
#include "pipeline/workload_join.h"

namespace we {

namespace {

NormaliserSettings NormaliserSettingsFrom(const SamplerSettings& s, std::shared_ptr<const WindowLayout> windows) {
  NormaliserSettings n;
  n.interval = s.interval;
  n.windows = std::move(windows);
  n.startup.min_cores = s.startup_min_cores;
  n.startup.idle_factor = s.startup_idle_factor;
  n.startup.settle_for = s.startup_settle_for;
  return n;
}

// Where peak memory came from this tick, in order of preference (README.md, "Idle and peak").
// With no workload to show it, the layout says what to expect: both v1 and v2 keep a lifetime
// mark, and a v2 kernel's resettable one is only known once a descriptor has been reset.
std::string PeakSource(const std::vector<WorkloadView>& views, const std::string& layout) {
  bool any_memory = false, lifetime = false;
  for (const auto& v : views) {
    if (v.sample.memory.interval_peak_bytes) return "interval_watermark";
    lifetime = lifetime || v.sample.memory.max_usage_bytes.has_value();
    any_memory = any_memory || v.sample.memory.usage_bytes.has_value();
  }
  if (lifetime || (!any_memory && layout != "none")) return "lifetime_watermark_while_young";
  return "sampled";
}

}  // namespace

void AttachProbeFigures(const ProbeResultsStore& store, std::vector<WorkloadView>* views) {
  const std::shared_ptr<const ProbeFiguresMap> results = store.Get();
  if (!results || results->empty()) return;
  std::string key;
  for (WorkloadView& v : *views) {
    v.sample.identity.KeyInto(&key);
    auto it = results->find(key);
    // Figures of an earlier instance (a restarted container) are not this one's.
    if (it == results->end() || it->second.instance != v.sample.instance) continue;
    const ProbeFigures& f = it->second;
    v.ready_seconds = f.ready_seconds;
    if (f.success) v.probe_success = *f.success ? 1.0 : 0.0;
    v.probe_durations = f.durations;
  }
}

SamplerSettings SamplerSettingsFrom(const Config& config) {
  SamplerSettings s;
  s.cgroupfs = config.paths.cgroupfs;
  s.procfs = config.paths.procfs;
  s.interval = config.sampling.interval;
  s.windows = config.idle_peak.windows;
  s.idle_quantile = config.idle_peak.idle_quantile;
  s.startup_min_cores = config.idle_peak.startup.min_cores;
  s.startup_idle_factor = config.idle_peak.startup.idle_factor;
  s.startup_settle_for = config.idle_peak.startup.settle_for;
  s.rootfs = config.paths.rootfs;
  s.label_allow = config.labels.allow;
  s.services = config.collectors.cgroup_services;
  s.libvirt_uri = config.libvirt.uri;
  s.libvirt_timeout = config.libvirt.timeout;
  return s;
}

bool LabelAllowed(const std::vector<std::string>& allow, const std::string& name) {
  for (const std::string& pattern : allow) {
    // '*' matches any run of characters.
    std::size_t p = 0, n = 0, star = std::string::npos, mark = 0;
    while (n < name.size()) {
      if (p < pattern.size() && pattern[p] == '*') {
        star = p++;
        mark = n;
      } else if (p < pattern.size() && pattern[p] == name[n]) {
        ++p;
        ++n;
      } else if (star != std::string::npos) {
        p = star + 1;
        n = ++mark;
      } else {
        break;
      }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    if (n == name.size() && p == pattern.size()) return true;
  }
  return false;
}

SamplingPipeline::SamplingPipeline(const FileSystem& fs, const SamplerSettings& settings)
    : fs_(fs),
      procfs_(settings.procfs),
      opener_(settings.opener),
      scrape_schedule_(settings.scrape_schedule),
      probe_results_(settings.probe_results),
      interval_(settings.interval),
      windows_(settings.windows.empty()
                   ? nullptr
                   : WindowLayout::Make(settings.windows, settings.interval, settings.idle_quantile)),
      metadata_(fs, settings.rootfs,
                [allow = settings.label_allow](const std::string& name) { return LabelAllowed(allow, name); }),
      normaliser_(NormaliserSettingsFrom(settings, windows_)),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      page_size_(static_cast<uint64_t>(::sysconf(_SC_PAGESIZE))) {
  machines_ = std::make_unique<MachinedRegistry>(fs_, JoinPath(settings.rootfs, "run/systemd/machines"));
  auto cgroup = std::make_unique<CgroupCollector>(fs_, settings.cgroupfs, settings.services, settings.procfs);
  cgroup->set_machines(machines_.get());
  cgroup->set_descriptor_budget(settings.cgroup_descriptors);
  cgroup_layout_ = LayoutName(cgroup->layout().kind);
  spdlog::info("cgroup layout {} under {}", cgroup_layout_, settings.cgroupfs);
  cgroup_ = std::move(cgroup);
  qemu_ = std::make_unique<QemuProcessCollector>(fs_, settings.procfs, ticks_per_second_, machines_.get(),
                                                 settings.services);
  if (!settings.libvirt_uri.empty()) {
    libvirt_ = std::make_unique<LibvirtCollector>(MakeLibvirtClient(settings.libvirt_uri), settings.libvirt_timeout);
  }
}

std::vector<Sample> SamplingPipeline::Run(Collector& collector, Snapshot* snap) {
  auto start = std::chrono::steady_clock::now();
  CollectResult result = collector.Collect();
  CollectorStatus status;
  status.name = collector.name();
  status.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  status.success = result.errors.empty();
  // The same failure tick after tick is logged once (then at debug), not as a stream.
  auto& last = last_errors_[status.name];
  for (const auto& e : result.errors) {
    if (result.errors != last) {
      spdlog::warn("collector {}: {}", status.name, e);
    } else {
      spdlog::debug("collector {}: {}", status.name, e);
    }
  }
  if (!last.empty() && result.errors.empty()) spdlog::info("collector {}: recovered", status.name);
  last = result.errors;
  status.errors = std::move(result.errors);
  snap->collectors.push_back(std::move(status));
  return std::move(result.samples);
}

std::shared_ptr<Snapshot> SamplingPipeline::Tick(std::chrono::steady_clock::time_point now,
                                                 std::chrono::system_clock::time_point wall_now) {
  // The pipeline lets go of the snapshot of two ticks ago: if nobody else holds it, its deleter
  // hands its views back now; else whoever lets go last hands them back later.
  retired_.reset();
  std::vector<WorkloadView> views;
  {
    std::lock_guard lock(returned_->mu);
    views.swap(returned_->views);
  }
  retired_ = std::move(published_);

  auto snap = std::shared_ptr<Snapshot>(new Snapshot, [returned = returned_](Snapshot* released) {
    std::unique_ptr<Snapshot> owned(released);
    std::vector<WorkloadView> views = std::move(released->workloads);
    std::lock_guard lock(returned->mu);
    // One set of views is enough to reuse; an older one left unclaimed is freed with `views`.
    if (returned->views.empty()) returned->views.swap(views);
  });
  snap->sequence = ++sequence_;
  snap->time_seconds = std::chrono::duration<double>(wall_now.time_since_epoch()).count();
  // Joined by type, in this order: the cgroup collector's samples are the workloads, QEMU's and
  // libvirt's join them as VMs (workload_join.h).
  cgroup_->set_scrape_figures_due(scrape_schedule_ == nullptr || scrape_schedule_->ReadOnThisTick(now, interval_));
  std::vector<Sample> cgroups = Run(*cgroup_, snap.get());
  std::vector<Sample> qemu = Run(*qemu_, snap.get());
  std::vector<Sample> libvirt = libvirt_ ? Run(*libvirt_, snap.get()) : std::vector<Sample>{};
  // Containers are named before the join, by the ids their state files know them by: a
  // container that a QEMU makes a VM (KubeVirt's compute container) keeps its pod's labels.
  // Only allowed labels leave the resolver: the rest never reach a series.
  for (Sample& s : cgroups) metadata_.Resolve(&s);
  for (Sample& s : qemu) metadata_.Resolve(&s);
  metadata_.Sweep();
  std::vector<Sample> samples = JoinWorkloads(std::move(cgroups), std::move(qemu), std::move(libvirt));
  // Pods are named from their containers' state, and their sandboxes dropped (pods.h).
  pods_.Apply(&samples);
  // Names from cgroup paths, state files and libvirt become label values: valid UTF-8 from here.
  for (Sample& s : samples) MakeLabelValuesValidUtf8(&s);
  snap->metadata_errors = metadata_.errors();
  if (opener_ != nullptr) snap->opener_requests = opener_->Counts();
  normaliser_.Update(&samples, &views, now, snap->time_seconds);
  snap->workloads = std::move(views);
  if (probe_results_ != nullptr) AttachProbeFigures(*probe_results_, &snap->workloads);
  // `samples` now holds the reused views' old buffers: the cgroup collector fills them next tick.
  cgroup_->Recycle(&samples);
  snap->windows = windows_;
  snap->series_kept = windows_ != nullptr && normaliser_.keep_series();
  snap->interval_seconds = std::chrono::duration<double>(interval_).count();
  snap->cgroup_layout = cgroup_layout_;
  snap->peak_source = PeakSource(snap->workloads, cgroup_layout_);
  snap->process = ReadProcessFigures(fs_, procfs_, ticks_per_second_, page_size_);
  published_ = snap;
  return snap;
}

Sampler::Sampler(const FileSystem& fs, SnapshotStore& store, SamplerSettings settings)
    : fs_(fs), store_(store), settings_(std::move(settings)), timer_(io_) {}

Sampler::~Sampler() { Stop(); }

void Sampler::Start() {
  if (running_) return;
  running_ = true;
  pipeline_ = std::make_unique<SamplingPipeline>(fs_, settings_);
  next_deadline_ = std::chrono::steady_clock::now();
  // The first tick runs at once so that /-/ready turns true as soon as possible.
  boost::asio::post(io_, [this] { RunTick(); });
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

void Sampler::Stop() {
  if (!running_) return;
  running_ = false;
  boost::asio::post(io_, [this] {
    timer_.cancel();
    io_.stop();
  });
  if (thread_.joinable()) thread_.join();
  io_.restart();
}

void Sampler::Reconfigure(SamplerSettings settings) {
  boost::asio::post(io_, [this, settings = std::move(settings)]() mutable {
    // Anything but the log settings changes what the windows hold: start them afresh.
    bool rebuild = !(settings == settings_);
    bool new_interval = settings.interval != settings_.interval;
    settings_ = std::move(settings);
    if (rebuild) pipeline_ = std::make_unique<SamplingPipeline>(fs_, settings_);
    if (new_interval) {
      next_deadline_ = std::chrono::steady_clock::now();
      timer_.cancel();  // RunTick reschedules with the new interval
    }
  });
}

void Sampler::ScheduleNext() {
  auto now = std::chrono::steady_clock::now();
  next_deadline_ += settings_.interval;
  // Fixed rate, but never a burst of catch-up ticks after a stall: skip the missed ones.
  if (next_deadline_ <= now) {
    auto behind = now - next_deadline_;
    auto missed = behind / settings_.interval + 1;
    next_deadline_ += missed * settings_.interval;
    spdlog::warn("sampling fell behind by {} ms; skipped {} tick(s)",
                 std::chrono::duration_cast<std::chrono::milliseconds>(behind).count(), missed);
  }
  timer_.expires_at(next_deadline_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) {
      // Reconfigure() with a new interval cancels the wait: run now, then keep the new rate.
      if (running_) RunTick();
      return;
    }
    RunTick();
  });
}

void Sampler::RunTick() {
  if (!running_) return;
  const auto now = std::chrono::steady_clock::now();
  pipeline_->set_keep_series(now.time_since_epoch().count() < series_until_.load(std::memory_order_relaxed));
  auto snap = pipeline_->Tick(now, std::chrono::system_clock::now());
  store_.Publish(std::move(snap));
  ready_.store(true, std::memory_order_release);
  if (on_publish_) on_publish_(settings_.interval);
  ScheduleNext();
}

}  // namespace we
