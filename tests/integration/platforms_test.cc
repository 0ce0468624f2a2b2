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
//   * Workloads inside workloads: Docker-named scopes inside an LXC-named and an Incus-named
//     container, and a Kubernetes pod's slice with an application and a sandbox container.
//   * KubeVirt: a real QEMU in a cgroup laid out as a virt-launcher pod's compute container.
//   * Incus: a project's container, and a VM's QEMU (the fake VMM) in incusd's cgroup.
//   * Kata: a real QEMU named as Kata's sandbox VM in kata_overhead/<sandbox id>, beside its pod.
// Every cgroup is made beneath the test's own cgroup and removed; every process is the test's.

#include <unistd.h>

#include <algorithm>
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
  void StartDaemon(const std::vector<std::string>& more = {}) {
    port_ = PickFreePort();
    std::vector<std::string> args{"--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                  "--sampling.interval=500ms", "--path.rootfs=" + rig_.Path("rootfs")};
    args.insert(args.end(), more.begin(), more.end());
    daemon_.emplace(WE_DAEMON_BINARY, args);
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

// Docker inside a Proxmox VE container and inside an Incus container: real processes in a
// docker-<id>.scope under lxc/<vmid>/ns/system.slice and under lxc.payload.<name>/system.slice.
// Each inner container is a workload of its own with the outer one's id as its parent, and the
// outer one's CPU holds the inner one's (so a total sums the top-level ones only).
TEST_F(PlatformsTest, DockerInsideAnLxcAndAnIncusContainerCarriesItsParent) {
  const std::string ctid = RandomVmid(), incus = "we" + RandomHex(6);
  const std::string inner_pve = RandomContainerId(), inner_incus = RandomContainerId();
  std::optional<NestedCgroup> pve, pve_docker, payload, incus_docker;
  ASSERT_NO_THROW(pve.emplace(std::vector<std::string>{"lxc", ctid, "ns", "init.scope"}));
  ASSERT_NO_THROW(pve_docker.emplace(std::vector<std::string>{"system.slice", "docker-" + inner_pve + ".scope"},
                                     "lxc/" + ctid + "/ns"));
  ASSERT_NO_THROW(payload.emplace(std::vector<std::string>{"lxc.payload." + incus, "init.scope"}));
  ASSERT_NO_THROW(incus_docker.emplace(std::vector<std::string>{"system.slice", "docker-" + inner_incus + ".scope"},
                                       "lxc.payload." + incus));
  BurnerChild pve_init(2u << 20, 50), pve_app(8u << 20, 400), incus_init(2u << 20, 50), incus_app(8u << 20, 400);
  ASSERT_NO_THROW(pve->leaf().Add(pve_init.pid()));
  ASSERT_NO_THROW(pve_docker->leaf().Add(pve_app.pid()));
  ASSERT_NO_THROW(payload->leaf().Add(incus_init.pid()));
  ASSERT_NO_THROW(incus_docker->leaf().Add(incus_app.pid()));
  for (BurnerChild* c : {&pve_init, &pve_app, &incus_init, &incus_app}) c->Release();
  StartDaemon();

  for (const auto& [outer, inner] : {std::pair{ctid, inner_pve}, std::pair{incus, inner_incus}}) {
    auto container = Info({{"id", inner}});
    ASSERT_EQ(container.size(), 1u) << daemon_->Stderr();
    EXPECT_EQ(container[0].labels["runtime"], "docker");
    EXPECT_EQ(container[0].labels["parent"], outer);
    auto system = Info({{"id", outer}, {"runtime", "lxc"}});
    ASSERT_EQ(system.size(), 1u) << daemon_->Stderr();
    EXPECT_FALSE(system[0].labels.contains("parent")) << "a top-level workload has no parent";
  }
  // The outer container's CPU counts the inner one's: the burn shows in both.
  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port_);
        auto inner = FindValue(series, "workload_cpu_seconds_total", {{"id", inner_pve}, {"mode", "user"}});
        return inner && *inner >= 0.3;
      },
      10s));
  auto cpu = [&](const std::string& id) {
    return FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "user"}}).value_or(-1) +
           FindValue(series, "workload_cpu_seconds_total", {{"id", id}, {"mode", "system"}}).value_or(0);
  };
  EXPECT_GE(cpu(ctid), cpu(inner_pve));
  EXPECT_GE(cpu(incus), cpu(inner_incus));
}

