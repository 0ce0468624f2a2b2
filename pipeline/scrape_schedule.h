#pragma once
// ScrapeSchedule: what the exposition knows of the next scrape, told to the sampler, so that the
// figures only a scrape shows are read once per scrape, on the tick just before it, instead of
// every tick (CgroupCollector::set_scrape_figures_due). CPU usage, the working set and the memory
// peaks feed the idle/peak windows and are read every tick regardless.
//
// A tick reads the scrape's figures unless a scrape is expected (a steady cadence, as Prometheus
// keeps) and it is more than 1.5 intervals away, or a tick already read for it. So with steady
// scrapes they are read about once per scrape, on the tick before it (or the one before that), and
// the body rendered ahead of the scrape (MetricsRenderer::Prerender) holds them, at most 1.5
// intervals old. With no cadence (no scrapes yet, a person with curl, two servers at different
// offsets), or once an expected scrape is late, every tick reads, as without a schedule.
//
// Thread-safety: OnScrape from any thread (the renderer's); ReadOnThisTick from the sampler's
// thread only. Owned by the daemon; must outlive the sampler and the renderer that hold it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace we {

class ScrapeSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // A scrape of a new snapshot arrived; `next` is when the next one is expected (nullopt: the
  // scrapes keep no cadence, or not yet).
  void OnScrape(std::optional<Clock::time_point> next);

  // At the start of a tick at `now`, with the sampling `interval`: read the scrape's figures?
  // Counts the answer (reads(), skips()).
  bool ReadOnThisTick(Clock::time_point now, Clock::duration interval);

  uint64_t reads() const { return reads_.load(std::memory_order_relaxed); }
  uint64_t skips() const { return skips_.load(std::memory_order_relaxed); }

 private:
  static constexpr int64_t kNone = INT64_MIN;

  std::atomic<int64_t> expected_{kNone};  // the next expected scrape, in Clock ticks
  int64_t read_for_ = kNone;              // the sampler's: the expected scrape it last read for
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> skips_{0};
};

}  // namespace we
