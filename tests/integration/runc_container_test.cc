// A real OCI container, run by runc from a busybox bundle the test builds, in a cgroup named as
// Docker names it (docker-<id>.scope beneath the test's own cgroup in every hierarchy), with a
// matching config.v2.json in a temporary Docker root: the daemon must show it by its Docker name,
// image and allowed label, with CPU, memory and block I/O agreeing with the kernel's files, and
// the network figures of its own network namespace (a veth pair between two namespaces the test
// creates) counting exactly the pings it sends.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "collectors/parse.h"
#include "test_util/daemon_process.h"
#include "test_util/prom_text.h"
#include "test_util/runc_container.h"
#include "test_util/scratch_cgroup.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
// DaemonProcess, PickFreePort, WaitReady, ScrapeMetrics, Find, FindValue, TempTree, ...
using namespace test_util;

void Replace(std::string* text, const std::string& from, const std::string& to) {
  const auto at = text->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text->replace(at, from.size(), to);
}

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  std::size_t at = 0, n = 0;
  while ((at = text->find(from, at)) != std::string::npos) {
    text->replace(at, from.size(), to);
    at += to.size();
    ++n;
  }
  ASSERT_GT(n, 0u) << from;
}

// The whole disk (major, minor) holding `path`'s file system: throttle rules take disks, not
// partitions.
std::pair<unsigned, unsigned> WholeDiskOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {0, 0};
  const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::string dev = ReadFileOrEmpty(sys + (::access((sys + "/partition").c_str(), F_OK) == 0 ? "/../dev" : "/dev"));
  unsigned ma = 0, mi = 0;
  if (std::sscanf(dev.c_str(), "%u:%u", &ma, &mi) != 2) return {major(st.st_dev), minor(st.st_dev)};
  return {ma, mi};
}