// A Kubernetes pod as the kubelet (systemd driver) and containerd lay it out: the pod's slice,
// an application container and the sandbox (pause) container in cri-containerd-<id>.scope each,
// their OCI bundles' config.json under --path.rootfs. The pod is a workload named
// "<namespace>/<pod>", its container carries it as parent, its sandbox is folded into it.
TEST_F(PlatformsTest, APodIsAWorkloadItsContainersChildrenAndItsSandboxPartOfIt) {
  const std::string hex = RandomHex(32);
  const std::string uid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                          hex.substr(16, 4) + "-" + hex.substr(20);
  std::string uid_ = uid;
  std::replace(uid_.begin(), uid_.end(), '-', '_');
  const std::string app = RandomContainerId(), pause = RandomContainerId(), pod = "shop-" + hex.substr(0, 6);
  const std::string bundles = "rootfs/run/containerd/io.containerd.runtime.v2.task/k8s.io/";
  const std::string common =
      R"("io.kubernetes.cri.sandbox-id":")" + pause + R"(","io.kubernetes.cri.sandbox-name":")" + pod +
      R"(","io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.sandbox-uid":")" + uid + R"(")";
  rig_.Write(
      bundles + app + "/config.json",
      R"({"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"shop",)"
      R"("io.kubernetes.cri.image-name":"registry.example.com/shop:2",)" +
          common + "}}");
  rig_.Write(bundles + pause + "/config.json",
             R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox",)" + common + "}}");
  const std::string slice = "kubepods-burstable-pod" + uid_ + ".slice";
  std::optional<NestedCgroup> app_cg, pause_cg;
  ASSERT_NO_THROW(app_cg.emplace(std::vector<std::string>{"kubepods.slice", "kubepods-burstable.slice", slice,
                                                          "cri-containerd-" + app + ".scope"}));
  ASSERT_NO_THROW(pause_cg.emplace(std::vector<std::string>{"cri-containerd-" + pause + ".scope"},
                                   "kubepods.slice/kubepods-burstable.slice/" + slice));
  BurnerChild shop(8u << 20, 300), sandbox(1u << 20, 10);
  ASSERT_NO_THROW(app_cg->leaf().Add(shop.pid()));
  ASSERT_NO_THROW(pause_cg->leaf().Add(sandbox.pid()));
  shop.Release();
  sandbox.Release();
  StartDaemon();

  auto pods = Info({{"kind", "pod"}, {"id", uid}});
  ASSERT_EQ(pods.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(pods[0].labels["runtime"], "kubernetes");
  EXPECT_EQ(pods[0].labels["pod_uid"], uid);
  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port_);
        return !Find(series, "workload_info", {{"kind", "pod"}, {"name", "prod/" + pod}}).empty();
      },
      10s))
      << "the pod is named from its containers' state files";
  auto named = Find(series, "workload_info", {{"kind", "pod"}, {"id", uid}});
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].labels["namespace"], "prod");
  EXPECT_EQ(named[0].labels["pod"], pod);
  EXPECT_FALSE(named[0].labels.contains("parent"));
  auto container = Find(series, "workload_info", {{"id", app}});
  ASSERT_EQ(container.size(), 1u);
  EXPECT_EQ(container[0].labels["name"], "shop");
  EXPECT_EQ(container[0].labels["parent"], uid);
  EXPECT_TRUE(Find(series, "workload_info", {{"id", pause}}).empty()) << "the sandbox is part of its pod";
  // Idle and peak windows like any workload.
  EXPECT_TRUE(FindValue(series, "workload_memory_working_set_bytes", {{"kind", "pod"}, {"id", uid}}).has_value());
}

