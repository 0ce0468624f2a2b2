#include "pipeline/normaliser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace we {
namespace {

using Clock = Normaliser::Clock;
using std::chrono::milliseconds;
using ::testing::DoubleEq;
using ::testing::Optional;

Sample Make(const std::string& id, uint64_t instance, std::optional<double> cpu) {
  Sample s;
  s.identity = {"container", "docker", id, id.substr(0, 3), "", ""};
  s.instance = instance;
  s.cpu.usage_seconds = cpu;
  return s;
}

// Feeds `n` the one sample Make(id, instance, cpu) at `ms` after the epoch; that workload's rate.
std::optional<double> RateAt(Normaliser& n, int ms, const std::string& id, uint64_t instance,
                             std::optional<double> cpu) {
  auto v = n.Update({Make(id, instance, cpu)}, Clock::time_point{} + milliseconds(ms));
  EXPECT_EQ(v.size(), 1u) << "at " << ms << " ms";
  return v.empty() ? std::nullopt : v[0].cpu_usage_cores;
}

TEST(Normaliser, RateNeedsTwoSamplesOfTheSameInstance) {
  Normaliser n;
  EXPECT_EQ(RateAt(n, 0, "aaaa", 1, 10.0), std::nullopt);  // first sight: no rate yet
  EXPECT_THAT(RateAt(n, 1000, "aaaa", 1, 10.5), Optional(DoubleEq(0.5)));
  EXPECT_THAT(RateAt(n, 2000, "aaaa", 1, 12.5), Optional(DoubleEq(2.0)));
  // Uneven intervals divide by the real elapsed time.
  EXPECT_THAT(RateAt(n, 4000, "aaaa", 1, 13.0), Optional(DoubleEq(0.25)));
}

TEST(Normaliser, RecreatedWorkloadNeverYieldsANegativeOrDoubledRate) {
  Normaliser n;
  RateAt(n, 0, "aaaa", 1, 100.0);
  // Same id, new cgroup instance, counter restarted from a small value.
  EXPECT_EQ(RateAt(n, 1000, "aaaa", 2, 0.3), std::nullopt);
  // Same id, new instance, counter happens to be larger: still no rate across instances.
  RateAt(n, 2000, "bbbb", 1, 1.0);
  EXPECT_EQ(RateAt(n, 3000, "bbbb", 3, 50.0), std::nullopt);
  // From then on, rates resume within the new instance.
  EXPECT_THAT(RateAt(n, 4000, "bbbb", 3, 50.5), Optional(DoubleEq(0.5)));
}

TEST(Normaliser, CounterGoingBackwardsYieldsNoRate) {
  Normaliser n;
  RateAt(n, 0, "aaaa", 1, 5.0);
  EXPECT_EQ(RateAt(n, 1000, "aaaa", 1, 4.0), std::nullopt);
  EXPECT_THAT(RateAt(n, 2000, "aaaa", 1, 4.5), Optional(DoubleEq(0.5)));
}

TEST(Normaliser, VanishedWorkloadsAreForgottenAtOnce) {
  Normaliser n;
  Clock::time_point t0{};
  n.Update({Make("aaaa", 1, 1.0), Make("bbbb", 1, 1.0)}, t0);
  EXPECT_EQ(n.tracked(), 2u);
  auto v = n.Update({Make("bbbb", 1, 2.0)}, t0 + milliseconds(1000));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].sample.identity.id, "bbbb");
  EXPECT_EQ(n.tracked(), 1u);
  // Back after a gap: a fresh start, not a rate across the gap.
  v = n.Update({Make("aaaa", 1, 9.0), Make("bbbb", 1, 3.0)}, t0 + milliseconds(2000));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_FALSE(v[0].cpu_usage_cores);
}

TEST(Normaliser, MissingCounterYieldsNoRateAndOutputIsSorted) {
  Normaliser n;
  Clock::time_point t0{};
  n.Update({Make("zzzz", 1, std::nullopt), Make("aaaa", 1, 1.0)}, t0);
  auto v = n.Update({Make("zzzz", 1, 1.0), Make("aaaa", 1, 1.0)}, t0 + milliseconds(1000));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].sample.identity.id, "aaaa");
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 0.0);
  EXPECT_FALSE(v[1].cpu_usage_cores);
}

// ---------------------------------------------------------------------------------------------
// Idle, peak and startup through the normaliser

NormaliserSettings WithWindows(std::vector<milliseconds> windows) {
  NormaliserSettings settings;
  settings.interval = milliseconds(1000);
  settings.windows = WindowLayout::Make(windows, settings.interval, 0.1);
  return settings;
}

