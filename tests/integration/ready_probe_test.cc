// Startup as the brief measures it, on real containers: a runc container in a network namespace
// the test creates (wired to the host by a veth pair) whose server starts listening 2 s after
// its start and answers 200 from 3 s on. workload_listen_seconds must be about 2 and
// workload_ready_seconds about 3, each within one sampling interval. A second container's probe
// points at a socket that accepts connections and never answers: it has no ready time, its
// probe_success is 0, and while its probes hang the ticks keep their pace and scrapes stay fast.

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "test_util/daemon_process.h"
#include "test_util/prom_text.h"
#include "test_util/runc_container.h"
#include "test_util/scratch_cgroup.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

// A runc container from a busybox bundle (test_util/runc_container.h) running `script`, with
// /www for the server's files, optionally in the network namespace at `netns_path`.
class Container {
 public:
  Container(const std::string& runc, const std::string& name, const std::string& cgroup, const std::string& script,
            const std::string& netns_path) {
    std::string error;
    if (!MakeBusyboxBundle(bundle_, runc, &error)) return;
    bundle_.MakeDir("rootfs/www");
    std::string spec = ReadFileOrDie(bundle_.Path("config.json"));
    std::string quoted;
    for (char c : script) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
    if (!ReplaceInSpec(&spec, "\"terminal\": true", "\"terminal\": false") ||
        !ReplaceInSpec(&spec, "\"readonly\": true", "\"readonly\": false") ||
        !ReplaceInSpec(&spec, "\"args\": [\n\t\t\t\"sh\"\n\t\t]",
                       "\"args\": [\"/bin/busybox\", \"sh\", \"-c\", \"" + quoted + "\"]") ||
        !ReplaceInSpec(&spec, "\"linux\": {", "\"linux\": {\n\t\t\"cgroupsPath\": \"" + cgroup + "\",")) {
      return;
    }
    if (!netns_path.empty() &&
        !ReplaceInSpec(&spec, "\"type\": \"network\"", "\"type\": \"network\", \"path\": \"" + netns_path + "\"")) {
      return;
    }
    bundle_.Write("config.json", spec);
    container_ = std::make_unique<RuncContainer>(runc, bundle_, name, cgroup);
  }
  bool started() const { return container_ && container_->started(); }
  std::string log() const { return ReadFileOrEmpty(bundle_.Path("runc.log")); }

 private:
  TempTree bundle_;
  std::unique_ptr<RuncContainer> container_;  // destroyed before the bundle
};

