// Real processes in real cgroups laid out as the platforms of issue #21 lay them out, each found
// once by the real daemon with its kind, runtime and name:
//   * Proxmox VE: qemu-system-x86_64 started through a link named `kvm` with Proxmox's -name and
//     -smbios type=1,uuid= (upstream QEMU refuses pve-qemu's own -id, so that one argument is
//     left to the unit tests), paused (-S, TCG), in qemu.slice/<vmid>.scope; a container's
//     process in lxc/<vmid>/ns and its monitor in lxc.monitor/<vmid>; names from an /etc/pve
//     under --path.rootfs.
//   * Firecracker and Cloud Hypervisor: not in Debian, so integration/helpers/fake_vmm stands in
//     (argv[0], comm and a vCPU thread named as each VMM names them); the Firecracker one in the
//     jailer's firecracker/<id>.
//   * machined: an nspawn-style scope named like libvirt's VM 1 and a libvirt-style scope with a
//     real QEMU, told apart by their /run/systemd/machines records under --path.rootfs.
// Every cgroup is made beneath the test's own cgroup and removed; every process is the test's.

#include <unistd.h>

#include <chrono>
#include <random>

#include <gtest/gtest.h>

#include "test_util/daemon_process.h"
#include "test_util/prom_text.h"
#include "test_util/scratch_cgroup.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";

std::string RandomHex(int n) {
  std::mt19937_64 rng(std::random_device{}());
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdef"[rng() % 16];
  return out;
}
std::string RandomUuid() {
  const std::string h = RandomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}
// A vmid no real guest on this machine has (Proxmox allows up to 999999999).
std::string RandomVmid() { return std::to_string(900000000 + std::mt19937(std::random_device{}())() % 99999999); }

// exec()s `path` with `argv` once released: moved into its cgroup before it runs. The arguments
// are ready before the fork (in the base's constructor), so the child has its own copy.
class ExecChild : public ReleasedChild {
 public:
  ExecChild(const std::string& path, std::vector<std::string> argv) : ReleasedChild(Exec(path, std::move(argv))) {}

 private:
  static std::function<void()> Exec(const std::string& path, std::vector<std::string> argv) {
    auto args = std::make_shared<std::vector<std::string>>(std::move(argv));
    args->insert(args->begin(), path);
    auto ptrs = std::make_shared<std::vector<char*>>();
    for (std::size_t i = 1; i < args->size(); ++i) ptrs->push_back((*args)[i].data());
    ptrs->push_back(nullptr);
    return [args, ptrs] { ::execv((*args)[0].c_str(), ptrs->data()); };
  }
};

// A cgroup path made of nested ScratchCgroups ("qemu.slice", "qemu.slice/100.scope"), below
// `under` (a path some other NestedCgroup made), removed innermost first.
class NestedCgroup {
 public:
  explicit NestedCgroup(const std::vector<std::string>& parts, const std::string& under = "") {
    std::string path = under;
    try {
      for (const std::string& p : parts) {
        path += (path.empty() ? "" : "/") + p;
        levels_.emplace_back(
            std::make_unique<ScratchCgroup>("/sys/fs/cgroup", path, std::vector<std::string>{"memory"}));
      }
    } catch (...) {
      Destroy();
      throw;
    }
  }
  ~NestedCgroup() { Destroy(); }
  const ScratchCgroup& leaf() const { return *levels_.back(); }

 private:
  void Destroy() {
    while (!levels_.empty()) levels_.pop_back();
  }
  std::vector<std::unique_ptr<ScratchCgroup>> levels_;
};

class PlatformsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
  }
  void StartDaemon() {
    port_ = PickFreePort();
    daemon_.emplace(WE_DAEMON_BINARY,
                    std::vector<std::string>{"--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                             "--sampling.interval=500ms", "--path.rootfs=" + rig_.Path("rootfs")});
    ASSERT_TRUE(WaitReady(port_, 10s)) << daemon_->Stderr();
  }
  // workload_info series whose labels include `labels`, once a scrape has `want` of them.
  std::vector<PromSeries> Info(const std::map<std::string, std::string>& labels, std::size_t want = 1) {
    std::vector<PromSeries> found;
    WaitFor(
        [&] {
          found = Find(ScrapeMetrics(port_), "workload_info", labels);
          return found.size() >= want;
        },
        10s);
    return found;
  }
  uint16_t port_ = 0;
  std::optional<DaemonProcess> daemon_;
  TempTree rig_;
};

TEST_F(PlatformsTest, ProxmoxKvmThroughALinkAndAContainerInLxcNs) {
  if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << "qemu-system-x86 missing";
  const std::string vmid = RandomVmid(), ctid = RandomVmid(), uuid = RandomUuid();
  const std::string name = "pve-" + uuid.substr(0, 8), hostname = "ct-" + uuid.substr(0, 8);
  rig_.Write("rootfs/etc/pve/qemu-server/" + vmid + ".conf", "cores: 1\nname: " + name + "\n");
  rig_.Write("rootfs/etc/pve/lxc/" + ctid + ".conf", "arch: amd64\nhostname: " + hostname + "\n[snap]\nhostname: x\n");
  ASSERT_EQ(::symlink(kQemu, rig_.Path("kvm").c_str()), 0);

  std::optional<NestedCgroup> scope, ns, monitor;
  ASSERT_NO_THROW(scope.emplace(std::vector<std::string>{"qemu.slice", vmid + ".scope"}));
  ASSERT_NO_THROW(ns.emplace(std::vector<std::string>{"lxc", ctid, "ns"}));
  ASSERT_NO_THROW(monitor.emplace(std::vector<std::string>{"lxc.monitor", ctid}));
  // As Proxmox starts it, less what a guest needs: paused under TCG, no devices, no display.
  ExecChild qemu(rig_.Path("kvm"), {rig_.Path("kvm"), "-name", name + ",debug-threads=on", "-smbios",
                                    "type=1,manufacturer=Test,uuid=" + uuid, "-S", "-accel", "tcg", "-m", "32",
                                    "-nodefaults", "-display", "none"});
  ASSERT_NO_THROW(scope->leaf().Add(qemu.pid()));
  qemu.Release();
  BurnerChild ct_init(8u << 20, 200);
  ASSERT_NO_THROW(ns->leaf().Add(ct_init.pid()));
  ct_init.Release();
  BurnerChild lxc_monitor(1u << 20, 50);
  ASSERT_NO_THROW(monitor->leaf().Add(lxc_monitor.pid()));
  lxc_monitor.Release();
  StartDaemon();

  auto vm = Info({{"id", uuid}});
  ASSERT_EQ(vm.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(vm[0].labels["kind"], "vm");
  EXPECT_EQ(vm[0].labels["runtime"], "proxmox");
  EXPECT_EQ(vm[0].labels["name"], name);
  EXPECT_TRUE(vm[0].labels["cgroup"].ends_with("/qemu.slice/" + vmid + ".scope")) << vm[0].labels["cgroup"];
  std::vector<PromSeries> series;
  EXPECT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port_);
        return FindValue(series, "workload_vm_vcpus", {{"id", uuid}}) == 1.0;  // "CPU 0/TCG"
      },
      10s));
  EXPECT_TRUE(Find(series, "workload_info", {{"id", vmid}}).empty()) << "the scope is the VM, not a second one";
  EXPECT_TRUE(Find(series, "workload_info", {{"name", name}, {"runtime", "qemu"}}).empty());

  auto ct = Info({{"id", ctid}});
  ASSERT_EQ(ct.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(ct[0].labels["kind"], "container");
  EXPECT_EQ(ct[0].labels["runtime"], "lxc");
  EXPECT_EQ(ct[0].labels["name"], hostname);
  EXPECT_TRUE(ct[0].labels["cgroup"].ends_with("/lxc/" + ctid)) << ct[0].labels["cgroup"];
  for (const PromSeries& s : Find(series, "workload_info", {})) {
    EXPECT_EQ(s.labels.at("cgroup").find("lxc.monitor"), std::string::npos) << "the monitor is no workload";
  }
}

