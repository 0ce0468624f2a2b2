// The opener's request parser and allowlist (collectors/opener_protocol.h), pure; and that the
// allowlist's table of runtime state files is every root-only file runtime_metadata.cc reads.
// The real opener binary, with descriptors and an unprivileged client, is tests/opener/.

#include "collectors/opener_protocol.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "collectors/runtime_metadata.h"
#include "test_util/forwarding_file_system.h"

namespace we {
namespace {

const OpenerRoots kRoots{"/sys/fs/cgroup", "/host"};
const std::string kId = "6100a81c4235f3c3ed111d6f6f4c726b5e76f5c261204854d6d0e9b95b254edf";

bool Allowed(OpenMode mode, const std::string& path) { return OpenerAllowed(kRoots, mode, path).has_value(); }

TEST(ParseOpenRequest, ModeByteThenPath) {
  auto r = ParseOpenRequest("w/sys/fs/cgroup/a/memory.peak");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mode, OpenMode::kReadWrite);
  EXPECT_EQ(r->path, "/sys/fs/cgroup/a/memory.peak");
  const std::string encoded = EncodeOpenRequest(OpenMode::kRead, "/x");  // r->path views it
  r = ParseOpenRequest(encoded);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mode, OpenMode::kRead);
  EXPECT_EQ(r->path, "/x");
}

TEST(ParseOpenRequest, RefusesWhatIsNotARequest) {
  EXPECT_FALSE(ParseOpenRequest(""));
  EXPECT_FALSE(ParseOpenRequest("r"));
  EXPECT_FALSE(ParseOpenRequest("x/etc/shadow"));
  EXPECT_FALSE(ParseOpenRequest(std::string("r/a\0b", 5)));
  EXPECT_TRUE(ParseOpenRequest("r/" + std::string(kMaxOpenerPath - 1, 'a')));
  EXPECT_FALSE(ParseOpenRequest("r/" + std::string(kMaxOpenerPath, 'a')));
}

TEST(SplitAbsolutePath, NoEmptyDotOrDotDotComponent) {
  auto c = SplitAbsolutePath("/a/b.c/d");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<std::string_view>{"a", "b.c", "d"}));
  for (const char* bad : {"", "/", "a/b", "//a", "/a//b", "/a/", "/a/./b", "/a/../b", "/..", "/."}) {
    EXPECT_FALSE(SplitAbsolutePath(bad)) << bad;
  }
  EXPECT_TRUE(SplitAbsolutePath("/a/..b/.c"));  // names that merely start with dots
}

TEST(OpenerAllowed, ReadWriteOnlyMemoryPeakBeneathCgroupfs) {
  EXPECT_TRUE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroup/system.slice/docker-1.scope/memory.peak"));
  EXPECT_TRUE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroup/memory.peak"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroup/a/memory.max"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroup/a/cgroup.procs"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroupx/a/memory.peak"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/sys/fs/cgroup/a/../memory.peak"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "sys/fs/cgroup/a/memory.peak"));
  EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/host/memory.peak"));
  // Read-only is not needed there: cgroup files are world-readable.
  EXPECT_FALSE(Allowed(OpenMode::kRead, "/sys/fs/cgroup/a/memory.peak"));
}