// KubeVirt: a real QEMU started as virtqemud starts it (-name guest=<namespace>_<vmi>, -uuid),
// paused, in the "housekeeping" child of a cgroup laid out as a virt-launcher pod's compute
// container, its bundle's config.json naming the container "compute". One workload: the VM,
// named by namespace and VMI, with the pod's labels and the pod as its parent.
TEST_F(PlatformsTest, KubeVirtsQemuInItsComputeContainerIsOneVm) {
  if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << "qemu-system-x86 missing";
  const std::string hex = RandomHex(32), uuid = RandomUuid();
  const std::string uid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                          hex.substr(16, 4) + "-" + hex.substr(20);
  std::string uid_ = uid;
  std::replace(uid_.begin(), uid_.end(), '-', '_');
  const std::string compute = RandomContainerId(), pause = RandomContainerId(), vmi = "vm" + hex.substr(0, 6);
  const std::string pod = "virt-launcher-" + vmi + "-x7k2p";
  const std::string common =
      R"("io.kubernetes.cri.sandbox-id":")" + pause + R"(","io.kubernetes.cri.sandbox-name":")" + pod +
      R"(","io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.sandbox-uid":")" + uid + R"(")";
  const std::string bundles = "rootfs/run/containerd/io.containerd.runtime.v2.task/k8s.io/";
  rig_.Write(
      bundles + compute + "/config.json",
      R"({"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"compute",)"
      R"("io.kubernetes.cri.image-name":"quay.io/kubevirt/virt-launcher:v1.4.0",)" +
          common + "}}");
  rig_.Write(bundles + pause + "/config.json",
             R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox",)" + common + "}}");
  const std::string slice = "kubepods-burstable-pod" + uid_ + ".slice";
  std::optional<NestedCgroup> container, sandbox_cg;
  ASSERT_NO_THROW(container.emplace(std::vector<std::string>{"kubepods.slice", "kubepods-burstable.slice", slice,
                                                             "cri-containerd-" + compute + ".scope", "housekeeping"}));
  ASSERT_NO_THROW(sandbox_cg.emplace(std::vector<std::string>{"cri-containerd-" + pause + ".scope"},
                                     "kubepods.slice/kubepods-burstable.slice/" + slice));
  ExecChild qemu(kQemu, {kQemu, "-name", "guest=prod_" + vmi + ",debug-threads=on", "-uuid", uuid, "-S", "-accel",
                         "tcg", "-m", "32", "-nodefaults", "-display", "none"});
  ASSERT_NO_THROW(container->leaf().Add(qemu.pid()));
  qemu.Release();
  BurnerChild sandbox(1u << 20, 10);
  ASSERT_NO_THROW(sandbox_cg->leaf().Add(sandbox.pid()));
  sandbox.Release();
  StartDaemon();

  auto vm = Info({{"id", uuid}});
  ASSERT_EQ(vm.size(), 1u) << daemon_->Stderr();
  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port_);
        auto found = Find(series, "workload_info", {{"id", uuid}});
        return found.size() == 1 && found[0].labels["namespace"] == "prod";
      },
      10s))
      << daemon_->Stderr();
  vm = Find(series, "workload_info", {{"id", uuid}});
  EXPECT_EQ(vm[0].labels["kind"], "vm");
  EXPECT_EQ(vm[0].labels["runtime"], "kubevirt");
  EXPECT_EQ(vm[0].labels["name"], "prod/" + vmi);
  EXPECT_EQ(vm[0].labels["pod"], pod);
  EXPECT_EQ(vm[0].labels["container"], "compute");
  EXPECT_EQ(vm[0].labels["parent"], uid);
  EXPECT_TRUE(vm[0].labels["cgroup"].ends_with("/cri-containerd-" + compute + ".scope")) << vm[0].labels["cgroup"];
  EXPECT_TRUE(Find(series, "workload_info", {{"id", compute}}).empty()) << "the compute container is the VM";
  EXPECT_TRUE(Find(series, "workload_info", {{"name", "prod_" + vmi}}).empty()) << "no second VM from the process";
  EXPECT_EQ(Find(series, "workload_info", {{"kind", "pod"}, {"id", uid}}).size(), 1u);
}

