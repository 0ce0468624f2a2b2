// The first listening socket (CgroupCollector::ReadListeners) and the namespace address the probes
// use: the pure parsers of /proc/PID/net/tcp{,6} and /proc/PID/net/fib_trie, then the collector on
// proc trees written from code.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "collectors/cgroup_collector.h"
#include "collectors/parse.h"
#include "test_util/forwarding_file_system.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using test_util::TempTree;

// Lines as Linux 6.1 writes them (trailing columns shortened where they do not matter).
const std::string kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const std::string kListen5000 =
    "   0: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 "
    "0000000000000000 100 0 0 10 0\n";
const std::string kEstablished =
    "   1: 0100007F:1388 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000  1000        0 41240 1 "
    "0000000000000000 20 4 30 10 -1\n";
const std::string kTcp6Listen =
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 "
    "00:00000000 00000000     0        0 51234 1 0000000000000000 100 0 0 10 0\n";

TEST(ParseTcpListeners, ListenStateOnlyWithInodes) {
  std::string error;
  auto l = ParseTcpListeners(kTcpHeader + kEstablished + kListen5000, &error);
  ASSERT_TRUE(l) << error;
  EXPECT_EQ(l->inodes, std::vector<uint64_t>{41234});
  auto six = ParseTcpListeners(kTcpHeader + kTcp6Listen, &error);
  ASSERT_TRUE(six) << error;
  EXPECT_EQ(six->inodes, std::vector<uint64_t>{51234});
  // A namespace with no sockets: the header alone, or nothing.
  auto none = ParseTcpListeners(kTcpHeader, &error);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->any());
  ASSERT_TRUE(ParseTcpListeners("", &error));
  EXPECT_TRUE(ParseTcpListeners(kTcpHeader + kEstablished, &error)->inodes.empty());
}

TEST(ParseTcpListeners, MalformedLinesNameTheLine) {
  std::string error;
  EXPECT_FALSE(ParseTcpListeners(kTcpHeader + "   0: 00000000:1388 00000000:0000 0A\n", &error));
  EXPECT_EQ(error, "line 2: expected \"sl local rem st ... inode\"");
  EXPECT_FALSE(ParseTcpListeners(
      kTcpHeader + kListen5000 + "   1: 00000000:1388 00000000:0000 XYZ 0:0 00:0 0 0 0 41234 1\n", &error));
  EXPECT_EQ(error, "line 3: state XYZ is not a hex byte");
  EXPECT_FALSE(ParseTcpListeners("   1: 00000000:1388 00000000:0000 0A 0:0 00:0 0 0 0 x41 1\n", &error));
  EXPECT_EQ(error, "line 1: inode x41 is not a number");
  EXPECT_FALSE(ParseTcpListeners("garbage without columns at all but ten of them 1 2 3\n", &error));
  EXPECT_EQ(error, "line 1: expected \"sl local rem st ... inode\"");
}

// A container's fib_trie (Linux 6.1): loopback, and 10.0.3.2/24 on eth0.
const char kFibTrie[] = R"(Main:
  +-- 0.0.0.0/1 2 0 2
     +-- 0.0.0.0/4 2 0 2
        |-- 0.0.0.0
           /0 universe UNICAST
        +-- 10.0.3.0/24 2 0 2
           +-- 10.0.3.0/30 2 0 2
              |-- 10.0.3.0
                 /24 link UNICAST
              |-- 10.0.3.2
                 /32 host LOCAL
           |-- 10.0.3.255
              /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/1 2 0 2
     +-- 10.0.3.0/30 2 0 2
        |-- 10.0.3.2
           /32 host LOCAL
     +-- 127.0.0.0/31 1 0 0
        |-- 127.0.0.1
           /32 host LOCAL
)";

