#include "exposition/renderer.h"

#include "exposition/gzip.h"

namespace we {

MetricsRenderer::MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                                 std::vector<std::shared_ptr<prometheus::Collectable>> extra)
    : store_(store), build_(std::move(build)), extra_(std::move(extra)) {}

namespace {

bool SameSnapshot(const std::weak_ptr<const Snapshot>& a, const std::shared_ptr<const Snapshot>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

}  // namespace

bool MetricsRenderer::Cache::Holds(const std::shared_ptr<const Snapshot>& snap) const {
  return body && SameSnapshot(of, snap);
}

std::shared_ptr<const MetricsBody> MetricsRenderer::Current(bool gzip, ScrapePredictor::Clock::time_point now) {
  auto snap = store_.Get();
  if (!snap) return nullptr;
  if (!SameSnapshot(served_for_, snap)) {
    predictor_.OnArrival(now);
    served_for_ = snap;
    last_gzip_ = gzip;
  }
  Cache& cache = gzip ? gzip_ : text_;
  if (!cache.Holds(snap)) Render(std::move(snap), gzip, /*ahead=*/false);
  return cache.body;
}

void MetricsRenderer::Prerender(ScrapePredictor::Clock::time_point now, ScrapePredictor::Clock::duration interval) {
  if (!predictor_.Due(now, interval)) return;
  auto snap = store_.Get();
  // In the encoding the last scrape asked for (Prometheus: always gzip).
  if (!snap || (last_gzip_ ? gzip_ : text_).Holds(snap)) return;
  Render(std::move(snap), last_gzip_, /*ahead=*/true);
}

void MetricsRenderer::Render(std::shared_ptr<const Snapshot> snap, bool gzip, bool ahead) {
  ++renders_;
  if (ahead) ++prerenders_;
  Cache& cache = gzip ? gzip_ : text_;
  // The previous body's buffer is reused when no response holds it any more: a render then
  // writes into memory already touched instead of growing a new one.
  std::string buffer;
  if (cache.body && cache.body.use_count() == 1) buffer = std::move(gzip ? cache.body->gzip : cache.body->text);
  cache.body.reset();
  cache.of.reset();
  buffer.clear();

  // What follows the snapshot's families: the daemon's own registry and the render counters
  // (this render included).
  std::string tail;
  for (const auto& c : extra_) tail += SerializeText(c->Collect());
  tail +=
      "# HELP workload_exporter_metrics_renders_total /metrics bodies rendered: ahead of a scrape expected at the "
      "cadence of the earlier ones, or on a request.\n"
      "# TYPE workload_exporter_metrics_renders_total counter\n"
      "workload_exporter_metrics_renders_total{when=\"ahead\"} ";
  AppendSampleValue(&tail, static_cast<double>(prerenders_));
  tail += "\nworkload_exporter_metrics_renders_total{when=\"on_request\"} ";
  AppendSampleValue(&tail, static_cast<double>(renders_ - prerenders_));
  tail += '\n';

  auto body = std::make_shared<MetricsBody>();
  // Gzip is compressed as it is written: the text is never held whole.
  if (gzip && AppendTextGzip(*snap, build_, tail, kMetricsGzipLevel, &buffer)) {
    body->gzip = std::move(buffer);
  } else {
    // Plain text, or, when zlib failed (out of memory), plain text still answers the scrape.
    buffer.clear();
    buffer.reserve(last_text_size_ + last_text_size_ / 16);
    AppendText(*snap, build_, &buffer);
    buffer += tail;
    last_text_size_ = buffer.size();
    body->text = std::move(buffer);
  }
  cache.of = snap;
  cache.body = std::move(body);
}

}  // namespace we
