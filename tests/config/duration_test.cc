#include "config/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace we {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kYear = 365 * kDay;
constexpr std::int64_t kMaxMillis = std::numeric_limits<std::int64_t>::max();

struct ValidCase {
  std::string text;
  std::int64_t millis;
};

TEST(ParseDurationTest, AcceptsPrometheusDurations) {
  const std::vector<ValidCase> cases = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"1ms", 1},
      {"500ms", 500},
      {"1000ms", kSecond},
      {"1s", kSecond},
      {"90s", 90 * kSecond},
      {"5m", 5 * kMinute},
      {"1m30s", kMinute + 30 * kSecond},
      {"1h", kHour},
      {"2h45m", 2 * kHour + 45 * kMinute},
      {"1d", kDay},
      {"1w", kWeek},
      {"1y", kYear},
      {"1y2w3d4h5m6s7ms", kYear + 2 * kWeek + 3 * kDay + 4 * kHour + 5 * kMinute + 6 * kSecond + 7},
      {"007s", 7 * kSecond},
      {"9223372036854775807ms", kMaxMillis},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.text);
    const std::optional<milliseconds> parsed = ParseDuration(c.text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->count(), c.millis);
  }
}

TEST(ParseDurationTest, RejectsEverythingElse) {
  const std::vector<std::string> cases = {
      "",                         // empty
      "1",                        // no unit (only a bare "0" is allowed)
      "s",                        // no number
      "ms",                       //
      "-1s",                      // negative
      "+1s",                      // sign
      "1.5s",                     // fraction
      " 1s",                      // spaces
      "1s ",                      //
      "1m 30s",                   //
      "1S",                       // units are lower case
      "1sec",                     // unknown unit
      "1us",                      //
      "1ns",                      //
      "1s1m",                     // out of order
      "1ms1s",                    //
      "1h1d",                     //
      "1s1s",                     // repeated
      "1m1m",                     //
      "1m30",                     // trailing number without unit
      "garbage",                  //
      "99999999999999999999h",    // the number overflows
      "9223372036854775808ms",    // one past the largest millisecond count
      "292471209y",               // the product overflows
      "1s9223372036854775807ms",  // the sum overflows
      std::string("1s\0", 3),     // embedded NUL
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE("\"" + text + "\"");
    EXPECT_EQ(ParseDuration(text), std::nullopt);
  }
}

TEST(FormatDurationTest, PrintsTheShortestForm) {
  const std::vector<ValidCase> cases = {
      {"0s", 0},
      {"1ms", 1},
      {"500ms", 500},
      {"1s", kSecond},
      {"1s500ms", 1500},
      {"1m30s", 90 * kSecond},
      {"5m", 5 * kMinute},
      {"1h", kHour},
      {"1h1ms", kHour + 1},
      {"1d", kDay},
      {"1w", kWeek},
      {"8d", 8 * kDay},  // weeks only for exact multiples, as Prometheus prints it
      {"2w", 2 * kWeek},
      {"1y", kYear},
      {"366d", kYear + kDay},  // years only for exact multiples
      {"-1s", -kSecond},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(FormatDuration(milliseconds{c.millis}), c.text);
  }
}

TEST(FormatDurationTest, HandlesTheExtremes) {
  EXPECT_EQ(FormatDuration(milliseconds{kMaxMillis}), "106751991167d7h12m55s807ms");
  EXPECT_EQ(FormatDuration(milliseconds{std::numeric_limits<std::int64_t>::min()}), "-106751991167d7h12m55s808ms");
}

TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  std::vector<std::int64_t> values = {0,    1,     999,   kSecond,       kMinute,  kHour,
                                      kDay, kWeek, kYear, kYear + kWeek, 8 * kDay, kMaxMillis};
  // A spread of values with every unit populated in some of them.
  for (std::int64_t v = 1; v < kMaxMillis / 7; v = v * 7 + 3) values.push_back(v);
  for (const std::int64_t millis : values) {
    const std::string text = FormatDuration(milliseconds{millis});
    SCOPED_TRACE(text);
    const std::optional<milliseconds> parsed = ParseDuration(text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->count(), millis);
  }
}

TEST(FormatDurationTest, NormalisesWhatParseDurationAccepts) {
  EXPECT_EQ(FormatDuration(*ParseDuration("90s")), "1m30s");
  EXPECT_EQ(FormatDuration(*ParseDuration("1000ms")), "1s");
  EXPECT_EQ(FormatDuration(*ParseDuration("60m")), "1h");
  EXPECT_EQ(FormatDuration(*ParseDuration("7d")), "1w");
}

}  // namespace
}  // namespace we
