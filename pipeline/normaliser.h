#pragma once
// The normaliser turns each tick's samples into exported views: counters into rates, and the
// idle/peak windows (window.h) and startup time of each workload, all kept to one instance of a
// workload. A rate needs two samples of the same instance (the cgroup directories' inodes
// unchanged) with a counter that did not go backwards; anything else yields no rate, so a
// restarted container never shows a negative or doubled rate, and a re-created one starts new
// windows. Workloads not seen in a tick are forgotten at once, so their series vanish from the
// next scrape.
//
// Thread-safety: not thread-safe; owned and called by the sampler.

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "pipeline/snapshot.h"
#include "pipeline/window.h"

namespace we {

struct NormaliserSettings {
  std::chrono::milliseconds interval{1000};
  std::shared_ptr<const WindowLayout> windows;  // null: no idle/peak series
  StartupConfig startup;
};

class Normaliser {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Normaliser(NormaliserSettings settings = {});

  // `now` is when the samples were taken on a monotonic clock, `wall_now` the same instant in
  // Unix seconds (for workload ages and the startup time).
  std::vector<WorkloadView> Update(std::vector<Sample> samples, Clock::time_point now, double wall_now = 0);

  // The same, reusing memory: *views (a previous snapshot's, or empty) is refilled, its elements'
  // buffers kept, and left sorted as Update's result is. Each sample is moved into its view, so
  // *samples keeps its size, its elements holding the buffers the views had (for
  // Collector::Recycle).
  void Update(std::vector<Sample>* samples, std::vector<WorkloadView>* views, Clock::time_point now,
              double wall_now = 0);

  // Whether the next Updates copy each workload's recent values into WorkloadView::series (else
  // they are left empty and their memory freed).
  void set_keep_series(bool keep) { keep_series_ = keep; }
  bool keep_series() const { return keep_series_; }

  size_t tracked() const { return states_.size(); }
  // Heap bytes held by every workload's windows.
  size_t window_bytes() const;

 private:
  struct State {
    uint64_t instance = 0;
    std::optional<double> cpu_usage_seconds;
    Clock::time_point when;
    uint64_t slot = 0;
    double first_wall = 0;
    bool timeable = false;  // seen from (near) its start, so its startup can be timed
    std::optional<double> startup_seconds;
    bool seen_from_start = false;  // as `timeable`, but never cleared: for listen_seconds
    std::optional<double> listen_seconds;
    StartupState startup_state = StartupState::kWaiting;
    uint64_t samples = 0;
    std::unique_ptr<WorkloadWindows> windows;
    uint64_t seen_tick = 0;
  };

  void UpdateWindows(State& state, WorkloadView& view, double wall_now, bool fresh);

  NormaliserSettings settings_;
  std::size_t shortest_window_ = 0;
  std::unordered_map<std::string, State> states_;
  QuantileScratch scratch_;
  std::string key_;              // scratch for look-ups
  std::vector<uint32_t> order_;  // the samples' indices in view order, kept: steady ticks need no sort
  uint64_t tick_ = 0;
  bool keep_series_ = false;
};

}  // namespace we
