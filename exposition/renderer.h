#pragma once
// /metrics' bodies: renders the newest Snapshot (exposition/text.h) at most once per snapshot and
// encoding. The text, or its gzip (compressed as it is written, so the text is never held whole),
// is cached until the sampler publishes the next snapshot, so scrapes between two ticks cost a
// pointer copy. Nothing here reads files.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "exposition/metrics_body.h"
#include "exposition/scrape_predictor.h"
#include "exposition/text.h"
#include "pipeline/snapshot.h"

namespace we {

// Renders text (and gzip) for the newest snapshot, once per snapshot: on the first request for it,
// or ahead of it (Prerender) when scrapes keep a cadence that says one is about to come.
// Thread-safety: call from one thread (the io_context's).
class MetricsRenderer {
 public:
  // `extra` collectables (the daemon's own Registry) are appended after the snapshot's families.
  MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                  std::vector<std::shared_ptr<prometheus::Collectable>> extra = {});

  // nullptr until the first snapshot is published. `gzip`: the client accepts gzip; the body then
  // holds only the gzip, else only the text. `now`: when the request arrived.
  std::shared_ptr<const MetricsBody> Current(bool gzip,
                                             ScrapePredictor::Clock::time_point now = ScrapePredictor::Clock::now());

  // Called after each tick: renders the newest snapshot now if a scrape is expected before the
  // next tick (ScrapePredictor), in the encoding the last scrape asked for, so that it finds the
  // body ready. `interval`: the sampling interval.
  void Prerender(ScrapePredictor::Clock::time_point now, ScrapePredictor::Clock::duration interval);

  // Bodies rendered so far, and how many of them were rendered ahead by Prerender.
  uint64_t renders() const { return renders_; }
  uint64_t prerenders() const { return prerenders_; }

  // Drops the cache, e.g. after the daemon's own Registry changed.
  void Invalidate() {
    text_ = {};
    gzip_ = {};
  }

 private:
  // One encoding's body and the snapshot it is of. The snapshot is held weakly, so that the
  // sampler may reuse it once newer ones are out (SamplingPipeline::Tick); it is compared by owner
  // only, never locked, and the weak reference keeps the control block alive, so no newer
  // snapshot can take its address.
  struct Cache {
    std::weak_ptr<const Snapshot> of;
    std::shared_ptr<MetricsBody> body;  // handed out as const; mutable here to reuse its buffer
    // A body of `snap` is ready.
    bool Holds(const std::shared_ptr<const Snapshot>& snap) const;
  };
  void Render(std::shared_ptr<const Snapshot> snap, bool gzip, bool ahead);

  const SnapshotStore& store_;
  BuildInfo build_;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  Cache text_;
  Cache gzip_;
  size_t last_text_size_ = 0;
  std::weak_ptr<const Snapshot> served_for_;  // of the last request: a new one is an arrival
  bool last_gzip_ = true;                     // what the last arrival asked for
  ScrapePredictor predictor_;
  uint64_t renders_ = 0;
  uint64_t prerenders_ = 0;
};

}  // namespace we
