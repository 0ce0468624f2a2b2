#include "daemon/descriptor_budget.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

namespace we {
namespace {

TEST(PlanDescriptors, HttpGetsHalfUpToItsCapAndTheCgroupFilesWhatTheReserveLeaves) {
  struct Case {
    uint64_t soft;
    std::size_t connections;
    uint64_t files;
  };
  const Case cases[] = {
      {20'000, 1024, 17'726},  // 20,000 - 1,024 - 1,250
      {8'192, 1024, 6'656},    // 8,192 - 1,024 - 512
      {1'024, 512, 256},       // 1,024 - 512 - 256
      {512, 256, 0},           // below the reserve: every cgroup file is read by path
      {20, 16, 0},             // the connection floor
  };
  for (const Case& c : cases) {
    const DescriptorPlan plan = PlanDescriptors(c.soft, 1024);
    EXPECT_EQ(plan.limit, c.soft);
    EXPECT_EQ(plan.http_connections, c.connections) << c.soft;
    EXPECT_EQ(plan.cgroup_files, c.files) << c.soft;
    EXPECT_LE(plan.http_connections + plan.cgroup_files, c.soft) << c.soft;
  }
}

TEST(PlanDescriptors, TheServersOwnCapBoundsTheConnections) {
  EXPECT_EQ(PlanDescriptors(100'000, 64).http_connections, 64u);
  EXPECT_EQ(PlanDescriptors(100'000, 64).cgroup_files, 100'000u - 64 - 6'250);
}

TEST(RaiseAndPlanDescriptors, RaisesTheSoftLimitToTheHardOneAndPlansForIt) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  const DescriptorPlan plan = RaiseAndPlanDescriptors(1024);
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  if (after.rlim_cur != RLIM_INFINITY) {
    EXPECT_EQ(plan.limit, after.rlim_cur);
    EXPECT_EQ(plan.cgroup_files, PlanDescriptors(after.rlim_cur, 1024).cgroup_files);
  }
}

}  // namespace
}  // namespace we
