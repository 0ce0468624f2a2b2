#pragma once
// /metrics' bodies: renders the newest Snapshot (exposition/text.h) at most once per snapshot and
// encoding. The text, or its gzip (compressed as it is written, so the text is never held whole),
// is cached until the sampler publishes the next snapshot, so scrapes between two ticks cost a
// pointer copy. Nothing here reads files.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <boost/asio/thread_pool.hpp>

#include "exposition/metrics_body.h"
#include "exposition/scrape_predictor.h"
#include "exposition/text.h"
#include "pipeline/scrape_schedule.h"
#include "pipeline/snapshot.h"

namespace we {

// Renders text (and gzip) for the newest snapshot, once per snapshot: on the first request for it,
// or ahead of it (Prerender) when scrapes keep a cadence that says one is about to come.
//
// The daemon calls the *Async methods: renders then run on the renderer's own thread, never on
// the caller's (the io_context's), and a scrape that arrives during a render waits for that
// render and is handed its body. The synchronous Current and Prerender render on the calling
// thread; tests call them directly.
//
// Ownership: a body handed out is the caller's until it lets go; when the last holder (a cache
// entry, a response) releases it, its buffer comes back to the renderer for the next render of
// that encoding, so no buffer is reused while a response may still be sending it. Only the
// encoding the latest render was for keeps its buffers: a render of the other encoding frees them,
// and a stale body of it in the cache, and hands the freed pages back to the kernel (malloc_trim),
// so that one plain-text request by hand (6 MB at 1,000 workloads) does not stay resident beside a
// Prometheus that always asks for gzip.
//
// Thread-safety: every method may be called from any thread. Renders are serialised; the
// *Async methods and Invalidate never wait for a render. The destructor waits for the render in
// progress and drops queued requests without calling them.
class MetricsRenderer {
 public:
  using Done = std::function<void(std::shared_ptr<const MetricsBody>)>;

  // `extra` collectables (the daemon's own Registry) are appended after the snapshot's families.
  MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                  std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});
  ~MetricsRenderer();
  MetricsRenderer(const MetricsRenderer&) = delete;
  MetricsRenderer& operator=(const MetricsRenderer&) = delete;

  // nullptr until the first snapshot is published. `gzip`: the client accepts gzip; the body then
  // holds only the gzip, else only the text. `now`: when the request arrived.
  std::shared_ptr<const MetricsBody> Current(bool gzip,
                                             ScrapePredictor::Clock::time_point now = ScrapePredictor::Clock::now());

  // Current without rendering on this thread: `done(body)` is called at once when the body of
  // the newest snapshot is cached, else on the renderer's thread after the render.
  void CurrentAsync(bool gzip, Done done);

  // Called after each tick: renders the newest snapshot now if a scrape is expected before the
  // next tick (ScrapePredictor), in the encoding the last scrape asked for, so that it finds the
  // body ready. `interval`: the sampling interval.
  void Prerender(ScrapePredictor::Clock::time_point now, ScrapePredictor::Clock::duration interval);
  // Prerender on the renderer's thread; returns at once.
  void PrerenderAsync(ScrapePredictor::Clock::duration interval);

  // Bodies rendered so far, and how many of them were rendered ahead by Prerender.
  uint64_t renders() const { return renders_.load(); }
  uint64_t prerenders() const { return prerenders_.load(); }
  // A render is running now (on any thread).
  bool rendering() const { return rendering_.load(); }

  // Drops the cache, e.g. after the daemon's own Registry changed.
  void Invalidate();
  // Bytes the renderer holds: its cached bodies and spare buffers (capacity). For tests.
  size_t held_bytes() const;

  // Told of every arrival with the next scrape expected, so that the sampler reads a scrape's
  // figures just before it (pipeline/scrape_schedule.h). Set before the first request; it must
  // outlive the renderer. Null (the default): nobody is told.
  void set_scrape_schedule(ScrapeSchedule* schedule) { schedule_ = schedule; }

 private:
  // One encoding's body and the snapshot it is of. The snapshot is held weakly, so that the
  // sampler may reuse it once newer ones are out; it is compared by owner only, never locked,
  // and the weak reference keeps the control block alive, so no newer snapshot can take its
  // address.
  struct Cache {
    std::weak_ptr<const Snapshot> of;
    std::shared_ptr<const MetricsBody> body;
    // A body of `snap` is ready.
    bool Holds(const std::shared_ptr<const Snapshot>& snap) const;
  };
  // Buffers of bodies nobody holds any more, one per encoding; shared with the bodies' deleters,
  // which may outlive the renderer.
  struct Spares {
    std::mutex mu;
    std::string text;
    std::string gzip;
    bool keep_text = true;  // false once a gzip render came after the last text one; and vice versa
    bool keep_gzip = true;
  };
  // Under mu_: the cached body of the newest snapshot, noting an arrival at `now`.
  std::shared_ptr<const MetricsBody> CachedLocked(const std::shared_ptr<const Snapshot>& snap, bool gzip,
                                                  ScrapePredictor::Clock::time_point now);
  // Holding render_mu_.
  std::shared_ptr<const MetricsBody> Render(std::shared_ptr<const Snapshot> snap, bool gzip, bool ahead);
  std::shared_ptr<const MetricsBody> HandOut(MetricsBody body, bool gzip);

  const SnapshotStore& store_;
  BuildInfo build_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  std::shared_ptr<Spares> spares_ = std::make_shared<Spares>();

  std::mutex render_mu_;   // held for a whole render: one at a time
  mutable std::mutex mu_;  // held briefly: everything below but the counters
  Cache text_;
  Cache gzip_;
  size_t last_text_size_ = 0;
  std::weak_ptr<const Snapshot> served_for_;  // of the last request: a new one is an arrival
  bool last_gzip_ = true;                     // what the last arrival asked for
  ScrapePredictor predictor_;
  ScrapeSchedule* schedule_ = nullptr;
  std::atomic<uint64_t> renders_{0};
  std::atomic<uint64_t> prerenders_{0};
  std::atomic<bool> rendering_{false};

  // Last: destroyed first, so that its thread stops before what it uses goes.
  std::unique_ptr<boost::asio::thread_pool> worker_;
};

}  // namespace we
