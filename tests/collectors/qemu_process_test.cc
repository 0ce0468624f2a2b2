// VMs as QEMU processes: the command-line, status and thread-name parsers, the collector over a
// /proc tree captured from a real qemu-system-x86_64 on this machine (tests/fixtures/proc), and
// the join of a VM's process, cgroup and libvirt views into one workload.

#include "collectors/qemu_process.h"

#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "pipeline/workload_join.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::string_literals;
const std::string kProc = std::string(WE_FIXTURES_DIR) + "/proc";
const std::string kUuid = "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a";

TEST(ParseVmmCommandLine, QemuNameAndUuidInEveryForm) {
  auto a =
      ParseVmmCommandLine("/usr/bin/qemu-system-x86_64\0-name\0guest=web,debug-threads=on\0-uuid\0"s + kUuid + "\0"s);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "web");
  EXPECT_EQ(a->uuid, kUuid);
  auto b = ParseVmmCommandLine(
      "qemu-kvm\0-m\0"
      "512\0-name\0db01\0"s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "db01");
  EXPECT_EQ(b->uuid, "");
  auto c = ParseVmmCommandLine("qemu-system-aarch64\0-name\0guest=a,,b,process=x\0"s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "a,b");                                              // ",," is an escaped comma
  auto d = ParseVmmCommandLine("/usr/bin/qemu-system-x86_64\0-name\0"s);  // -name without a value
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "");
}

// Each VMM's command line as its own project builds it.
struct VmmCase {
  std::string what;
  std::string cmdline;
  std::string runtime, name, uuid, vmm_id;
};
void PrintTo(const VmmCase& c, std::ostream* os) { *os << c.what; }
class ParseVmmCommandLineTest : public ::testing::TestWithParam<VmmCase> {};

TEST_P(ParseVmmCommandLineTest, NamesTheVm) {
  const VmmCase& c = GetParam();
  auto cmd = ParseVmmCommandLine(c.cmdline);
  ASSERT_TRUE(cmd) << c.what;
  EXPECT_EQ(cmd->runtime, c.runtime);
  EXPECT_EQ(cmd->name, c.name);
  EXPECT_EQ(cmd->uuid, c.uuid);
  EXPECT_EQ(cmd->vmm_id, c.vmm_id);
}

// Proxmox VE's order (PVE/QemuServer.pm config_to_command): kvm, -id, -name, ..., -smbios type=1
// with its keys sorted and commas doubled. ("\0" "1": a NUL, then the digit, not an octal escape.)
const std::string kPveKvm =
    "/usr/bin/kvm\0-id\0"
    "100\0-name\0web01,debug-threads=on\0-no-shutdown\0-chardev\0"
    "socket,id=qmp,path=/var/run/qemu-server/100.qmp,server=on,wait=off\0-mon\0chardev=qmp,mode=control\0"
    "-pidfile\0/var/run/qemu-server/100.pid\0-daemonize\0-smbios\0type=1,manufacturer=ACME,, Inc.,uuid="s +
    kUuid +
    "\0-smp\0"
    "2,sockets=1,cores=2,maxcpus=2\0-m\0"
    "2048\0"s;

