#include "daemon/normaliser.h"

#include <gtest/gtest.h>

namespace we {
namespace {

using Clock = Normaliser::Clock;
using std::chrono::milliseconds;

Sample Make(const std::string& id, uint64_t instance, std::optional<double> cpu) {
  Sample s;
  s.identity = {"container", "docker", id, id.substr(0, 3), ""};
  s.instance = instance;
  s.cpu.usage_seconds = cpu;
  return s;
}

TEST(Normaliser, RateNeedsTwoSamplesOfTheSameInstance) {
  Normaliser n;
  Clock::time_point t0{};
  auto v = n.Update({Make("aaaa", 1, 10.0)}, t0);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].cpu_usage_cores);  // first sight: no rate yet

  v = n.Update({Make("aaaa", 1, 10.5)}, t0 + milliseconds(1000));
  ASSERT_TRUE(v[0].cpu_usage_cores);
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 0.5);

  v = n.Update({Make("aaaa", 1, 12.5)}, t0 + milliseconds(2000));
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 2.0);

  // Uneven intervals divide by the real elapsed time.
  v = n.Update({Make("aaaa", 1, 13.0)}, t0 + milliseconds(4000));
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 0.25);
}

TEST(Normaliser, RecreatedWorkloadNeverYieldsANegativeOrDoubledRate) {
  Normaliser n;
  Clock::time_point t0{};
  n.Update({Make("aaaa", 1, 100.0)}, t0);
  // Same id, new cgroup instance, counter restarted from a small value.
  auto v = n.Update({Make("aaaa", 2, 0.3)}, t0 + milliseconds(1000));
  EXPECT_FALSE(v[0].cpu_usage_cores);
  // Same id, new instance, counter happens to be larger: still no rate across instances.
  n.Update({Make("bbbb", 1, 1.0)}, t0 + milliseconds(2000));
  v = n.Update({Make("bbbb", 3, 50.0)}, t0 + milliseconds(3000));
  EXPECT_FALSE(v[0].cpu_usage_cores);
  // From then on, rates resume within the new instance.
  v = n.Update({Make("bbbb", 3, 50.5)}, t0 + milliseconds(4000));
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 0.5);
}

TEST(Normaliser, CounterGoingBackwardsYieldsNoRate) {
  Normaliser n;
  Clock::time_point t0{};
  n.Update({Make("aaaa", 1, 5.0)}, t0);
  auto v = n.Update({Make("aaaa", 1, 4.0)}, t0 + milliseconds(1000));
  EXPECT_FALSE(v[0].cpu_usage_cores);
  v = n.Update({Make("aaaa", 1, 4.5)}, t0 + milliseconds(2000));
  EXPECT_DOUBLE_EQ(*v[0].cpu_usage_cores, 0.5);
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

}  // namespace
}  // namespace we