// Incus: a container of project "shop" (lxc.payload.shop_<name>), and a VM whose QEMU (the
// fake VMM under QEMU's name, with Incus' arguments: its -pidfile is only read, never written)
// runs in incusd's cgroup, system.slice/incus.service, with services reported: the VM is its
// process alone, and incus.service stays a service.
TEST_F(PlatformsTest, IncusProjectsAndAVmWithoutACgroupOfItsOwn) {
  const std::string tag = RandomHex(6), uuid = RandomUuid();
  rig_.Write("c.yml", "collectors:\n  cgroup:\n    services: true\n");
  std::optional<NestedCgroup> incusd, payload;
  ASSERT_NO_THROW(incusd.emplace(std::vector<std::string>{"system.slice", "incus.service"}));
  ASSERT_NO_THROW(payload.emplace(std::vector<std::string>{"lxc.payload.shop_ct" + tag, "init.scope"}));
  ExecChild qemu(WE_FAKE_VMM, {"/opt/incus/bin/qemu-system-x86_64", "-S", "-name", "vm" + tag, "-uuid", uuid,
                               "-pidfile", "/run/incus/shop_vm" + tag + "/qemu.pid", "-daemonize"});
  ASSERT_NO_THROW(incusd->leaf().Add(qemu.pid()));
  qemu.Release();
  BurnerChild daemon(2u << 20, 50), init(2u << 20, 50);
  ASSERT_NO_THROW(incusd->leaf().Add(daemon.pid()));
  ASSERT_NO_THROW(payload->leaf().Add(init.pid()));
  daemon.Release();
  init.Release();
  StartDaemon({"--config.file=" + rig_.Path("c.yml")});

  auto vm = Info({{"id", uuid}});
  ASSERT_EQ(vm.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(vm[0].labels["kind"], "vm");
  EXPECT_EQ(vm[0].labels["runtime"], "incus");
  EXPECT_EQ(vm[0].labels["name"], "shop/vm" + tag);
  EXPECT_EQ(vm[0].labels["cgroup"], "") << "no cgroup of its own: its process's figures";
  EXPECT_EQ(vm[0].labels["parent"], "incus") << "incusd's service counts it too";
  auto ct = Info({{"id", "shop_ct" + tag}});
  ASSERT_EQ(ct.size(), 1u) << daemon_->Stderr();
  EXPECT_EQ(ct[0].labels["name"], "shop/ct" + tag);
  EXPECT_EQ(ct[0].labels["runtime"], "lxc");
  auto service = Info({{"id", "incus"}});
  ASSERT_GE(service.size(), 1u) << daemon_->Stderr();
  for (const PromSeries& s : service) {
    if (s.labels.at("cgroup").ends_with(incusd->leaf().unified_rel().value_or("?"))) {
      EXPECT_EQ(s.labels.at("kind"), "service") << "incusd's cgroup is no VM's";
    }
  }
}

// Kata Containers (sandbox_cgroup_only=false): a real QEMU named as Kata names its sandbox VM in
// kata_overhead/<sandbox id>, and the pod's slice with the sandbox's scope; the sandbox's bundle
// names the pod. The overhead is one VM, runtime "kata", carrying the pod's UID and name but no
// parent; the pod is a pod, and no sandbox container is reported.
TEST_F(PlatformsTest, KataOverheadIsItsPodsVm) {
  if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << "qemu-system-x86 missing";
  const std::string hex = RandomHex(32), sandbox = RandomContainerId(), pod = "train-" + hex.substr(0, 6);
  const std::string uid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                          hex.substr(16, 4) + "-" + hex.substr(20);
  std::string uid_ = uid;
  std::replace(uid_.begin(), uid_.end(), '-', '_');
  rig_.Write("rootfs/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + sandbox + "/config.json",
             R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":")" +
                 sandbox + R"(","io.kubernetes.cri.sandbox-name":")" + pod +
                 R"(","io.kubernetes.cri.sandbox-namespace":"ml","io.kubernetes.cri.sandbox-uid":")" + uid + R"("}})");
  std::optional<NestedCgroup> overhead, scope;
  ASSERT_NO_THROW(overhead.emplace(std::vector<std::string>{"kata_overhead", sandbox}));
  ASSERT_NO_THROW(scope.emplace(std::vector<std::string>{"kubepods.slice", "kubepods-besteffort.slice",
                                                         "kubepods-besteffort-pod" + uid_ + ".slice",
                                                         "cri-containerd-" + sandbox + ".scope"}));
  ExecChild qemu(kQemu, {kQemu, "-name", "sandbox-" + sandbox, "-S", "-accel", "tcg", "-m", "32", "-nodefaults",
                         "-display", "none"});
  ASSERT_NO_THROW(overhead->leaf().Add(qemu.pid()));
  qemu.Release();
  BurnerChild vcpu(1u << 20, 50);  // stands in for the vCPU thread Kata moves into the pod
  ASSERT_NO_THROW(scope->leaf().Add(vcpu.pid()));
  vcpu.Release();
  StartDaemon();

  std::vector<PromSeries> series;
  ASSERT_TRUE(WaitFor(
      [&] {
        series = ScrapeMetrics(port_);
        auto vm = Find(series, "workload_info", {{"id", sandbox}, {"runtime", "kata"}});
        return vm.size() == 1 && vm[0].labels["pod_uid"] == uid && vm[0].labels["name"] == "ml/" + pod;
      },
      10s))
      << daemon_->Stderr();
  auto vm = Find(series, "workload_info", {{"id", sandbox}, {"runtime", "kata"}});
  EXPECT_EQ(vm[0].labels["kind"], "vm");
  EXPECT_FALSE(vm[0].labels.contains("parent")) << "the overhead is outside the pod's cgroup";
  EXPECT_TRUE(vm[0].labels["cgroup"].ends_with("/kata_overhead/" + sandbox)) << vm[0].labels["cgroup"];
  EXPECT_TRUE(Find(series, "workload_info", {{"id", sandbox}, {"kind", "container"}}).empty());
  EXPECT_TRUE(Find(series, "workload_info", {{"name", "sandbox-" + sandbox}, {"runtime", "qemu"}}).empty());
  EXPECT_EQ(Find(series, "workload_info", {{"kind", "pod"}, {"id", uid}}).size(), 1u);
}

}  // namespace
}  // namespace we
