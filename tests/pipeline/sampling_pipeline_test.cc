// SamplingPipeline's reuse of memory across ticks (sampler.h): a snapshot two ticks old that
// nobody holds lends its views to the new one, and what the reused views and samples carried
// never leaks into the new figures.
#include "pipeline/sampler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "test_util/temp_tree.h"

namespace we {
namespace {

using test_util::TempTree;

std::string Id(int i) {
  char id[65];
  std::snprintf(id, sizeof id, "%064x", i);
  return id;
}

std::string Dir(int i) { return "system.slice/docker-" + Id(i) + ".scope"; }

void WriteWorkload(const TempTree& t, int i, const std::string& cpu_stat) {
  t.Write(Dir(i) + "/cgroup.procs", "");
  t.Write(Dir(i) + "/cpu.stat", cpu_stat);
  t.Write(Dir(i) + "/memory.current", std::to_string(1000 * i) + "\n");
}

class SamplingPipelineReuse : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.Write("cgroup.controllers", "cpu memory\n");
    for (int i = 1; i <= 3; ++i) WriteWorkload(t_, i, "usage_usec 1000000\nuser_usec 1\nsystem_usec 1\nnr_periods 7\n");
    settings_.cgroupfs = t_.root();
    settings_.procfs = t_.Path("no-proc");
    settings_.rootfs = t_.Path("rootfs");
  }
  std::shared_ptr<Snapshot> Tick(SamplingPipeline& p) {
    ++tick_;
    return p.Tick(t0_ + std::chrono::seconds(tick_), wall0_ + std::chrono::seconds(tick_));
  }

  TempTree t_;
  RealFileSystem fs_;
  SamplerSettings settings_;
  int tick_ = 0;
  std::chrono::steady_clock::time_point t0_{};
  std::chrono::system_clock::time_point wall0_{std::chrono::seconds(1764300000)};
};

TEST_F(SamplingPipelineReuse, ASnapshotNobodyHoldsLendsItsViewsTwoTicksLater) {
  SamplingPipeline p(fs_, settings_);
  const WorkloadView* first_views = Tick(p)->workloads.data();  // released at once
  Tick(p);
  // Between ticks: workload 1's counters change and lose a key, workload 3 goes.
  t_.Overwrite(Dir(1) + "/cpu.stat", "usage_usec 3000000\nuser_usec 1\nsystem_usec 1\n");
  t_.Overwrite(Dir(1) + "/memory.current", "4242\n");
  t_.Remove(Dir(3));
  auto third = Tick(p);
  EXPECT_EQ(third->workloads.data(), first_views);  // the same memory, refilled
  ASSERT_EQ(third->workloads.size(), 2u);
  const Sample& one = third->workloads[0].sample;
  EXPECT_EQ(one.identity.id, Id(1));
  EXPECT_EQ(one.memory.usage_bytes, 4242u);
  EXPECT_DOUBLE_EQ(*one.cpu.usage_seconds, 3.0);
  EXPECT_FALSE(one.cpu.periods);  // gone from the file: gone from the reused sample too
  EXPECT_EQ(third->workloads[1].sample.identity.id, Id(2));
  EXPECT_EQ(third->workloads[1].sample.cpu.periods, 7u);
}

TEST_F(SamplingPipelineReuse, ASnapshotStillHeldIsNeverTouched) {
  SamplingPipeline p(fs_, settings_);
  auto held = Tick(p);  // a scrape still rendering it
  const std::set<std::string> ids = {Id(1), Id(2), Id(3)};
  for (int i = 0; i < 4; ++i) {
    t_.Overwrite(Dir(1) + "/memory.current", std::to_string(i) + "\n");
    auto next = Tick(p);
    EXPECT_NE(next->workloads.data(), held->workloads.data());
  }
  ASSERT_EQ(held->workloads.size(), 3u);
  std::set<std::string> held_ids;
  for (const auto& w : held->workloads) held_ids.insert(w.sample.identity.id);
  EXPECT_EQ(held_ids, ids);
  EXPECT_EQ(held->workloads[0].sample.memory.usage_bytes, 1000u);
}

}  // namespace
}  // namespace we
