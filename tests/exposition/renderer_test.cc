// MetricsRenderer's ownership of what it hands out (renderer.h): a body's buffer comes back only
// when its last holder lets go, and ticks, renders and scrapes on their own threads share
// snapshots and bodies without a race (run under ThreadSanitizer by scripts/sanitize.sh).
#include "exposition/renderer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "exposition/gzip.h"
#include "pipeline/sampler.h"

namespace we {
namespace {

std::shared_ptr<Snapshot> SnapshotAt(double time, int workloads) {
  auto snap = std::make_shared<Snapshot>();
  snap->time_seconds = time;
  for (int i = 0; i < workloads; ++i) {
    WorkloadView w;
    w.sample.identity = {"container", "docker", "id" + std::to_string(i), "web-" + std::to_string(i), ""};
    w.sample.cpu.usage_seconds = i;
    snap->workloads.push_back(w);
  }
  return snap;
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
    for (int i = 0; !done.load() && i < 100000; ++i) {
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
      if (i % 3 == 0) kept = body;      // a slow reader still sending an older body
      if (i % 5 == 0) kept_snap = snap;  // a slow reader of an older snapshot
      ++scrapes;
    }
  };
  std::thread text(scraper, false);
  std::thread zipped(scraper, true);
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
