// The real daemon binary against this machine's real cgroups. A docker-<64 hex>.scope cgroup is
// created beneath the test's own cgroup in the cgroup2 tree and the v1 memory tree (hybrid hosts;
// on a pure v2 host only the former), a child that burns CPU and touches memory is moved in, and
// the daemon's /metrics must report it, agree with the kernel's own files, and drop it once the
// cgroup is gone.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iterator>

#include <gtest/gtest.h>

#include "collectors/cgroup_collector.h"
#include "collectors/parse.h"
#include "test_util/daemon_process.h"
#include "test_util/forwarding_file_system.h"
#include "test_util/prom_text.h"
#include "test_util/scratch_cgroup.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

constexpr auto kInterval = 500ms;

class RealCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
  }
};

TEST_F(RealCgroupTest, ContainerFoundMeasuredAndDroppedWhenRemoved) {
  const std::string id = RandomContainerId();
  const std::string scope = "docker-" + id + ".scope";
  std::optional<ScratchCgroup> cgroup;
  ASSERT_NO_THROW(cgroup.emplace("/sys/fs/cgroup", scope, std::vector<std::string>{"memory"}));
  BurnerChild child(96u << 20, 1200);  // 96 MiB touched, 1.2 s of CPU, then idle
  ASSERT_NO_THROW(cgroup->Add(child.pid()));
  child.Release();

  const uint16_t port = PickFreePort();
  DaemonProcess daemon(WE_DAEMON_BINARY, {"--web.listen-address=127.0.0.1:" + std::to_string(port),
                                          "--sampling.interval=500ms", "--log.level=debug"});
  ASSERT_TRUE(WaitReady(port, 10s)) << daemon.Stderr();

  const std::map<std::string, std::string> labels = {
      {"kind", "container"}, {"runtime", "docker"}, {"id", id}, {"name", id.substr(0, 12)}};

  // Let the burn finish so the kernel's counters stand still, then give the daemon two ticks.
  std::this_thread::sleep_for(1500ms + 2 * kInterval);
  auto series = ScrapeMetrics(port);
  ASSERT_FALSE(series.empty()) << daemon.Stderr();

  auto info = Find(series, "workload_info", labels);
  ASSERT_EQ(info.size(), 1u) << "container not found; daemon log:\n" << daemon.Stderr();
  if (cgroup->unified_rel()) {
    EXPECT_EQ(info[0].labels["cgroup"], *cgroup->unified_rel());
  }

  // CPU seconds agree with the kernel's cpu.stat (cgroup2) or cpuacct within 2%.
  auto user = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "user"}});
  auto system = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "system"}});
  ASSERT_TRUE(user && system);
  if (cgroup->unified_dir()) {
    std::string error;
    auto stat = ParseFlatKeyed(ReadFileOrEmpty(*cgroup->unified_dir() + "/cpu.stat"), &error);
    ASSERT_TRUE(stat) << error;
    double kernel = static_cast<double>(*stat->Get("usage_usec")) / 1e6;
    EXPECT_GT(kernel, 0.8) << "the child should have burned about 1.2 s";
    EXPECT_NEAR(*user + *system, kernel, kernel * 0.02);
    RecordProperty("cpu_seconds_exported", std::to_string(*user + *system));
    RecordProperty("cpu_seconds_kernel", std::to_string(kernel));
  }

  // Memory usage agrees with the v1 memory.usage_in_bytes (hybrid) or memory.current (v2).
  auto usage = FindValue(series, "workload_memory_usage_bytes", {{"id", id}});
  ASSERT_TRUE(usage);
  const std::optional<uint64_t> kernel_usage = cgroup->ReadMemoryFigure("memory.usage_in_bytes", "memory.current");
  ASSERT_TRUE(kernel_usage);
  EXPECT_GT(*kernel_usage, 90u << 20);
  EXPECT_NEAR(*usage, static_cast<double>(*kernel_usage), static_cast<double>(*kernel_usage) * 0.02);
  RecordProperty("memory_bytes_exported", std::to_string(static_cast<uint64_t>(*usage)));
  RecordProperty("memory_bytes_kernel", std::to_string(*kernel_usage));
  auto working_set = FindValue(series, "workload_memory_working_set_bytes", {{"id", id}});
  ASSERT_TRUE(working_set);
  EXPECT_LE(*working_set, *usage);
  EXPECT_GT(*working_set, 90u << 20);  // anonymous memory is never inactive file
  auto peak = FindValue(series, "workload_memory_max_usage_bytes", {{"id", id}});
  if (peak) {
    EXPECT_GE(*peak, *usage);
  }

  // The burner shares the host's network namespace: that traffic is the host's, not the
  // container's (known by /proc/PID/net/dev's inode, which even this sandbox's root can stat
  // where readlink(/proc/1/ns/net) is refused).
  EXPECT_FALSE(FindValue(series, "workload_network_receive_bytes_total", {{"id", id}}));

  // One process; its threads as the kernel counts them (an instrumented build's child has a
  // sanitizer thread besides its own).
  auto tasks = FindValue(series, "workload_tasks", {{"id", id}});
  ASSERT_TRUE(tasks);
  const std::filesystem::path task_dir = "/proc/" + std::to_string(child.pid()) + "/task";
  const auto threads =
      std::distance(std::filesystem::directory_iterator(task_dir), std::filesystem::directory_iterator());
  EXPECT_EQ(*tasks, static_cast<double>(threads));
  EXPECT_TRUE(FindValue(series, "workload_start_time_seconds", {{"id", id}}));
  EXPECT_TRUE(FindValue(series, "workload_cpu_usage_cores", {{"id", id}}));
  EXPECT_EQ(FindValue(series, "workload_exporter_collector_success", {{"collector", "cgroup"}}), 1.0);
  EXPECT_GE(*FindValue(series, "workload_exporter_workloads", {{"kind", "container"}}), 1.0);
  EXPECT_TRUE(FindValue(series, "process_resident_memory_bytes"));

  // Remove the container: its series are gone within two sampling intervals.
  child.Kill();
  cgroup->Destroy();
  auto removed_at = std::chrono::steady_clock::now();
  bool gone = WaitFor(
      [&] {
        auto s = ScrapeMetrics(port);
        return !s.empty() && Find(s, "workload_info", {{"id", id}}).empty() &&
               Find(s, "workload_memory_usage_bytes", {{"id", id}}).empty();
      },
      2 * kInterval + 400ms);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - removed_at);
  EXPECT_TRUE(gone) << "series still present " << took.count() << " ms after removal";
  RecordProperty("series_gone_after_ms", std::to_string(took.count()));

  daemon.Signal(SIGTERM);
  auto status = daemon.Wait(2s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << daemon.Stderr();
}

