#pragma once
// When will the next scrape come? Prometheus scrapes a target at a fixed interval and a fixed
// offset, so a body rendered just before the next scrape is due serves it at the cost of a
// pointer copy, for the same render CPU as rendering on arrival (MetricsRenderer::Prerender).
//
// An arrival is a request for a snapshot no earlier request was served from (a second request for
// the same snapshot costs nothing anyway). Once the last two gaps between arrivals agree (within
// a tenth, or 20 ms for short gaps), the next arrival is expected one gap after the last, and a
// render is due at the last tick before it. Scrapes that keep no cadence (a person with curl, two
// Prometheus servers at different offsets) make it predict nothing: they are rendered on arrival,
// as before.
//
// Thread-safety: none; the renderer's thread owns it.

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

namespace we {

class ScrapePredictor {
 public:
  using Clock = std::chrono::steady_clock;

  void OnArrival(Clock::time_point t);

  // When the next arrival is expected: one gap after the last, once the last two gaps agree;
  // nullopt until then, or when they do not.
  std::optional<Clock::time_point> Next() const;

  // True when the next arrival is expected within (now, now + interval]: after this tick and
  // before the next one (`interval` is the sampling interval).
  bool Due(Clock::time_point now, Clock::duration interval) const;

 private:
  std::array<Clock::time_point, 3> arrivals_{};  // the last three, oldest first
  std::size_t count_ = 0;
};

}  // namespace we
