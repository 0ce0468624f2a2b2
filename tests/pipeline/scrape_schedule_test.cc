#include "pipeline/scrape_schedule.h"

#include <gtest/gtest.h>

#include <vector>

namespace we {
namespace {

using Clock = ScrapeSchedule::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);

// The ticks (one per second, as ms since t0) in [from, to) that read the scrape's figures.
std::vector<int64_t> ReadingTicks(ScrapeSchedule& s, int64_t from_s, int64_t to_s) {
  std::vector<int64_t> read;
  for (int64_t t = from_s; t < to_s; ++t) {
    if (s.ReadOnThisTick(t0 + seconds(t), seconds(1))) read.push_back(t * 1000);
  }
  return read;
}

TEST(ScrapeSchedule, WithoutAnExpectedScrapeEveryTickReads) {
  ScrapeSchedule s;
  EXPECT_EQ(ReadingTicks(s, 0, 5), (std::vector<int64_t>{0, 1000, 2000, 3000, 4000}));
  s.OnScrape(std::nullopt);  // a scrape at no cadence
  EXPECT_EQ(ReadingTicks(s, 5, 8), (std::vector<int64_t>{5000, 6000, 7000}));
  EXPECT_EQ(s.reads(), 8u);
  EXPECT_EQ(s.skips(), 0u);
}

TEST(ScrapeSchedule, SteadyScrapesAreReadForOnceEachOnATickJustBeforeThem) {
  ScrapeSchedule s;
  // Prometheus every 15 s at an offset of 0.3 s; the renderer tells of each arrival.
  s.OnScrape(t0 + milliseconds(15'300));
  EXPECT_EQ(ReadingTicks(s, 1, 15), (std::vector<int64_t>{14'000}));  // 1.3 s before the scrape
  EXPECT_EQ(ReadingTicks(s, 15, 16), std::vector<int64_t>{});         // already read for it
  s.OnScrape(t0 + milliseconds(30'300));
  EXPECT_EQ(ReadingTicks(s, 16, 30), (std::vector<int64_t>{29'000}));
  EXPECT_EQ(s.reads(), 2u);
  EXPECT_EQ(s.skips(), 27u);
}

TEST(ScrapeSchedule, AScrapeThatIsLateMakesEveryTickReadUntilItComes) {
  ScrapeSchedule s;
  s.OnScrape(t0 + milliseconds(10'500));
  EXPECT_EQ(ReadingTicks(s, 5, 13), (std::vector<int64_t>{9'000, 11'000, 12'000}));
  // It came at last, and keeps a 10 s cadence from there.
  s.OnScrape(t0 + milliseconds(22'900));
  EXPECT_EQ(ReadingTicks(s, 13, 23), (std::vector<int64_t>{22'000}));
}

TEST(ScrapeSchedule, AtAOneSecondScrapeIntervalEveryTickStillReads) {
  ScrapeSchedule s;
  std::vector<int64_t> read;
  for (int64_t t = 0; t < 5; ++t) {
    s.OnScrape(t0 + milliseconds(t * 1000 + 1'400));  // each scrape 0.4 s after a tick
    if (s.ReadOnThisTick(t0 + seconds(t + 1), seconds(1))) read.push_back(t + 1);
  }
  EXPECT_EQ(read, (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace we
