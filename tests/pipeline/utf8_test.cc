#include "pipeline/utf8.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "exposition/text.h"
#include "pipeline/sampler.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

constexpr char kFffd[] = "\xEF\xBF\xBD";

TEST(Utf8, ValidTextIsKeptAndInvalidBytesBecomeOneReplacementEach) {
  for (const char* valid : {"", "web-1", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x90\xB3", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(valid)) << valid;
    EXPECT_EQ(ToValidUtf8(valid), valid);
  }
  const std::string r = kFffd;
  // As Go decodes a string: each byte that starts no well-formed sequence is one U+FFFD.
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a" + r + "b");
  EXPECT_EQ(ToValidUtf8("\xC3"), r);                          // truncated
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), r + r);                  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xE0\x80\xAF"), r + r + r);          // overlong, three bytes
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), r + r + r);          // a surrogate
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(ToValidUtf8("\xE2\x82"
                        "x"),
            r + r + "x");                                  // cut short by ASCII
  EXPECT_EQ(ToValidUtf8("\x80\xC3\xA9"), r + "\xC3\xA9");  // a stray continuation byte
  for (const char* invalid : {"\xFF", "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF5\x80\x80\x80"}) {
    EXPECT_FALSE(IsValidUtf8(invalid));
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(invalid)));
  }
  std::string text = "ok";
  EXPECT_FALSE(MakeValidUtf8(&text));
  text = "x\xFF";
  EXPECT_TRUE(MakeValidUtf8(&text));
  EXPECT_EQ(text, "x" + r);
}

TEST(Utf8, EveryLabelValueOfASampleIsMadeValid) {
  Sample s;
  s.identity = {"container", "docker", "id\xFF", "name\xFE", "pod\xC3", ""};
  s.cgroup = "/x\xFF";
  auto metadata = std::make_shared<const ContainerMetadata>(
      ContainerMetadata{"n\xFF", "img\xFF", "ns", "pod", "c", {{"team", "store\xFF"}, {"k\xFF", "v"}}, false, ""});
  s.metadata = metadata;
  s.vm = VmFigures{};
  s.vm->uuid = "u\xFF";
  s.vm->block = {{"vd\xFF", 1, 2, 3, 4}};
  s.vm->net = {{"vnet\xFF", 5, 6, 7, 8}};
  MakeLabelValuesValidUtf8(&s);
  const std::string r = kFffd;
  EXPECT_EQ(s.identity.id, "id" + r);
  EXPECT_EQ(s.identity.name, "name" + r);
  EXPECT_EQ(s.identity.pod_uid, "pod" + r);
  EXPECT_EQ(s.cgroup, "/x" + r);
  ASSERT_NE(s.metadata, metadata);  // copied: the resolver's shared entry is left as it was
  EXPECT_EQ(metadata->name, "n\xFF");
  EXPECT_EQ(s.metadata->name, "n" + r);
  EXPECT_EQ(s.metadata->image, "img" + r);
  EXPECT_EQ(s.metadata->labels.at("team"), "store" + r);
  EXPECT_EQ(s.metadata->labels.at("k" + r), "v");
  EXPECT_EQ(s.vm->uuid, "u" + r);
  EXPECT_EQ(s.vm->block[0].device, "vd" + r);
  EXPECT_EQ(s.vm->net[0].device, "vnet" + r);

  // Valid metadata is shared, not copied.
  Sample t;
  t.metadata =
      std::make_shared<const ContainerMetadata>(ContainerMetadata{"web-1", "nginx", "", "", "", {}, false, ""});
  const auto before = t.metadata;
  MakeLabelValuesValidUtf8(&t);
  EXPECT_EQ(t.metadata, before);
}

// End to end: a systemd service whose cgroup name escapes an invalid byte ("\xff", which
// UnescapeSystemdName turns into the raw byte) goes through the whole pipeline and the text
// format, and promtool accepts the scrape.
TEST(Utf8, AServiceNamedWithAnInvalidSequencePassesPromtool) {
  test_util::TempTree tree;
  const std::filesystem::path v2 = std::string(WE_FIXTURES_DIR) + "/cgroup/v2";
  std::filesystem::copy(v2, tree.Path("cgroup"), std::filesystem::copy_options::recursive);
  std::filesystem::copy(v2 / "system.slice/containerd.service", tree.Path("cgroup/system.slice/caf\\xffbar.service"),
                        std::filesystem::copy_options::recursive);
  RealFileSystem fs;
  SamplerSettings settings;
  settings.cgroupfs = tree.Path("cgroup");
  settings.procfs = std::string(WE_FIXTURES_DIR) + "/proc";
  settings.rootfs = std::string(WE_FIXTURES_DIR) + "/rootfs";
  settings.services = true;
  SamplingPipeline pipeline(fs, settings);
  auto snap = pipeline.Tick(std::chrono::steady_clock::now(), std::chrono::system_clock::now());
  const std::string text = RenderText(*snap, BuildInfo{"v", "r"});
  EXPECT_NE(text.find(std::string("name=\"caf") + kFffd + "bar\""), std::string::npos);
  EXPECT_TRUE(IsValidUtf8(text));

  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  const std::string file = tree.Path("metrics.prom");
  std::ofstream(file) << text;
  const std::string command = "promtool check metrics < '" + file + "' > '" + tree.Path("promtool.out") + "' 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << test_util::ReadFileOrEmpty(tree.Path("promtool.out"));
}

}  // namespace
}  // namespace we