// A network namespace the test owns, joined to the host's by a veth pair: the host's end
// 10.198.77.1/30, the namespace's eth0 10.198.77.2/30. Deleting the namespace deletes the pair.
class VethNamespace {
 public:
  explicit VethNamespace(const std::string& tag) : ns_("we-rp-" + tag), host_if_("werp" + tag) {
    ok_ = Shell("ip netns add " + ns_) == 0 &&
          Shell("ip link add " + host_if_ + " type veth peer name eth0 netns " + ns_) == 0 &&
          Shell("ip addr add 10.198.77.1/30 dev " + host_if_) == 0 && Shell("ip link set " + host_if_ + " up") == 0 &&
          Shell("ip -n " + ns_ + " addr add 10.198.77.2/30 dev eth0") == 0 &&
          Shell("ip -n " + ns_ + " link set eth0 up") == 0 && Shell("ip -n " + ns_ + " link set lo up") == 0;
  }
  ~VethNamespace() {
    Shell("ip link del " + host_if_ + " 2>/dev/null");
    Shell("ip netns del " + ns_ + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  std::string path() const { return "/run/netns/" + ns_; }

 private:
  std::string ns_, host_if_;
  bool ok_ = false;
};

// A socket on 127.0.0.1 that listens and never accepts: connections complete in the kernel's
// backlog (then SYNs are dropped), and no byte ever comes back. A probe to it hangs until its
// deadline.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::string OwnMemoryCgroup() {
  std::istringstream self(ReadFileOrEmpty("/proc/self/cgroup"));
  std::string own = "/";
  for (std::string line; std::getline(self, line);) {
    if (line.find(":memory:") != std::string::npos) own = line.substr(line.rfind(':') + 1);
  }
  return own == "/" ? "" : own;
}

TEST(ReadyProbe, ListenAtTwoSecondsReadyAtThreeAndAHangingTargetDelaysNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "runc and network namespaces need root";
  const std::string runc = Which("runc");
  if (runc.empty() || Which("busybox").empty()) GTEST_SKIP() << "runc or busybox-static missing";

  const std::string web = RandomContainerId(), hung = RandomContainerId();
  const std::string parent = OwnMemoryCgroup();
  VethNamespace netns(web.substr(0, 6));
  ASSERT_TRUE(netns.ok()) << "ip netns / veth set-up failed";
  SilentListener silent;
  ASSERT_NE(silent.port(), 0);

  constexpr double kInterval = 0.5;
  const uint16_t port = PickFreePort();
  TempTree conf;
  conf.Write("c.yml", "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port) +
                          "\"\nsampling:\n  interval: 500ms\nlibvirt:\n  uri: \"\"\n"
                          "probes:\n"
                          "  - match: {id: \"" +
                          web +
                          "\"}\n"
                          "    http: \"http://{ip}:5000/health\"\n"
                          "  - match: {id: \"" +
                          hung +
                          "\"}\n"
                          "    http: \"http://127.0.0.1:" +
                          std::to_string(silent.port()) +
                          "/\"\n"
                          "    timeout: 2s\n");
  DaemonProcess daemon(WE_DAEMON_BINARY, {"--config.file=" + conf.Path("c.yml")});
  ASSERT_TRUE(WaitReady(port, 10s)) << daemon.Stderr();

  // Listening from 2 s (404 for /health), 200 from 3 s, both timed from the container's start.
  Container server(runc, "we-rp-" + web.substr(0, 8), parent + "/docker-" + web + ".scope",
                   "/bin/busybox sleep 2; /bin/busybox httpd -f -p 5000 -h /www & /bin/busybox sleep 1; "
                   "echo ok > /www/health; wait",
                   netns.path());
  ASSERT_TRUE(server.started()) << server.log();
  Container quiet(runc, "we-rp-" + hung.substr(0, 8), parent + "/docker-" + hung + ".scope",
                  "exec /bin/busybox sleep 600", "");
  ASSERT_TRUE(quiet.started()) << quiet.log();

  // Scrape every 100 ms for 8 s: each scrape's latency, and each tick's timestamp.
  std::vector<PromSeries> series;
  std::set<double> ticks;
  double slowest = 0;
  const auto until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until) {
    const auto before = std::chrono::steady_clock::now();
    series = ScrapeMetrics(port);
    slowest = std::max(slowest, std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count());
    if (auto t = FindValue(series, "workload_exporter_last_sample_timestamp_seconds", {})) ticks.insert(*t);
    std::this_thread::sleep_for(100ms);
  }
  const std::map<std::string, std::string> w = {{"id", web}}, h = {{"id", hung}};
  const auto listen = FindValue(series, "workload_listen_seconds", w);
  const auto ready = FindValue(series, "workload_ready_seconds", w);
  ASSERT_TRUE(listen) << daemon.Stderr();
  ASSERT_TRUE(ready) << daemon.Stderr();
  // The figures are taken at ticks (listen) and by probes started at ticks (ready): at most one
  // interval late, plus the moments runc takes between making the cgroup and starting the shell.
  EXPECT_GE(*listen, 2.0 - 0.05);
  EXPECT_LE(*listen, 2.0 + kInterval + 0.3);
  EXPECT_GE(*ready, 3.0 - 0.05);
  EXPECT_LE(*ready, 3.0 + kInterval + 0.3);
  EXPECT_EQ(FindValue(series, "workload_probe_success", w), 1.0);
  EXPECT_GE(FindValue(series, "workload_probe_duration_seconds_count", w).value_or(0), 1.0);
  RecordProperty("listen_seconds", std::to_string(*listen));
  RecordProperty("ready_seconds", std::to_string(*ready));

  // The hung one: no ready time, failure, never listening.
  EXPECT_FALSE(FindValue(series, "workload_ready_seconds", h));
  EXPECT_EQ(FindValue(series, "workload_probe_success", h), 0.0);
  EXPECT_FALSE(FindValue(series, "workload_probe_duration_seconds_count", h));
  EXPECT_FALSE(FindValue(series, "workload_listen_seconds", h));

  // Ticks kept their 500 ms pace while probes hung for 2 s each, and scrapes stayed fast.
  ASSERT_GE(ticks.size(), 12u);
  double widest = 0;
  for (auto it = std::next(ticks.begin()); it != ticks.end(); ++it) widest = std::max(widest, *it - *std::prev(it));
  EXPECT_LE(widest, kInterval + 0.25) << "a tick came late";
  EXPECT_LT(slowest, 0.25) << "a scrape took " << slowest << " s";
  RecordProperty("widest_tick_gap_seconds", std::to_string(widest));
  RecordProperty("slowest_scrape_seconds", std::to_string(slowest));
}

}  // namespace
}  // namespace we
