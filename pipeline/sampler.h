#pragma once
// Sampling, independent of scrapes: a steady timer on the sampler's own thread runs every
// collector once per interval, normalises what they saw, and publishes an immutable Snapshot.
// Scrapes (on the HTTP thread) only ever read the newest snapshot, so a slow tick never delays a
// scrape and a scrape never touches the filesystem.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "collectors/cgroup_collector.h"
#include "collectors/collector.h"
#include "collectors/file_system.h"
#include "collectors/libvirt_collector.h"
#include "collectors/machined_registry.h"
#include "collectors/opener_client.h"
#include "collectors/qemu_process.h"
#include "collectors/runtime_metadata.h"
#include "config/config.h"
#include "pipeline/normaliser.h"
#include "pipeline/pods.h"
#include "pipeline/probe_results.h"
#include "pipeline/scrape_schedule.h"
#include "pipeline/snapshot.h"

namespace we {

// What the sampler needs of the configuration. Every default is config.h's (SamplerSettingsFrom
// a default Config gives these values), except libvirt_uri: empty here, so that tests drive no
// libvirt unless they ask.
struct SamplerSettings {
  std::string cgroupfs = PathsConfig{}.cgroupfs;
  std::string procfs = PathsConfig{}.procfs;
  std::chrono::milliseconds interval = SamplingConfig{}.interval;
  std::vector<std::chrono::milliseconds> windows = IdlePeakConfig{}.windows;
  double idle_quantile = IdlePeakConfig{}.idle_quantile;
  double startup_min_cores = StartupConfig{}.min_cores;
  double startup_idle_factor = StartupConfig{}.idle_factor;
  std::chrono::milliseconds startup_settle_for = StartupConfig{}.settle_for;
  std::string rootfs = PathsConfig{}.rootfs;
  bool services = CollectorsConfig{}.cgroup_services;  // systemd services as workloads
  std::vector<std::string> label_allow;                // container labels exported (names or '*' globs)
  std::string libvirt_uri;                             // empty: no libvirt collector
  std::chrono::milliseconds libvirt_timeout = LibvirtConfig{}.timeout;
  // Descriptors the cgroup collector may keep open (the daemon's descriptor budget,
  // daemon/descriptor_budget.h); files beyond it are read by path each time.
  uint64_t cgroup_descriptors = 4096;
  // The opener's client, whose request counts each snapshot carries (the daemon sets it with
  // --opener.socket; it must outlive the sampler). Null: no opener.
  const OpenerClient* opener = nullptr;
  // When the cgroup collector re-reads the figures only a scrape shows (scrape_schedule.h; the
  // daemon's, which must outlive the sampler). Null: every tick reads everything.
  ScrapeSchedule* scrape_schedule = nullptr;
  // Where the ready probes leave their figures (the daemon's prober writes it; it must outlive the
  // sampler). Null: no probe series.
  const ProbeResultsStore* probe_results = nullptr;

  friend bool operator==(const SamplerSettings&, const SamplerSettings&) = default;
};

// The sampler's part of `config`; cgroup_descriptors keeps its default (the daemon sets it).
SamplerSettings SamplerSettingsFrom(const Config& config);

// True when a container label `name` matches one of `allow` (exact, or a glob with '*').
bool LabelAllowed(const std::vector<std::string>& allow, const std::string& name);

// Copies each workload's probe figures from `store` into its view (same identity and instance).
void AttachProbeFigures(const ProbeResultsStore& store, std::vector<WorkloadView>* views);

// One tick's work, without threads or timers: what tests drive directly.
// Thread-safety: not thread-safe; one caller at a time.
class SamplingPipeline {
 public:
  // `fs` must outlive the pipeline. Builds the collector list from the settings.
  SamplingPipeline(const FileSystem& fs, const SamplerSettings& settings);

