// The cgroup collector over small trees written by each test: layout detection, discovery and
// cross-hierarchy joining, each figure's source, and what happens when files vanish or lie.

#include "collectors/cgroup_collector.h"

#include <sys/resource.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "test_util/forwarding_file_system.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using test_util::ReadFileOrDie;
using test_util::TempTree;

const std::string kId = "aa4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";

// A fault-injecting wrapper: files listed in `errors` fail with EIO, in `absent` vanish.
class FaultyFileSystem : public test_util::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  ReadResult ReadFile(const std::string& path) const override {
    for (const auto& s : errors) {
      if (path.ends_with(s)) return ReadResult::Error(path + ": Input/output error");
    }
    for (const auto& s : absent) {
      if (path.ends_with(s)) return ReadResult::Absent();
    }
    return inner().ReadFile(path);
  }
  std::vector<std::string> errors, absent;
};

// Writes each {name, content} of `files` under `prefix` (a directory and its '/') in `t`.
void WriteFiles(const TempTree& t, const std::string& prefix,
                std::initializer_list<std::pair<const char*, const char*>> files) {
  for (const auto& [name, content] : files) t.Write(prefix + name, content);
}

void WriteV2Workload(const TempTree& t, const std::string& dir) {
  WriteFiles(
      t, dir + "/",
      {
          {"cgroup.procs", "100\n"},
          {"cgroup.threads", "100\n101\n"},
          {"cpu.stat",
           "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 50\nnr_throttled 5\n"
           "throttled_usec 400000\n"},
          {"cpu.max", "50000 100000\n"},
          {"memory.current", "104857600\n"},
          {"memory.stat", "anon 62914560\nfile 41943040\ninactive_file 20971520\nactive_file 20971520\n"},
          {"memory.swap.current", "4096\n"},
          {"memory.max", "max\n"},
          {"memory.peak", "209715200\n"},
          {"memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n"},
          {"pids.current", "2\n"},
          {"cpu.pressure",
           "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 "
           "total=500000\n"},
          {"memory.pressure",
           "some avg10=0.00 avg60=0.00 avg300=0.00 total=20\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n"},
          {"io.pressure",
           "some avg10=0.00 avg60=0.00 avg300=0.00 total=300\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=200\n"},
      });
}

// A cgroup2 tree (its root's cgroup.controllers saying `controllers`) holding one Docker
// container, `dir`, with every figure's file (WriteV2Workload).
class V2ContainerTree : public TempTree {
 public:
  explicit V2ContainerTree(const std::string& controllers) {
    Write("cgroup.controllers", controllers);
    WriteV2Workload(*this, dir);
  }
  // Replaces the container with a new one of the same name. The old directory stays alive
  // (renamed) while the new one is made, so that the filesystem cannot hand the new one the same
  // inode.
  void Recreate() const {
    std::filesystem::rename(Path(dir), Path("old-instance"));
    WriteV2Workload(*this, dir);
  }

  const std::string dir = "system.slice/docker-" + kId + ".scope";
};

TEST(CgroupLayout, DetectsV2V1HybridAndNone) {
  RealFileSystem fs;
  TempTree v2;
  v2.Write("cgroup.controllers", "cpu memory pids\n");
  EXPECT_EQ(DetectCgroupLayout(fs, v2.root()).kind, CgroupLayout::Kind::kV2);

  TempTree v1;
  v1.Write("memory/cgroup.procs", "1\n");
  v1.Write("cpu,cpuacct/cgroup.procs", "1\n");
  v1.Write("systemd/cgroup.procs", "1\n");
  auto layout = DetectCgroupLayout(fs, v1.root());
  EXPECT_EQ(layout.kind, CgroupLayout::Kind::kV1);
  EXPECT_FALSE(layout.unified);
  ASSERT_TRUE(layout.V1Path("cpuacct"));
  EXPECT_EQ(*layout.V1Path("cpu"), v1.Path("cpu,cpuacct"));
  EXPECT_EQ(*layout.V1Path("cpuacct"), v1.Path("cpu,cpuacct"));
  EXPECT_FALSE(layout.V1Path("systemd"));

  TempTree hybrid;
  hybrid.Write("memory/cgroup.procs", "1\n");
  hybrid.Write("unified/cgroup.controllers", "");
  hybrid.Write("unified/cgroup.procs", "1\n");
  auto h = DetectCgroupLayout(fs, hybrid.root());
  EXPECT_EQ(h.kind, CgroupLayout::Kind::kHybrid);
  EXPECT_EQ(*h.unified, hybrid.Path("unified"));

  TempTree empty;
  EXPECT_EQ(DetectCgroupLayout(fs, empty.root()).kind, CgroupLayout::Kind::kNone);
  EXPECT_EQ(DetectCgroupLayout(fs, empty.Path("missing")).kind, CgroupLayout::Kind::kNone);
}

