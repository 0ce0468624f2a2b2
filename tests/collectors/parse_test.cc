#include "collectors/parse.h"

#include <gtest/gtest.h>

namespace we {
namespace {

TEST(ParseU64, AcceptsTrailingNewlineAndRejectsGarbage) {
  EXPECT_EQ(ParseU64("12345\n"), 12345u);
  EXPECT_EQ(ParseU64("  7 "), 7u);
  EXPECT_EQ(ParseU64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseU64("18446744073709551616"));  // overflow
  EXPECT_FALSE(ParseU64(""));
  EXPECT_FALSE(ParseU64("\n"));
  EXPECT_FALSE(ParseU64("-1"));
  EXPECT_FALSE(ParseU64("12a"));
  EXPECT_FALSE(ParseU64("1 2"));
}

TEST(ParseI64, Negative) {
  EXPECT_EQ(ParseI64("-1\n"), -1);
  EXPECT_EQ(ParseI64("50000"), 50000);
  EXPECT_FALSE(ParseI64("max"));
}

TEST(ParseMaxOrU64, MaxMeansUnlimited) {
  std::string err;
  auto max = ParseMaxOrU64("max\n", &err);
  ASSERT_TRUE(max);
  EXPECT_FALSE(max->value);
  auto v = ParseMaxOrU64("536870912\n", &err);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value, 536870912u);
  EXPECT_FALSE(ParseMaxOrU64("maximum", &err));
  EXPECT_EQ(err, "expected an unsigned integer or \"max\", got \"maximum\"");
}

TEST(ParseFlatKeyed, CpuStatAsLinux6Writes) {
  std::string err;
  auto stat = ParseFlatKeyed(
      "usage_usec 32656847\nuser_usec 17079625\nsystem_usec 15577221\nnice_usec 0\n"
      "core_sched.force_idle_usec 0\nnr_periods 10\nnr_throttled 3\nthrottled_usec 250000\n",
      &err);
  ASSERT_TRUE(stat) << err;
  EXPECT_EQ(stat->Get("usage_usec"), 32656847u);
  EXPECT_EQ(stat->Get("core_sched.force_idle_usec"), 0u);
  EXPECT_EQ(stat->Get("throttled_usec"), 250000u);
  EXPECT_FALSE(stat->Get("burst_usec"));
  EXPECT_EQ(stat->entries().size(), 8u);
  EXPECT_EQ(stat->entries().front().first, "usage_usec");
}

TEST(ParseFlatKeyed, MalformedLineNamesItsNumber) {
  std::string err;
  EXPECT_FALSE(ParseFlatKeyed("anon 1\nfile\n", &err));
  EXPECT_EQ(err, "line 2: expected \"key <unsigned integer>\", got \"file\"");
  EXPECT_FALSE(ParseFlatKeyed("anon -5\n", &err));
  EXPECT_EQ(err, "line 1: expected \"key <unsigned integer>\", got \"anon -5\"");
  EXPECT_FALSE(ParseFlatKeyed("anon 5x\n", &err));
}

TEST(ParseFlatKeyed, EmptyFileIsEmptyNotError) {
  std::string err;
  auto stat = ParseFlatKeyed("", &err);
  ASSERT_TRUE(stat);
  EXPECT_TRUE(stat->entries().empty());
}

TEST(ParseCpuMax, QuotaPeriodAndMax) {
  std::string err;
  auto unlimited = ParseCpuMax("max 100000\n", &err);
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(*unlimited);
  auto half = ParseCpuMax("50000 100000\n", &err);
  ASSERT_TRUE(half && *half);
  EXPECT_DOUBLE_EQ(**half, 0.5);
  auto two = ParseCpuMax("200000 100000", &err);
  EXPECT_DOUBLE_EQ(**two, 2.0);
  EXPECT_FALSE(ParseCpuMax("max", &err));
  EXPECT_FALSE(ParseCpuMax("50000 0", &err));
  EXPECT_EQ(err, "invalid period \"0\"");
  EXPECT_FALSE(ParseCpuMax("x 100000", &err));
  EXPECT_EQ(err, "invalid quota \"x\"");
}

TEST(ParsePressure, SomeAndFullTotalsInSeconds) {
  std::string err;
  auto p = ParsePressure(
      "some avg10=0.02 avg60=0.72 avg300=0.54 total=3424502\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n",
      &err);
  ASSERT_TRUE(p) << err;
  EXPECT_DOUBLE_EQ(*p->some_seconds, 3.424502);
  EXPECT_DOUBLE_EQ(*p->full_seconds, 1.5);
}

TEST(ParsePressure, OldKernelWithoutFullLine) {
  std::string err;
  auto p = ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &err);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(*p->some_seconds, 0);
  EXPECT_FALSE(p->full_seconds);
}