// Counts the stats of the given directories; everything else, descriptors included, is the real
// file system's.
class StatCounter final : public ForwardingFileSystem {
 public:
  explicit StatCounter(const FileSystem& inner) : ForwardingFileSystem(inner) {}
  std::optional<FileStat> Stat(const std::string& p) const override {
    if (std::find(dirs.begin(), dirs.end(), p) != dirs.end()) ++stats;
    return inner().Stat(p);
  }
  std::unique_ptr<OpenFile> Open(const std::string& p, bool keep, ReadResult* failure) const override {
    return inner().Open(p, keep, failure);
  }
  bool KeptReadsProveLiveness(const std::string& p) const override { return inner().KeptReadsProveLiveness(p); }
  std::vector<std::string> dirs;
  mutable int stats = 0;
};

// On cgroupfs a read of cgroup2 cpu.stat through its kept descriptor vouches for the instance, so
// the collector stats a workload's directories only every few ticks; a cgroup removed and made
// again under the same name between two ticks is still a new instance on the very next tick (the
// kept descriptor of the old one fails with ENODEV).
TEST_F(RealCgroupTest, AKeptReadVouchesForTheInstanceAndARecreatedCgroupIsNewAtOnce) {
  RealFileSystem real;
  const std::string id = RandomContainerId();
  const std::string scope = "docker-" + id + ".scope";
  std::optional<ScratchCgroup> cgroup;
  ASSERT_NO_THROW(cgroup.emplace("/sys/fs/cgroup", scope, std::vector<std::string>{"memory"}));
  if (!cgroup->unified_dir() || !real.KeptReadsProveLiveness(*cgroup->unified_dir())) {
    GTEST_SKIP() << "no cgroup2 tree on cgroupfs here";
  }
  StatCounter fs(real);
  fs.dirs.push_back(*cgroup->unified_dir());
  if (auto memory = cgroup->v1_dir("memory")) fs.dirs.push_back(*memory);
  CgroupCollector collector(fs, "/sys/fs/cgroup");
  collector.set_descriptor_budget(100'000);
  auto instance_of = [&](const CollectResult& r) -> std::optional<uint64_t> {
    for (const Sample& s : r.samples) {
      if (s.identity.id == id) return s.instance;
    }
    return std::nullopt;
  };
  const std::optional<uint64_t> first = instance_of(collector.Collect());
  ASSERT_TRUE(first.has_value());
  const int before = fs.stats;
  constexpr int kTicks = 20;
  for (int i = 0; i < kTicks; ++i) EXPECT_EQ(instance_of(collector.Collect()), first) << "tick " << i;
  RecordProperty("workload_dir_stats", fs.stats - before);       // 4 here, against 40 with a stat every tick
  const int per_tick_before = static_cast<int>(fs.dirs.size());  // one stat per directory per tick
  EXPECT_LE(fs.stats - before, per_tick_before * (kTicks / 10 + 1))
      << "stats of the workload's directories in " << kTicks << " ticks";

  cgroup->Destroy();
  cgroup.reset();
  ASSERT_NO_THROW(cgroup.emplace("/sys/fs/cgroup", scope, std::vector<std::string>{"memory"}));
  const std::optional<uint64_t> second = instance_of(collector.Collect());
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, *first);
  EXPECT_EQ(instance_of(collector.Collect()), second);
}

}  // namespace
}  // namespace we
