// VMs as QEMU processes: the command-line, status and thread-name parsers, the collector over a
// /proc tree captured from a real qemu-system-x86_64 on this machine (tests/fixtures/proc), and
// the join of a VM's process, cgroup and libvirt views into one workload.

#include "collectors/qemu_process.h"

#include <gtest/gtest.h>

#include "pipeline/workload_join.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::string_literals;
const std::string kProc = std::string(WE_FIXTURES_DIR) + "/proc";
const std::string kUuid = "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a";

TEST(ParseQemuCommandLine, NameAndUuidInEveryForm) {
  auto a =
      ParseQemuCommandLine("/usr/bin/qemu-system-x86_64\0-name\0guest=web,debug-threads=on\0-uuid\0"s + kUuid + "\0"s);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "web");
  EXPECT_EQ(a->uuid, kUuid);
  auto b = ParseQemuCommandLine("qemu-kvm\0-m\0512\0-name\0db01\0"s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "db01");
  EXPECT_EQ(b->uuid, "");
  auto c = ParseQemuCommandLine("qemu-system-aarch64\0-name\0guest=a,,b,process=x\0"s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "a,b");                                               // ",," is an escaped comma
  auto d = ParseQemuCommandLine("/usr/bin/qemu-system-x86_64\0-name\0"s);  // -name without a value
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "");
}

TEST(ParseQemuCommandLine, OtherProcessesAreNotVms) {
  EXPECT_FALSE(ParseQemuCommandLine(""));
  EXPECT_FALSE(ParseQemuCommandLine("/sbin/init\0"s));
  EXPECT_FALSE(ParseQemuCommandLine("qemu-img\0info\0x.qcow2\0"s));
  EXPECT_FALSE(ParseQemuCommandLine("/usr/bin/qemu-x86_64\0./a.out\0"s));  // user-mode emulation
  EXPECT_FALSE(ParseQemuCommandLine("bash\0-c\0qemu-system-x86_64\0"s));
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
  EXPECT_EQ(s.cgroup_workload_key, WorkloadIdentity({"vm", "libvirt", "ubuntu22", "ubuntu22", ""}).Key());
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
  s.identity = {"vm", "libvirt", "ubuntu22", "ubuntu22", ""};
  s.cgroup = "/machine.slice/machine-qemu\\x2d1\\x2dubuntu22.scope";
  s.cpu.usage_seconds = 100;
  s.memory.usage_bytes = 500;
  s.instance = 7;
  return s;
}

Sample QemuVm() {
  Sample s;
  s.identity = {"vm", "qemu", kUuid, "ubuntu22", ""};
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
  s.identity = {"vm", "libvirt", kUuid, "ubuntu22", ""};
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
  container.identity = {"container", "docker", "x", "ubuntu22", ""};
  out = JoinWorkloads({container}, {}, {LibvirtVm()});
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace we
