// MetricsRenderer (renderer.h): the body it renders (the snapshot's text and its own counters, gzip
// as written), once per snapshot and ahead of scrapes at a cadence; its ownership of what it hands
// out: a body's buffer comes back only when its last holder lets go, and ticks, renders and
// scrapes on their own threads share snapshots and bodies without a race (run under
// ThreadSanitizer by scripts/sanitize.sh).
#include "exposition/renderer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "every_family_snapshot.h"
#include "exposition/gzip.h"
#include "exposition/text.h"
#include "pipeline/sampler.h"

namespace we {
namespace {

using namespace std::chrono_literals;

// Where the prerender tests' ticks start: an hour into the renderer's clock.
const ScrapePredictor::Clock::time_point kFirstTick = ScrapePredictor::Clock::time_point{} + 1h;

std::shared_ptr<Snapshot> SnapshotAt(double time, int workloads) {
  auto snap = std::make_shared<Snapshot>();
  snap->time_seconds = time;
  for (int i = 0; i < workloads; ++i) {
    WorkloadView w;
    w.sample.identity = {"container", "docker", "id" + std::to_string(i), "web-" + std::to_string(i), "", ""};
    w.sample.cpu.usage_seconds = i;
    snap->workloads.push_back(w);
  }
  return snap;
}

// The renderer's body: the snapshot's text, then its own render counters.
std::string BodyOf(const Snapshot& snap, int ahead, int on_request) {
  return RenderText(snap, BuildInfo{"v", "r"}) +
         "# HELP workload_exporter_metrics_renders_total /metrics bodies rendered: ahead of a scrape expected at "
         "the cadence of the earlier ones, or on a request.\n"
         "# TYPE workload_exporter_metrics_renders_total counter\n"
         "workload_exporter_metrics_renders_total{when=\"ahead\"} " +
         std::to_string(ahead) + "\nworkload_exporter_metrics_renders_total{when=\"on_request\"} " +
         std::to_string(on_request) + "\n";
}

TEST(MetricsRenderer, RendersOncePerSnapshotAndReusesNothingStillServed) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  EXPECT_EQ(renderer.Current(false), nullptr);
  auto first = std::make_shared<Snapshot>(test::EveryFamilySnapshot());
  store.Publish(first);
  auto a = renderer.Current(false);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(renderer.Current(false), a);  // cached
  const std::string a_text = a->text;
  EXPECT_EQ(a_text, BodyOf(*first, 0, 1));
  EXPECT_TRUE(a->gzip.empty());  // a plain scrape makes no gzip

  // A new snapshot while `a` is still held (a response in flight): `a` must not change.
  auto second = std::make_shared<Snapshot>(test::EveryFamilySnapshot());
  second->time_seconds += 1;
  store.Publish(second);
  auto b = renderer.Current(false);
  EXPECT_NE(b, a);
  EXPECT_EQ(a->text, a_text);
  EXPECT_EQ(b->text, BodyOf(*second, 0, 2));

  // Nobody holds `b` any more: its buffer may be reused for the next one.
  b.reset();
  auto third = std::make_shared<Snapshot>(test::EveryFamilySnapshot());
  third->time_seconds += 2;
  store.Publish(third);
  auto c = renderer.Current(false);
  EXPECT_EQ(c->text, BodyOf(*third, 0, 3));
}

TEST(MetricsRenderer, GzipIsTheSameTextCompressedAsItIsWritten) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  // Enough workloads that the text passes through the 64 KiB pieces many times.
  auto snap = std::make_shared<Snapshot>(test::EveryFamilySnapshot());
  const WorkloadView one = snap->workloads.front();
  for (int i = 0; i < 400; ++i) {
    WorkloadView w = one;
    w.sample.identity.id = "c" + std::to_string(1000 + i);
    snap->workloads.push_back(w);
  }
  store.Publish(snap);
  auto z = renderer.Current(true);
  ASSERT_NE(z, nullptr);
  EXPECT_TRUE(z->text.empty());
  EXPECT_EQ(renderer.Current(true), z);  // cached
  ASSERT_GT(RenderText(*snap, BuildInfo{"v", "r"}).size(), 4u << 16);
  auto unzipped = GzipDecompress(z->gzip);
  ASSERT_TRUE(unzipped.has_value());
  EXPECT_EQ(*unzipped, BodyOf(*snap, 0, 1));
  // A plain scrape of the same snapshot renders the text once.
  auto t = renderer.Current(false);
  EXPECT_EQ(t->text, BodyOf(*snap, 0, 2));
  EXPECT_EQ(renderer.Current(true), z);
  EXPECT_EQ(renderer.renders(), 2u);
}

