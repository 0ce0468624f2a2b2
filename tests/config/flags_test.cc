#include "config/flags.h"

#include <gtest/gtest.h>

namespace we {
namespace {

TEST(ParseFlags, BothStylesAndBooleans) {
  std::string err;
  auto f = ParseFlags(
      {"--web.listen-address=127.0.0.1:1", "--path.cgroupfs", "/x", "--check-config", "--sampling.interval=250ms"},
      &err);
  ASSERT_TRUE(f) << err;
  EXPECT_EQ(f->listen_address, "127.0.0.1:1");
  EXPECT_EQ(f->cgroupfs, "/x");
  EXPECT_EQ(f->sampling_interval, "250ms");
  EXPECT_TRUE(f->check_config);
  EXPECT_FALSE(f->version);
  EXPECT_FALSE(f->procfs);
}

TEST(ParseFlags, Errors) {
  std::string err;
  EXPECT_FALSE(ParseFlags({"--nope"}, &err));
  EXPECT_EQ(err, "unknown flag --nope (see --help)");
  EXPECT_FALSE(ParseFlags({"--config.file"}, &err));
  EXPECT_EQ(err, "--config.file needs a value");
  EXPECT_FALSE(ParseFlags({"stray"}, &err));
  EXPECT_EQ(err, "unexpected argument \"stray\"");
  EXPECT_FALSE(ParseFlags({"--version=maybe"}, &err));
}

TEST(ApplyFlags, OverridesTheFile) {
  Config c;
  c.web.telemetry_path = "/from-file";
  Flags f;
  f.telemetry_path = "/from-flag";
  f.sampling_interval = "2s";
  f.log_format = "json";
  EXPECT_TRUE(ApplyFlags(f, &c).empty());
  EXPECT_EQ(c.web.telemetry_path, "/from-flag");
  EXPECT_EQ(c.sampling.interval, std::chrono::seconds(2));
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.web.listen_address, ":9746");  // untouched
}

TEST(ApplyFlags, InvalidValuesNameTheFlagAndLeaveTheConfig) {
  Config c;
  Flags f;
  f.sampling_interval = "soon";
  f.log_level = "loud";
  f.procfs = "relative/proc";
  auto errors = ApplyFlags(f, &c);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].file, "--path.procfs");
  EXPECT_EQ(errors[1].file, "--log.level");
  EXPECT_EQ(errors[2].ToString(), "--sampling.interval: invalid duration \"soon\" (use e.g. 500ms, 1s, 1m)");
  EXPECT_EQ(c.paths.procfs, "/proc");
  EXPECT_EQ(c.log.level, "info");
  f = Flags{};
  f.sampling_interval = "10ms";
  EXPECT_EQ(ApplyFlags(f, &c).size(), 1u);  // below the 100ms floor
}

TEST(UsageText, ListsEveryFlag) {
  std::string u = UsageText();
  for (const char* flag :
       {"--config.file", "--web.listen-address", "--web.telemetry-path", "--path.cgroupfs", "--path.procfs",
        "--sampling.interval", "--log.level", "--log.format", "--check-config", "--version"}) {
    EXPECT_NE(u.find(flag), std::string::npos) << flag;
  }
}

TEST(UsageText, ShowsTheDefaultsOfConfigH) {
  const std::string u = UsageText();
  const Config defaults;
  for (const std::string& shown :
       {"Default " + defaults.web.listen_address + ".", "Default " + defaults.web.telemetry_path + ".",
        "Default " + defaults.paths.cgroupfs + ".", "Default " + defaults.paths.procfs + ".",
        "Default " + defaults.paths.rootfs + ".", std::string("Default 1s."), "Default " + defaults.libvirt.uri + ".",
        "Default " + defaults.log.level + ".", "Default " + defaults.log.format + "."}) {
    EXPECT_NE(u.find(shown), std::string::npos) << shown << " in\n" << u;
  }
}

}  // namespace
}  // namespace we