TEST(CgroupCollector, ReadsEveryV2Figure) {
  RealFileSystem fs;
  V2ContainerTree t("cpu memory pids\n");
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.identity.runtime, "docker");
  EXPECT_EQ(s.identity.id, kId);
  EXPECT_EQ(s.cgroup, "/" + t.dir);
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 3.0);
  EXPECT_DOUBLE_EQ(*s.cpu.user_seconds, 2.0);
  EXPECT_DOUBLE_EQ(*s.cpu.system_seconds, 1.0);
  EXPECT_EQ(*s.cpu.periods, 50u);
  EXPECT_EQ(*s.cpu.throttled_periods, 5u);
  EXPECT_DOUBLE_EQ(*s.cpu.throttled_seconds, 0.4);
  EXPECT_DOUBLE_EQ(*s.cpu.limit_cores, 0.5);
  EXPECT_EQ(*s.memory.usage_bytes, 104857600u);
  EXPECT_EQ(*s.memory.working_set_bytes, 104857600u - 20971520u);
  EXPECT_EQ(*s.memory.rss_bytes, 62914560u);
  EXPECT_EQ(*s.memory.cache_bytes, 41943040u);
  EXPECT_EQ(*s.memory.swap_bytes, 4096u);
  EXPECT_FALSE(s.memory.limit_bytes);  // "max"
  EXPECT_EQ(*s.memory.max_usage_bytes, 209715200u);
  EXPECT_EQ(*s.memory.oom_kills, 1u);
  EXPECT_EQ(*s.tasks, 2u);
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 1.0);
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.full_seconds, 0.5);
  EXPECT_DOUBLE_EQ(*s.io_pressure.full_seconds, 0.0002);
  EXPECT_TRUE(s.start_time_seconds.has_value());
  EXPECT_NE(s.instance, 0u);
}

