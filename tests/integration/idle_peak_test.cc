// Idle, peak and startup on this machine's real kernel, with the real daemon binary:
//   * a 200 MiB memory spike held for 100 ms between two samples shows in the 1m peak memory
//     (from the young cgroup's max_usage_in_bytes on v1, or memory.peak on v2), although no
//     sample saw it;
//   * a child that burns CPU for about 2 s after start and then idles reports a startup time of
//     about 2 s.
// Cgroups are created beneath the test's own cgroup only, and removed.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "collectors/parse.h"
#include "test_util/daemon_process.h"
#include "test_util/prom_text.h"
#include "test_util/scratch_cgroup.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

class IdlePeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
  }

  // Starts the daemon with `yaml` as its configuration and waits until it is ready.
  void StartDaemon(const std::string& yaml) {
    port_ = PickFreePort();
    tree_.Write("c.yml", "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port_) + "\"\n" + yaml);
    daemon_.emplace(WE_DAEMON_BINARY, std::vector<std::string>{"--config.file=" + tree_.Path("c.yml")});
    ASSERT_TRUE(WaitReady(port_, 10s)) << daemon_->Stderr();
  }

  TempTree tree_;
  uint16_t port_ = 0;
  std::optional<DaemonProcess> daemon_;
};

TEST_F(IdlePeakTest, ASpikeBetweenSamplesShowsInThePeakThroughTheKernelWatermark) {
  // The spike child is a fork of this binary: under ThreadSanitizer its 200 MiB drag their shadow
  // memory into the cgroup, which outlives the spike, so no sample could miss it.
  if (kUnderThreadSanitizer) GTEST_SKIP() << "the spike's premise does not hold under ThreadSanitizer";
  StartDaemon("sampling:\n  interval: 1s\n");
  const std::string id = RandomContainerId();
  std::optional<ScratchCgroup> cgroup;
  ASSERT_NO_THROW(cgroup.emplace("/sys/fs/cgroup", "docker-" + id + ".scope", std::vector<std::string>{"memory"}));
  const std::map<std::string, std::string> one_minute = {{"id", id}, {"window", "1m"}};

  SpikeChild child(200u << 20, 100);
  ASSERT_NO_THROW(cgroup->Add(child.pid()));
  ASSERT_TRUE(WaitFor(
      [&] {
        return FindValue(ScrapeMetrics(port_), "workload_memory_usage_bytes", {{"id", id}}).has_value();
      },
      5s))
      << daemon_->Stderr();

  // Release the spike just after a tick, so that it is over well before the next one.
  auto tick = [&] { return FindValue(ScrapeMetrics(port_), "workload_exporter_last_sample_timestamp_seconds"); };
  const auto before = tick();
  ASSERT_TRUE(WaitFor([&] { return tick() != before; }, 3s));
  child.Release();
  // Watch every snapshot until two more ticks have passed: none may have sampled the spike.
  double sampled_max = 0;
  const auto released_tick = tick();
  int ticks = 0;
  std::optional<double> last_tick = released_tick;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ticks < 2 && std::chrono::steady_clock::now() < deadline) {
    auto series = ScrapeMetrics(port_);
    if (auto usage = FindValue(series, "workload_memory_usage_bytes", {{"id", id}}))
      sampled_max = std::max(sampled_max, *usage);
    auto now_tick = FindValue(series, "workload_exporter_last_sample_timestamp_seconds");
    if (now_tick != last_tick) {
      ++ticks;
      last_tick = now_tick;
    }
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(ticks, 2);
  auto series = ScrapeMetrics(port_);
  const auto peak = FindValue(series, "workload_memory_peak_bytes", one_minute);
  ASSERT_TRUE(peak) << daemon_->Stderr();

  const std::optional<uint64_t> watermark = cgroup->ReadMemoryFigure("memory.max_usage_in_bytes", "memory.peak");
  ASSERT_TRUE(watermark);
  EXPECT_GE(*watermark, 200u << 20);
  EXPECT_NEAR(*peak, static_cast<double>(*watermark), static_cast<double>(*watermark) * 0.02);
  EXPECT_LT(sampled_max, 100.0 * (1 << 20)) << "a sample caught the spike; the watermark was not needed";
  RecordProperty("peak_1m_bytes", std::to_string(static_cast<uint64_t>(*peak)));
  RecordProperty("kernel_watermark_bytes", std::to_string(*watermark));
  RecordProperty("sampled_max_bytes", std::to_string(static_cast<uint64_t>(sampled_max)));
  const auto source = test_util::Find(series, "workload_exporter_peak_source_info");
  ASSERT_EQ(source.size(), 1u);
  EXPECT_NE(source[0].labels.at("source"), "sampled");

  child.Kill();
  cgroup->Destroy();
}