TEST(OpenerAllowed, ReadOnlyOnlyStateFilesBeneathRootfs) {
  for (const std::string& rel :
       std::vector<std::string>{"var/lib/docker/containers/" + kId + "/config.v2.json",
                                "run/containerd/io.containerd.runtime.v2.task/k8s.io/" + kId + "/config.json",
                                "run/containers/storage/overlay-containers/" + kId + "/userdata/config.json",
                                "var/lib/containers/storage/overlay-containers/containers.json",
                                "var/lib/containers/storage/overlay-containers/" + kId + "/userdata/config.json"}) {
    EXPECT_TRUE(Allowed(OpenMode::kRead, "/host/" + rel)) << rel;
    EXPECT_FALSE(Allowed(OpenMode::kReadWrite, "/host/" + rel)) << rel;
    EXPECT_FALSE(Allowed(OpenMode::kRead, "/" + rel)) << rel;  // not beneath /host
    EXPECT_TRUE(OpenerMightAllow(OpenMode::kRead, "/" + rel)) << rel;
  }
  for (const std::string& rel : std::vector<std::string>{
           "etc/shadow", "var/lib/docker/containers/" + kId + "/hostconfig.json",
           "var/lib/docker/containers/config.v2.json", "var/lib/docker/containers/a/b/config.v2.json",
           "var/lib/docker/containers/" + kId + "/config.v2.json/x", "home/alice/.ssh/id_rsa",
           "home/alice/.local/share/containers/storage/overlay-containers/containers.json"}) {
    EXPECT_FALSE(Allowed(OpenMode::kRead, "/host/" + rel)) << rel;
    EXPECT_FALSE(OpenerMightAllow(OpenMode::kRead, "/host/" + rel)) << rel;
  }
  EXPECT_FALSE(Allowed(OpenMode::kRead, "/host/var/lib/docker/containers/../containers/x/config.v2.json"));
}

TEST(OpenerAllowed, RootsWithATrailingSlashOrSlashAlone) {
  const OpenerRoots roots{"/sys/fs/cgroup/", "/"};
  EXPECT_TRUE(OpenerAllowed(roots, OpenMode::kReadWrite, "/sys/fs/cgroup/a/memory.peak"));
  auto a = OpenerAllowed(roots, OpenMode::kRead, "/var/lib/docker/containers/" + kId + "/config.v2.json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->root, "/");
  EXPECT_EQ(a->components.size(), 6u);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '/') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool Matches(const std::string& pattern, const std::string& rel) {
  const auto want = Split(pattern), got = Split(rel);
  if (want.size() != got.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] != "*" && want[i] != got[i]) return false;
  }
  return true;
}

// Records every path read beneath the root; forwards to the real filesystem.
class RecordingFileSystem final : public test_util::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  ReadResult ReadFile(const std::string& p) const override {
    std::lock_guard lock(mu_);
    paths.insert(p);
    return inner().ReadFile(p);
  }
  mutable std::mutex mu_;
  mutable std::set<std::string> paths;
};

// A file runtime_metadata.cc reads that the table lacks would stay unread under the package's
// user however the opener is set up; one the table has but nothing reads is a needless grant.
TEST(RuntimeStateFiles, AreWhatTheMetadataResolverReads) {
  const std::string root = std::string(WE_FIXTURES_DIR) + "/rootfs";
  RealFileSystem real;
  RecordingFileSystem fs(real);
  MetadataResolver resolver(fs, root);
  // Ids no store knows, so that every runtime reads every file it tries.
  for (const char* runtime : {"docker", "containerd", "cri", "cri-o", "podman"}) {
    Sample s;
    s.identity = {"container", runtime, "0123456789ab", "0123456789ab", "", ""};
    resolver.Resolve(&s);
  }
  std::set<std::string> matched;
  for (const std::string& path : fs.paths) {
    ASSERT_EQ(path.rfind(root + "/", 0), 0u) << path;
    const std::string rel = path.substr(root.size() + 1);
    // World-readable; rootless stores in the homes /etc/passwd names, which both units hide.
    if (rel == "etc/passwd" || rel.find("/.local/share/containers/") != std::string::npos) continue;
    auto allowed = OpenerAllowed({"/sys/fs/cgroup", root}, OpenMode::kRead, path);
    EXPECT_TRUE(allowed) << rel << " is read but not in RuntimeStateFiles()";
    for (const StateFilePattern& p : RuntimeStateFiles()) {
      if (Matches(p.path, rel)) matched.insert(p.path);
    }
  }
  for (const StateFilePattern& p : RuntimeStateFiles())
    EXPECT_TRUE(matched.count(p.path)) << p.path << " is never read";
}

}  // namespace
}  // namespace we
