// Golden /metrics: the whole pipeline (cgroup collector -> normaliser -> snapshot -> text format)
// over each checked-in fixture host, compared byte for byte with tests/fixtures/expected/<host>.prom.
// promtool lints the same files (tests/CMakeLists.txt).
//
// To regenerate after an intended change, run   scripts/update-golden.sh   and read the diff.

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "exposition/text.h"
#include "pipeline/sampler.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

// Checked-out files have the checkout's ctime; the golden output must not. This wrapper pins every
// directory's ctime (the workloads' start time) to a fixed instant and passes the rest through.
class FixedTimeFileSystem final : public FileSystem {
 public:
  static constexpr double kCtime = 1764000000.0;  // 2025-11-24T16:00:00Z
  ReadResult ReadFile(const std::string& p) const override { return real_.ReadFile(p); }
  std::optional<std::vector<DirEntry>> ListDir(const std::string& p) const override { return real_.ListDir(p); }
  std::optional<FileStat> Stat(const std::string& p) const override {
    auto st = real_.Stat(p);
    if (st) st->ctime_seconds = kCtime;
    return st;
  }
  std::optional<std::string> ReadLink(const std::string& p) const override { return real_.ReadLink(p); }

 private:
  RealFileSystem real_;
};

// The hosts v2, v1 and hybrid share proc/ (one QEMU process; no self: no process_* series) and
// rootfs/ (the container runtimes' state files); the platform hosts of issue #21 (Proxmox VE,
// microVMs and machined) bring their own under platforms/<host>/ (gen_platforms.py).
std::string RenderFixture(const std::string& host) {
  FixedTimeFileSystem fs;
  SamplerSettings settings;
  const std::string fixtures = WE_FIXTURES_DIR;
  const bool platform = std::filesystem::is_directory(fixtures + "/platforms/" + host);
  settings.cgroupfs = fixtures + "/cgroup/" + host;
  settings.procfs = platform ? fixtures + "/platforms/" + host + "/proc" : fixtures + "/proc";
  settings.rootfs = platform ? fixtures + "/platforms/" + host + "/rootfs" : fixtures + "/rootfs";
  settings.label_allow = {"com.example.*"};
  settings.services = true;  // systemd services as workloads too
  SamplingPipeline pipeline(fs, settings);
  std::chrono::steady_clock::time_point t0{};
  std::chrono::system_clock::time_point wall{std::chrono::seconds(1764300000)};
  pipeline.Tick(t0, wall);
  auto snap = pipeline.Tick(t0 + std::chrono::seconds(1), wall + std::chrono::seconds(1));
  for (auto& c : snap->collectors) {
    EXPECT_TRUE(c.success) << host << ": " << (c.errors.empty() ? "" : c.errors.front());
    c.duration_seconds = 0;  // the one figure that differs run to run
  }
  const std::string text = SerializeText(SnapshotFamilies(*snap, BuildInfo{"0.0.0-golden", "golden"}));
  // /metrics writes the text directly (AppendText); it must be the same bytes.
  EXPECT_EQ(RenderText(*snap, BuildInfo{"0.0.0-golden", "golden"}), text) << host;
  return text;
}

class GoldenMetrics : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenMetrics, MatchesExpected) {
  const std::string host = GetParam();
  std::string actual = RenderFixture(host);
  std::string path = std::string(WE_FIXTURES_DIR) + "/expected/" + host + ".prom";
  if (std::getenv("WE_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::string expected = test_util::ReadFileOrDie(path);
  EXPECT_EQ(actual, expected) << "the /metrics output for fixture host '" << host
                              << "' changed; if intended, run scripts/update-golden.sh and review the diff";
}

INSTANTIATE_TEST_SUITE_P(Hosts, GoldenMetrics,
                         ::testing::Values("v2", "v1", "hybrid", "proxmox", "microvm", "nested", "kubernetes"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace we
