#include "pipeline/normaliser.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace we {

Normaliser::Normaliser(NormaliserSettings settings) : settings_(std::move(settings)) {
  if (settings_.windows) {
    scratch_.reserve(settings_.windows->capacity);
    const auto& specs = settings_.windows->specs;
    for (std::size_t i = 1; i < specs.size(); ++i) {
      if (specs[i].slots < specs[shortest_window_].slots) shortest_window_ = i;
    }
  }
}

size_t Normaliser::window_bytes() const {
  size_t total = 0;
  for (const auto& [key, state] : states_) total += state.windows ? state.windows->MemoryBytes() : 0;
  return total;
}

std::vector<WorkloadView> Normaliser::Update(std::vector<Sample> samples, Clock::time_point now, double wall_now) {
  std::vector<WorkloadView> views;
  Update(&samples, &views, now, wall_now);
  return views;
}

void Normaliser::Update(std::vector<Sample>* samples_in, std::vector<WorkloadView>* views, Clock::time_point now,
                        double wall_now) {
  ++tick_;
  std::vector<Sample>& samples = *samples_in;
  const double interval = std::chrono::duration<double>(settings_.interval).count();

  // Views are sorted by (kind, runtime, name, id), for stable output. Collectors return their
  // workloads in the same order tick after tick, so last tick's order usually still holds.
  const auto before = [&](uint32_t a, uint32_t b) {
    const auto& x = samples[a].identity;
    const auto& y = samples[b].identity;
    return std::tie(x.kind, x.runtime, x.name, x.id) < std::tie(y.kind, y.runtime, y.name, y.id);
  };
  if (order_.size() != samples.size() || !std::is_sorted(order_.begin(), order_.end(), before)) {
    order_.resize(samples.size());
    std::iota(order_.begin(), order_.end(), 0u);
    std::sort(order_.begin(), order_.end(), before);
  }
  views->resize(samples.size());

  for (std::size_t j = 0; j < samples.size(); ++j) {
    Sample& s = samples[order_[j]];
    WorkloadView& view = (*views)[j];
    view.cpu_usage_cores.reset();
    view.windows.clear();
    view.startup_seconds.reset();
    view.listen_seconds.reset();
    view.ready_seconds.reset();
    view.probe_success.reset();
    view.probe_durations.reset();
    s.identity.KeyInto(&key_);
    auto it = states_.find(key_);
    const bool inserted = it == states_.end();
    if (inserted) it = states_.try_emplace(key_).first;
    State& state = it->second;
    const bool fresh = inserted || state.instance != s.instance;
    if (!fresh && state.cpu_usage_seconds && s.cpu.usage_seconds) {
      const double dt = std::chrono::duration<double>(now - state.when).count();
      const double used = *s.cpu.usage_seconds - *state.cpu_usage_seconds;
      if (dt > 0 && used >= 0) view.cpu_usage_cores = used / dt;
    }
    if (fresh) {
      state = State{};
      state.instance = s.instance;
      state.first_wall = wall_now;
      state.timeable = s.start_time_seconds && wall_now - *s.start_time_seconds <= 2 * interval + 1.0;
      state.seen_from_start = state.timeable;
      state.startup_state = !s.start_time_seconds ? StartupState::kNoStartTime
                            : state.timeable      ? StartupState::kWaiting
                                                  : StartupState::kSeenLate;
    } else {
      // Slots follow the steady clock, so ticks skipped by a stalled sampler leave gaps.
      const double dt = std::chrono::duration<double>(now - state.when).count();
      state.slot += static_cast<uint64_t>(std::max<long long>(1, std::llround(dt / interval)));
    }
    // The first tick that sees a listener: it appeared within the interval before this one, so the
    // figure is at most one interval late, never early.
    if (!state.listen_seconds && state.seen_from_start && s.listening == true && s.start_time_seconds) {
      state.listen_seconds = std::max(0.0, wall_now - *s.start_time_seconds);
    }
    view.listen_seconds = state.listen_seconds;
    state.cpu_usage_seconds = s.cpu.usage_seconds;
    state.when = now;
    view.samples = ++state.samples;
    view.startup_state = StartupState::kNotComputed;
    state.seen_tick = tick_;
    // libstdc++ hands the view's old string buffers to `s` in the move: they go back to the
    // collector, and neither side allocates.
    view.sample = std::move(s);
    if (settings_.windows) UpdateWindows(state, view, wall_now, fresh);
  }
  std::erase_if(states_, [this](const auto& entry) { return entry.second.seen_tick != tick_; });
}

