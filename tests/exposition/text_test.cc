// The direct /metrics writer (AppendText) against prometheus-cpp's TextSerializer over the same
// families (SerializeText(SnapshotFamilies(...))): byte for byte, on snapshots that use every
// family, awkward label values and awkward numbers. The golden files pin the format itself.

#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "every_family_snapshot.h"
#include "exposition/text.h"

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

}  // namespace
}  // namespace we
