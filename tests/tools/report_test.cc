// `workload_exporter report`: its figures are those of the snapshot /api/v1/workloads was built
// from (the fixture host: containers and one VM, a QEMU process joined with its libvirt cgroup).

#include "tools/report.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "exposition/workloads_json.h"
#include "test_util/fixture_snapshot.h"

namespace we {
namespace {

std::string Mib(double bytes) {
  char buf[32];
  const double v = bytes / (1 << 20);
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 1 ? "%.2f" : "%.3f", v);
  return buf;
}

TEST(Report, TheVmRowsAreTheSnapshotsFigures) {
  auto snap = test_util::FixtureSnapshot();
  std::string error;
  auto md = RenderReport(WorkloadsJson(*snap), "markdown", &error);
  ASSERT_TRUE(md) << error;
  EXPECT_NE(md->find("| Metric "), std::string::npos);
  // The one VM: its 1h idle and peak memory, in MiB as the report prints them.
  const WorkloadView* vm = nullptr;
  double container_idle_sum = 0;
  int containers = 0;
  for (const auto& v : snap->workloads) {
    if (v.sample.identity.kind == "vm") vm = &v;
    if (v.sample.identity.kind == "container" && v.windows[2].memory_idle_bytes) {
      container_idle_sum += *v.windows[2].memory_idle_bytes;
      ++containers;
    }
  }
  ASSERT_NE(vm, nullptr);
  const std::string vm_idle = Mib(*vm->windows[2].memory_idle_bytes);
  const std::string container_idle = Mib(container_idle_sum / containers);
  EXPECT_NE(md->find("| Idle memory (MiB) | " + vm_idle), std::string::npos) << *md;
  EXPECT_NE(md->find(container_idle), std::string::npos) << *md;
  EXPECT_NE(md->find("window 1h"), std::string::npos);

  auto json = RenderReport(WorkloadsJson(*snap), "json", &error);
  ASSERT_TRUE(json) << error;
  EXPECT_NE(json->find("\"window\":\"1h\""), std::string::npos);
  auto table = RenderReport(WorkloadsJson(*snap), "table", &error);
  ASSERT_TRUE(table);
  EXPECT_NE(table->find("Peak CPU (cores)"), std::string::npos);
}

TEST(Report, BadInputNamesTheProblem) {
  std::string error;
  EXPECT_FALSE(RenderReport("{\"workloads\":[", "table", &error));
  EXPECT_NE(error.find("line 1"), std::string::npos);
  EXPECT_FALSE(RenderReport("{}", "yaml", &error));
  EXPECT_EQ(error, "--format must be table, markdown or json, got \"yaml\"");
}

}  // namespace
}  // namespace we