Sample MakeMemory(uint64_t instance, double cpu, uint64_t working_set, std::optional<uint64_t> lifetime_peak,
                  std::optional<uint64_t> interval_peak, double start) {
  Sample s = Make("aaaa", instance, cpu);
  s.memory.working_set_bytes = working_set;
  s.memory.max_usage_bytes = lifetime_peak;
  s.memory.interval_peak_bytes = interval_peak;
  s.start_time_seconds = start;
  return s;
}

// A workload first seen 5 s after its start (working set 100 MB, lifetime watermark 600 MB, the
// interval watermark `interval_peak`), fed once a second for 30 ticks to a normaliser with 10 s and
// 1 m windows. The 10 s window's peak must be the 600 MB lifetime mark while the workload is
// younger than 10 s and `peak10_later` after; the 1 m window's stays 600 MB (still young).
// `also(view, age)` checks more after each tick.
void ExpectYoungWorkloadPeaks(std::optional<uint64_t> interval_peak, double peak10_later,
                              const std::function<void(const WorkloadView&, double)>& also = {}) {
  Normaliser n(WithWindows({milliseconds(10'000), milliseconds(60'000)}));
  Clock::time_point t0{};
  const double start = 1000;
  for (int i = 0; i < 30; ++i) {
    auto v = n.Update({MakeMemory(1, i * 0.1, 100'000'000, 600'000'000, interval_peak, start)},
                      t0 + milliseconds(1000 * i), start + 5 + i);
    const double age = 5 + i;
    ASSERT_EQ(v[0].windows.size(), 2u);
    const double peak10 = *v[0].windows[0].memory_peak_bytes;
    if (age < 10) {
      EXPECT_NEAR(peak10, 600e6, 600e6 * 0.0004) << age;
    } else {
      EXPECT_NEAR(peak10, peak10_later, peak10_later * 0.0004) << age;
    }
    EXPECT_NEAR(*v[0].windows[1].memory_peak_bytes, 600e6, 600e6 * 0.0004) << age;  // 1m: still young
    if (also) also(v[0], age);
  }
}

TEST(NormaliserWindows, LifetimeWatermarkCountsOnlyWhileTheWorkloadIsYoungerThanTheWindow) {
  // A 500 MB spike between samples left its mark in the lifetime watermark only. 10 s window: the
  // watermark counts until the workload is 10 s old, the sampled max after.
  ExpectYoungWorkloadPeaks(std::nullopt, 100e6, [](const WorkloadView& v, double) {
    EXPECT_NEAR(*v.windows[0].memory_idle_bytes, 100e6, 100e6 * 0.0004);
  });
}

