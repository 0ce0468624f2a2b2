#include "pipeline/scrape_schedule.h"

namespace we {

void ScrapeSchedule::OnScrape(std::optional<Clock::time_point> next) {
  expected_.store(next ? next->time_since_epoch().count() : kNone, std::memory_order_relaxed);
}

bool ScrapeSchedule::ReadOnThisTick(Clock::time_point now, Clock::duration interval) {
  const int64_t t = now.time_since_epoch().count();
  const int64_t expected = expected_.load(std::memory_order_relaxed);
  bool read = true;  // no scrape expected, or the expected one is late
  if (expected != kNone && expected > t) {
    const bool near = expected <= t + interval.count() * 3 / 2;
    read = near && expected != read_for_;
    if (read) read_for_ = expected;
  }
  (read ? reads_ : skips_).fetch_add(1, std::memory_order_relaxed);
  return read;
}

}  // namespace we