TEST(FibTrie, LocalAddressesOnceEachAndTheFirstNonLoopback) {
  const auto addresses = ParseFibTrieLocalAddresses(kFibTrie);
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(FormatIpv4(addresses[0]), "10.0.3.2");
  EXPECT_EQ(FormatIpv4(addresses[1]), "127.0.0.1");
  EXPECT_EQ(FirstNonLoopbackIpv4(kFibTrie), "10.0.3.2");
  // Only loopback (a fresh runc namespace), nothing, and lines it does not know.
  EXPECT_EQ(FirstNonLoopbackIpv4("Main:\n  +-- 127.0.0.0/8\n     |-- 127.0.0.1\n        /32 host LOCAL\n"), "");
  EXPECT_EQ(FirstNonLoopbackIpv4(""), "");
  EXPECT_EQ(FirstNonLoopbackIpv4("|-- 999.1.1.1\n /32 host LOCAL\n|-- 10.1.1.1\n /32 link BROADCAST\n"), "");
}

TEST(FibTrie, Ipv4Text) {
  EXPECT_EQ(ParseIpv4("10.0.3.2"), (10u << 24) | (3u << 8) | 2u);
  EXPECT_EQ(FormatIpv4(*ParseIpv4("255.255.255.255")), "255.255.255.255");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 "}) {
    EXPECT_FALSE(ParseIpv4(bad)) << bad;
  }
}

// Counts the reads of net/tcp, to show that an instance that listens is not looked at again.
class CountingFileSystem final : public test_util::ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  ReadResult ReadFile(const std::string& p) const override {
    if (p.ends_with("/net/tcp")) {
      std::lock_guard lock(mu_);
      ++tcp_reads_;
    }
    return inner().ReadFile(p);
  }
  int tcp_reads() const {
    std::lock_guard lock(mu_);
    return tcp_reads_;
  }

 private:
  mutable std::mutex mu_;
  mutable int tcp_reads_ = 0;
};

const std::string kOwn(64, 'a'), kHostShared(64, 'b'), kHostUnreadable(64, 'c'), kQuiet(64, 'd');

TEST(CgroupCollector, FirstListenerPerNamespaceAndByDescriptorInTheHosts) {
  RealFileSystem real;
  CountingFileSystem fs(real);
  TempTree cg, proc;
  cg.Write("cgroup.controllers", "cpu memory\n");
  auto container = [&](const std::string& id, const std::string& pids) {
    cg.Write("system.slice/docker-" + id + ".scope/cgroup.procs", pids);
  };
  container(kOwn, "100\n");
  container(kHostShared, "300\n301\n");  // --network=host, its socket behind 301's descriptor
  container(kHostUnreadable, "400\n");   // --network=host, descriptors not ours to read
  container(kQuiet, "500\n");            // its own namespace, nothing listening yet
  auto same_namespace = [&](const std::string& pid, const std::string& as) {
    proc.MakeDir(pid + "/net");
    for (const char* f : {"dev", "tcp", "tcp6"}) {
      std::filesystem::create_hard_link(proc.Path(as + "/net/" + f), proc.Path(pid + "/net/" + f));
    }
  };
  const std::string dev = "Inter-| a\n face | b\n";
  proc.Write("1/net/dev", dev);
  proc.Write("1/net/tcp", kTcpHeader + kListen5000);  // the host's listener, inode 41234
  proc.Write("1/net/tcp6", kTcpHeader);
  proc.Write("1/net/fib_trie", kFibTrie);
  proc.Write("100/net/dev", dev);
  proc.Write("100/net/tcp", kTcpHeader + kEstablished);
  proc.Write("100/net/tcp6", kTcpHeader + kTcp6Listen);
  proc.Write("100/net/fib_trie", kFibTrie);
  proc.Write("500/net/dev", dev);
  proc.Write("500/net/tcp", kTcpHeader);
  for (const std::string pid : {"300", "301", "400"}) same_namespace(pid, "1");
  proc.MakeDir("300/fd");
  proc.MakeDir("301/fd");
  std::filesystem::create_symlink("/dev/null", proc.Path("301/fd/0"));
  std::filesystem::create_symlink("socket:[41234]", proc.Path("301/fd/3"));

  CgroupCollector c(fs, cg.root(), false, proc.root());
  auto collect = [&] {
    CollectResult r = c.Collect();
    EXPECT_TRUE(r.errors.empty()) << r.errors[0];
    std::map<std::string, Sample> by_id;
    for (Sample& s : r.samples) by_id[s.identity.id] = s;
    return by_id;
  };
  auto first = collect();
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[kOwn].listening, true);  // its tcp6 listener
  EXPECT_EQ(first[kOwn].netns_ipv4, "10.0.3.2");
  EXPECT_EQ(first[kHostShared].listening, true);              // the host's socket, behind one of its descriptors
  EXPECT_EQ(first[kHostShared].netns_ipv4, "");               // the host's namespace has no {ip}
  EXPECT_EQ(first[kHostUnreadable].listening, std::nullopt);  // cannot tell: absent, not false
  EXPECT_EQ(first[kQuiet].listening, false);
  EXPECT_EQ(first[kQuiet].netns_ipv4, "");  // no fib_trie

  // Found once, not read again: only the two that have not listened are looked at.
  const int reads = fs.tcp_reads();
  auto second = collect();
  EXPECT_EQ(fs.tcp_reads() - reads, 2);
  EXPECT_EQ(second[kOwn].listening, true);
  EXPECT_EQ(second[kOwn].netns_ipv4, "10.0.3.2");
  EXPECT_EQ(second[kHostShared].listening, true);

  // The quiet one starts listening: seen on the next tick.
  proc.Write("500/net/tcp", kTcpHeader + kListen5000);
  EXPECT_EQ(collect()[kQuiet].listening, true);

  // A host-namespace workload whose descriptors hold no listener: false, once all were read.
  proc.Remove("301/fd/3");
  CgroupCollector fresh(fs, cg.root(), false, proc.root());
  for (const Sample& s : fresh.Collect().samples) {
    if (s.identity.id == kHostShared) {
      EXPECT_EQ(s.listening, false);
    }
  }
  // Without a procfs nothing is known.
  CgroupCollector no_proc(fs, cg.root());
  for (const Sample& s : no_proc.Collect().samples) EXPECT_EQ(s.listening, std::nullopt);
}