TEST(MetricsRendererPrerender, ScrapesAtACadenceFindTheirBodyReady) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  // Ticks every second; a scrape 300 ms after every 5th tick.
  std::vector<std::shared_ptr<const MetricsBody>> served;
  uint64_t renders_on_arrival = 0;
  for (int tick = 0; tick < 40; ++tick) {
    const auto now = kFirstTick + std::chrono::seconds(tick);
    store.Publish(SnapshotAt(tick, 0));
    renderer.Prerender(now, 1s);
    if (tick % 5 == 0) {
      const uint64_t before = renderer.renders();
      auto body = renderer.Current(/*gzip=*/false, now + 300ms);
      ASSERT_NE(body, nullptr);
      // The body is always of the newest snapshot, rendered ahead or not.
      EXPECT_NE(body->text.find("workload_exporter_last_sample_timestamp_seconds " + std::to_string(tick) + "\n"),
                std::string::npos)
          << "tick " << tick;
      renders_on_arrival += renderer.renders() - before;
      served.push_back(body);
    }
  }
  // 8 scrapes: the first three are rendered on arrival (no cadence yet), the other five ahead.
  EXPECT_EQ(renderer.renders(), 8u);
  EXPECT_EQ(renderer.prerenders(), 5u);
  EXPECT_EQ(renders_on_arrival, 3u);
}

// The same cadence, with the ticks asking the schedule whether to read a scrape's figures: once
// the cadence is known, only one tick before each scrape reads them, and the body rendered ahead
// of the scrape holds what it read.
TEST(MetricsRendererPrerender, TheScheduleReadsAScrapesFiguresOnTheTickBeforeIt) {
  SnapshotStore store;
  ScrapeSchedule schedule;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  renderer.set_scrape_schedule(&schedule);
  std::vector<int> reading_ticks;
  int read_at = -1;
  for (int tick = 0; tick < 40; ++tick) {
    const auto now = kFirstTick + std::chrono::seconds(tick);
    if (schedule.ReadOnThisTick(now, 1s)) {
      reading_ticks.push_back(tick);
      read_at = tick;
    }
    store.Publish(SnapshotAt(tick, 0));
    renderer.Prerender(now, 1s);
    if (tick % 5 == 0) {
      ASSERT_NE(renderer.Current(/*gzip=*/false, now + 300ms), nullptr);
      if (tick >= 15) {
        // Read 1.3 s before the scrape: the earliest tick within 1.5 intervals of it, so that the
        // read is never later than the render ahead, however long a tick takes.
        EXPECT_EQ(read_at, tick - 1) << "the scrape at tick " << tick;
      }
    }
  }
  // Every tick until the cadence is known (after the scrape at tick 10), then one in five.
  std::vector<int> want;
  for (int t = 0; t <= 10; ++t) want.push_back(t);
  for (int t = 14; t < 40; t += 5) want.push_back(t);
  EXPECT_EQ(reading_ticks, want);
}

TEST(MetricsRendererPrerender, NoScrapesNoRenders) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  for (int tick = 0; tick < 30; ++tick) {
    store.Publish(SnapshotAt(tick, 0));
    renderer.Prerender(kFirstTick + std::chrono::seconds(tick), 1s);
  }
  EXPECT_EQ(renderer.renders(), 0u);
}

