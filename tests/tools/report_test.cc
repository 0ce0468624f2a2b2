// `workload_exporter report`: its figures are those of the snapshot /api/v1/workloads was built
// from (the fixture host: containers and one VM), and its JSON output parses whatever the names
// hold.

#include "tools/report.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "collectors/json.h"
#include "exposition/workloads_json.h"
#include "test_util/fixture_snapshot.h"

namespace we {
namespace {

namespace bj = json::bj;

std::string Mib(double bytes) {
  char buf[32];
  const double v = bytes / (1 << 20);
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 1 ? "%.2f" : "%.3f", v);
  return buf;
}

bj::value ParseOrDie(const std::string& text) {
  std::string error;
  auto doc = json::Parse(text, &error);
  EXPECT_TRUE(doc) << error << "\n" << text;
  return doc ? std::move(*doc) : bj::value();
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
  auto table = RenderReport(WorkloadsJson(*snap), "table", &error);
  ASSERT_TRUE(table);
  EXPECT_NE(table->find("Peak CPU (cores)"), std::string::npos);

  // --format json, read back: the same figures as numbers.
  auto text = RenderReport(WorkloadsJson(*snap), "json", &error);
  ASSERT_TRUE(text) << error;
  const bj::value doc = ParseOrDie(*text);
  EXPECT_EQ(doc.at("window"), "1h");
  const bj::value& idle = doc.at("kinds").at("memory_idle_bytes");
  ASSERT_TRUE(json::Number(&idle.at("vm")));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("vm")), *vm->windows[2].memory_idle_bytes / (1 << 20));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("container")), container_idle_sum / containers / (1 << 20));
  const bj::array& workloads = doc.at("workloads").as_array();
  ASSERT_EQ(workloads.size(), snap->workloads.size());
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    EXPECT_EQ(workloads[i].at("name"), bj::value(snap->workloads[i].sample.identity.name));
    EXPECT_EQ(workloads[i].at("kind"), bj::value(snap->workloads[i].sample.identity.kind));
    const auto peak = snap->workloads[i].windows[2].cpu_peak_cores;
    EXPECT_EQ(json::Number(&workloads[i].at("cpu_peak_cores")), peak);
  }
}

TEST(Report, ANameWithQuotesAndBackslashesStaysJson) {
  auto snap = test_util::FixtureSnapshot();
  const std::string odd = R"(say "hi" \n C:\dir)";
  snap->workloads[0].sample.identity.name = odd;
  std::string error;
  auto text = RenderReport(WorkloadsJson(*snap), "json", &error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(ParseOrDie(*text).at("workloads").at(0).at("name"), bj::value(odd));
}

TEST(Report, FiguresThatAreNotNumbersAreAbsent) {
  // The report once read every value as text; now a string where a number belongs is no figure.
  const std::string doc = R"({"windows":["1m"],"workloads":[{"kind":"vm","name":"v",
      "startup_seconds":"12","windows":{"1m":{"memory_idle_bytes":1048576,"cpu_peak_cores":0.5}}}]})";
  std::string error;
  auto text = RenderReport(doc, "json", &error);
  ASSERT_TRUE(text) << error;
  const bj::value out = ParseOrDie(*text);
  const bj::value& w = out.at("workloads").at(0);
  EXPECT_TRUE(w.at("startup_seconds").is_null());
  EXPECT_EQ(json::Number(&w.at("memory_idle_bytes")), 1.0);
  EXPECT_EQ(json::Number(&w.at("cpu_peak_cores")), 0.5);
  EXPECT_TRUE(out.at("kinds").at("cpu_peak_cores").at("container").is_null());
}

TEST(Report, BadInputNamesTheProblem) {
  std::string error;
  EXPECT_FALSE(RenderReport("{\"workloads\":[", "table", &error));
  EXPECT_EQ(error, "cannot read the daemon's answer: line 1, column 15: incomplete JSON");
  EXPECT_FALSE(RenderReport("{}", "yaml", &error));
  EXPECT_EQ(error, "--format must be table, markdown or json, got \"yaml\"");
}

}  // namespace
}  // namespace we
