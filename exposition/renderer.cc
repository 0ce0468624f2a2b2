#include "exposition/renderer.h"

#include <malloc.h>

#include <boost/asio/post.hpp>

#include "exposition/gzip.h"

namespace we {

MetricsRenderer::MetricsRenderer(const SnapshotStore& store, BuildInfo build,
                                 std::vector<std::shared_ptr<prometheus::Collectable>> extra)
    : store_(store),
      build_(std::move(build)),
      extra_(std::move(extra)),
      worker_(std::make_unique<boost::asio::thread_pool>(1)) {}

MetricsRenderer::~MetricsRenderer() {
  worker_->stop();
  worker_->join();
}

namespace {

bool SameSnapshot(const std::weak_ptr<const Snapshot>& a, const std::shared_ptr<const Snapshot>& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

// Frees a buffer of an encoding nobody asks for any more. A large one goes back to the kernel:
// glibc raises its mmap threshold after the first large free, so a body's buffer comes from an
// arena whose pages free() keeps resident; malloc_trim returns them.
void Release(std::string buffer) {
  const bool large = buffer.capacity() >= (size_t{1} << 20);
  buffer = std::string();
  if (large) ::malloc_trim(0);
}

}  // namespace

bool MetricsRenderer::Cache::Holds(const std::shared_ptr<const Snapshot>& snap) const {
  return body && SameSnapshot(of, snap);
}

void MetricsRenderer::Invalidate() {
  std::lock_guard lock(mu_);
  text_ = {};
  gzip_ = {};
}

size_t MetricsRenderer::held_bytes() const {
  size_t bytes = 0;
  {
    std::lock_guard lock(mu_);
    for (const Cache* c : {&text_, &gzip_}) {
      if (c->body) bytes += c->body->text.capacity() + c->body->gzip.capacity();
    }
  }
  std::lock_guard lock(spares_->mu);
  return bytes + spares_->text.capacity() + spares_->gzip.capacity();
}

std::shared_ptr<const MetricsBody> MetricsRenderer::CachedLocked(const std::shared_ptr<const Snapshot>& snap, bool gzip,
                                                                 ScrapePredictor::Clock::time_point now) {
  if (!SameSnapshot(served_for_, snap)) {
    predictor_.OnArrival(now);
    if (schedule_ != nullptr) schedule_->OnScrape(predictor_.Next());
    served_for_ = snap;
    last_gzip_ = gzip;
  }
  const Cache& cache = gzip ? gzip_ : text_;
  return cache.Holds(snap) ? cache.body : nullptr;
}

std::shared_ptr<const MetricsBody> MetricsRenderer::Current(bool gzip, ScrapePredictor::Clock::time_point now) {
  auto snap = store_.Get();
  if (!snap) return nullptr;
  {
    std::lock_guard lock(mu_);
    if (auto body = CachedLocked(snap, gzip, now)) return body;
  }
  std::lock_guard render(render_mu_);
  {
    // A render that this call waited for may have made the body.
    std::lock_guard lock(mu_);
    const Cache& cache = gzip ? gzip_ : text_;
    if (cache.Holds(snap)) return cache.body;
  }
  return Render(std::move(snap), gzip, /*ahead=*/false);
}

void MetricsRenderer::CurrentAsync(bool gzip, Done done) {
  const auto now = ScrapePredictor::Clock::now();
  auto snap = store_.Get();
  if (!snap) return done(nullptr);
  std::shared_ptr<const MetricsBody> body;
  {
    std::lock_guard lock(mu_);
    body = CachedLocked(snap, gzip, now);
  }
  if (body) return done(std::move(body));
  // Queued behind any render in progress; Current then finds that render's body if it is of the
  // newest snapshot, else renders.
  boost::asio::post(*worker_, [this, gzip, now, done = std::move(done)] { done(Current(gzip, now)); });
}

void MetricsRenderer::Prerender(ScrapePredictor::Clock::time_point now, ScrapePredictor::Clock::duration interval) {
  auto snap = store_.Get();
  bool gzip;
  {
    std::lock_guard lock(mu_);
    if (!predictor_.Due(now, interval)) return;
    gzip = last_gzip_;  // the encoding the last scrape asked for (Prometheus: always gzip)
    if (!snap || (gzip ? gzip_ : text_).Holds(snap)) return;
  }
  std::lock_guard render(render_mu_);
  {
    std::lock_guard lock(mu_);
    if ((gzip ? gzip_ : text_).Holds(snap)) return;
  }
  Render(std::move(snap), gzip, /*ahead=*/true);
}

void MetricsRenderer::PrerenderAsync(ScrapePredictor::Clock::duration interval) {
  boost::asio::post(*worker_, [this, interval] { Prerender(ScrapePredictor::Clock::now(), interval); });
}

std::shared_ptr<const MetricsBody> MetricsRenderer::HandOut(MetricsBody body, bool gzip) {
  // When the last holder lets go, the buffer goes back to the spares (the renderer may be gone by
  // then; the spares are shared), if its encoding is still asked for; else it is freed. An older
  // spare is freed.
  return std::shared_ptr<const MetricsBody>(
      new MetricsBody(std::move(body)), [spares = spares_, gzip](const MetricsBody* released) {
        std::unique_ptr<const MetricsBody> owned(released);
        std::string buffer =
            std::move(const_cast<MetricsBody*>(released)->*(gzip ? &MetricsBody::gzip : &MetricsBody::text));
        std::string older;  // a spare already there: freed as this returns
        bool kept;
        {
          std::lock_guard lock(spares->mu);
          kept = gzip ? spares->keep_gzip : spares->keep_text;
          if (kept) {
            std::swap(gzip ? spares->gzip : spares->text, buffer);
            older = std::move(buffer);
          }
        }
        if (!kept) Release(std::move(buffer));
      });
}

std::shared_ptr<const MetricsBody> MetricsRenderer::Render(std::shared_ptr<const Snapshot> snap, bool gzip,
                                                           bool ahead) {
  rendering_ = true;
  const uint64_t renders = ++renders_;
  const uint64_t prerenders = ahead ? ++prerenders_ : prerenders_.load();
  // The other encoding is no longer asked for: its spare goes now, and its bodies when their last
  // holder lets go (a body of this snapshot stays cached for a client that still asks for it).
  std::string unwanted;
  {
    std::lock_guard lock(spares_->mu);
    (gzip ? spares_->keep_gzip : spares_->keep_text) = true;
    (gzip ? spares_->keep_text : spares_->keep_gzip) = false;
    unwanted = std::move(gzip ? spares_->text : spares_->gzip);
  }
  Release(std::move(unwanted));
  std::shared_ptr<const MetricsBody> stale;  // let go outside mu_: its deleter may trim
  {
    // The cache lets go of the previous body: if no response holds it either, its buffer comes
    // back to the spares now.
    std::lock_guard lock(mu_);
    (gzip ? gzip_ : text_) = {};
    Cache& other = gzip ? text_ : gzip_;
    if (!other.Holds(snap)) stale = std::exchange(other.body, nullptr);
  }
  stale.reset();
  // The previous body's buffer, if nobody holds it any more: a render then writes into memory
  // already touched instead of growing a new one.
  std::string buffer;
  {
    std::lock_guard lock(spares_->mu);
    buffer = std::move(gzip ? spares_->gzip : spares_->text);
  }
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
  AppendSampleValue(&tail, static_cast<double>(prerenders));
  tail += "\nworkload_exporter_metrics_renders_total{when=\"on_request\"} ";
  AppendSampleValue(&tail, static_cast<double>(renders - prerenders));
  tail += '\n';

  MetricsBody body;
  bool zipped = false;
  // Gzip is compressed as it is written: the text is never held whole.
  if (gzip && AppendTextGzip(*snap, build_, tail, MetricsGzipMethod(), &buffer)) {
    body.gzip = std::move(buffer);
    zipped = true;
  } else {
    // Plain text, or, when zlib failed (out of memory), plain text still answers the scrape.
    buffer.clear();
    size_t expected;
    {
      std::lock_guard lock(mu_);
      expected = last_text_size_;
    }
    buffer.reserve(expected + expected / 16);
    AppendText(*snap, build_, &buffer);
    buffer += tail;
    body.text = std::move(buffer);
  }
  // Handed back under the encoding whose field holds the bytes.
  auto out = HandOut(std::move(body), zipped);
  {
    std::lock_guard lock(mu_);
    if (!zipped) last_text_size_ = out->text.size();
    Cache& cache = gzip ? gzip_ : text_;
    cache.of = snap;
    cache.body = out;
  }
  rendering_ = false;
  return out;
}

}  // namespace we