TEST(MetricsRendererOwnership, ABuffersComesBackOnlyWhenItsLastHolderLetsGo) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  store.Publish(SnapshotAt(1, 50));
  auto a = renderer.Current(false);
  const std::string a_text = a->text;
  const char* a_bytes = a->text.data();
  // `a` is held (a response sending it): the next render must write elsewhere.
  store.Publish(SnapshotAt(2, 50));
  auto b = renderer.Current(false);
  EXPECT_NE(b->text.data(), a_bytes);
  EXPECT_EQ(a->text, a_text);
  // Now nobody but the cache holds `b`, and `a` is let go: the next render reuses a buffer that
  // came back, not a new one.
  const char* b_bytes = b->text.data();
  a.reset();
  b.reset();
  store.Publish(SnapshotAt(3, 50));
  auto c = renderer.Current(false);
  EXPECT_TRUE(c->text.data() == b_bytes || c->text.data() == a_bytes);
}

// A plain-text request by hand beside a Prometheus that asks for gzip: once a gzip render follows,
// the text body (stale) and its buffer are freed, also one a response still held at the time, and
// a text body of the newest snapshot stays cached for a client that still asks for it.
TEST(MetricsRendererOwnership, AnEncodingNobodyAsksForHoldsNoMemory) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  store.Publish(SnapshotAt(1, 2000));
  auto plain = renderer.Current(false);
  const size_t text_size = plain->text.size();
  ASSERT_GT(text_size, size_t{100'000});
  EXPECT_GE(renderer.held_bytes(), text_size);

  store.Publish(SnapshotAt(2, 2000));
  auto zipped = renderer.Current(true);
  const size_t gzip_size = zipped->gzip.size();
  EXPECT_LT(gzip_size, text_size / 4);
  plain.reset();  // the response that held it is done: freed, not kept as a spare
  EXPECT_LT(renderer.held_bytes(), text_size / 2);

  // Both encodings of one snapshot: the gzip render leaves the text body of that snapshot cached.
  store.Publish(SnapshotAt(3, 2000));
  auto text3 = renderer.Current(false);
  const uint64_t renders = renderer.renders();
  auto gzip3 = renderer.Current(true);
  EXPECT_EQ(renderer.renders(), renders + 1);
  EXPECT_EQ(renderer.Current(false), text3);
  EXPECT_EQ(renderer.renders(), renders + 1);
  text3.reset();
  // The next snapshot's gzip render drops it.
  store.Publish(SnapshotAt(4, 2000));
  gzip3.reset();
  zipped = renderer.Current(true);
  EXPECT_LT(renderer.held_bytes(), text_size / 2);
  auto text4 = renderer.Current(false);
  EXPECT_EQ(text4->text, BodyOf(*SnapshotAt(4, 2000), 0, static_cast<int>(renderer.renders())));
}

TEST(MetricsRendererOwnership, ABodyMayOutliveItsRenderer) {
  SnapshotStore store;
  std::shared_ptr<const MetricsBody> body;
  {
    MetricsRenderer renderer(store, BuildInfo{"v", "r"});
    store.Publish(SnapshotAt(1, 5));
    body = renderer.Current(true);
  }
  EXPECT_TRUE(GzipDecompress(body->gzip).has_value());
  body.reset();  // hands the buffer back to spares the renderer no longer has
}

TEST(MetricsRendererOwnership, CurrentAsyncAnswersEveryWaiterWithTheNewestBody) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  std::promise<std::shared_ptr<const MetricsBody>> none;
  renderer.CurrentAsync(false, [&](std::shared_ptr<const MetricsBody> b) { none.set_value(b); });
  EXPECT_EQ(none.get_future().get(), nullptr);  // no snapshot yet
  store.Publish(SnapshotAt(1, 2000));
  std::vector<std::promise<std::shared_ptr<const MetricsBody>>> waiters(8);
  for (auto& w : waiters) renderer.CurrentAsync(true, [&w](std::shared_ptr<const MetricsBody> b) { w.set_value(b); });
  std::shared_ptr<const MetricsBody> first = waiters[0].get_future().get();
  ASSERT_NE(first, nullptr);
  for (std::size_t i = 1; i < waiters.size(); ++i) EXPECT_EQ(waiters[i].get_future().get(), first);
  EXPECT_EQ(renderer.renders(), 1u);  // those that came during the render got its body
}