INSTANTIATE_TEST_SUITE_P(
    Vmms, ParseVmmCommandLineTest,
    ::testing::Values(
        VmmCase{"proxmox", kPveKvm, "proxmox", "web01", kUuid, "100"},
        VmmCase{"proxmox with QEMU 11 (no debug-threads) and -uuid",
                "kvm\0-id\0"
                "101\0-name\0db\0-uuid\0"s +
                    kUuid + "\0-smbios\0type=1,uuid=00000000-0000-0000-0000-000000000001\0"s,
                "proxmox", "db", kUuid, "101"},
        VmmCase{"proxmox without smbios1",
                "/usr/bin/kvm\0-id\0"
                "102\0-name\0vm102,debug-threads=on\0"s,
                "proxmox", "vm102", "", "102"},
        VmmCase{"a user's -smbios type=0 holds no UUID",
                "kvm\0-id\0"
                "103\0-name\0x\0-smbios\0type=0,uuid="s +
                    kUuid + "\0"s,
                "proxmox", "x", "", "103"},
        // Incus (internal/server/instance/drivers/driver_qemu.go): -name <name>, -uuid, and the
        // project only in the pid file's directory, "/run/incus/<project>_<name>/qemu.pid".
        VmmCase{"incus, project shop",
                "/opt/incus/bin/qemu-system-x86_64\0-S\0-name\0db\0-uuid\0"s + kUuid +
                    "\0-daemonize\0-nodefaults\0-pidfile\0/run/incus/shop_db/qemu.pid\0-D\0"
                    "/var/log/incus/shop_db/qemu.log\0"s,
                "incus", "shop/db", kUuid, "shop_db"},
        VmmCase{"incus, default project",
                "qemu-system-x86_64\0-name\0web\0-uuid\0"s + kUuid + "\0-pidfile\0/run/incus/web/qemu.pid\0"s, "incus",
                "web", kUuid, "web"},
        // Kata Containers' sandbox VMMs: QEMU named sandbox-<id>, Cloud Hypervisor's API socket.
        VmmCase{"kata qemu",
                "/opt/kata/bin/qemu-system-x86_64\0-name\0sandbox-"s + std::string(64, 'e') + "\0-uuid\0"s + kUuid +
                    "\0-machine\0q35,accel=kvm\0"s,
                "kata", "sandbox-" + std::string(64, 'e'), kUuid, std::string(64, 'e')},
        VmmCase{
            "kata cloud-hypervisor",
            "/opt/kata/bin/cloud-hypervisor\0--api-socket\0/run/vc/vm/"s + std::string(64, 'e') + "/clh-api.sock\0"s,
            "kata", "sandbox-" + std::string(64, 'e'), "", std::string(64, 'e')},
        VmmCase{"sandbox- without a sandbox id is plain QEMU", "qemu-system-x86_64\0-name\0sandbox-1\0"s, "qemu",
                "sandbox-1", "", ""},
        VmmCase{"a pid file elsewhere is no Incus'",
                "qemu-system-x86_64\0-name\0web\0-pidfile\0/run/incus/a/b/qemu.pid\0"s, "qemu", "web", "", ""},
        VmmCase{"kvm without -id is plain QEMU", "/usr/bin/kvm\0-name\0guest=lab\0"s, "qemu", "lab", "", ""},
        VmmCase{"firecracker", "/usr/bin/firecracker\0--api-sock\0/run/fc.sock\0--id\0fc-01\0"s, "firecracker", "fc-01",
                "", "fc-01"},
        // The jailer execs its copy of the exec file with --id first (src/jailer/src/env.rs).
        VmmCase{"firecracker from the jailer",
                "/firecracker-v1.7.0-x86_64\0--id\0a1b2\0--start-time-us\0"
                "123\0--start-time-cpu-us\0"
                "4\0"
                "--parent-cpu-time-us\0"
                "5\0--config-file\0vm.json\0"s,
                "firecracker", "a1b2", "", "a1b2"},
        VmmCase{"firecracker without --id", "firecracker\0--api-sock\0/tmp/a.sock\0"s, "firecracker",
                "anonymous-instance", "", ""},
        VmmCase{"cloud-hypervisor path=", "/usr/bin/cloud-hypervisor\0--api-socket\0path=/run/ch/web.sock\0"s,
                "cloud-hypervisor", "/run/ch/web.sock", "", "/run/ch/web.sock"},
        VmmCase{"cloud-hypervisor bare path",
                "cloud-hypervisor-static\0--kernel\0vmlinux\0--api-socket\0/run/b.sock\0"s, "cloud-hypervisor",
                "/run/b.sock", "", "/run/b.sock"},
        VmmCase{"cloud-hypervisor --api-socket=", "cloud-hypervisor\0--api-socket=path=/run/c.sock\0"s,
                "cloud-hypervisor", "/run/c.sock", "", "/run/c.sock"},
        VmmCase{"cloud-hypervisor with an inherited socket", "cloud-hypervisor\0--api-socket\0fd=3\0"s,
                "cloud-hypervisor", "", "", ""}));