TEST_F(PlatformsTest, FirecrackerInItsJailersCgroupAndACloudHypervisorAlone) {
  const std::string id = "we-" + RandomHex(8), socket = rig_.Path("ch-" + RandomHex(6) + ".sock");
  std::optional<NestedCgroup> jail;
  ASSERT_NO_THROW(jail.emplace(std::vector<std::string>{"firecracker", id}));
  // As the jailer execs its copy of the exec file (src/jailer/src/env.rs exec_command).
  ExecChild fc(WE_FAKE_VMM, {"/firecracker", "--id", id, "--start-time-us", "1", "--start-time-cpu-us", "1"});
  ASSERT_NO_THROW(jail->leaf().Add(fc.pid()));
  fc.Release();
  ExecChild ch(WE_FAKE_VMM, {"cloud-hypervisor", "--api-socket", "path=" + socket, "--cpus", "boot=1"});
  ch.Release();
  StartDaemon();

  auto fc_info = Info({{"runtime", "firecracker"}, {"id", id}});
  ASSERT_EQ(fc_info.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(fc_info[0].labels["kind"], "vm");
  EXPECT_EQ(fc_info[0].labels["name"], id);
  EXPECT_TRUE(fc_info[0].labels["cgroup"].ends_with("/firecracker/" + id)) << fc_info[0].labels["cgroup"];
  auto ch_info = Info({{"runtime", "cloud-hypervisor"}, {"id", socket}});
  ASSERT_EQ(ch_info.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(ch_info[0].labels["cgroup"], "");  // no cgroup of its own: its process's figures

  std::optional<double> fc_vcpu;
  ASSERT_TRUE(WaitFor(
      [&] {
        fc_vcpu = FindValue(ScrapeMetrics(port_), "workload_vm_vcpu_seconds_total", {{"id", id}, {"vcpu", "0"}});
        return fc_vcpu && *fc_vcpu >= 0.25;
      },
      10s))
      << "the 'fc_vcpu 0' thread's burn: " << fc_vcpu.value_or(-1);
  auto series = ScrapeMetrics(port_);
  EXPECT_EQ(FindValue(series, "workload_vm_vcpus", {{"id", id}}), 1.0);
  EXPECT_EQ(FindValue(series, "workload_vm_vcpus", {{"id", socket}}), 1.0);  // "vcpu0"
}

TEST_F(PlatformsTest, MachinedRecordsTellAnNspawnScopeFromLibvirtsWithTheSameShape) {
  if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << "qemu-system-x86 missing";
  const std::string tag = RandomHex(6), uuid = RandomUuid();
  // An nspawn container whose machine name reads as libvirt's VM 1 "web<tag>", and libvirt's VM 2.
  const std::string nspawn = "qemu-1-web" + tag, libvirt = "qemu-2-web" + tag, domain = "web" + tag;
  auto scope = [](const std::string& machine) {
    std::string escaped;
    for (char c : machine) escaped += c == '-' ? std::string("\\x2d") : std::string(1, c);
    return "machine-" + escaped + ".scope";
  };
  std::string id_hex = uuid;
  std::erase(id_hex, '-');
  rig_.Write("rootfs/run/systemd/machines/" + nspawn, "NAME=" + nspawn + "\nSERVICE=systemd-nspawn\nCLASS=container\n");
  rig_.Write("rootfs/run/systemd/machines/" + libvirt,
             "NAME=" + libvirt + "\nSERVICE=libvirt-qemu\nID=" + id_hex + "\nCLASS=vm\n");
  std::optional<NestedCgroup> slice, container_scope, vm_scope;
  ASSERT_NO_THROW(slice.emplace(std::vector<std::string>{"machine.slice"}));
  ASSERT_NO_THROW(container_scope.emplace(std::vector<std::string>{scope(nspawn), "payload"}, "machine.slice"));
  ASSERT_NO_THROW(vm_scope.emplace(std::vector<std::string>{scope(libvirt), "libvirt"}, "machine.slice"));
  BurnerChild payload(4u << 20, 100);
  ASSERT_NO_THROW(container_scope->leaf().Add(payload.pid()));
  payload.Release();
  ExecChild qemu(kQemu, {kQemu, "-name", "guest=" + domain + ",debug-threads=on", "-uuid", uuid, "-S", "-accel", "tcg",
                         "-m", "32", "-nodefaults", "-display", "none"});
  ASSERT_NO_THROW(vm_scope->leaf().Add(qemu.pid()));
  qemu.Release();
  StartDaemon();

  auto vm = Info({{"id", uuid}});
  ASSERT_EQ(vm.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(vm[0].labels["kind"], "vm");
  EXPECT_EQ(vm[0].labels["runtime"], "libvirt");
  EXPECT_EQ(vm[0].labels["name"], domain);
  auto container = Info({{"id", nspawn}});
  ASSERT_EQ(container.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(container[0].labels["kind"], "container");
  EXPECT_EQ(container[0].labels["runtime"], "systemd-nspawn");
  EXPECT_EQ(Find(ScrapeMetrics(port_), "workload_info", {{"name", domain}}).size(), 1u) << "one VM named " << domain;
}

}  // namespace
}  // namespace we
