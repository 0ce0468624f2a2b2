// The direct /metrics writer (AppendText) against prometheus-cpp's TextSerializer over the same
// families (SerializeText(SnapshotFamilies(...))): byte for byte, on snapshots that use every
// family, awkward label values and awkward numbers. The golden files pin the format itself.

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "exposition/renderer.h"
#include "exposition/text.h"
#include "exposition/gzip.h"
#include "every_family_snapshot.h"

namespace we {
namespace {

std::string ViaPrometheusCpp(double value) {
  prometheus::MetricFamily f;
  f.name = "x";
  f.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.gauge.value = value;
  f.metric.push_back(m);
  std::string text = SerializeText({f});
  // "# TYPE x gauge\nx <value>\n"
  const size_t start = text.find("\nx ") + 3;
  return text.substr(start, text.size() - start - 1);
}

std::string Direct(double value) {
  std::string out;
  AppendSampleValue(&out, value);
  return out;
}

TEST(MetricsText, ValuesAreWrittenAsPrometheusCppWritesThem) {
  const double special[] = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            0.5,
                            0.1,
                            0.08812300000000001,
                            1764000000.0,
                            1e15,
                            1e16,
                            1e17,
                            123456789012345678.0,
                            9223372036854771712.0,
                            1e-7,
                            5e-324,
                            std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::lowest(),
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity()};
  for (double v : special) EXPECT_EQ(Direct(v), ViaPrometheusCpp(v)) << v;
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 20000; ++i) {
    const double v = unit(rng) * std::pow(10.0, exponent(rng));
    ASSERT_EQ(Direct(v), ViaPrometheusCpp(v)) << v;
    const double n = std::floor(unit(rng) * 1e12);  // byte counts, ticks
    ASSERT_EQ(Direct(n), ViaPrometheusCpp(n)) << n;
  }
}

TEST(MetricsText, DirectWriterEqualsPrometheusCppSerializer) {
  const Snapshot snap = test::EveryFamilySnapshot();
  const BuildInfo build{"1.2.3", "abc\"def"};
  const std::string expected = SerializeText(SnapshotFamilies(snap, build));
  EXPECT_EQ(RenderText(snap, build), expected);
  EXPECT_NE(expected.find("workload_vm_state{"), std::string::npos);
  EXPECT_NE(expected.find("label_com_example_team=\"store\\\"front\""), std::string::npos);

  Snapshot empty;
  EXPECT_EQ(RenderText(empty, build), SerializeText(SnapshotFamilies(empty, build)));
}

TEST(MetricsText, AppendsToWhatIsThere) {
  const Snapshot snap = test::EveryFamilySnapshot();
  std::string out = "prefix\n";
  AppendText(snap, BuildInfo{"v", "r"}, &out);
  EXPECT_EQ(out, "prefix\n" + RenderText(snap, BuildInfo{"v", "r"}));
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

}  // namespace
}  // namespace we