TEST(CgroupCollector, NestedCgroupsBelongToTheirContainer) {
  RealFileSystem fs;
  TempTree t;
  t.Write("cgroup.controllers", "cpu memory pids\n");
  std::string dir = "machine.slice/libpod-" + kId + ".scope";
  t.Write(dir + "/cgroup.threads", "");
  t.Write(dir + "/container/cgroup.threads", "7\n8\n9\n");
  t.Write(dir + "/container/docker-" + std::string(64, 'b') + ".scope/cgroup.threads", "10\n");
  t.Write(dir + "/cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  ASSERT_EQ(r.samples.size(), 1u);  // the docker-in-podman cgroup is part of the podman container
  EXPECT_EQ(r.samples[0].identity.runtime, "podman");
  // No pids controller: threads are counted in the container and everything nested in it.
  EXPECT_EQ(*r.samples[0].tasks, 4u);
}

// A pod holds its containers, a system container (LXC, Incus, nspawn) the containers run inside
// it: both are workloads, the inner one with the outer one's id as its parent. Services inside
// a container are the container's, not the host's.
TEST(CgroupCollector, WorkloadsInsideWorkloadsCarryTheirParent) {
  RealFileSystem fs;
  TempTree t;
  t.Write("cgroup.controllers", "cpu memory pids\n");
  const std::string other(64, 'b'), third(64, 'c');
  const std::string pod =
      "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice";
  for (const std::string& dir :
       std::vector<std::string>{"lxc/200", "lxc/200/ns/init.scope", "lxc/200/ns/system.slice/ssh.service",
                                "lxc/200/ns/system.slice/docker-" + kId + ".scope", "lxc.payload.web",
                                "lxc.payload.web/system.slice/docker-" + other + ".scope", pod,
                                pod + "/cri-containerd-" + third + ".scope", "system.slice/ssh.service"}) {
    t.Write(dir + "/cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
  }
  CgroupCollector c(fs, t.root(), /*services=*/true);
  std::vector<std::string> errors;
  auto found = c.Discover(&errors);
  std::map<std::string, std::string> parents;  // id -> parent
  for (const auto& [key, loc] : found) parents[loc.identity.id] = loc.identity.parent;
  EXPECT_EQ(parents, (std::map<std::string, std::string>{{"200", ""},
                                                         {kId, "200"},
                                                         {"web", ""},
                                                         {other, "web"},
                                                         {"6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b", ""},
                                                         {third, "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"},
                                                         {"ssh", ""}}));
  EXPECT_TRUE(errors.empty());
}

// As on this project's CI machines: the v1 memory cgroup sits under another parent than the
// cgroup2 one; the two are joined by identity.
TEST(CgroupCollector, HybridJoinsAcrossHierarchiesByIdentity) {
  RealFileSystem fs;
  TempTree t;
  WriteFiles(t, "unified/", {{"cgroup.controllers", ""}, {"cgroup.procs", "1\n"}});
  WriteFiles(t, "unified/docker-" + kId + ".scope/",
             {
                 {"cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnice_usec 0\n"},
                 {"cgroup.threads", "55\n"},
                 {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"},
             });
  t.Write("memory/cgroup.procs", "1\n");
  WriteFiles(t, "memory/process_api/0123abcd/docker-" + kId + ".scope/",
             {
                 {"memory.usage_in_bytes", "10485760\n"},
                 {"memory.limit_in_bytes", "9223372036854771712\n"},
                 {"memory.max_usage_in_bytes", "20971520\n"},
                 {"memory.stat",
                  "cache 4096\nrss 8192\ninactive_file 0\ntotal_cache 2097152\ntotal_rss 8388608\ntotal_swap 0\n"
                  "total_inactive_file 1048576\n"},
                 {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"},
                 {"tasks", "55\n"},
             });
  t.Write("cpu/cgroup.procs", "1\n");
  WriteFiles(t, "cpu/docker-" + kId + ".scope/",
             {
                 {"cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 2000000000\n"},
                 {"cpu.cfs_quota_us", "150000\n"},
                 {"cpu.cfs_period_us", "100000\n"},
             });

  CgroupCollector c(fs, t.root());
  EXPECT_EQ(c.layout().kind, CgroupLayout::Kind::kHybrid);
  CollectResult r = c.Collect();
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.cgroup, "/docker-" + kId + ".scope");  // the cgroup2 path wins
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 1.5);       // from unified cpu.stat
  EXPECT_EQ(*s.cpu.throttled_periods, 4u);           // from v1 cpu.stat
  EXPECT_DOUBLE_EQ(*s.cpu.throttled_seconds, 2.0);
  EXPECT_DOUBLE_EQ(*s.cpu.limit_cores, 1.5);
  EXPECT_EQ(*s.memory.usage_bytes, 10485760u);                   // from v1 memory
  EXPECT_EQ(*s.memory.working_set_bytes, 10485760u - 1048576u);  // total_inactive_file
  EXPECT_EQ(*s.memory.rss_bytes, 8388608u);                      // total_rss, not rss
  EXPECT_EQ(*s.memory.cache_bytes, 2097152u);
  EXPECT_FALSE(s.memory.limit_bytes);  // PAGE_COUNTER_MAX means unlimited
  EXPECT_EQ(*s.memory.max_usage_bytes, 20971520u);
  EXPECT_EQ(*s.memory.oom_kills, 2u);
  EXPECT_EQ(*s.tasks, 1u);  // cgroup.threads of the unified dir
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 7e-6);
}

TEST(CgroupCollector, V1CpuacctFallbacks) {
  RealFileSystem fs;
  TempTree t;
  t.Write("cpu,cpuacct/cgroup.procs", "1\n");
  std::string d = "cpu,cpuacct/docker/" + kId + "/";
  t.Write(d + "cpuacct.usage", "2500000000\n");
  t.Write(d + "cpuacct.stat", "user 150\nsystem 50\n");  // no usage_user/usage_sys: USER_HZ ticks
  t.Write(d + "cpu.cfs_quota_us", "-1\n");
  t.Write(d + "cpu.cfs_period_us", "100000\n");
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 2.5);
  EXPECT_DOUBLE_EQ(*s.cpu.user_seconds, 1.5);
  EXPECT_DOUBLE_EQ(*s.cpu.system_seconds, 0.5);
  EXPECT_FALSE(s.cpu.limit_cores);  // quota -1
  EXPECT_FALSE(s.memory.usage_bytes);
}