TEST(ParsePressure, Malformed) {
  std::string err;
  EXPECT_FALSE(ParsePressure("some avg10=0.00 avg60=0.00\n", &err));
  EXPECT_EQ(err.substr(0, 7), "line 1:");
  EXPECT_FALSE(ParsePressure("half total=5\n", &err));
  EXPECT_FALSE(ParsePressure("some total=abc\n", &err));
}

TEST(ParseProcCgroup, HybridHost) {
  std::string err;
  auto entries = ParseProcCgroup(
      "9:name=systemd:/\n4:memory:/process_api/28611a225c80f1ee60deae5fdb03ad85\n2:cpu,cpuacct:/\n0::/\n", &err);
  ASSERT_TRUE(entries) << err;
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[1].hierarchy_id, 4);
  EXPECT_EQ((*entries)[1].controllers, std::vector<std::string>{"memory"});
  EXPECT_EQ((*entries)[1].path, "/process_api/28611a225c80f1ee60deae5fdb03ad85");
  EXPECT_EQ((*entries)[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_TRUE((*entries)[3].controllers.empty());
  EXPECT_EQ((*entries)[3].path, "/");
  EXPECT_FALSE(ParseProcCgroup("x::/\n", &err));
  EXPECT_FALSE(ParseProcCgroup("0:/\n", &err));
  EXPECT_FALSE(ParseProcCgroup("0::relative\n", &err));
}

TEST(ParseProcPidStat, CommWithSpacesAndParens) {
  std::string err;
  // A QEMU vCPU thread name has spaces and a slash; a hostile comm may hold ')'.
  std::string line =
      "4242 (CPU 0/KVM) S 1 4242 4242 0 -1 4194368 100 0 0 0 150 250 0 0 20 0 3 0 12345 1073741824 5000 "
      "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  auto st = ParseProcPidStat(line, &err);
  ASSERT_TRUE(st) << err;
  EXPECT_EQ(st->comm, "CPU 0/KVM");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->utime_ticks, 150u);
  EXPECT_EQ(st->stime_ticks, 250u);
  EXPECT_EQ(st->starttime_ticks, 12345u);
  EXPECT_EQ(st->vsize_bytes, 1073741824u);
  EXPECT_EQ(st->rss_pages, 5000u);

  auto tricky = ParseProcPidStat("1 (a) b) R 0 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 99 4096 2 0\n", &err);
  ASSERT_TRUE(tricky) << err;
  EXPECT_EQ(tricky->comm, "a) b");
  EXPECT_EQ(tricky->utime_ticks, 7u);

  EXPECT_FALSE(ParseProcPidStat("1 (x) R 0 1", &err));
  EXPECT_FALSE(ParseProcPidStat("garbage", &err));
}

// The clocks' boot time counts where it lies in btime's second (this host's /proc); a fixture's
// btime, far from this host's boot, stays.
TEST(PreciseBootTime, TheClocksWithinBtimesSecondElseBtime) {
  EXPECT_EQ(PreciseBootTime(1764300000, 1764300000.77), 1764300000.77);
  EXPECT_EQ(PreciseBootTime(1764300000, 1764300000.0), 1764300000.0);
  EXPECT_EQ(PreciseBootTime(1764300000, 1764299999.995), 1764299999.995);  // read a hair apart
  EXPECT_EQ(PreciseBootTime(1764300000, 1764300003.2), 1764300000.0);
  EXPECT_EQ(PreciseBootTime(1764300000, 1700000000.5), 1764300000.0);
  EXPECT_EQ(PreciseBootTime(1764300000, std::nullopt), 1764300000.0);
}

TEST(ParseBootTimeAndLimits, Basic) {
  std::string err;
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nbtime 1764300000\nprocesses 5\n", &err), 1764300000u);
  EXPECT_FALSE(ParseBootTime("cpu 1\n", &err));
  std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max open files            1024                 524288               files     \n";
  auto max = ParseMaxOpenFiles(limits, &err);
  ASSERT_TRUE(max && *max);
  EXPECT_EQ(**max, 1024u);
  auto unlimited =
      ParseMaxOpenFiles("Max open files            unlimited            unlimited            files\n", &err);
  ASSERT_TRUE(unlimited);
  EXPECT_FALSE(*unlimited);
}

TEST(CountNonEmptyLines, Counts) {
  EXPECT_EQ(CountNonEmptyLines(""), 0u);
  EXPECT_EQ(CountNonEmptyLines("1\n2\n3\n"), 3u);
  EXPECT_EQ(CountNonEmptyLines("1\n\n3"), 2u);
}