TEST(ParseVmmCommandLine, OtherProcessesAreNotVms) {
  EXPECT_FALSE(ParseVmmCommandLine(""));
  EXPECT_FALSE(ParseVmmCommandLine("/sbin/init\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("qemu-img\0info\0x.qcow2\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("/usr/bin/qemu-x86_64\0./a.out\0"s));  // user-mode emulation
  EXPECT_FALSE(ParseVmmCommandLine("bash\0-c\0qemu-system-x86_64\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("/usr/bin/swtpm\0socket\0--tpmstate\0dir=/run/100\0"s));  // in the VM's scope
  EXPECT_FALSE(ParseVmmCommandLine("/usr/libexec/virtiofsd\0--socket-path=/run/100.sock\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("/usr/bin/jailer\0--id\0a1b2\0--exec-file\0/usr/bin/firecracker\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("firecracker-containerd\0--config\0x.toml\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("ch-remote\0--api-socket\0/run/a.sock\0info\0"s));
  EXPECT_FALSE(ParseVmmCommandLine("/usr/bin/kvm-ok\0"s));
}

TEST(ParseKbField, ReadsKibibytesAsBytes) {
  EXPECT_EQ(ParseKbField("Name:\tqemu\nVmHWM:\t   42600 kB\nVmRSS:\t   35744 kB\n", "VmRSS"),
            std::optional<uint64_t>(35744ull * 1024));
  EXPECT_EQ(ParseKbField("Rss:               35744 kB\n", "Rss"), std::optional<uint64_t>(35744ull * 1024));
  EXPECT_EQ(ParseKbField("VmRSSX: 1 kB\n", "VmRSS"), std::nullopt);
  EXPECT_EQ(ParseKbField("VmRSS: lots\n", "VmRSS"), std::nullopt);
  EXPECT_EQ(ParseKbField("", "VmRSS"), std::nullopt);
}

TEST(ParseVcpuThreadName, KvmAndTcgThreads) {
  EXPECT_EQ(ParseVcpuThreadName("CPU 0/KVM\n"), std::optional<int>(0));
  EXPECT_EQ(ParseVcpuThreadName("CPU 12/TCG"), std::optional<int>(12));
  EXPECT_EQ(ParseVcpuThreadName("call_rcu"), std::nullopt);
  EXPECT_EQ(ParseVcpuThreadName("CPU x/KVM"), std::nullopt);
  EXPECT_EQ(ParseVcpuThreadName("CPU 0/FOO"), std::nullopt);
}

TEST(ParseVmmVcpuThreadName, EachVmmsThreadNames) {
  const std::tuple<std::string, std::string, std::optional<int>> rows[] = {
      {"qemu", "CPU 1/KVM\n", 1},
      {"proxmox", "CPU 0/KVM\n", 0},
      {"firecracker", "fc_vcpu 0\n", 0},  // src/vmm/src/vstate/vcpu.rs
      {"firecracker", "fc_vcpu 12", 12},
      {"firecracker", "fc_api", std::nullopt},
      {"firecracker", "CPU 0/KVM", std::nullopt},
      {"cloud-hypervisor", "vcpu3\n", 3},  // vmm/src/cpu.rs
      {"cloud-hypervisor", "vmm", std::nullopt},
      {"cloud-hypervisor", "vcpu", std::nullopt},
      {"qemu", "vcpu0", std::nullopt},
      {"other", "CPU 0/KVM", std::nullopt},
  };
  for (const auto& [runtime, comm, index] : rows) {
    EXPECT_EQ(ParseVmmVcpuThreadName(runtime, comm), index) << runtime << " " << comm;
  }
}

TEST(VmmJoinsCgroup, QemuAnyWorkloadMicroVmsOnlyTheirOwn) {
  const VmmCommandLine qemu{"qemu", "web", kUuid, "", "qemu"}, pve{"proxmox", "web01", kUuid, "100", "qemu"},
      fc{"firecracker", "a1b2", "", "a1b2", ""}, ch{"cloud-hypervisor", "/run/a.sock", "", "/run/a.sock", ""},
      incus{"incus", "shop/db", kUuid, "shop_db", "qemu"};
  const WorkloadIdentity libvirt{"vm", "libvirt", "web", "web", "", ""}, scope{"vm", "proxmox", "100", "100", "", ""},
      jail{"vm", "firecracker", "a1b2", "a1b2", "", ""}, other_jail{"vm", "firecracker", "c3d4", "c3d4", "", ""},
      docker{"container", "docker", std::string(64, 'a'), "aaaaaaaaaaaa", "", ""};
  EXPECT_TRUE(VmmJoinsCgroup(qemu, libvirt));
  EXPECT_TRUE(VmmJoinsCgroup(pve, scope));
  EXPECT_TRUE(VmmJoinsCgroup(qemu, docker));  // as before: QEMU in a container makes it a VM
  EXPECT_TRUE(VmmJoinsCgroup(fc, jail));
  EXPECT_FALSE(VmmJoinsCgroup(fc, other_jail));
  EXPECT_FALSE(VmmJoinsCgroup(fc, docker));  // a microVM inside a container is not the container
  EXPECT_FALSE(VmmJoinsCgroup(ch, docker));
  // Kata's VMM joins only its own overhead cgroup; nothing else joins that.
  const std::string sandbox(64, 'e');
  const VmmCommandLine kata{"kata", "sandbox-" + sandbox, kUuid, sandbox, "qemu"},
      kata_fc{"firecracker", sandbox, "", sandbox, "firecracker"};
  const WorkloadIdentity overhead{"vm", "kata", sandbox, sandbox, "", ""}, pod{"pod", "kubernetes", "u", "u", "u", ""};
  EXPECT_TRUE(VmmJoinsCgroup(kata, overhead));
  EXPECT_TRUE(VmmJoinsCgroup(kata_fc, overhead));
  EXPECT_FALSE(VmmJoinsCgroup(qemu, overhead));
  EXPECT_FALSE(VmmJoinsCgroup(kata, pod));  // sandbox_cgroup_only=true: the pod stays a pod
  EXPECT_FALSE(VmmJoinsCgroup(kata, docker));
  // Incus' QEMU runs in incusd's cgroup, which is no VM's: not even a container's (incusd in one).
  EXPECT_FALSE(VmmJoinsCgroup(incus, docker));
  EXPECT_FALSE(VmmJoinsCgroup(incus, WorkloadIdentity{"service", "systemd", "incus", "incus", "", ""}));
}

// Proxmox VE's VM 100 as the host lays it out: QEMU, swtpm and virtiofsd in qemu.slice/100.scope.
TEST(QemuProcessCollector, AProxmoxVmIsOneVmAndItsHelpersAreNone) {
  test_util::TempTree t;
  t.Write("stat", "btime 1700000000\n");
  const std::string stat = " S 1 1 1 0 -1 0 0 0 0 0 50 25 0 0 20 0 3 0 1000 100000 10 0 0\n";
  t.Write("300/cmdline", kPveKvm);
  t.Write("300/stat", "300 (kvm)" + stat);
  t.Write("300/task/300/comm", "kvm\n");
  t.Write("300/task/301/comm", "CPU 0/KVM\n");
  t.Write("300/task/302/comm", "CPU 1/KVM\n");
  t.Write("300/cgroup", "0::/qemu.slice/100.scope\n");
  t.Write("299/cmdline", "swtpm\0socket\0--tpmstate\0backend-uri=file:///dev/rbd0\0"s);
  t.Write("299/stat", "299 (swtpm)" + stat);
  t.Write("299/cgroup", "0::/qemu.slice/100.scope\n");
  t.Write("298/cmdline", "/usr/libexec/virtiofsd\0--fd=3\0"s);
  t.Write("298/cgroup", "0::/qemu.slice/100.scope\n");
  RealFileSystem fs;
  QemuProcessCollector c(fs, t.root(), 100);
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.identity, WorkloadIdentity({"vm", "proxmox", kUuid, "web01", "", ""}));
  EXPECT_EQ(s.cgroup_workload_key, WorkloadIdentity({"vm", "proxmox", "100", "100", "", ""}).Key());
  ASSERT_TRUE(s.vm);
  EXPECT_EQ(s.vm->vcpus, std::optional<uint64_t>(2));
}

// Incus' QEMU in incusd's service: never the service's VM, but its child when services are
// reported (the service's cgroup counts it); a Kata VMM joins its overhead cgroup only.
TEST(QemuProcessCollector, IncusAndKataVmms) {
  test_util::TempTree t;
  t.Write("stat", "btime 1700000000\n");
  const std::string stat = " S 1 1 1 0 -1 0 0 0 0 0 50 25 0 0 20 0 3 0 1000 100000 10 0 0\n";
  t.Write("50/cmdline", "/opt/incus/bin/qemu-system-x86_64\0-name\0vm1\0-uuid\0"s + kUuid +
                            "\0-pidfile\0/run/incus/shop_vm1/qemu.pid\0"s);
  t.Write("50/stat", "50 (qemu-system-x86)" + stat);
  t.Write("50/task/51/comm", "CPU 0/KVM\n");
  t.Write("50/cgroup", "0::/system.slice/incus.service\n");
  const std::string sandbox(64, 'e');
  t.Write("60/cmdline", "/opt/kata/bin/qemu-system-x86_64\0-name\0sandbox-"s + sandbox + "\0"s);
  t.Write("60/stat", "60 (qemu-system-x86)" + stat);
  t.Write("60/cgroup", "0::/kata_overhead/" + sandbox + "\n");
  RealFileSystem fs;
  for (bool services : {false, true}) {
    QemuProcessCollector c(fs, t.root(), 100, nullptr, services);
    CollectResult r = c.Collect();
    EXPECT_TRUE(r.errors.empty());
    std::map<std::string, const Sample*> by_runtime;
    for (const Sample& s : r.samples) by_runtime[s.identity.runtime] = &s;
    ASSERT_EQ(by_runtime.size(), 2u);
    const Sample& incus = *by_runtime.at("incus");
    EXPECT_EQ(incus.identity.name, "shop/vm1");
    EXPECT_EQ(incus.identity.id, kUuid);
    EXPECT_EQ(incus.cgroup_workload_key, "");
    EXPECT_EQ(incus.identity.parent, services ? "incus" : "") << services;
    const Sample& kata = *by_runtime.at("kata");
    EXPECT_EQ(kata.cgroup_workload_key, WorkloadIdentity({"vm", "kata", sandbox, sandbox, "", ""}).Key());
  }
}

TEST(QemuProcessCollector, AMicroVmJoinsOnlyItsOwnJailersCgroup) {
  test_util::TempTree t;
  t.Write("stat", "btime 1700000000\n");
  const std::string stat = " S 1 1 1 0 -1 0 0 0 0 0 50 25 0 0 20 0 3 0 1000 100000 10 0 0\n";
  // Jailed: its own firecracker/<id> (v1 cpu and memory, as --cgroup asked for).
  t.Write("10/cmdline",
          "/firecracker\0--id\0a1b2\0--start-time-us\0"
          "123\0"s);
  t.Write("10/stat", "10 (firecracker)" + stat);
  t.Write("10/task/10/comm", "firecracker\n");
  t.Write("10/task/11/comm", "fc_api\n");
  t.Write("10/task/12/comm", "fc_vcpu 0\n");
  t.Write("10/cgroup", "5:memory:/firecracker/a1b2\n4:cpu,cpuacct:/firecracker/a1b2\n0::/\n");
  // In a Docker container: the container stays a container.
  t.Write("20/cmdline", "firecracker\0--id\0inner\0"s);
  t.Write("20/stat", "20 (firecracker)" + stat);
  t.Write("20/cgroup", "0::/system.slice/docker-" + std::string(64, 'c') + ".scope\n");
  // Two without --id: one name, two ids.
  t.Write("30/cmdline", "firecracker\0--api-sock\0/tmp/x.sock\0"s);
  t.Write("30/stat", "30 (firecracker)" + stat);
  t.Write("31/cmdline", "firecracker\0--api-sock\0/tmp/y.sock\0"s);
  t.Write("31/stat", "31 (firecracker)" + stat);
  t.Write("40/cmdline", "cloud-hypervisor\0--api-socket\0path=/run/ch/web.sock\0"s);
  t.Write("40/stat", "40 (cloud-hyperviso)" + stat);  // comm holds 15 characters
  t.Write("40/task/41/comm", "vcpu0\n");
  t.Write("40/task/42/comm", "vcpu1\n");
  t.Write("40/cgroup", "0::/system.slice/docker-" + std::string(64, 'c') + ".scope\n");
  RealFileSystem fs;
  QemuProcessCollector c(fs, t.root(), 100);
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty());
  std::map<std::string, const Sample*> by_id;
  for (const Sample& s : r.samples) by_id[s.identity.id] = &s;
  ASSERT_EQ(by_id.size(), 5u);
  const Sample& jailed = *by_id.at("a1b2");
  EXPECT_EQ(jailed.identity, WorkloadIdentity({"vm", "firecracker", "a1b2", "a1b2", "", ""}));
  EXPECT_EQ(jailed.cgroup_workload_key, jailed.identity.Key());
  EXPECT_EQ(jailed.vm->vcpus, std::optional<uint64_t>(1));
  EXPECT_EQ(by_id.at("inner")->cgroup_workload_key, "");
  // Not the container, but inside it: the container is its parent (it counts the VM's CPU too).
  EXPECT_EQ(by_id.at("inner")->identity.parent, std::string(64, 'c'));
  EXPECT_EQ(by_id.at("anonymous-instance-30")->identity.parent, "");
  EXPECT_EQ(by_id.at("anonymous-instance-30")->identity.name, "anonymous-instance");
  EXPECT_EQ(by_id.at("anonymous-instance-31")->identity.name, "anonymous-instance");
  const Sample& ch = *by_id.at("/run/ch/web.sock");
  EXPECT_EQ(ch.identity.runtime, "cloud-hypervisor");
  EXPECT_EQ(ch.cgroup_workload_key, "");
  EXPECT_EQ(ch.vm->vcpus, std::optional<uint64_t>(2));
}

TEST(QemuProcessCollector, FindsTheCapturedQemuProcess) {
  RealFileSystem fs;
  QemuProcessCollector c(fs, kProc, 100);
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.samples.size(), 1u);  // /proc/1 is not a VM
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.identity.kind, "vm");
  EXPECT_EQ(s.identity.runtime, "qemu");
  EXPECT_EQ(s.identity.id, kUuid);
  EXPECT_EQ(s.identity.name, "ubuntu22");
  // stat: utime 16, stime 12 ticks at 100 Hz.
  EXPECT_DOUBLE_EQ(*s.cpu.user_seconds, 0.16);
  EXPECT_DOUBLE_EQ(*s.cpu.system_seconds, 0.12);
  EXPECT_EQ(*s.memory.usage_bytes, 35744u * 1024);      // smaps_rollup Rss
  EXPECT_EQ(*s.memory.max_usage_bytes, 42600u * 1024);  // VmHWM
  EXPECT_EQ(*s.tasks, 4u);
  ASSERT_TRUE(s.vm);
  EXPECT_EQ(s.vm->vcpus, std::optional<uint64_t>(2));  // "CPU 0/TCG", "CPU 1/TCG"
  ASSERT_EQ(s.vm->vcpu.size(), 2u);
  EXPECT_EQ(s.vm->vcpu[1].index, 1);
  EXPECT_EQ(s.cgroup_workload_key, WorkloadIdentity({"vm", "libvirt", "ubuntu22", "ubuntu22", "", ""}).Key());
  EXPECT_EQ(s.cgroup, "/machine.slice/machine-qemu\\x2d1\\x2dubuntu22.scope");
  ASSERT_TRUE(s.start_time_seconds);
}

TEST(QemuProcessCollector, AProcessExitingMidReadIsGoneNotAnError) {
  test_util::TempTree t;
  t.Write("stat", "btime 1700000000\n");
  t.Write("4242/cmdline", "qemu-system-x86_64\0-name\0vm1\0"s);  // its stat vanished already
  RealFileSystem fs;
  QemuProcessCollector c(fs, t.root(), 100);
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.samples.empty());
}

TEST(QemuProcessCollector, WithoutSmapsRollupRssComesFromStatus) {
  test_util::TempTree t;
  t.Write("stat", "btime 1700000000\n");
  t.Write("77/cmdline", "qemu-system-x86_64\0-name\0vm1\0"s);
  t.Write("77/stat", "77 (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 50 25 0 0 20 0 3 0 1000 100000 10 0 0\n");
  t.Write("77/status", "VmHWM:\t 2048 kB\nVmRSS:\t 1024 kB\n");
  RealFileSystem fs;
  QemuProcessCollector c(fs, t.root(), 100);
  CollectResult r = c.Collect();
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].identity.id, "vm1");  // no -uuid: the name
  EXPECT_EQ(*r.samples[0].memory.usage_bytes, 1024u * 1024);
  EXPECT_DOUBLE_EQ(*r.samples[0].start_time_seconds, 1700000010.0);
  EXPECT_TRUE(r.samples[0].cgroup_workload_key.empty());
}