TEST(CgroupCollector, MissingFilesAreAbsentNotErrors) {
  RealFileSystem fs;
  TempTree t;
  t.Write("cgroup.controllers", "\n");
  t.MakeDir("system.slice/docker-" + kId + ".scope");
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_FALSE(r.samples[0].cpu.usage_seconds);
  EXPECT_FALSE(r.samples[0].memory.usage_bytes);
  EXPECT_FALSE(r.samples[0].tasks);
}

TEST(CgroupCollector, GarbageAndIoErrorsNameTheFileAndKeepTheRest) {
  RealFileSystem real;
  V2ContainerTree t("cpu memory\n");
  t.Write(t.dir + "/memory.stat", "anon 1\nfile garbage\n");
  FaultyFileSystem fs(real);
  fs.errors = {"/cpu.pressure"};
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0], t.Path(t.dir + "/cpu.pressure") + ": Input/output error");
  EXPECT_EQ(r.errors[1],
            t.Path(t.dir + "/memory.stat") + ": line 2: expected \"key <unsigned integer>\", got \"file garbage\"");
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 3.0);
  EXPECT_EQ(*s.memory.usage_bytes, 104857600u);
  EXPECT_FALSE(s.memory.rss_bytes);
  // Without memory.stat's inactive_file the working set is the usage.
  EXPECT_EQ(*s.memory.working_set_bytes, 104857600u);
  EXPECT_FALSE(s.cpu_pressure.some_seconds);
  EXPECT_DOUBLE_EQ(*s.io_pressure.some_seconds, 0.0003);
}

TEST(CgroupCollector, VanishedFilesMidReadAreNotErrors) {
  RealFileSystem real;
  V2ContainerTree t("cpu memory\n");
  FaultyFileSystem fs(real);
  fs.absent = {"/memory.current", "/cpu.stat"};  // as if the cgroup went away between list and read
  CgroupCollector c(fs, t.root());
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_FALSE(r.samples[0].cpu.usage_seconds);
  EXPECT_FALSE(r.samples[0].memory.usage_bytes);
}

TEST(CgroupCollector, RecreatedCgroupIsANewInstance) {
  RealFileSystem fs;
  V2ContainerTree t("cpu\n");
  CgroupCollector c(fs, t.root());
  uint64_t first = c.Collect().samples.at(0).instance;
  EXPECT_EQ(c.Collect().samples.at(0).instance, first);
  t.Recreate();
  EXPECT_NE(c.Collect().samples.at(0).instance, first);
  t.Remove(t.dir);
  EXPECT_TRUE(c.Collect().samples.empty());
}

// The v2 per-descriptor memory.peak reset (Linux 6.12+), as far as a fixture can take it: a
// FileSystem whose watermarks behave as the kernel documents (each descriptor keeps its own mark,
// a write resets it to the current usage). The real descriptor code is RealFileSystem's
// OpenResettableWatermark, which a real v2 host exercises.
class KernelLikeWatermarks : public test_util::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  struct Mark {
    uint64_t usage = 100;
    uint64_t peak = 100;
    int open = 0;
  };
  class Descriptor : public ResettableWatermark {
   public:
    explicit Descriptor(Mark* mark) : mark_(mark) {
      ++mark_->open;
      mark_->peak = mark_->usage;  // opening resets once
    }
    ~Descriptor() override { --mark_->open; }
    std::optional<uint64_t> ReadAndReset() override {
      const uint64_t value = mark_->peak;
      mark_->peak = mark_->usage;
      return value;
    }

   private:
    Mark* mark_;
  };
  std::unique_ptr<ResettableWatermark> OpenResettableWatermark(const std::string& path) const override {
    if (!inner().ReadFile(path).ok()) return nullptr;
    ++opens;
    return std::make_unique<Descriptor>(&mark);
  }
  // Memory use moves: the mark follows its highest point.
  void Use(uint64_t bytes) const {
    mark.usage = bytes;
    mark.peak = std::max(mark.peak, bytes);
  }

  mutable Mark mark;
  mutable int opens = 0;
};

