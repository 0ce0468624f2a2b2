// Sizing (tools/report_sizing.h) against values worked out by hand here, and as the report
// shows it: from a window that has the CPU percentiles (as a document built from Prometheus
// has), and from a live daemon's window, which has none and says so.

#include "tools/report_sizing.h"

#include <gtest/gtest.h>

#include "collectors/json.h"
#include "tools/report_model.h"

namespace we {
namespace {

namespace bj = json::bj;
constexpr double kMiB = 1 << 20;

TEST(NearestRankQuantile, IsTheValueOfRankCeilQN) {
  // Ten daily peaks 1..10 out of order: rank ceil(0.9 * 10) = 9, the value 9.
  EXPECT_EQ(NearestRankQuantile({5, 1, 4, 2, 3, 9, 8, 7, 6, 10}, 0.9), 9);
  // Three days: rank ceil(2.7) = 3, the highest; one day: that day.
  EXPECT_EQ(NearestRankQuantile({300, 100, 200}, 0.9), 300);
  EXPECT_EQ(NearestRankQuantile({42}, 0.9), 42);
  // q = 0 is the lowest (rank at least 1); none is absent.
  EXPECT_EQ(NearestRankQuantile({3, 2, 7}, 0), 2);
  EXPECT_FALSE(NearestRankQuantile({}, 0.9));
}

TEST(Vpa, TargetIsThePercentilePlus15PercentWithItsFloors) {
  // 0.2 cores * 1.15 = 0.23; 0.01 * 1.15 = 0.0115 is under the 25 mCPU floor.
  EXPECT_NEAR(*VpaCpuRequest(0.2), 0.23, 1e-12);
  EXPECT_EQ(*VpaCpuRequest(0.01), 0.025);
  EXPECT_EQ(*VpaCpuRequest(0), 0.025);
  // 512 MiB * 1.15 = 588.8 MiB; 220 MiB * 1.15 = 253 MiB, just over the floor; 100 MiB -> 250 MiB.
  EXPECT_NEAR(*VpaMemoryRequest(512 * kMiB) / kMiB, 588.8, 1e-9);
  EXPECT_NEAR(*VpaMemoryRequest(220 * kMiB) / kMiB, 253.0, 1e-9);
  EXPECT_EQ(*VpaMemoryRequest(100 * kMiB), 250 * kMiB);
  EXPECT_FALSE(VpaCpuRequest(std::nullopt));
  EXPECT_FALSE(VpaMemoryRequest(std::nullopt));
}

TEST(Krr, CpuIsTheP95MemoryTheMaxPlus15PercentFrom100Points) {
  EXPECT_EQ(*KrrCpuRequest(0.37, 100), 0.37);
  EXPECT_FALSE(KrrCpuRequest(0.37, 99));  // points_required = 100
  EXPECT_FALSE(KrrCpuRequest(0.37, std::nullopt));
  // 1000 MiB * 1.15 = 1150 MiB, request and limit alike.
  EXPECT_NEAR(*KrrMemory(1000 * kMiB, 3600) / kMiB, 1150.0, 1e-9);
  EXPECT_FALSE(KrrMemory(1000 * kMiB, 10));
}

// A document of one window "24h" per workload, as report_prometheus.h builds them, and one of
// the daemon's "1h" window.
bj::object Workload(const char* kind, const char* name, bj::object window, const char* label) {
  return {{"kind", kind},
          {"runtime", "docker"},
          {"id", std::string(name) + "-id"},
          {"name", name},
          {"cpu_usage_cores", 0.1},
          {"memory_working_set_bytes", 100 * kMiB},
          {"windows", bj::object{{label, std::move(window)}}},
          {"labels", bj::object{}}};
}

TEST(ReportSizing, FromAWindowWithPercentilesAndDailyPeaks) {
  // vm: p90 0.4 cores -> VPA 0.46; p95 0.5 -> krr 0.5; daily peaks' p90 1000 MiB -> VPA 1150 MiB;
  //     peak 1200 MiB -> krr 1380 MiB.
  // ctr: p90 0.01 -> VPA's floor 0.025; 100 MiB daily -> VPA's floor 250 MiB; 50 points: no krr.
  bj::array w;
  w.emplace_back(Workload("vm", "v",
                          {{"samples", 5760},
                           {"cpu_idle_cores", 0.05},
                           {"cpu_peak_cores", 1.5},
                           {"memory_idle_bytes", 900 * kMiB},
                           {"memory_peak_bytes", 1200 * kMiB},
                           {"cpu_p90_cores", 0.4},
                           {"cpu_p95_cores", 0.5},
                           {"memory_daily_peak_p90_bytes", 1000 * kMiB}},
                          "2d"));
  w.emplace_back(Workload("container", "c",
                          {{"samples", 50},
                           {"cpu_idle_cores", 0.0},
                           {"cpu_peak_cores", 0.02},
                           {"memory_idle_bytes", 90 * kMiB},
                           {"memory_peak_bytes", 100 * kMiB},
                           {"cpu_p90_cores", 0.01},
                           {"cpu_p95_cores", 0.012},
                           {"memory_daily_peak_p90_bytes", 100 * kMiB}},
                          "2d"));
  const std::string doc = json::Serialize(bj::object{{"time", 1000}, {"windows", bj::array{"2d"}}, {"workloads", w}});
  std::string error;
  auto m = BuildReportModel(doc, {}, {}, &error);
  ASSERT_TRUE(m) << error;
  ASSERT_EQ(m->workloads.size(), 2u);
  const auto& vm = m->workloads[0].figures;
  EXPECT_NEAR(*vm[8], 0.46, 1e-12);
  EXPECT_NEAR(*vm[9], 1150, 1e-9);
  EXPECT_EQ(*vm[10], 0.5);
  EXPECT_NEAR(*vm[11], 1380, 1e-9);
  const auto& ctr = m->workloads[1];
  EXPECT_EQ(*ctr.figures[8], 0.025);
  EXPECT_EQ(*ctr.figures[9], 250);
  EXPECT_FALSE(ctr.figures[10]);
  EXPECT_EQ(ctr.missing[10], "krr needs 100 data points, the window holds 50");
  EXPECT_EQ(ctr.missing[11], "krr needs 100 data points, the window holds 50");
  // The group's cells are means like the others', and the difference (container - VM) / VM:
  // VPA memory (250 - 1150) / 1150.
  ASSERT_EQ(m->groups.size(), 1u);
  EXPECT_NEAR(*m->groups[0].Difference(9), (250.0 - 1150) / 1150, 1e-12);
}

// A live daemon's document: one container "c" with the 1h window `extra` adds to (its CPU
// percentiles, or none), at rest at 300 MiB with a 400 MiB peak over 3600 samples.
WorkloadLine LiveContainer(bj::object extra) {
  bj::object window{{"samples", 3600},
                    {"cpu_idle_cores", 0.01},
                    {"cpu_peak_cores", 0.9},
                    {"memory_idle_bytes", 300 * kMiB},
                    {"memory_peak_bytes", 400 * kMiB}};
  for (const auto& kv : extra) window[kv.key()] = kv.value();
  bj::array w;
  w.emplace_back(Workload("container", "c", std::move(window), "1h"));
  const std::string doc = json::Serialize(bj::object{{"time", 1000}, {"windows", bj::array{"1h"}}, {"workloads", w}});
  std::string error;
  auto m = BuildReportModel(doc, {}, {}, &error);
  EXPECT_TRUE(m && m->workloads.size() == 1) << error;
  return m && !m->workloads.empty() ? m->workloads[0] : WorkloadLine{};
}

TEST(ReportSizing, FromALiveDaemonsWindow) {
  // The daemon's 1h window: its CPU p90 and p95 (0.5 -> VPA 0.575; 0.7 -> krr 0.7) and one daily
  // peak, its peak (400 MiB -> VPA 460 MiB, krr 460 MiB).
  const WorkloadLine c = LiveContainer({{"cpu_p90_cores", 0.5}, {"cpu_p95_cores", 0.7}});
  ASSERT_EQ(c.figures.size(), kFigureCount);
  EXPECT_NEAR(*c.figures[8], 0.575, 1e-12);
  EXPECT_NEAR(*c.figures[9], 460, 1e-9);
  EXPECT_NEAR(*c.figures[10], 0.7, 1e-12);
  EXPECT_NEAR(*c.figures[11], 460, 1e-9);
}

TEST(ReportSizing, FromADaemonWithoutPercentilesMemoryOnlyAndWhy) {
  const WorkloadLine c = LiveContainer({});
  ASSERT_EQ(c.figures.size(), kFigureCount);
  EXPECT_NEAR(*c.figures[9], 460, 1e-9);
  EXPECT_FALSE(c.figures[8]);
  EXPECT_FALSE(c.figures[10]);
  EXPECT_NE(c.missing[8].find("no p90 of per-interval CPU"), std::string::npos) << c.missing[8];
  EXPECT_NE(c.missing[10].find("no p95 of per-interval CPU"), std::string::npos) << c.missing[10];
}

}  // namespace
}  // namespace we
