#include "exposition/scrape_predictor.h"

#include <algorithm>

namespace we {

void ScrapePredictor::OnArrival(Clock::time_point t) {
  arrivals_[0] = arrivals_[1];
  arrivals_[1] = arrivals_[2];
  arrivals_[2] = t;
  if (count_ < arrivals_.size()) ++count_;
}

std::optional<ScrapePredictor::Clock::time_point> ScrapePredictor::Next() const {
  if (count_ < arrivals_.size()) return std::nullopt;
  const Clock::duration before = arrivals_[1] - arrivals_[0];
  const Clock::duration last = arrivals_[2] - arrivals_[1];
  if (last <= Clock::duration::zero() || before <= Clock::duration::zero()) return std::nullopt;
  const Clock::duration tolerance = std::max<Clock::duration>(last / 10, std::chrono::milliseconds(20));
  if (last - before > tolerance || before - last > tolerance) return std::nullopt;
  return arrivals_[2] + last;
}

bool ScrapePredictor::Due(Clock::time_point now, Clock::duration interval) const {
  const std::optional<Clock::time_point> next = Next();
  return next && *next > now && *next <= now + interval;
}

}  // namespace we