TEST(CgroupCollector, IntervalPeakReadsAndResetsTheWatermarkEachTick) {
  RealFileSystem real;
  V2ContainerTree t("cpu memory\n");
  KernelLikeWatermarks fs(real);
  CgroupCollector c(fs, t.root());

  CollectResult first = c.Collect();  // opens the descriptor; nothing to report yet
  ASSERT_EQ(first.samples.size(), 1u);
  EXPECT_FALSE(first.samples[0].memory.interval_peak_bytes);
  EXPECT_EQ(fs.mark.open, 1);

  fs.Use(900);  // a spike between ticks...
  fs.Use(200);  // ...gone by the next one
  EXPECT_EQ(c.Collect().samples[0].memory.interval_peak_bytes, std::optional<uint64_t>(900));
  // The next interval starts from the usage at the reset, not from the old spike.
  fs.Use(300);
  EXPECT_EQ(c.Collect().samples[0].memory.interval_peak_bytes, std::optional<uint64_t>(300));
  EXPECT_EQ(fs.opens, 1);  // one descriptor, kept open

  // A recreated cgroup gets a new descriptor; a removed one closes its descriptor.
  t.Recreate();
  EXPECT_FALSE(c.Collect().samples[0].memory.interval_peak_bytes);
  EXPECT_EQ(fs.opens, 2);
  EXPECT_EQ(fs.mark.open, 1);
  t.Remove(t.dir);
  EXPECT_TRUE(c.Collect().samples.empty());
  EXPECT_EQ(fs.mark.open, 0);
}

TEST(CgroupCollector, RealWatermarkResetNeedsCgroup2) {
  RealFileSystem real;
  TempTree t;
  t.Write("memory.peak", "4096\n");
  EXPECT_EQ(real.OpenResettableWatermark(t.Path("memory.peak")), nullptr);  // not on cgroup2
  EXPECT_EQ(real.OpenResettableWatermark(t.Path("missing")), nullptr);
  EXPECT_EQ(ReadFileOrDie(t.Path("memory.peak")), "4096\n");  // and never written to
}

TEST(RealFileSystem, CountEntriesListsOrAsksProcfs) {
  RealFileSystem fs;
  TempTree t;
  t.Write("a", "");
  t.Write("b", "");
  t.MakeDir("c");
  EXPECT_EQ(fs.CountEntries(t.root()), std::optional<uint64_t>(3));
  EXPECT_FALSE(fs.CountEntries(t.Path("missing")));
  // procfs's own count of this process's descriptors (Linux 6.2+; listing elsewhere), which the
  // listing itself sees one more of: the descriptor it lists through.
  const auto counted = fs.CountEntries("/proc/self/fd");
  const auto listed = fs.ListDir("/proc/self/fd");
  ASSERT_TRUE(counted && listed);
  EXPECT_GE(*counted + 1, listed->size());
  EXPECT_LE(*counted, listed->size());
}

// Network: from /proc/PID/net/dev of one process per cgroup, once per network namespace, never
// the host's namespace; a process gone mid-read leaves the figures absent without an error.
TEST(CgroupCollector, NetworkOncePerNamespaceAndNeverTheHosts) {
  RealFileSystem fs;
  TempTree cg, proc;
  cg.Write("cgroup.controllers", "cpu memory\n");
  const std::string id2(64, 'b'), id3(64, 'c'), id4(64, 'd'), id5(64, 'e');
  auto container = [&](const std::string& id, const std::string& pid) {
    cg.Write("system.slice/docker-" + id + ".scope/cgroup.procs", pid + "\n");
  };
  container(kId, "100");  // its own namespace
  container(id2, "200");  // shares 100's namespace (a pod): not counted twice
  container(id3, "300");  // the host's namespace (--network=host)
  container(id4, "400");  // exited: no /proc/400
  container(id5, "500");  // garbage net/dev
  // A namespace is its net/dev's inode, as in /proc: processes sharing one see the same file.
  auto same_namespace = [&](const std::string& pid, const std::string& as) {
    proc.MakeDir(pid + "/net");
    std::filesystem::create_hard_link(proc.root() + "/" + as + "/net/dev", proc.root() + "/" + pid + "/net/dev");
  };
  const std::string header = "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes    packets\n";
  proc.Write("1/net/dev", header + "eth0: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n");
  proc.Write("100/net/dev", header +
                                "lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n"
                                "eth0: 5000 40 1 0 0 0 0 0 7000 50 2 0 0 0 0 0\n");
  same_namespace("200", "100");
  same_namespace("300", "1");
  proc.Write("500/net/dev", header + "eth0 5000\n");

  CgroupCollector c(fs, cg.root(), false, proc.root());
  CollectResult r = c.Collect();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], proc.root() + "/500/net/dev: line 3: expected \"interface: counters\"");
  std::map<std::string, const Sample*> by_id;
  for (const Sample& s : r.samples) by_id[s.identity.id] = &s;
  ASSERT_EQ(by_id.size(), 5u);
  const NetworkFigures& own = by_id[kId]->network;
  ASSERT_TRUE(own.receive_bytes);
  EXPECT_EQ(*own.receive_bytes, 5000u);
  EXPECT_EQ(*own.receive_packets, 40u);
  EXPECT_EQ(*own.receive_errors, 1u);
  EXPECT_EQ(*own.transmit_bytes, 7000u);
  EXPECT_EQ(*own.transmit_packets, 50u);
  EXPECT_EQ(*own.transmit_errors, 2u);
  for (const std::string& id : {id2, id3, id4, id5}) EXPECT_FALSE(by_id[id]->network.receive_bytes) << id;

  // Without a procfs the collector reads no network at all.
  CgroupCollector no_proc(fs, cg.root());
  for (const Sample& s : no_proc.Collect().samples) EXPECT_FALSE(s.network.receive_bytes);
}