  // Runs every collector, normalises, and returns the snapshot (not yet published).
  //
  // Memory is reused across ticks: the pipeline holds the snapshot it returned until two ticks
  // later; when its last holder (the store, a render) lets go of it, its deleter hands its
  // workload views back to the pipeline, which lends them to the next tick, and the samples they
  // held go back to the cgroup collector to be filled again. So a steady tick allocates next to
  // nothing per workload, and no view is reused while anyone can still read it.
  std::shared_ptr<Snapshot> Tick(std::chrono::steady_clock::time_point now,
                                 std::chrono::system_clock::time_point wall_now);

  // Whether the next ticks' snapshots keep each workload's recent per-interval values
  // (WorkloadView::series, Snapshot::series_kept).
  void set_keep_series(bool keep) { normaliser_.set_keep_series(keep); }

 private:
  // Collects from one source and records its status (duration, errors) in the snapshot.
  std::vector<Sample> Run(Collector& collector, Snapshot* snap);

  const FileSystem& fs_;
  std::string procfs_;
  const OpenerClient* opener_;              // null: no opener
  ScrapeSchedule* scrape_schedule_;         // null: every tick reads everything
  const ProbeResultsStore* probe_results_;  // null: no probes
  std::chrono::milliseconds interval_;
  // machined's records, shared by the cgroup collector and the QEMU scan (machined_registry.h).
  std::unique_ptr<MachinedRegistry> machines_;
  std::unique_ptr<CgroupCollector> cgroup_;
  std::unique_ptr<QemuProcessCollector> qemu_;
  std::unique_ptr<LibvirtCollector> libvirt_;  // null: no libvirt URI
  std::string cgroup_layout_;
  std::shared_ptr<const WindowLayout> windows_;
  MetadataResolver metadata_;
  PodMetadata pods_;
  Normaliser normaliser_;
  std::map<std::string, std::vector<std::string>> last_errors_;  // by collector, for quiet logs
  uint64_t sequence_ = 0;
  // Views handed back by released snapshots: shared with the snapshots' deleters, which run on
  // whichever thread lets go last and may outlive the pipeline.
  struct ReturnedViews {
    std::mutex mu;
    std::vector<WorkloadView> views;
  };
  std::shared_ptr<ReturnedViews> returned_ = std::make_shared<ReturnedViews>();
  std::shared_ptr<Snapshot> published_;  // the last snapshot returned
  std::shared_ptr<Snapshot> retired_;    // the one before: let go of at the next tick
  double ticks_per_second_;
  uint64_t page_size_;
};

// Runs a SamplingPipeline on its own thread at a fixed rate.
// Thread-safety: Start, Stop and Reconfigure may be called from any one thread (the daemon's main
// loop); ready() from any thread. The publish hook runs on the sampler's thread.
class Sampler {
 public:
  // `fs` and `store` must outlive the sampler (App owns all three).
  Sampler(const FileSystem& fs, SnapshotStore& store, SamplerSettings settings);
  ~Sampler();

  void Start();
  // Finishes the tick in progress, if any, then joins the thread.
  void Stop();
  // Takes effect before the next tick. Changed paths rebuild the collectors.
  void Reconfigure(SamplerSettings settings);

  // True once the first complete sample is published.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Called on the sampler's thread after each snapshot is published, with the sampling interval.
  // Set before Start().
  using PublishHook = std::function<void(std::chrono::steady_clock::duration interval)>;
  void set_on_publish(PublishHook hook) { on_publish_ = std::move(hook); }

  // Someone looks at the per-interval series (the page at /): snapshots keep them
  // (WorkloadView::series) from the next tick until `until`, then free them. Any thread.
  void WantSeries(std::chrono::steady_clock::time_point until) {
    series_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  }

 private:
  void ScheduleNext();
  void RunTick();

  const FileSystem& fs_;
  SnapshotStore& store_;
  SamplerSettings settings_;
  std::unique_ptr<SamplingPipeline> pipeline_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  std::thread thread_;
  std::chrono::steady_clock::time_point next_deadline_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> running_{false};
  std::atomic<std::chrono::steady_clock::rep> series_until_{
      std::chrono::steady_clock::time_point::min().time_since_epoch().count()};
  PublishHook on_publish_;
};

}  // namespace we