// ---------------------------------------------------------------------------------------------
// Joining

Sample CgroupVm() {
  Sample s;
  s.identity = {"vm", "libvirt", "ubuntu22", "ubuntu22", "", ""};
  s.cgroup = "/machine.slice/machine-qemu\\x2d1\\x2dubuntu22.scope";
  s.cpu.usage_seconds = 100;
  s.memory.usage_bytes = 500;
  s.instance = 7;
  return s;
}

Sample QemuVm() {
  Sample s;
  s.identity = {"vm", "qemu", kUuid, "ubuntu22", "", ""};
  s.cgroup_workload_key = CgroupVm().identity.Key();
  s.cpu.usage_seconds = 90;
  s.memory.usage_bytes = 400;
  s.memory.max_usage_bytes = 450;
  VmFigures vm;
  vm.uuid = kUuid;
  vm.vcpus = 2;
  vm.vcpu = {{0, 10.0, std::nullopt}, {1, 11.0, std::nullopt}};
  s.vm = vm;
  return s;
}

Sample LibvirtVm() {
  Sample s;
  s.identity = {"vm", "libvirt", kUuid, "ubuntu22", "", ""};
  VmFigures vm;
  vm.uuid = kUuid;
  vm.memory_assigned_bytes = 1 << 30;
  vm.state = 1;
  vm.vcpu = {{0, 9.5, 0.25}};
  vm.vcpus = 1;
  s.vm = vm;
  s.cpu.usage_seconds = 95;
  return s;
}

