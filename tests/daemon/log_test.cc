#include "daemon/log.h"

#include <gtest/gtest.h>

namespace we {
namespace {

const auto kTime = std::chrono::system_clock::time_point{std::chrono::milliseconds(1764300000123)};

TEST(FormatLogLine, Logfmt) {
  EXPECT_EQ(FormatLogLine(spdlog::level::info, "listening on :9746", false, false, kTime),
            "ts=2025-11-28T03:20:00.123Z level=info msg=\"listening on :9746\"");
}

TEST(FormatLogLine, EscapesQuotesAndNewlines) {
  EXPECT_EQ(FormatLogLine(spdlog::level::err, "bad \"x\"\nnext\\", false, false, kTime),
            "ts=2025-11-28T03:20:00.123Z level=error msg=\"bad \\\"x\\\"\\nnext\\\\\"");
}

TEST(FormatLogLine, Json) {
  EXPECT_EQ(FormatLogLine(spdlog::level::warn, "a\tb\x01", true, false, kTime),
            "{\"ts\":\"2025-11-28T03:20:00.123Z\",\"level\":\"warn\",\"msg\":\"a\\tb\\u0001\"}");
}

TEST(FormatLogLine, JournalHasPriorityAndNoTimestamp) {
  EXPECT_EQ(FormatLogLine(spdlog::level::err, "x", false, true, kTime), "<3>level=error msg=\"x\"");
  EXPECT_EQ(FormatLogLine(spdlog::level::debug, "x", true, true, kTime), "<7>{\"level\":\"debug\",\"msg\":\"x\"}");
  EXPECT_EQ(FormatLogLine(spdlog::level::info, "x", false, true, kTime), "<6>level=info msg=\"x\"");
}

TEST(ParseLogLevel, KnownNames) {
  EXPECT_EQ(ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(ParseLogLevel("error"), spdlog::level::err);
  EXPECT_FALSE(ParseLogLevel("verbose"));
  EXPECT_FALSE(ConfigureLogging("verbose", "logfmt"));
  EXPECT_FALSE(ConfigureLogging("info", "xml"));
  EXPECT_TRUE(ConfigureLogging("info", "logfmt"));
}

}  // namespace
}  // namespace we
