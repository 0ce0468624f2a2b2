#include "exposition/scrape_predictor.h"

#include <algorithm>

namespace we {

void ScrapePredictor::OnArrival(Clock::time_point t) {
  arrivals_[0] = arrivals_[1];
  arrivals_[1] = arrivals_[2];
  arrivals_[2] = t;
  if (count_ < arrivals_.size()) ++count_;
}

bool ScrapePredictor::Due(Clock::time_point now, Clock::duration interval) const {
  if (count_ < arrivals_.size()) return false;
  const Clock::duration before = arrivals_[1] - arrivals_[0];
  const Clock::duration last = arrivals_[2] - arrivals_[1];
  if (last <= Clock::duration::zero() || before <= Clock::duration::zero()) return false;
  const Clock::duration tolerance = std::max<Clock::duration>(last / 10, std::chrono::milliseconds(20));
  if (last - before > tolerance || before - last > tolerance) return false;
  const Clock::time_point next = arrivals_[2] + last;
  return next > now && next <= now + interval;
}

}  // namespace we