TEST(JoinWorkloads, ProcessJoinsItsCgroupAndTheCgroupFiguresStay) {
  auto out = JoinWorkloads({CgroupVm()}, {QemuVm()}, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].identity.runtime, "libvirt");
  EXPECT_EQ(out[0].identity.id, kUuid);
  EXPECT_EQ(*out[0].cpu.usage_seconds, 100);  // the cgroup's: every thread and helper
  EXPECT_EQ(*out[0].memory.usage_bytes, 500u);
  EXPECT_EQ(*out[0].memory.max_usage_bytes, 450u);  // VmHWM where the cgroup has no mark
  EXPECT_EQ(out[0].instance, 7u);
  ASSERT_TRUE(out[0].vm);
  EXPECT_EQ(out[0].vm->vcpus, std::optional<uint64_t>(2));
}

TEST(JoinWorkloads, LibvirtAddsTheGuestViewByUuid) {
  auto out = JoinWorkloads({CgroupVm()}, {QemuVm()}, {LibvirtVm()});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].cpu.usage_seconds, 100);
  EXPECT_EQ(out[0].vm->memory_assigned_bytes, std::optional<uint64_t>(1 << 30));
  EXPECT_EQ(out[0].vm->state, std::optional<int>(1));
  ASSERT_EQ(out[0].vm->vcpu.size(), 1u);  // libvirt's vCPU figures win
  EXPECT_EQ(out[0].vm->vcpu[0].delay_seconds, std::optional<double>(0.25));
}

TEST(JoinWorkloads, EachSourceAloneStillMakesAWorkload) {
  Sample lone = QemuVm();
  lone.cgroup_workload_key.clear();
  auto out = JoinWorkloads({}, {lone}, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].identity.runtime, "qemu");
  out = JoinWorkloads({}, {}, {LibvirtVm()});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].cpu.usage_seconds, 95);
  // A container is never joined with a VM.
  Sample container;
  container.identity = {"container", "docker", "x", "ubuntu22", "", ""};
  out = JoinWorkloads({container}, {}, {LibvirtVm()});
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace we
