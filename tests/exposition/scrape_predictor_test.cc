#include "exposition/scrape_predictor.h"

#include <gtest/gtest.h>

#include <vector>

namespace we {
namespace {

using Clock = ScrapePredictor::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

// The ticks (one per second) at which a render is due, over [from, to).
std::vector<int64_t> DueTicks(const ScrapePredictor& p, Clock::time_point from, Clock::time_point to) {
  std::vector<int64_t> due;
  for (Clock::time_point t = from; t < to; t += seconds(1)) {
    if (p.Due(t, seconds(1))) due.push_back(std::chrono::duration_cast<milliseconds>(t - t0).count());
  }
  return due;
}

TEST(ScrapePredictor, NextIsOneGapAfterTheLastOnceTwoGapsAgree) {
  ScrapePredictor p;
  EXPECT_FALSE(p.Next());
  p.OnArrival(t0 + milliseconds(300));
  p.OnArrival(t0 + milliseconds(15'300));
  EXPECT_FALSE(p.Next());
  p.OnArrival(t0 + milliseconds(30'310));
  ASSERT_TRUE(p.Next());
  EXPECT_EQ(*p.Next(), t0 + milliseconds(45'320));
  p.OnArrival(t0 + milliseconds(33'000));  // someone with curl: no cadence
  EXPECT_FALSE(p.Next());
}

TEST(ScrapePredictor, NothingUntilTwoGapsAgree) {
  ScrapePredictor p;
  EXPECT_EQ(DueTicks(p, t0, t0 + seconds(60)), std::vector<int64_t>{});
  p.OnArrival(t0 + milliseconds(300));
  p.OnArrival(t0 + milliseconds(15'300));
  EXPECT_EQ(DueTicks(p, t0 + seconds(16), t0 + seconds(60)), std::vector<int64_t>{});
}

TEST(ScrapePredictor, PrometheusEvery15sIsDueAtTheTickBeforeEachScrape) {
  ScrapePredictor p;
  for (int i = 0; i < 3; ++i) p.OnArrival(t0 + milliseconds(300 + 15'000 * i));
  // Next scrape at 45.3 s: the tick at 45 s renders for it, and no other tick does.
  EXPECT_EQ(DueTicks(p, t0 + seconds(31), t0 + seconds(75)), std::vector<int64_t>{45'000});
  // It came 8 ms late: still a cadence, and the next is due at the tick at 60 s.
  p.OnArrival(t0 + milliseconds(45'308));
  EXPECT_EQ(DueTicks(p, t0 + seconds(46), t0 + seconds(75)), std::vector<int64_t>{60'000});
}

TEST(ScrapePredictor, NoCadenceNoPrediction) {
  ScrapePredictor p;
  // A person with curl, or two servers at different offsets: gaps of 2 s and 13 s.
  p.OnArrival(t0);
  p.OnArrival(t0 + seconds(2));
  p.OnArrival(t0 + seconds(15));
  EXPECT_EQ(DueTicks(p, t0 + seconds(15), t0 + seconds(60)), std::vector<int64_t>{});
  // A new cadence is picked up after two agreeing gaps.
  p.OnArrival(t0 + seconds(20));
  p.OnArrival(t0 + seconds(25));
  EXPECT_EQ(DueTicks(p, t0 + milliseconds(25'500), t0 + seconds(40)), std::vector<int64_t>{29'500});
}

}  // namespace
}  // namespace we
