// The cgroup collector on files Linux 6.12 wrote (tests/fixtures/captured/v2-6.12, copied from
// the pure cgroup v2 guest of tests/rigs/v2_host_test.sh while each container was paused; see
// tests/fixtures/README.md): each container's directory is put in a cgroup2 tree where Docker
// (or Podman) puts it, and every figure the daemon reads from those files must be the one the
// file says. The expected values come from the captured text by key, not from the daemon's
// parsers: "key value" lines, io.stat's key=value fields summed over devices, PSI's total=.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "collectors/cgroup_collector.h"
#include "collectors/file_system.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

namespace fs = std::filesystem;
using test_util::TempTree;

const std::string kCaptured = std::string(WE_FIXTURES_DIR) + "/captured/v2-6.12";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The files of one captured container, with look-ups by key.
struct Captured {
  std::map<std::string, std::string> files;

  // The value of "KEY VALUE" in FILE.
  uint64_t Key(const std::string& file, const std::string& key) const {
    std::istringstream in(files.at(file));
    std::string k;
    uint64_t v = 0;
    while (in >> k >> v) {
      if (k == key) return v;
    }
    ADD_FAILURE() << file << " has no " << key;
    return 0;
  }
  uint64_t One(const std::string& file) const { return std::stoull(files.at(file)); }
  // io.stat's FIELD summed over its devices (0 for an empty io.stat).
  uint64_t Io(const std::string& field) const {
    std::istringstream in(files.at("io.stat"));
    std::string word;
    uint64_t sum = 0;
    while (in >> word) {
      if (word.rfind(field + "=", 0) == 0) sum += std::stoull(word.substr(field.size() + 1));
    }
    return sum;
  }
  // The total= of the "some" or "full" line of a *.pressure file, in seconds.
  double Psi(const std::string& file, const std::string& line) const {
    std::istringstream in(files.at(file));
    std::string l;
    while (std::getline(in, l)) {
      if (l.rfind(line + " ", 0) != 0) continue;
      const auto at = l.find("total=");
      return static_cast<double>(std::stoull(l.substr(at + 6))) / 1e6;
    }
    ADD_FAILURE() << file << " has no " << line << " line";
    return 0;
  }
};

class CapturedV2Test : public ::testing::TestWithParam<std::string> {};

TEST_P(CapturedV2Test, EveryFigureIsTheKernelFilesOwn) {
  const std::string name = GetParam();
  Captured c;
  for (const auto& e : fs::directory_iterator(kCaptured + "/" + name)) c.files[e.path().filename()] = Slurp(e.path());
  ASSERT_GE(c.files.size(), 13u) << name;

  TempTree t;
  t.Write("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  const std::string id(64, 'a');
  const std::string dir =
      name == "we-podman" ? "machine.slice/libpod-" + id + ".scope" : "system.slice/docker-" + id + ".scope";
  for (const auto& [file, content] : c.files) t.Write(dir + "/" + file, content);
  t.Write(dir + "/cgroup.procs", "");
  RealFileSystem real;
  CgroupCollector collector(real, t.root());
  const CollectResult r = collector.Collect();
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.identity.runtime, name == "we-podman" ? "podman" : "docker");

  const double us = 1e-6;
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, static_cast<double>(c.Key("cpu.stat", "usage_usec")) * us);
  EXPECT_DOUBLE_EQ(*s.cpu.user_seconds, static_cast<double>(c.Key("cpu.stat", "user_usec")) * us);
  EXPECT_DOUBLE_EQ(*s.cpu.system_seconds, static_cast<double>(c.Key("cpu.stat", "system_usec")) * us);
  EXPECT_EQ(*s.cpu.periods, c.Key("cpu.stat", "nr_periods"));
  EXPECT_EQ(*s.cpu.throttled_periods, c.Key("cpu.stat", "nr_throttled"));
  EXPECT_DOUBLE_EQ(*s.cpu.throttled_seconds, static_cast<double>(c.Key("cpu.stat", "throttled_usec")) * us);

  const uint64_t usage = c.One("memory.current");
  const uint64_t inactive = c.Key("memory.stat", "inactive_file");
  EXPECT_EQ(*s.memory.usage_bytes, usage);
  EXPECT_EQ(*s.memory.working_set_bytes, usage > inactive ? usage - inactive : 0);
  EXPECT_EQ(*s.memory.rss_bytes, c.Key("memory.stat", "anon"));
  EXPECT_EQ(*s.memory.cache_bytes, c.Key("memory.stat", "file"));
  EXPECT_EQ(*s.memory.swap_bytes, c.One("memory.swap.current"));
  EXPECT_EQ(*s.memory.max_usage_bytes, c.One("memory.peak"));
  EXPECT_EQ(*s.memory.oom_kills, c.Key("memory.events", "oom_kill"));
  EXPECT_EQ(*s.tasks, c.One("pids.current"));
  EXPECT_EQ(*s.io.read_bytes, c.Io("rbytes"));
  EXPECT_EQ(*s.io.write_bytes, c.Io("wbytes"));
  EXPECT_EQ(*s.io.reads, c.Io("rios"));
  EXPECT_EQ(*s.io.writes, c.Io("wios"));
  for (const auto& [file, psi] :
       {std::pair{"cpu.pressure", &s.cpu_pressure}, std::pair{"memory.pressure", &s.memory_pressure},
        std::pair{"io.pressure", &s.io_pressure}}) {
    EXPECT_DOUBLE_EQ(*psi->some_seconds, c.Psi(file, "some")) << file;
    EXPECT_DOUBLE_EQ(*psi->full_seconds, c.Psi(file, "full")) << file;
  }
  // Limits: "max" is no limit; else the quota over the period, and the bytes.
  if (c.files.at("cpu.max").rfind("max", 0) == 0) {
    EXPECT_FALSE(s.cpu.limit_cores);
  } else {
    std::istringstream in(c.files.at("cpu.max"));
    double quota = 0, period = 0;
    in >> quota >> period;
    EXPECT_DOUBLE_EQ(*s.cpu.limit_cores, quota / period);
  }
  if (c.files.at("memory.max").rfind("max", 0) == 0) {
    EXPECT_FALSE(s.memory.limit_bytes);
  } else {
    EXPECT_EQ(*s.memory.limit_bytes, c.One("memory.max"));
  }
}

// What each container was made to show, so that the comparisons above are not all of zeros.
TEST(CapturedV2, TheContainersShowWhatTheyWereMadeFor) {
  auto key = [](const std::string& name, const std::string& file, const std::string& k) {
    Captured c;
    c.files[file] = Slurp(kCaptured + "/" + name + "/" + file);
    return c.Key(file, k);
  };
  EXPECT_GE(key("we-oom", "memory.events", "oom_kill"), 1u);
  EXPECT_GE(key("we-throttle", "cpu.stat", "nr_throttled"), 1u);
  EXPECT_GE(key("we-burn", "memory.stat", "anon"), 64u << 20);
  Captured dio;
  dio.files["io.stat"] = Slurp(kCaptured + "/we-dio/io.stat");
  EXPECT_GE(dio.Io("wbytes"), 8u << 20);
}

INSTANTIATE_TEST_SUITE_P(Linux612, CapturedV2Test,
                         ::testing::Values("we-burn", "we-dio", "we-oom", "we-podman", "we-spike", "we-throttle"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace we