// Says every cgroup directory under `root` was made an hour ago: its workloads are seen late.
class SeenLateFileSystem final : public test_util::ForwardingFileSystem {
 public:
  SeenLateFileSystem(const FileSystem& inner, std::string root) : ForwardingFileSystem(inner), root_(std::move(root)) {}
  std::optional<FileStat> Stat(const std::string& p) const override {
    auto st = inner().Stat(p);
    if (st && p.starts_with(root_)) st->ctime_seconds -= 3600;
    return st;
  }

 private:
  std::string root_;
};

// A workload that never listens is looked at every tick for its first minute, then every 30 ticks;
// one first seen long after its start (its listen time could not be given) is never looked at.
TEST(CgroupCollector, ListenersAreLookedForOnlyWhileTheirTimeCanBeGiven) {
  RealFileSystem real;
  TempTree cg, proc;
  cg.Write("cgroup.controllers", "cpu memory\n");
  cg.Write("system.slice/docker-" + kQuiet + ".scope/cgroup.procs", "500\n");
  const std::string dev = "Inter-| a\n face | b\n";
  proc.Write("1/net/dev", dev);
  proc.Write("1/net/tcp", kTcpHeader);
  proc.Write("500/net/dev", dev);
  proc.Write("500/net/tcp", kTcpHeader);

  CountingFileSystem fresh_fs(real);
  CgroupCollector fresh(fresh_fs, cg.root(), false, proc.root());
  for (int tick = 0; tick < 120; ++tick) fresh.Collect();
  EXPECT_EQ(fresh_fs.tcp_reads(), 60 + 2);  // ticks 0-59, then 60 and 90

  SeenLateFileSystem late(real, cg.root());
  CountingFileSystem late_fs(late);
  CgroupCollector seen_late(late_fs, cg.root(), false, proc.root());
  for (int tick = 0; tick < 10; ++tick) {
    for (const Sample& s : seen_late.Collect().samples) EXPECT_EQ(s.listening, std::nullopt);
  }
  EXPECT_EQ(late_fs.tcp_reads(), 0);
}

}  // namespace
}  // namespace we
