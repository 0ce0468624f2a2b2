#include "collectors/container_identity.h"

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
        // Not workloads.
        Case{"/machine.slice/libpod-conmon-" + kId + ".scope", false},
        Case{"/kubepods.slice/crio-conmon-" + kId + ".scope", false}, Case{"/lxc.monitor.web01", false},
        Case{"/lxc/lxc.monitor", false}, Case{"/system.slice/docker.service", false},
        Case{"/system.slice/docker-" + kId.substr(0, 63) + ".scope", false},
        Case{"/system.slice/docker-" + kId + "X.scope", false}, Case{"/kubepods.slice/kubepods-burstable.slice", false},
        Case{"/init.scope", false}, Case{"/", false}, Case{"", false}, Case{"/machine", false},
        Case{"/machine.slice", false}, Case{"/process_api/28611a225c80f1ee60deae5fdb03ad85", false}));

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