TEST(NormaliserWindows, IntervalWatermarkIsExactPerIntervalAndReplacesTheLifetimeOne) {
  Normaliser n(WithWindows({milliseconds(5'000)}));
  Clock::time_point t0{};
  std::vector<WorkloadView> v;
  for (int i = 0; i < 12; ++i) {
    const uint64_t interval_peak = i == 3 ? 900'000'000 : 110'000'000;
    v = n.Update({MakeMemory(1, i * 0.1, 100'000'000, 2'000'000'000, interval_peak, 0)}, t0 + milliseconds(1000 * i),
                 1e9 + i);
    const double peak = *v[0].windows[0].memory_peak_bytes;
    if (i >= 3 && i < 8) {
      EXPECT_NEAR(peak, 900e6, 900e6 * 0.0004) << i;  // the spike, while inside the 5 s window
    } else {
      EXPECT_NEAR(peak, 110e6, 110e6 * 0.0004) << i;  // never the 2 GB lifetime mark
    }
  }
}

TEST(NormaliserWindows, AYoungWorkloadFirstSeenKeepsItsLifetimePeakWithTheIntervalWatermarkToo) {
  // The daemon (re)starts while a container is 5 s old: its 600 MB startup spike is older than the
  // daemon's first interval mark, but the lifetime mark holds it, and the container's whole life is
  // inside every window it is younger than. Without this a restart or upgrade forgot it. After
  // 10 s, the exact per-interval marks.
  ExpectYoungWorkloadPeaks(110'000'000, 110e6);
}

TEST(NormaliserWindows, ARecreatedWorkloadStartsNewWindows) {
  Normaliser n(WithWindows({milliseconds(60'000)}));
  Clock::time_point t0{};
  n.Update({MakeMemory(1, 0.0, 5'000'000'000, std::nullopt, std::nullopt, 0)}, t0, 1e9);
  n.Update({MakeMemory(1, 10.0, 5'000'000'000, std::nullopt, std::nullopt, 0)}, t0 + milliseconds(1000), 1e9 + 1);
  auto v = n.Update({MakeMemory(2, 0.0, 1'000, std::nullopt, std::nullopt, 0)}, t0 + milliseconds(2000), 1e9 + 2);
  EXPECT_NEAR(*v[0].windows[0].memory_peak_bytes, 1000, 1);
  EXPECT_FALSE(v[0].windows[0].cpu_peak_cores);
}

TEST(NormaliserWindows, AStalledSamplerLeavesGapsNotStretchedSamples) {
  Normaliser n(WithWindows({milliseconds(10'000)}));
  Clock::time_point t0{};
  double cpu = 0;
  std::vector<WorkloadView> v;
  for (int i = 0; i < 5; ++i) {
    cpu += 2.0;
    v = n.Update({Make("aaaa", 1, cpu)}, t0 + milliseconds(1000 * i), 1e9 + i);
  }
  EXPECT_NEAR(*v[0].windows[0].cpu_peak_cores, 2.0, 0.001);
  // 20 s without a tick: everything before has left the 10 s window.
  cpu += 2.0;
  v = n.Update({Make("aaaa", 1, cpu)}, t0 + milliseconds(24'000), 1e9 + 24);
  EXPECT_NEAR(*v[0].windows[0].cpu_peak_cores, 0.1, 0.0001);  // 2 s of CPU over 20 s
}

// One workload, started at Unix second 1e9 and first seen `seen_after` seconds later, fed once a
// second for `ticks` ticks to a normaliser with `windows` whose startup settles after
// `settle_for`; `cores(i)` is its CPU over the interval that ends at tick i (i >= 1). Returns its
// startup figure after each tick.
std::vector<std::optional<double>> StartupAfterEachTick(std::vector<milliseconds> windows, milliseconds settle_for,
                                                        int ticks, double seen_after,
                                                        const std::function<double(int)>& cores) {
  NormaliserSettings settings = WithWindows(std::move(windows));
  settings.startup.settle_for = settle_for;
  Normaliser n(settings);
  const Clock::time_point t0{};
  const double start = 1e9;
  double cpu = 0;
  std::vector<std::optional<double>> startups;
  for (int i = 0; i < ticks; ++i) {
    if (i > 0) cpu += cores(i);
    auto v = n.Update({MakeMemory(1, cpu, 1, std::nullopt, std::nullopt, start)}, t0 + milliseconds(1000 * i),
                      start + seen_after + i);
    startups.push_back(v[0].startup_seconds);
  }
  return startups;
}

TEST(NormaliserWindows, StartupIsTheTimeUntilCpuFirstSettles) {
  // Seen 0.5 s after its start; busy for 4 s (1.5 cores), then quiet (0.01 cores).
  const auto startups = StartupAfterEachTick({milliseconds(20'000), milliseconds(60'000)}, milliseconds(5'000), 40, 0.5,
                                             [](int i) { return i <= 4 ? 1.5 : 0.01; });
  for (int i = 0; i < 19; ++i) {
    EXPECT_FALSE(startups[i]) << i;  // the shortest window is not full yet
  }
  ASSERT_TRUE(startups.back());
  EXPECT_NEAR(*startups.back(), 4.5, 1e-9);  // quiet from the interval starting at +4.5 s
}

// A startup longer than the shortest window (a VM booting under TCG for 30 s, with a 10 s
// window): when the window fills it holds nothing but the burst, so its idle CPU is the burst's.
// The startup must not be taken as settled then, but once the CPU has come down.
TEST(NormaliserWindows, AStartupLongerThanTheShortestWindowIsNotMistakenForRest) {
  // Seen at its start; busy for 30 s around 1 core (0.9 to 1.1), then quiet (0.02 cores).
  const auto startups = StartupAfterEachTick({milliseconds(10'000), milliseconds(120'000)}, milliseconds(5'000), 60, 0,
                                             [](int i) { return i <= 30 ? 0.9 + 0.2 * ((i * 7) % 5) / 4.0 : 0.02; });
  for (int i = 0; i < 35; ++i) {
    EXPECT_FALSE(startups[i]) << "decided at " << i << " s, in the middle of the startup";
  }
  ASSERT_TRUE(startups.back());
  EXPECT_NEAR(*startups.back(), 30.0, 1e-9);  // quiet from the interval starting at +30 s
}

// A VM booting for 20 s under TCG, then at rest at 0.018 cores with its disk and balloon timers
// costing 0.075 cores every other second, over the 0.05 floor: it settles when its boot ends.
TEST(NormaliserWindows, PeriodicSpikesAtRestDoNotKeepAStartupFromSettling) {
  const auto startups = StartupAfterEachTick({milliseconds(30'000), milliseconds(120'000)}, milliseconds(10'000), 60, 0,
                                             [](int i) { return i <= 20 ? 1.0 : (i % 2 == 0 ? 0.075 : 0.018); });
  ASSERT_TRUE(startups.back());
  EXPECT_NEAR(*startups.back(), 20.0, 1e-9);  // quiet from the interval starting at +20 s
}

// Busy from its first sample to the end of the ring: busy is its rest, timed at the last chance.
TEST(NormaliserWindows, AWorkloadBusyFromItsStartIsTimedBeforeItsStartLeavesTheRing) {
  const auto startups = StartupAfterEachTick({milliseconds(5'000), milliseconds(20'000)}, milliseconds(3'000), 40, 0,
                                             [](int) { return 1.0; });
  const auto decided = std::find_if(startups.begin(), startups.end(), [](const auto& s) { return s.has_value(); });
  ASSERT_NE(decided, startups.end());
  ASSERT_GT(decided - startups.begin(), 5) << "not while only the shortest window had filled";
  EXPECT_NEAR(**decided, 0.0, 1e-9);
}

TEST(NormaliserWindows, AWorkloadFoundLongAfterItsStartIsNotTimed) {
  const auto startups =
      StartupAfterEachTick({milliseconds(5'000)}, milliseconds(2'000), 20, 3600, [](int) { return 0.01; });
  EXPECT_FALSE(startups.back());
}

// Why a workload has no startup figure: each state the normaliser can be in, and the samples of
// the instance it counts (a recreated instance starts again).
TEST(NormaliserWindows, StartupStateSaysWhyThereIsNoStartupYet) {
  NormaliserSettings settings = WithWindows({milliseconds(5'000), milliseconds(20'000)});
  settings.startup.settle_for = milliseconds(2'000);
  Normaliser n(settings);
  const Clock::time_point t0{};
  const double start = 1e9;
  auto tick = [&](int i, std::vector<Sample> samples) {
    return n.Update(std::move(samples), t0 + milliseconds(1000 * i), start + i);
  };
  auto make = [&](const std::string& id, uint64_t instance, int i, std::optional<double> started) {
    Sample s = MakeMemory(instance, 0.001 * i, 1, std::nullopt, std::nullopt, 0);
    s.identity.id = id;
    s.start_time_seconds = started;
    return s;
  };
  // "aaaa" seen at its start, "late" an hour after its, "none" without a start time.
  std::vector<WorkloadView> v;
  for (int i = 0; i < 8; ++i) {
    v = tick(i, {make("aaaa", 1, i, start), make("late", 1, i, start - 3600), make("none", 1, i, std::nullopt)});
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].samples, static_cast<uint64_t>(i + 1));
    if (i < 4) {
      EXPECT_EQ(v[0].startup_state, StartupState::kWaiting) << i;  // the 5 s window is not full
    }
  }
  EXPECT_EQ(v[0].startup_state, StartupState::kTimed);
  EXPECT_TRUE(v[0].startup_seconds);
  EXPECT_EQ(v[1].startup_state, StartupState::kSeenLate);
  EXPECT_EQ(v[2].startup_state, StartupState::kNoStartTime);
  // A start time learnt later does not make the workload seen from its start.
  v = tick(8, {make("aaaa", 2, 8, start + 8), make("late", 1, 8, start - 3600), make("none", 1, 8, start)});
  EXPECT_EQ(v[0].samples, 1u);  // a new instance
  EXPECT_EQ(v[0].startup_state, StartupState::kWaiting);
  EXPECT_EQ(v[2].startup_state, StartupState::kSeenLate);
  // Without windows no startup is timed at all.
  Normaliser plain;
  EXPECT_EQ(plain.Update({make("aaaa", 1, 0, start)}, t0, start)[0].startup_state, StartupState::kNotComputed);
}

// A thousand workloads' windows on their first tick: the plain ring and the peaks' blocks; the
// packed chunks of the 1h window then grow over its first hour (WindowCostTest has full ones).
TEST(NormaliserWindows, ThousandWorkloadsWithDefaultWindowsStartUnderThreeMib) {
  NormaliserSettings settings = WithWindows({milliseconds(60'000), milliseconds(300'000), milliseconds(3'600'000)});
  Normaliser n(settings);
  std::vector<Sample> samples;
  for (int i = 0; i < 1000; ++i) samples.push_back(MakeMemory(1, 0, 1, std::nullopt, std::nullopt, 0));
  for (int i = 0; i < 1000; ++i) samples[i].identity.id = "w" + std::to_string(i);
  n.Update(samples, Clock::time_point{}, 1e9);
  EXPECT_EQ(n.tracked(), 1000u);
  EXPECT_LT(n.window_bytes(), 3u << 20);
  RecordProperty("window_bytes_1000_workloads", std::to_string(n.window_bytes()));
}

}  // namespace
}  // namespace we