void Normaliser::UpdateWindows(State& state, WorkloadView& view, double wall_now, bool fresh) {
  const WindowLayout& layout = *settings_.windows;
  if (fresh || !state.windows) state.windows = std::make_unique<WorkloadWindows>(settings_.windows);
  const MemoryFigures& mem = view.sample.memory;

  // Idle memory is the working set; the peak is the highest memory known for the interval,
  // the kernel's per-interval watermark included where it exists.
  std::optional<double> memory;
  if (mem.working_set_bytes) {
    memory = static_cast<double>(*mem.working_set_bytes);
  } else if (mem.usage_bytes) {
    memory = static_cast<double>(*mem.usage_bytes);
  }
  std::optional<double> memory_peak = memory;
  if (mem.interval_peak_bytes) {
    memory_peak = std::max(memory_peak.value_or(0), static_cast<double>(*mem.interval_peak_bytes));
  }
  state.windows->Add(state.slot, view.cpu_usage_cores, memory, memory_peak, scratch_);
  if (keep_series_) {
    state.windows->CopyRecent(&view.series.cpu_cores, &view.series.memory_bytes);
  } else if (view.series.cpu_cores.capacity() != 0) {
    view.series = WorkloadSeries{};  // nobody looks: free what a reused view held
  }

  // Age of the workload; without a start time it counts as old (no lifetime mark used).
  const double age = view.sample.start_time_seconds ? wall_now - *view.sample.start_time_seconds : 1e300;
  view.windows.reserve(layout.specs.size());
  for (std::size_t i = 0; i < layout.specs.size(); ++i) {
    WindowFigures f = state.windows->Get(i);
    // While the workload is younger than the window its whole lifetime is inside it, so the
    // lifetime mark is the window's peak. With the per-interval mark too: that one starts only
    // with the daemon, and a daemon (re)started after a young workload's startup spike would
    // otherwise forget a peak that is still inside the window.
    if (mem.max_usage_bytes && age < layout.specs[i].seconds) {
      f.memory_peak_bytes = std::max(f.memory_peak_bytes.value_or(0), static_cast<double>(*mem.max_usage_bytes));
    }
    view.windows.push_back(f);
  }

  // Startup: decided once the shortest window has filled, so that its idle CPU is the resting
  // level rather than the startup burst itself. A window full of nothing but a startup that lasts
  // longer than the window looks just like a workload busy at rest: its idle CPU is the burst's,
  // and every slot would count as quiet. So the decision also waits until the window shows a
  // sample above the threshold (a burst it has come down from), or the workload rests below the
  // min_cores floor anyway, or its start is about to leave the ring (then busy is its rest).
  const WindowSpec& shortest = layout.specs[shortest_window_];
  if (state.timeable && !state.startup_seconds && state.slot + 1 >= shortest.slots && view.sample.start_time_seconds) {
    const double interval = std::chrono::duration<double>(settings_.interval).count();
    const double idle = view.windows[shortest_window_].cpu_idle_cores.value_or(0);
    const double peak = view.windows[shortest_window_].cpu_peak_cores.value_or(0);
    const double threshold = std::max(settings_.startup.min_cores, settings_.startup.idle_factor * idle);
    const auto run = static_cast<uint32_t>(
        std::ceil(std::chrono::duration<double>(settings_.startup.settle_for).count() / interval - 1e-9));
    const bool last_chance = state.windows->last_slot() + 2 >= static_cast<int64_t>(layout.capacity);
    const bool decidable = peak > threshold || threshold <= settings_.startup.min_cores || last_chance;
    if (!decidable) {
      // Busy for the whole window so far: wait for it to come down.
    } else if (auto first = state.windows->FirstQuietRun(threshold, run)) {
      // Slot s's CPU covers the interval that began at slot s-1.
      const double quiet_since = state.first_wall + (static_cast<double>(*first) - 1) * interval;
      state.startup_seconds = std::max(0.0, quiet_since - *view.sample.start_time_seconds);
      state.startup_state = StartupState::kTimed;
    } else if (state.windows->last_slot() + 1 >= static_cast<int64_t>(layout.capacity)) {
      state.timeable = false;  // its start has left the ring: it will never be timed
      state.startup_state = StartupState::kNeverSettled;
    }
  }
  // A start time that came after the first sight: the workload was not seen from its start.
  if (state.startup_state == StartupState::kNoStartTime && view.sample.start_time_seconds) {
    state.startup_state = StartupState::kSeenLate;
  }
  view.startup_state = state.startup_state;
  // Timed, or never to be: the windows need not keep the CPU history the search reads.
  if (!state.timeable || state.startup_seconds) state.windows->DropStartupHistory();
  view.startup_seconds = state.startup_seconds;
}

}  // namespace we