TEST_F(IdlePeakTest, StartupTimeOfAWorkloadThatBurnsTwoSecondsThenIdles) {
  StartDaemon(
      "sampling:\n  interval: 500ms\n"
      "idle_peak:\n  windows: [15s, 1m]\n  startup:\n    settle_for: 10s\n");
  const std::string id = RandomContainerId();
  std::optional<ScratchCgroup> cgroup;
  ASSERT_NO_THROW(cgroup.emplace("/sys/fs/cgroup", "docker-" + id + ".scope", std::vector<std::string>{"memory"}));
  const auto created = std::chrono::steady_clock::now();  // the workload's start: its cgroup's
  BurnerChild child(1u << 20, 2000);
  ASSERT_NO_THROW(cgroup->Add(child.pid()));
  child.Release();
  const auto released = std::chrono::steady_clock::now();

  // When the burn really ended, as the kernel counts the child's CPU time: 2 s of CPU take longer
  // than 2 s of wall time on a busy machine, and the startup must follow the burn, not the clock.
  std::atomic<bool> stop{false};
  std::atomic<double> burn_end{0};
  std::thread watcher([&] {
    // The burning thread's own times (the child's main thread): an instrumented build's child has
    // a sanitizer thread besides it whose CPU would move the burn's end.
    const std::string stat_path =
        "/proc/" + std::to_string(child.pid()) + "/task/" + std::to_string(child.pid()) + "/stat";
    uint64_t last = 0;
    while (!stop.load()) {
      std::string error;
      if (auto st = ParseProcPidStat(ReadFileOrEmpty(stat_path), &error)) {
        const uint64_t ticks = st->utime_ticks + st->stime_ticks;
        if (ticks != last) {
          last = ticks;
          burn_end = std::chrono::duration<double>(std::chrono::steady_clock::now() - created).count();
        }
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop, watcher};

  std::optional<double> startup;
  ASSERT_TRUE(WaitFor(
      [&] {
        startup = FindValue(ScrapeMetrics(port_), "workload_startup_seconds", {{"id", id}});
        return startup.has_value();
      },
      40s))
      << daemon_->Stderr();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - released).count();
  EXPECT_GE(burn_end.load(), 1.9);  // 2 s of CPU
  // The burn's end to within a sampling interval or two (0.5 s each) and a tick of CPU accounting.
  EXPECT_NEAR(*startup, burn_end.load(), 1.0);
  RecordProperty("burn_end_seconds", std::to_string(burn_end.load()));
  // Not before the shortest window has filled and the quiet run has lasted settle_for.
  EXPECT_GE(waited, 12.0);
  RecordProperty("startup_seconds", std::to_string(*startup));

  auto series = ScrapeMetrics(port_);
  const auto peak = FindValue(series, "workload_cpu_peak_cores", {{"id", id}, {"window", "1m"}});
  const auto idle = FindValue(series, "workload_cpu_idle_cores", {{"id", id}, {"window", "15s"}});
  ASSERT_TRUE(peak && idle);
  EXPECT_GT(*peak, 0.5);   // the burn
  EXPECT_LT(*idle, 0.05);  // the rest
  RecordProperty("cpu_peak_1m_cores", std::to_string(*peak));
  RecordProperty("cpu_idle_15s_cores", std::to_string(*idle));

  child.Kill();
  cgroup->Destroy();
}

}  // namespace
}  // namespace we