// The sampler's thread ticks a real pipeline and publishes; the renderer's thread renders ahead
// and on request; two "HTTP" threads scrape and read the snapshot directly (as
// /api/v1/workloads does), holding bodies and snapshots across ticks. Bounded by ticks; under
// TSan any unsynchronised reuse of a snapshot's views or a body's buffer is reported.
TEST(MetricsRendererOwnership, TicksRendersAndScrapesOnTheirOwnThreadsShareNothingUnsafely) {
  RealFileSystem fs;
  SamplerSettings settings;
  settings.cgroupfs = std::string(WE_FIXTURES_DIR) + "/cgroup/v2";
  settings.procfs = std::string(WE_FIXTURES_DIR) + "/proc";
  settings.rootfs = std::string(WE_FIXTURES_DIR) + "/rootfs";
  settings.services = true;
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  SamplingPipeline pipeline(fs, settings);
  store.Publish(pipeline.Tick(std::chrono::steady_clock::now(), std::chrono::system_clock::now()));

  std::atomic<bool> done{false};
  std::atomic<uint64_t> scrapes{0};
  auto scraper = [&](bool gzip) {
    std::shared_ptr<const MetricsBody> kept;
    std::shared_ptr<const Snapshot> kept_snap;
    // At least a few scrapes each, however the threads are scheduled on a loaded runner.
    for (int i = 0; (i < 10 || !done.load()) && i < 100000; ++i) {
      std::promise<std::shared_ptr<const MetricsBody>> got;
      renderer.CurrentAsync(gzip, [&got](std::shared_ptr<const MetricsBody> b) { got.set_value(std::move(b)); });
      auto body = got.get_future().get();
      ASSERT_NE(body, nullptr);
      const std::string& bytes = gzip ? body->gzip : body->text;
      ASSERT_FALSE(bytes.empty());
      std::size_t sum = 0;
      for (char c : bytes) sum += static_cast<unsigned char>(c);  // read every byte, as a write does
      EXPECT_GT(sum, 0u);
      auto snap = store.Get();
      std::size_t names = 0;
      for (const auto& w : snap->workloads) names += w.sample.identity.name.size();
      EXPECT_GT(names + 1, 0u);
      if (i % 3 == 0) kept = body;       // a slow reader still sending an older body
      if (i % 5 == 0) kept_snap = snap;  // a slow reader of an older snapshot
      ++scrapes;
    }
  };
  std::thread text(scraper, false);
  std::thread zipped(scraper, true);
  // The ticks start once both scrapers are scraping, so that the two overlap.
  // (Bounded: a scraper whose assertion failed has returned and will not count.)
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       scrapes.load() < 2 && std::chrono::steady_clock::now() < until;) {
    std::this_thread::yield();
  }
  auto t = std::chrono::steady_clock::now();
  for (int tick = 0; tick < 60; ++tick) {
    t += std::chrono::seconds(1);
    store.Publish(pipeline.Tick(t, std::chrono::system_clock::now()));
    renderer.PrerenderAsync(std::chrono::seconds(1));
    if (tick % 10 == 0) renderer.Invalidate();
    std::this_thread::yield();
  }
  done = true;
  text.join();
  zipped.join();
  EXPECT_GT(scrapes.load(), 0u);
}

}  // namespace
}  // namespace we