// What the collector keeps between ticks (cgroup_collector.h): descriptors, absent files and
// limits. cgroupfs rewrites a file's content in place, never replacing the file, so these tests
// write in place too (TempTree::Overwrite; TempTree::Write replaces by rename).

// Counts ReadFile calls by file name (the part after the last '/').
class CountingFileSystem : public test_util::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  ReadResult ReadFile(const std::string& path) const override {
    ++reads[path.substr(path.rfind('/') + 1)];
    return inner().ReadFile(path);
  }
  std::optional<std::vector<DirEntry>> ListDir(const std::string& p) const override {
    ++lists;
    return inner().ListDir(p);
  }
  mutable std::map<std::string, int> reads;
  mutable int lists = 0;
};

// V2ContainerTree's container and a collector over it through `fs` (the real filesystem, which
// keeps descriptors, unless given), which may keep `budget` descriptors (none by default, as
// CgroupCollector).
struct CachedContainer {
  CachedContainer(const FileSystem& fs, const std::string& controllers, uint64_t budget = 0)
      : t(controllers), c(fs, t.root()) {
    c.set_descriptor_budget(budget);
  }
  explicit CachedContainer(const std::string& controllers, uint64_t budget = 0)
      : CachedContainer(Real(), controllers, budget) {}
  static const FileSystem& Real() {
    static const RealFileSystem real;
    return real;
  }
  // One tick; its first sample (std::out_of_range, failing the test, when there is none).
  Sample First() { return c.Collect().samples.at(0); }

  V2ContainerTree t;
  CgroupCollector c;
};

TEST(CgroupCollectorCache, KeepsDescriptorsAndReadsFreshContentThroughThem) {
  CachedContainer cc("cpu memory pids\n", 1000);
  auto& [t, c] = cc;
  ASSERT_EQ(*cc.First().memory.usage_bytes, 104857600u);
  // 10 files read every tick (no io.stat here; pids.current, so no cgroup.threads); the limits
  // (cpu.max, memory.max) are read by path, rarely.
  EXPECT_EQ(c.kept_descriptors(), 10u);
  t.Overwrite(t.dir + "/memory.current", "4096\n");
  t.Overwrite(t.dir + "/cpu.stat", "usage_usec 9000000\nuser_usec 6000000\nsystem_usec 3000000\n");
  const Sample s = cc.First();
  EXPECT_EQ(*s.memory.usage_bytes, 4096u);
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 9.0);
  EXPECT_FALSE(s.cpu.periods);  // a key gone from the new content is gone from the figures
  EXPECT_EQ(c.kept_descriptors(), 10u);

  // A recreated cgroup: the old descriptors go, new ones read the new files.
  t.Recreate();
  t.Overwrite(t.dir + "/memory.current", "8192\n");
  EXPECT_EQ(*cc.First().memory.usage_bytes, 8192u);
  EXPECT_EQ(c.kept_descriptors(), 10u);
  // A removed one closes them.
  t.Remove(t.dir);
  EXPECT_TRUE(c.Collect().samples.empty());
  EXPECT_EQ(c.kept_descriptors(), 0u);
}

