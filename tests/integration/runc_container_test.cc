// A real OCI container, run by runc from a busybox bundle the test builds, in a cgroup named as
// Docker names it (docker-<id>.scope beneath the test's own cgroup in every hierarchy), with a
// matching config.v2.json in a temporary Docker root: the daemon must show it by its Docker name,
// image and allowed label, with CPU, memory and block I/O agreeing with the kernel's files.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "collectors/parse.h"
#include "test_util/daemon_process.h"
#include "test_util/http_get.h"
#include "test_util/prom_text.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using test_util::DaemonProcess;
using test_util::Find;
using test_util::FindValue;
using test_util::HttpGet;
using test_util::ParsePromText;
using test_util::PickFreePort;
using test_util::PromSeries;
using test_util::TempTree;
using test_util::WaitFor;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Shell(const std::string& command) { return std::system(command.c_str()); }

std::string Which(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    const std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::vector<PromSeries> Scrape(uint16_t port) {
  auto r = HttpGet("127.0.0.1", port, "/metrics");
  if (!r || r->status != 200) return {};
  return ParsePromText(r->body);
}

bool IsDir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The container, and every cgroup directory runc makes for it that did not exist before.
class RuncContainer {
 public:
  RuncContainer(const std::string& runc, const TempTree& bundle, const std::string& name, const std::string& cgroup)
      : runc_(runc), name_(name) {
    // runc uses the same path in every hierarchy; remember which of its parents it will create.
    for (const char* h : {"unified", "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer",
                          "systemd", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"}) {
      const std::string root = std::string("/sys/fs/cgroup/") + h;
      if (!IsDir(root)) continue;
      std::string path = cgroup;
      while (!path.empty() && path != "/") {
        if (!IsDir(root + path)) created_.push_back(root + path);
        path = path.substr(0, path.rfind('/'));
      }
    }
    started_ = Shell(runc_ + " run -d --bundle " + bundle.root() + " " + name_ + " >" + bundle.Path("runc.log") +
                   " 2>&1") == 0;
  }
  ~RuncContainer() {
    Shell(runc_ + " kill " + name_ + " KILL >/dev/null 2>&1");
    for (int i = 0; i < 50 && Shell(runc_ + " delete -f " + name_ + " >/dev/null 2>&1") != 0; ++i) {
      std::this_thread::sleep_for(100ms);
    }
    // Deepest first: the leaf (if runc left it), then the parents it made.
    std::sort(created_.begin(), created_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const std::string& dir : created_) ::rmdir(dir.c_str());
  }
  bool started() const { return started_; }

 private:
  std::string runc_;
  std::string name_;
  std::vector<std::string> created_;
  bool started_ = false;
};

void Replace(std::string* text, const std::string& from, const std::string& to) {
  const auto at = text->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text->replace(at, from.size(), to);
}

TEST(RuncContainer, NamedImageLabelledAndMeasuredLikeTheKernel) {
  if (::geteuid() != 0) GTEST_SKIP() << "runc needs root";
  const std::string runc = Which("runc");
  const std::string busybox = Which("busybox");
  if (runc.empty() || busybox.empty()) GTEST_SKIP() << "runc or busybox-static missing (scripts/install-deps.sh test)";

  std::mt19937_64 rng(std::random_device{}());
  std::string id;
  for (int i = 0; i < 64; ++i) id += "0123456789abcdef"[rng() % 16];
  std::string own_memory = "/";
  {
    std::istringstream self(Slurp("/proc/self/cgroup"));
    for (std::string line; std::getline(self, line);) {
      if (line.find(":memory:") != std::string::npos) own_memory = line.substr(line.rfind(':') + 1);
    }
  }
  const std::string cgroup = (own_memory == "/" ? "" : own_memory) + "/docker-" + id + ".scope";

  // The bundle: busybox alone, a shell that burns ~1 s of CPU, writes 4 MiB with fsync, then sleeps.
  TempTree bundle;
  bundle.MakeDir("rootfs/bin");
  bundle.MakeDir("rootfs/tmp");
  bundle.MakeDir("rootfs/proc");
  bundle.MakeDir("rootfs/dev");
  bundle.MakeDir("rootfs/sys");
  ASSERT_EQ(Shell("cp " + busybox + " " + bundle.Path("rootfs/bin/busybox")), 0);
  ASSERT_EQ(Shell("cd " + bundle.root() + " && " + runc + " spec"), 0);
  std::string spec = test_util::ReadFileOrDie(bundle.Path("config.json"));
  Replace(&spec, "\"terminal\": true", "\"terminal\": false");
  Replace(&spec, "\"readonly\": true", "\"readonly\": false");
  Replace(&spec, "\"args\": [\n\t\t\t\"sh\"\n\t\t]",
          "\"args\": [\"/bin/busybox\", \"sh\", \"-c\", \"i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; "
          "/bin/busybox dd if=/dev/zero of=/tmp/f bs=1048576 count=4 conv=fsync 2>/dev/null; "
          "exec /bin/busybox sleep 600\"]");
  Replace(&spec, "\"linux\": {", "\"linux\": {\n\t\t\"cgroupsPath\": \"" + cgroup + "\",");
  bundle.Write("config.json", spec);

  // A Docker root with this container's state file.
  TempTree docker;
  docker.Write("var/lib/docker/containers/" + id + "/config.v2.json",
               "{\"ID\":\"" + id + "\",\"Name\":\"/it-web\",\"Config\":{\"Image\":\"busybox:it\","
               "\"Env\":[\"SECRET=nope\"],\"Labels\":{\"com.example.team\":\"it\",\"other\":\"x\"}}}");

  const uint16_t port = PickFreePort();
  TempTree conf;
  conf.Write("c.yml", "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port) +
                          "\"\nsampling:\n  interval: 500ms\npaths:\n  rootfs: " + docker.root() +
                          "\nlabels:\n  allow: [\"com.example.*\"]\nlibvirt:\n  uri: \"\"\n");
  DaemonProcess daemon(WE_DAEMON_BINARY, {"--config.file=" + conf.Path("c.yml")});
  ASSERT_TRUE(WaitFor([&] { auto r = HttpGet("127.0.0.1", port, "/-/ready"); return r && r->status == 200; }, 10s))
      << daemon.Stderr();

  RuncContainer container(runc, bundle, "we-it-" + id.substr(0, 8), cgroup);
  ASSERT_TRUE(container.started()) << Slurp(bundle.Path("runc.log"));

  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor([&] {
    series = Scrape(port);
    return Find(series, "workload_info", {{"id", id}}).size() == 1;
  }, 10s)) << daemon.Stderr();
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
  ASSERT_TRUE(WaitFor([&] {
    std::string error;
    auto stat = ParseFlatKeyed(Slurp(unified + "/cpu.stat"), &error);
    static double last = -1;
    const double now = stat ? static_cast<double>(stat->Get("usage_usec").value_or(0)) : -2;
    const bool still = now == last && now > 0;
    last = now;
    std::this_thread::sleep_for(400ms);
    return still;
  }, 20s));
  std::this_thread::sleep_for(1200ms);
  series = Scrape(port);
  const std::map<std::string, std::string> me = {{"id", id}};

  std::string error;
  auto stat = ParseFlatKeyed(Slurp(unified + "/cpu.stat"), &error);
  ASSERT_TRUE(stat) << error;
  const double kernel_cpu = static_cast<double>(*stat->Get("usage_usec")) / 1e6;
  const auto user = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "user"}});
  const auto system = FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "system"}});
  ASSERT_TRUE(user && system);
  EXPECT_GT(kernel_cpu, 0.05);
  EXPECT_NEAR(*user + *system, kernel_cpu, kernel_cpu * 0.02);

  const auto usage = FindValue(series, "workload_memory_usage_bytes", me);
  const auto kernel_memory = ParseU64(Slurp(memory + "/memory.usage_in_bytes"));
  ASSERT_TRUE(usage && kernel_memory);
  EXPECT_NEAR(*usage, static_cast<double>(*kernel_memory), static_cast<double>(*kernel_memory) * 0.02);

  // Block I/O equals the kernel's own account, whatever this kernel counts for an fsync'd write.
  if (auto rw = ParseBlkioThrottle(Slurp(blkio + "/blkio.throttle.io_service_bytes"), &error)) {
    EXPECT_EQ(FindValue(series, "workload_io_write_bytes_total", me), static_cast<double>(rw->second));
    RecordProperty("io_write_bytes_kernel", std::to_string(rw->second));
  }
  RecordProperty("cpu_seconds_kernel", std::to_string(kernel_cpu));
  RecordProperty("cpu_seconds_exported", std::to_string(*user + *system));
  RecordProperty("memory_bytes_kernel", std::to_string(*kernel_memory));
  RecordProperty("memory_bytes_exported", std::to_string(static_cast<uint64_t>(*usage)));
}

}  // namespace
}  // namespace we