// Two network namespaces the test owns, joined by a veth pair: "<name>a" (the container's,
// 10.199.0.1) and "<name>b" (its peer, 10.199.0.2). IPv6 is off and each side knows the other's
// MAC address for good, so the only frames on the link are the test's own: no ARP, no router or
// neighbour solicitation, and the counters are exactly predictable. Deleting a namespace deletes
// its end of the pair.
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& name) : a_(name + "a"), b_(name + "b") {
    ok_ = Shell("ip netns add " + a_) == 0 && Shell("ip netns add " + b_) == 0;
    for (const std::string& ns : {a_, b_}) {
      ok_ = ok_ && Shell("ip netns exec " + ns +
                         " sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1") == 0;
    }
    ok_ = ok_ &&
          Shell("ip -n " + a_ + " link add veth0 address 02:00:0a:c7:00:01 type veth peer name veth1 " +
                "address 02:00:0a:c7:00:02 netns " + b_) == 0 &&
          Shell("ip -n " + a_ + " addr add 10.199.0.1/24 dev veth0") == 0 &&
          Shell("ip -n " + b_ + " addr add 10.199.0.2/24 dev veth1") == 0 &&
          Shell("ip -n " + a_ + " neigh add 10.199.0.2 lladdr 02:00:0a:c7:00:02 dev veth0 nud permanent") == 0 &&
          Shell("ip -n " + b_ + " neigh add 10.199.0.1 lladdr 02:00:0a:c7:00:01 dev veth1 nud permanent") == 0 &&
          Shell("ip -n " + a_ + " link set veth0 up") == 0 && Shell("ip -n " + b_ + " link set veth1 up") == 0;
  }
  ~NetnsPair() {
    Shell("ip netns del " + a_ + " 2>/dev/null");
    Shell("ip netns del " + b_ + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  std::string container_path() const { return "/run/netns/" + a_; }
  // /proc/net/dev as a process in the container's namespace reads it.
  std::string NetDev() const {
    std::string out;
    FILE* p = ::popen(("ip netns exec " + a_ + " cat /proc/net/dev").c_str(), "r");
    if (!p) return out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
    return out;
  }

 private:
  std::string a_, b_;
  bool ok_ = false;
};

// Reads one kernel figure every 2 ms on its own thread, from construction until Stop(), and keeps
// the smallest and largest value it saw, the last read included.
class KernelFigureRange {
 public:
  explicit KernelFigureRange(std::string path) : path_(std::move(path)), thread_([this] { Run(); }) {}
  ~KernelFigureRange() { Stop(); }
  KernelFigureRange(const KernelFigureRange&) = delete;
  KernelFigureRange& operator=(const KernelFigureRange&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Valid after Stop().
  uint64_t min() const { return min_; }
  uint64_t max() const { return max_; }
  uint64_t reads() const { return reads_; }
  std::string Describe() const {
    return path_ + " ranged over [" + std::to_string(min_) + ", " + std::to_string(max_) + "] in " +
           std::to_string(reads_) + " reads, changing " + std::to_string(changes_) + " times";
  }

 private:
  void Run() {
    do {
      if (auto v = ParseU64(ReadFileOrEmpty(path_))) {
        if (reads_ > 0 && *v != last_) ++changes_;
        min_ = std::min(min_, *v);
        max_ = std::max(max_, *v);
        last_ = *v;
        ++reads_;
      }
      std::this_thread::sleep_for(2ms);
    } while (!stop_);
    // One more read after the caller's last action, so a drop it caused is in range too.
    if (auto v = ParseU64(ReadFileOrEmpty(path_))) {
      min_ = std::min(min_, *v);
      max_ = std::max(max_, *v);
      ++reads_;
    }
  }

  const std::string path_;
  std::atomic<bool> stop_{false};
  uint64_t min_ = UINT64_MAX, max_ = 0, last_ = 0, reads_ = 0, changes_ = 0;
  std::thread thread_;
};

TEST(RuncContainer, NamedImageLabelledAndMeasuredLikeTheKernel) {
  if (::geteuid() != 0) GTEST_SKIP() << "runc needs root";
  const std::string runc = Which("runc");
  const std::string busybox = Which("busybox");
  if (runc.empty() || busybox.empty()) GTEST_SKIP() << "runc or busybox-static missing (scripts/install-deps.sh test)";

  const std::string id = test_util::RandomContainerId();
  std::string own_memory = "/";
  {
    std::istringstream self(ReadFileOrEmpty("/proc/self/cgroup"));
    for (std::string line; std::getline(self, line);) {
      if (line.find(":memory:") != std::string::npos) own_memory = line.substr(line.rfind(':') + 1);
    }
  }
  const std::string cgroup = (own_memory == "/" ? "" : own_memory) + "/docker-" + id + ".scope";

  // Its network: a namespace of its own, wired to a peer namespace.
  NetnsPair netns("we-it-" + id.substr(0, 6));
  ASSERT_TRUE(netns.ok()) << "ip netns / veth set-up failed";
  constexpr int kPings = 20, kPingData = 1000;
  // An ICMP echo frame on the veth: data + 8 (ICMP) + 20 (IPv4) + 14 (Ethernet) bytes.
  constexpr uint64_t kFrameBytes = kPingData + 8 + 20 + 14;

  // The bundle: busybox alone, a shell that burns ~1 s of CPU, writes 4 MiB with O_DIRECT (v1's
  // blkio charges buffered writeback to the root cgroup, direct I/O to the writer's), pings its
  // peer kPings times (each answered), then sleeps. On this machine's kernel (6.18) v1's
  // blkio.throttle.io_service_bytes counts only the I/O of a cgroup with a throttle rule on the
  // device (measured: 4 MiB written directly counts 0 without one), so the container gets a rule
  // no write can reach, as `docker run --device-write-bps` would give it.
  TempTree bundle;
  std::string bundle_error;
  ASSERT_TRUE(MakeBusyboxBundle(bundle, runc, &bundle_error)) << bundle_error;
  std::string spec = test_util::ReadFileOrDie(bundle.Path("config.json"));
  Replace(&spec, "\"terminal\": true", "\"terminal\": false");
  Replace(&spec, "\"readonly\": true", "\"readonly\": false");
  Replace(&spec, "\"args\": [\n\t\t\t\"sh\"\n\t\t]",
          "\"args\": [\"/bin/busybox\", \"sh\", \"-c\", \"i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; "
          "/bin/busybox dd if=/dev/zero of=/tmp/f bs=1048576 count=4 oflag=direct conv=fsync 2>/dev/null; "
          "/bin/busybox ping -q -c " +
              std::to_string(kPings) + " -s " + std::to_string(kPingData) +
              " -i 0.05 -W 2 10.199.0.2 >/dev/null 2>&1; exec /bin/busybox sleep 600\"]");
  Replace(&spec, "\"linux\": {", "\"linux\": {\n\t\t\"cgroupsPath\": \"" + cgroup + "\",");
  const auto [disk_major, disk_minor] = WholeDiskOf(bundle.root());
  Replace(&spec, "\"resources\": {",
          "\"resources\": {\"blockIO\": {\"throttleWriteBpsDevice\": [{\"major\": " + std::to_string(disk_major) +
              ", \"minor\": " + std::to_string(disk_minor) + ", \"rate\": 1099511627776}]},");
  Replace(&spec, "\"type\": \"network\"", "\"type\": \"network\", \"path\": \"" + netns.container_path() + "\"");
  // ping opens a raw ICMP socket.
  ReplaceAll(&spec, "\"CAP_NET_BIND_SERVICE\"", "\"CAP_NET_BIND_SERVICE\", \"CAP_NET_RAW\"");
  bundle.Write("config.json", spec);

  // A Docker root with this container's state file.
  TempTree docker;
  docker.Write("var/lib/docker/containers/" + id + "/config.v2.json",
               "{\"ID\":\"" + id +
                   "\",\"Name\":\"/it-web\",\"Config\":{\"Image\":\"busybox:it\","
                   "\"Env\":[\"SECRET=nope\"],\"Labels\":{\"com.example.team\":\"it\",\"other\":\"x\"}}}");

  const uint16_t port = PickFreePort();
  TempTree conf;
  conf.Write("c.yml", "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port) +
                          "\"\nsampling:\n  interval: 500ms\npaths:\n  rootfs: " + docker.root() +
                          "\nlabels:\n  allow: [\"com.example.*\"]\nlibvirt:\n  uri: \"\"\n");
  DaemonProcess daemon(WE_DAEMON_BINARY, {"--config.file=" + conf.Path("c.yml")});
  ASSERT_TRUE(WaitReady(port, 10s)) << daemon.Stderr();

  RuncContainer container(runc, bundle, "we-it-" + id.substr(0, 8), cgroup);
  ASSERT_TRUE(container.started()) << ReadFileOrEmpty(bundle.Path("runc.log"));

  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port);
        return Find(series, "workload_info", {{"id", id}}).size() == 1;
      },
      10s))
      << daemon.Stderr();
  auto info = Find(series, "workload_info", {{"id", id}})[0];
  EXPECT_EQ(info.labels["name"], "it-web");
  EXPECT_EQ(info.labels["runtime"], "docker");
  EXPECT_EQ(info.labels["image"], "busybox:it");
  EXPECT_EQ(info.labels["label_com_example_team"], "it");
  EXPECT_EQ(info.labels.count("label_other"), 0u);
  for (const auto& [k, v] : info.labels) EXPECT_EQ(v.find("nope"), std::string::npos) << k;

  // Let the burn and the write finish, then two more ticks.
  const std::string unified = "/sys/fs/cgroup/unified" + cgroup;
  const std::string memory = "/sys/fs/cgroup/memory" + cgroup;
  const std::string blkio = "/sys/fs/cgroup/blkio" + cgroup;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string error;
        auto stat = ParseFlatKeyed(ReadFileOrEmpty(unified + "/cpu.stat"), &error);
        static double last = -1;
        const double now = stat ? static_cast<double>(stat->Get("usage_usec").value_or(0)) : -2;
        const bool still = now == last && now > 0;
        last = now;
        std::this_thread::sleep_for(400ms);
        return still;
      },
      20s));
  const std::map<std::string, std::string> me = {{"id", id}};
  EXPECT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port);
        return FindValue(series, "workload_network_transmit_packets_total", me) == static_cast<double>(kPings);
      },
      10s))
      << "the pings never showed";
  // memory.usage_in_bytes counts the charge each CPU holds in reserve for the cgroup (up to 64
  // pages per CPU), and any other cgroup charging on that CPU, this test's own parsing of a scrape
  // included, returns that reserve: on a container of a few hundred KiB the figure can drop by
  // more than 2% a moment after the daemon read it (cgroup-v1 memory.rst, 5.5, calls it "a fuzz
  // value"). So the exported figure must be one the kernel showed while the scraped sample was
  // taken: within the range a poller sees from well before that tick until after the scrape.
  KernelFigureRange kernel_memory(memory + "/memory.usage_in_bytes");
  std::this_thread::sleep_for(1200ms);
  series = ScrapeMetrics(port);
  kernel_memory.Stop();

  std::string error;
  auto stat = ParseFlatKeyed(ReadFileOrEmpty(unified + "/cpu.stat"), &error);
  ASSERT_TRUE(stat) << error;
  const double kernel_cpu = static_cast<double>(*stat->Get("usage_usec")) / 1e6;
  const auto user = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "user"}});
  const auto system = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "system"}});
  ASSERT_TRUE(user && system);
  EXPECT_GT(kernel_cpu, 0.05);
  EXPECT_NEAR(*user + *system, kernel_cpu, kernel_cpu * 0.02);

  const auto usage = FindValue(series, "workload_memory_usage_bytes", me);
  ASSERT_TRUE(usage);
  ASSERT_GT(kernel_memory.reads(), 100u);
  EXPECT_GE(*usage, static_cast<double>(kernel_memory.min())) << kernel_memory.Describe();
  EXPECT_LE(*usage, static_cast<double>(kernel_memory.max())) << kernel_memory.Describe();

  // Block I/O equals the kernel's own account, which holds at least the 4 MiB written directly.
  auto rw = ParseBlkioThrottle(ReadFileOrEmpty(blkio + "/blkio.throttle.io_service_bytes"), &error);
  ASSERT_TRUE(rw) << error;
  EXPECT_GE(rw->second, 4u << 20);
  EXPECT_EQ(FindValue(series, "workload_io_write_bytes_total", me), static_cast<double>(rw->second));
  RecordProperty("io_write_bytes_kernel", std::to_string(rw->second));

  // Network: exactly the pings and their answers, as the namespace's own counters say.
  auto kernel_net = ParseNetDev(netns.NetDev(), &error);
  ASSERT_TRUE(kernel_net) << error;
  EXPECT_EQ(*kernel_net->transmit_packets, static_cast<uint64_t>(kPings));
  EXPECT_EQ(*kernel_net->transmit_bytes, kPings * kFrameBytes);
  EXPECT_EQ(*kernel_net->receive_packets, static_cast<uint64_t>(kPings));
  EXPECT_EQ(*kernel_net->receive_bytes, kPings * kFrameBytes);
  auto exported = [&](const char* name) { return FindValue(series, name, me).value_or(-1); };
  EXPECT_EQ(exported("workload_network_transmit_packets_total"), static_cast<double>(*kernel_net->transmit_packets));
  EXPECT_EQ(exported("workload_network_transmit_bytes_total"), static_cast<double>(*kernel_net->transmit_bytes));
  EXPECT_EQ(exported("workload_network_receive_packets_total"), static_cast<double>(*kernel_net->receive_packets));
  EXPECT_EQ(exported("workload_network_receive_bytes_total"), static_cast<double>(*kernel_net->receive_bytes));
  EXPECT_EQ(exported("workload_network_receive_errors_total"), 0.0);
  EXPECT_EQ(exported("workload_network_transmit_errors_total"), 0.0);
  RecordProperty("network_transmit_bytes_kernel", std::to_string(*kernel_net->transmit_bytes));
  RecordProperty("cpu_seconds_kernel", std::to_string(kernel_cpu));
  RecordProperty("cpu_seconds_exported", std::to_string(*user + *system));
  RecordProperty("memory_bytes_kernel", kernel_memory.Describe());
  RecordProperty("memory_bytes_exported", std::to_string(static_cast<uint64_t>(*usage)));
}

}  // namespace
}  // namespace we