// A kept descriptor's first read stops there only when it came back well short of a page; a
// file longer than that (and than the read buffer, 16 KiB) is read to its end, tick after tick.
TEST(CgroupCollectorCache, KeptDescriptorsReadFilesLongerThanAPageWhole) {
  CachedContainer cc("cpu memory pids\n", 1000);
  auto& [t, c] = cc;
  auto long_stat = [](uint64_t anon) {
    std::string text;
    for (int i = 0; text.size() < 40'000; ++i) text += "filler_key_" + std::to_string(i) + " 12345\n";
    return text + "inactive_file 1048576\nanon " + std::to_string(anon) + "\n";  // the keys read come last
  };
  t.Overwrite(t.dir + "/memory.stat", long_stat(7340032));
  Sample s = cc.First();
  EXPECT_EQ(s.memory.rss_bytes, 7340032u);
  EXPECT_EQ(s.memory.working_set_bytes, 104857600u - 1048576u);
  t.Overwrite(t.dir + "/memory.stat", long_stat(9437184));
  s = cc.First();
  EXPECT_EQ(s.memory.rss_bytes, 9437184u);
  EXPECT_EQ(c.kept_descriptors(), 10u);
}

TEST(CgroupCollectorCache, WithoutDescriptorsToSpareReadsByPath) {
  CachedContainer cc("cpu memory pids\n", 3);
  auto& [t, c] = cc;
  EXPECT_EQ(*cc.First().memory.usage_bytes, 104857600u);
  EXPECT_EQ(c.kept_descriptors(), 3u);
  c.set_descriptor_budget(0);
  t.Remove(t.dir);
  c.Collect();
  WriteV2Workload(t, t.dir);
  CollectResult r = c.Collect();
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(c.kept_descriptors(), 0u);
  EXPECT_EQ(*r.samples.at(0).memory.usage_bytes, 104857600u);
  // Replaced files are read afresh when read by path.
  t.Write(t.dir + "/memory.current", "1\n");
  EXPECT_EQ(*cc.First().memory.usage_bytes, 1u);
}

TEST(CgroupCollectorCache, AbsentFilesAreProbedOnlyEveryReprobeTicks) {
  RealFileSystem real;
  CountingFileSystem fs(real);
  TempTree t;
  t.Write("cgroup.controllers", "cpu\n");
  const std::string dir = "system.slice/docker-" + kId + ".scope";
  t.Write(dir + "/cpu.stat", "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
  t.Write(dir + "/pids.current", "1\n");
  CgroupCollector c(fs, t.root());
  c.Collect();
  EXPECT_EQ(fs.reads["memory.current"], 1);
  for (uint64_t i = 1; i < CgroupCollector::kReprobeTicks; ++i) c.Collect();
  EXPECT_EQ(fs.reads["memory.current"], 1);
  // The memory controller is enabled: the file shows up at the next probe.
  t.Write(dir + "/memory.current", "4096\n");
  const Sample s = c.Collect().samples.at(0);
  EXPECT_EQ(fs.reads["memory.current"], 3);  // the probe, then the read through the new handle
  EXPECT_EQ(*s.memory.usage_bytes, 4096u);
}

TEST(CgroupCollectorCache, WalksTheTreeOnlyWhenItChanged) {
  RealFileSystem real;
  CountingFileSystem fs(real);
  CachedContainer cc(fs, "cpu memory pids\n");
  auto& [t, c] = cc;
  const std::string& a = t.dir;
  const std::string b = "system.slice/docker-" + std::string(64, 'b') + ".scope";
  t.MakeDir("user.slice");
  if (real.Stat(t.root())->links < 2) GTEST_SKIP() << "this filesystem does not count subdirectories";
  ASSERT_EQ(c.Collect().samples.size(), 1u);
  const int walked = fs.lists;
  EXPECT_EQ(c.Collect().samples.size(), 1u);
  EXPECT_EQ(fs.lists, walked);  // nothing changed: no listing
  WriteV2Workload(t, b);        // a new container: system.slice's link count changes
  EXPECT_EQ(c.Collect().samples.size(), 2u);
  const int before = fs.lists;
  t.Remove(a);  // gone: system.slice's link count changes too
  CollectResult r = c.Collect();
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].identity.id, std::string(64, 'b'));
  EXPECT_GT(fs.lists, before);
  // A workload made deeper down, under a directory the walk listed.
  t.MakeDir("user.slice/user-1000.slice");
  WriteV2Workload(t, "user.slice/user-1000.slice/docker-" + std::string(64, 'c') + ".scope");
  EXPECT_EQ(c.Collect().samples.size(), 2u);
  WriteV2Workload(t, "user.slice/user-1000.slice/docker-" + std::string(64, 'd') + ".scope");
  EXPECT_EQ(c.Collect().samples.size(), 3u);
}