TEST(ParseIoStat, SumsEveryDevice) {
  std::string error;
  auto io = ParseIoStat(
      "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
      "254:0 rbytes=1000 wbytes=2000 rios=10 wios=20 dbytes=0 dios=0\n",
      &error);
  ASSERT_TRUE(io) << error;
  EXPECT_EQ(io->read_bytes, std::optional<uint64_t>(1100));
  EXPECT_EQ(io->write_bytes, std::optional<uint64_t>(2200));
  EXPECT_EQ(io->reads, std::optional<uint64_t>(11));
  EXPECT_EQ(io->writes, std::optional<uint64_t>(22));
  // No I/O yet: Linux 6.12 writes an empty io.stat (captured in tests/fixtures/cgroup/v2_host).
  // Its counters exist at 0, so the series are there from the first scrape.
  auto empty = ParseIoStat("", &error);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->read_bytes, std::optional<uint64_t>(0));
  EXPECT_EQ(empty->write_bytes, std::optional<uint64_t>(0));
  EXPECT_EQ(empty->reads, std::optional<uint64_t>(0));
  EXPECT_EQ(empty->writes, std::optional<uint64_t>(0));
  EXPECT_FALSE(ParseIoStat("rbytes=1\n", &error));
  EXPECT_EQ(error, "line 1: expected \"MAJ:MIN key=value ...\", got \"rbytes=1\"");
  EXPECT_FALSE(ParseIoStat("8:0 rbytes=x\n", &error));
  EXPECT_EQ(error, "line 1: rbytes is not a number");
}

TEST(ParseBlkioThrottle, SumsReadAndWriteLines) {
  std::string error;
  auto rw = ParseBlkioThrottle(
      "8:0 Read 10\n8:0 Write 20\n8:0 Sync 25\n8:0 Async 5\n8:0 Discard 0\n8:0 Total 30\n"
      "8:16 Read 1\n8:16 Write 2\nTotal 33\n",
      &error);
  ASSERT_TRUE(rw) << error;
  EXPECT_EQ(rw->first, 11u);
  EXPECT_EQ(rw->second, 22u);
  auto none = ParseBlkioThrottle("Total 0\n", &error);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->first, 0u);
  EXPECT_FALSE(ParseBlkioThrottle("8:0 Read lots\n", &error));
  EXPECT_EQ(error, "line 1: \"lots\" is not a number");
}

// Captured from this machine's /proc/net/dev (Linux 6.18), with a container's eth0 added.
constexpr char kNetDev[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
    "compressed\n"
    "    lo: 14902407176  807198    0    0    0     0          0         0 14902407176  807198    0    0    0     0    "
    "   0          0\n"
    "  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0   "
    "       0\n"
    "  eth0: 1741508770   44752    3    0    0     0          0         0  1631068   24424    1    0    0     0       "
    "0          0\n"
    "veth1a2b:100 2 0 0 0 0 0 0 200 4 0 0 0 0 0 0\n";

TEST(ParseNetDev, SumsEveryInterfaceButLoopback) {
  std::string error;
  auto net = ParseNetDev(kNetDev, &error);
  ASSERT_TRUE(net) << error;
  EXPECT_EQ(*net->receive_bytes, 1741508770u + 100u);
  EXPECT_EQ(*net->receive_packets, 44752u + 2u);
  EXPECT_EQ(*net->receive_errors, 3u);
  EXPECT_EQ(*net->transmit_bytes, 1631068u + 200u);
  EXPECT_EQ(*net->transmit_packets, 24424u + 4u);
  EXPECT_EQ(*net->transmit_errors, 1u);
}

TEST(ParseNetDev, OnlyLoopbackIsZeroNotAbsent) {
  std::string error;
  auto net = ParseNetDev(std::string(kNetDev).substr(0, std::string(kNetDev).find("  ifb0")), &error);
  ASSERT_TRUE(net) << error;
  EXPECT_EQ(*net->receive_bytes, 0u);
  EXPECT_EQ(*net->transmit_errors, 0u);
}

TEST(ParseNetDev, MalformedLinesNameTheLine) {
  std::string error;
  EXPECT_FALSE(ParseNetDev("Inter-|\n face |\neth0 12 13\n", &error));
  EXPECT_EQ(error, "line 3: expected \"interface: counters\"");
  EXPECT_FALSE(ParseNetDev("eth0: 1 2 3\n", &error));
  EXPECT_EQ(error, "line 1: expected 16 counters, got 3");
  EXPECT_FALSE(ParseNetDev("eth0: 1 2 3 4 5 6 7 8 9 x 11 12 13 14 15 16\n", &error));
  EXPECT_EQ(error, "line 1: counter 10 is not a number");
}

}  // namespace
}  // namespace we
