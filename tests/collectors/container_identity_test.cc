#include "collectors/container_identity.h"

#include <map>

#include <gtest/gtest.h>

namespace we {
namespace {

const std::string kId = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";

struct Case {
  std::string path;
  bool is_workload;
  std::string kind = {}, runtime = {}, id = {}, name = {}, pod_uid = {};
};

// Test names show the cgroup path rather than the struct's bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.path; }

class IdentifyCgroupTest : public ::testing::TestWithParam<Case> {};

TEST_P(IdentifyCgroupTest, Names) {
  const Case& c = GetParam();
  auto id = IdentifyCgroup(c.path);
  ASSERT_EQ(id.has_value(), c.is_workload) << c.path;
  if (!id) return;
  EXPECT_EQ(id->kind, c.kind);
  EXPECT_EQ(id->runtime, c.runtime);
  EXPECT_EQ(id->id, c.id);
  EXPECT_EQ(id->name, c.name);
  EXPECT_EQ(id->pod_uid, c.pod_uid);
}

// The pod's own cgroup, as the kubelet names it under either driver; Guaranteed pods sit directly
// under kubepods.
const std::string kUid = "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b";
INSTANTIATE_TEST_SUITE_P(
    Pods, IdentifyCgroupTest,
    ::testing::Values(
        Case{
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice",
            true, "pod", "kubernetes", kUid, kUid, kUid},
        Case{"/kubepods.slice/kubepods-besteffort.slice/"
             "kubepods-besteffort-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice",
             true, "pod", "kubernetes", kUid, kUid, kUid},
        Case{"/kubepods.slice/kubepods-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice", true, "pod", "kubernetes", kUid,
             kUid, kUid},
        Case{"/kubepods/burstable/pod" + kUid, true, "pod", "kubernetes", kUid, kUid, kUid},
        Case{"/kubepods/pod" + kUid, true, "pod", "kubernetes", kUid, kUid, kUid},
        // --cgroup-root=/kubelet: every component joined with '-' (CgroupName.ToSystemd).
        Case{"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
             "kubelet-kubepods-burstable-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice",
             true, "pod", "kubernetes", kUid, kUid, kUid},
        Case{"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice", false},
        Case{"/system.slice/notkubepods-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice", false}));

INSTANTIATE_TEST_SUITE_P(
    Runtimes, IdentifyCgroupTest,
    ::testing::Values(
        Case{"/system.slice/docker-" + kId + ".scope", true, "container", "docker", kId, kId.substr(0, 12), ""},
        Case{"/docker/" + kId, true, "container", "docker", kId, kId.substr(0, 12), ""},
        Case{"/process_api/0123/docker-" + kId + ".scope", true, "container", "docker", kId, kId.substr(0, 12), ""},
        Case{
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice/"
            "cri-containerd-" +
                kId + ".scope",
            true, "container", "containerd", kId, kId.substr(0, 12), "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"},
        Case{"/kubepods.slice/kubepods-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice/crio-" + kId + ".scope", true,
             "container", "cri-o", kId, kId.substr(0, 12), "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"},
        Case{"/kubepods/burstable/pod6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b/" + kId, true, "container", "cri", kId,
             kId.substr(0, 12), "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"},
        Case{"/machine.slice/libpod-" + kId + ".scope", true, "container", "podman", kId, kId.substr(0, 12), ""},
        Case{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope", true, "container",
             "podman", kId, kId.substr(0, 12), ""},
        Case{"/libpod_parent/libpod-" + kId, true, "container", "podman", kId, kId.substr(0, 12), ""},
        Case{"/lxc.payload.web01", true, "container", "lxc", "web01", "web01", ""},
        Case{"/lxc/web01", true, "container", "lxc", "web01", "web01", ""},
        Case{"/machine.slice/machine-debian\\x2dbuild.scope", true, "container", "systemd-nspawn", "debian-build",
             "debian-build", ""},
        Case{"/machine.slice/machine-qemu\\x2d1\\x2dubuntu22.scope", true, "vm", "libvirt", "ubuntu22", "ubuntu22", ""},
        Case{"/machine.slice/machine-qemu\\x2d12\\x2dweb\\x2dfront.scope", true, "vm", "libvirt", "web-front",
             "web-front", ""},
        Case{"/machine/qemu-3-debian12.libvirt-qemu", true, "vm", "libvirt", "debian12", "debian12", ""},
        // libvirt's session and embedded drivers' machine names (virDomainDriverGenerateMachineName).
        Case{"/user.slice/user-1000.slice/user@1000.service/machine.slice/machine-qemu\\x2dalice\\x2d3\\x2dweb.scope",
             true, "vm", "libvirt", "web", "web", ""},
        Case{"/machine.slice/machine-qemu\\x2djohn\\x2ddoe\\x2d3\\x2dweb\\x2d2.scope", true, "vm", "libvirt", "web-2",
             "web-2", ""},
        Case{"/machine.slice/machine-qemu\\x2dembed\\x2d12345678\\x2d4\\x2ddb.scope", true, "vm", "libvirt", "db", "db",
             ""},
        Case{"/machine/qemu-alice-3-web.libvirt-qemu", true, "vm", "libvirt", "web", "web", ""},
        // Proxmox VE: a VM's scope (PVE/QemuServer.pm), a container's limit cgroup (PVE/LXC.pm).
        Case{"/qemu.slice/100.scope", true, "vm", "proxmox", "100", "100", ""},
        Case{"/lxc/101", true, "container", "lxc", "101", "101", ""},
        // Firecracker's jailer: <parent cgroup, default the exec file's name>/<id>.
        Case{"/firecracker/vm-1a", true, "vm", "firecracker", "vm-1a", "vm-1a", ""},
        Case{"/firecracker-v1.7.0-x86_64/Web01", true, "vm", "firecracker", "Web01", "Web01", ""},
        // Not workloads.
        Case{"/lxc/101/ns", false}, Case{"/lxc.monitor/101", false}, Case{"/qemu.slice", false},
        Case{"/qemu.slice/pvescheduler.service", false}, Case{"/qemu.slice/web.scope", false},
        Case{"/qemu.slice/100.scope/extra", false}, Case{"/firecracker", false}, Case{"/firecracker/bad_id", false},
        Case{"/firecracker.slice/vm1", false}, Case{"/firecracker-containerd/vm1", false},
        Case{"/firecracker/" + std::string(65, 'a'), false},
        Case{"/machine.slice/machine-qemu\\x2dweb.scope", false},  // "qemu-" but no libvirt name
        Case{"/machine.slice/libpod-conmon-" + kId + ".scope", false},
        Case{"/kubepods.slice/crio-conmon-" + kId + ".scope", false}, Case{"/lxc.monitor.web01", false},
        Case{"/lxc/lxc.monitor", false}, Case{"/system.slice/docker.service", false},
        Case{"/system.slice/docker-" + kId.substr(0, 63) + ".scope", false},
        Case{"/system.slice/docker-" + kId + "X.scope", false}, Case{"/kubepods.slice/kubepods-burstable.slice", false},
        Case{"/init.scope", false}, Case{"/", false}, Case{"", false}, Case{"/machine", false},
        // Incus: lxc.payload.<project>_<name>, no prefix in the default project; split at the last '_'.
        Case{"/lxc.payload.shop_db", true, "container", "lxc", "shop_db", "shop/db", ""},
        Case{"/lxc.payload.my_team_db", true, "container", "lxc", "my_team_db", "my_team/db", ""},
        // Kata's overhead: the Go runtime's /kata_overhead/<sandbox id>, the Rust runtime's
        // kata_overhead/<sandbox cgroup path>; nothing else below it.
        Case{"/kata_overhead/" + kId, true, "vm", "kata", kId, kId, ""},
        Case{"/kata_overhead/kubepods/besteffort/pod6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b/" + kId, true, "vm", "kata",
             kId, kId, "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b"},
        Case{"/kata_overhead/kubepods/besteffort/pod6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b", false},
        Case{"/kata_overhead", false}, Case{"/kubepods.slice", false}, Case{"/kubepods", false},
        Case{"/kubepods/burstable", false},
        Case{"/system.slice/pod6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b", false},  // no kubepods above it
        Case{"/kubepods/burstable/pod6b1e9f8a-2c4d-4e5f", false},              // a UID cut short
        Case{"/machine.slice", false}, Case{"/process_api/28611a225c80f1ee60deae5fdb03ad85", false}));

// machined's records decide where there is one: an nspawn container may be named like a libvirt VM.
class Machines final : public MachineLookup {
 public:
  std::optional<MachineRecord> Find(const std::string& name) const override {
    ++asked;
    auto it = records.find(name);
    if (it == records.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, MachineRecord> records;
  mutable int asked = 0;
};

TEST(IdentifyCgroup, MachinedRecordsSettleCollidingScopeNames) {
  const std::string uuid = "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a";
  Machines m;
  m.records["qemu-1-web"] = {"container", ""};  // systemd-nspawn -M qemu-1-web
  m.records["qemu-2-web"] = {"vm", uuid};       // libvirt's VM "web", second start
  m.records["fedora"] = {"vm", ""};             // systemd-vmspawn
  m.records["debian"] = {"", ""};               // a record without CLASS=: the name decides
  struct Row {
    std::string scope, kind, runtime, id, name;
  };
  const Row rows[] = {
      {"machine-qemu\\x2d1\\x2dweb.scope", "container", "systemd-nspawn", "qemu-1-web", "qemu-1-web"},
      {"machine-qemu\\x2d2\\x2dweb.scope", "vm", "libvirt", uuid, "web"},
      {"machine-fedora.scope", "vm", "machined", "fedora", "fedora"},
      {"machine-debian.scope", "container", "systemd-nspawn", "debian", "debian"},
      {"machine-qemu\\x2d3\\x2dweb.scope", "vm", "libvirt", "web", "web"},  // no record
  };
  for (const Row& r : rows) {
    auto id = IdentifyCgroup("/machine.slice/" + r.scope, &m);
    ASSERT_TRUE(id) << r.scope;
    EXPECT_EQ(WorkloadIdentity({r.kind, r.runtime, r.id, r.name, "", ""}), *id) << r.scope;
  }
  const int asked = m.asked;
  EXPECT_TRUE(IdentifyCgroup("/system.slice/docker-" + kId + ".scope", &m));
  EXPECT_EQ(m.asked, asked) << "only machine-*.scope directories are looked up";
}

TEST(ParseMachineRecord, ClassAndIdAsAUuid) {
  // As machined writes it (src/machine/machine.c machine_save).
  auto r = ParseMachineRecord(
      "# This is private data. Do not parse.\nNAME=qemu-2-web\nSCOPE=machine-qemu\\x2d2\\x2dweb.scope\n"
      "SERVICE=libvirt-qemu\nROOT=/\nID=6A1F3C2E9D4B4E8AB7C50F1E2D3C4B5A\nLEADER=4242\nCLASS=vm\n"
      "REALTIME=1764000000000000\nMONOTONIC=12345678\n");
  EXPECT_EQ(r.machine_class, "vm");
  EXPECT_EQ(r.uuid, "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a");
  EXPECT_EQ(ParseMachineRecord("CLASS=container\nID=xyz\n").uuid, "");
  EXPECT_EQ(ParseMachineRecord("ID=6a1f3c2e9d4b4e8ab7c50f1e2d3c4b5z\n").uuid, "");
  EXPECT_EQ(ParseMachineRecord("").machine_class, "");
}

TEST(LibvirtDomainName, EveryFormLibvirtGenerates) {
  const std::pair<std::string, std::optional<std::string>> rows[] = {
      {"qemu-1-web", "web"},
      {"qemu-12-web-front", "web-front"},
      {"qemu-alice-3-web", "web"},
      {"qemu-john-doe-3-web", "web"},
      {"qemu-embed-0a1b2c3d-4-db", "db"},
      {"qemu-embed-12345678-4-db", "db"},  // a hash of digits only is still the hash
      {"qemu-7-2024", "2024"},
      {"qemu-web", std::nullopt},
      {"qemu-1-", std::nullopt},
      {"qemu-", std::nullopt},
      {"lxc-1-web", std::nullopt},
  };
  for (const auto& [machine, domain] : rows) EXPECT_EQ(LibvirtDomainName(machine), domain) << machine;
}

TEST(UnescapeSystemdName, Escapes) {
  EXPECT_EQ(UnescapeSystemdName("debian\\x2dbuild"), "debian-build");
  EXPECT_EQ(UnescapeSystemdName("a\\x2"), "a\\x2");  // truncated escape left alone
  EXPECT_EQ(UnescapeSystemdName("plain"), "plain");
}

TEST(IdentifyService, SystemSliceServicesOnly) {
  auto id = IdentifyService("/system.slice/nginx.service");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind, "service");
  EXPECT_EQ(id->runtime, "systemd");
  EXPECT_EQ(id->name, "nginx");
  EXPECT_EQ(IdentifyService("/system.slice/systemd-journald.service")->name, "systemd-journald");
  EXPECT_EQ(IdentifyService("/system.slice/getty\\x2dtty1.service")->name, "getty-tty1");
  EXPECT_FALSE(IdentifyService("/system.slice/docker-abc.scope"));
  EXPECT_FALSE(IdentifyService("/system.slice/nginx.service/child"));
  EXPECT_FALSE(IdentifyService("/user.slice/user-1000.slice"));
  EXPECT_FALSE(IdentifyService("/system.slice/.service"));
}

}  // namespace
}  // namespace we