TEST(CgroupCollectorCache, LimitsAreReReadOnTheSlowCadence) {
  RealFileSystem real;
  CountingFileSystem fs(real);
  CachedContainer cc(fs, "cpu memory\n");
  auto& [t, c] = cc;
  EXPECT_DOUBLE_EQ(*cc.First().cpu.limit_cores, 0.5);
  const int first = fs.reads["cpu.max"];
  t.Write(t.dir + "/cpu.max", "150000 100000\n");  // docker update --cpus 1.5
  int ticks = 0;
  for (; ticks < 2 * static_cast<int>(CgroupCollector::kSlowTicks); ++ticks) {
    const Sample s = cc.First();
    ASSERT_TRUE(s.cpu.limit_cores);  // the kept value between re-reads
    if (*s.cpu.limit_cores == 1.5) break;
  }
  EXPECT_LT(ticks, static_cast<int>(CgroupCollector::kSlowTicks));
  // Every tick read every other file; the limit was read once or twice more, not every tick.
  EXPECT_LE(fs.reads["cpu.max"] - first, 4);
  EXPECT_GE(fs.reads["cpu.stat"], ticks + 1);
}

// The files only a scrape shows are re-read on the ticks the sampler marks (a scrape is near) and
// kept in between; CPU usage and memory, which feed the windows, are read on every tick; a new
// instance reads everything at once.
TEST(CgroupCollectorCache, ScrapeFiguresAreReadOnlyOnTheTicksMarkedForAScrape) {
  RealFileSystem real;
  CountingFileSystem fs(real);
  CachedContainer cc(fs, "cpu memory pids\n", 1000);
  auto& [t, c] = cc;
  Sample s = cc.First();
  EXPECT_EQ(*s.tasks, 2u);
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 1.0);
  const int psi_reads = fs.reads["cpu.pressure"];
  const int events_reads = fs.reads["memory.events"];

  c.set_scrape_figures_due(false);
  t.Overwrite(t.dir + "/pids.current", "7\n");
  t.Overwrite(t.dir + "/cpu.pressure",
              "some avg10=0.00 avg60=0.00 avg300=0.00 total=4000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 "
              "total=500000\n");
  t.Overwrite(t.dir + "/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n");
  t.Overwrite(t.dir + "/memory.current", "4096\n");
  t.Overwrite(t.dir + "/cpu.stat", "usage_usec 9000000\nuser_usec 6000000\nsystem_usec 3000000\n");
  for (int i = 0; i < 3; ++i) {
    s = cc.First();
    // Kept: the figures of the last tick that read them.
    EXPECT_EQ(*s.tasks, 2u);
    EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 1.0);
    EXPECT_EQ(*s.memory.oom_kills, 1u);
    // Fresh: what the windows and the CPU rate are made of.
    EXPECT_EQ(*s.memory.usage_bytes, 4096u);
    EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 9.0);
  }
  EXPECT_EQ(fs.reads["cpu.pressure"], psi_reads);
  EXPECT_EQ(fs.reads["memory.events"], events_reads);

  c.set_scrape_figures_due(true);
  s = cc.First();
  EXPECT_EQ(*s.tasks, 7u);
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 4.0);
  EXPECT_EQ(*s.memory.oom_kills, 2u);
  EXPECT_EQ(fs.reads["cpu.pressure"], psi_reads + 1);

  // A recreated cgroup is read whole on its first tick, marked or not.
  c.set_scrape_figures_due(false);
  t.Recreate();
  t.Overwrite(t.dir + "/pids.current", "9\n");
  s = cc.First();
  EXPECT_EQ(*s.tasks, 9u);
  EXPECT_DOUBLE_EQ(*s.cpu_pressure.some_seconds, 1.0);
}

// Where there is no pids.current, the thread count is a scrape's figure too.
TEST(CgroupCollectorCache, CountedThreadsAreKeptBetweenScrapes) {
  CachedContainer cc("cpu memory\n", 1000);
  auto& [t, c] = cc;
  t.Remove(t.dir + "/pids.current");
  c.Collect();  // the probe that finds pids.current gone
  ASSERT_EQ(*cc.First().tasks, 2u);
  c.set_scrape_figures_due(false);
  t.Overwrite(t.dir + "/cgroup.threads", "100\n101\n102\n");
  EXPECT_EQ(*cc.First().tasks, 2u);
  c.set_scrape_figures_due(true);
  EXPECT_EQ(*cc.First().tasks, 3u);
}

}  // namespace
}  // namespace we
