// Container names from the runtimes' state files (fixtures under tests/fixtures/rootfs), malformed
// and truncated JSON, the label allowlist, and what the allowlist keeps out of /metrics.

#include "collectors/runtime_metadata.h"

#include <gtest/gtest.h>

#include "exposition/text.h"
#include "pipeline/sampler.h"
#include "test_util/forwarding_file_system.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

const std::string kRoot = std::string(WE_FIXTURES_DIR) + "/rootfs";
const std::string kWeb = "6100a81c4235f3c3ed111d6f6f4c726b5e76f5c261204854d6d0e9b95b254edf";

Sample Container(const std::string& runtime, const std::string& id) {
  Sample s;
  s.identity = {"container", runtime, id, id.substr(0, 12), "", ""};
  return s;
}

TEST(ParseDockerConfigV2, NameImageLabelsAndNeverTheEnvironment) {
  std::string error;
  auto m = ParseDockerConfigV2(
      test_util::ReadFileOrDie(kRoot + "/var/lib/docker/containers/" + kWeb + "/config.v2.json"), &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->name, "web-1");
  EXPECT_EQ(m->image, "nginx:1.25");
  EXPECT_EQ(m->labels.at("com.example.team"), "storefront");
  EXPECT_EQ(m->labels.size(), 4u);
  for (const auto& [k, v] : m->labels) EXPECT_EQ(v.find("hunter2"), std::string::npos) << k;
}

TEST(ParseDockerConfigV2, MalformedAndTruncatedJsonNameTheLine) {
  std::string error;
  EXPECT_FALSE(ParseDockerConfigV2("{\"Name\":\"/x\",\n\"Config\":{\"Labels\":{\"a\":", &error));
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
  EXPECT_FALSE(ParseDockerConfigV2("", &error));
  auto nulls = ParseDockerConfigV2("{\"Name\":\"/n\",\"Config\":{\"Image\":\"i\",\"Labels\":null}}", &error);
  ASSERT_TRUE(nulls) << error;
  EXPECT_TRUE(nulls->labels.empty());
  // Text after the document is not JSON either.
  EXPECT_FALSE(ParseDockerConfigV2("{\"Name\":\"/x\"} {", &error));
  EXPECT_NE(error.find("line 1, column 15"), std::string::npos) << error;
}

TEST(ParseDockerConfigV2, MembersOfAnotherTypeAreAbsentNotErrorsOrText) {
  std::string error;
  // property_tree read 42 as the name "42" and the string "null" as no image; neither is so.
  auto m = ParseDockerConfigV2(
      R"({"Name":42,"Config":{"Image":"null","Labels":{"a":"b","n":1,"o":{"x":"y"},"l":["z"],"e":"caf\u00e9"}}})",
      &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->name, "");
  EXPECT_EQ(m->image, "null");
  EXPECT_EQ(m->labels, (std::map<std::string, std::string>{{"a", "b"}, {"e", "caf\xc3\xa9"}}));
  auto not_an_object = ParseDockerConfigV2(R"(["Name"])", &error);
  ASSERT_TRUE(not_an_object) << error;
  EXPECT_EQ(not_an_object->name, "");
}

TEST(ParseOciConfig, KubernetesAnnotationsOfContainerdAndCriO) {
  std::string error;
  auto containerd = ParseOciConfig(
      R"({"annotations":{"io.kubernetes.cri.container-name":"shop","io.kubernetes.cri.sandbox-name":"shop-1",)"
      R"("io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.image-name":"r/shop:2"}})",
      &error);
  ASSERT_TRUE(containerd) << error;
  EXPECT_EQ(containerd->name, "shop");
  EXPECT_EQ(containerd->pod, "shop-1");
  EXPECT_EQ(containerd->k8s_namespace, "prod");
  EXPECT_EQ(containerd->image, "r/shop:2");
  auto crio = ParseOciConfig(R"({"annotations":{"io.kubernetes.container.name":"api","io.kubernetes.pod.name":"api-1",)"
                             R"("io.kubernetes.pod.namespace":"dev","io.kubernetes.cri-o.ImageName":"r/api:1"}})",
                             &error);
  ASSERT_TRUE(crio) << error;
  EXPECT_EQ(crio->name, "api");
  EXPECT_EQ(crio->pod, "api-1");
  EXPECT_EQ(crio->k8s_namespace, "dev");
  EXPECT_EQ(crio->image, "r/api:1");
  auto bare = ParseOciConfig(R"({"ociVersion":"1.1.0"})", &error);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->name, "");
}

// The pod's sandbox (pause) container as each runtime marks it (containerd
// internal/cri/annotations, CRI-O pkg/annotations, cri-dockerd's container type label).
TEST(ParseOciConfig, SandboxesAsEachRuntimeMarksThem) {
  std::string error;
  auto containerd =
      ParseOciConfig(R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox",)"
                     R"("io.kubernetes.cri.sandbox-name":"shop-1","io.kubernetes.cri.sandbox-namespace":"prod"}})",
                     &error);
  ASSERT_TRUE(containerd) << error;
  EXPECT_TRUE(containerd->sandbox);
  EXPECT_EQ(containerd->pod, "shop-1");
  auto app = ParseOciConfig(R"({"annotations":{"io.kubernetes.cri.container-type":"container"}})", &error);
  ASSERT_TRUE(app) << error;
  EXPECT_FALSE(app->sandbox);
  auto crio = ParseOciConfig(R"({"annotations":{"io.kubernetes.cri-o.ContainerType":"sandbox"}})", &error);
  ASSERT_TRUE(crio) << error;
  EXPECT_TRUE(crio->sandbox);
  auto docker = ParseDockerConfigV2(
      R"({"Name":"/k8s_POD_shop-1_prod_uid_0","Config":{"Labels":{"io.kubernetes.docker.type":"podsandbox",)"
      R"("io.kubernetes.pod.name":"shop-1","io.kubernetes.pod.namespace":"prod"}}})",
      &error);
  ASSERT_TRUE(docker) << error;
  EXPECT_TRUE(docker->sandbox);
  EXPECT_EQ(docker->pod, "shop-1");
}

TEST(MetadataResolver, EachRuntimeFromItsOwnFilesAndTheIdWhenThereAreNone) {
  RealFileSystem fs;
  MetadataResolver r(fs, kRoot);
  Sample web = Container("docker", kWeb);
  r.Resolve(&web);
  EXPECT_EQ(web.identity.name, "web-1");
  Sample shop = Container("containerd", "233d71509a8a53a1ab77ea891c66f25711abb5b903a85d8388f3ed7b4468492e");
  r.Resolve(&shop);
  EXPECT_EQ(shop.identity.name, "shop");
  EXPECT_EQ(shop.metadata->pod, "shop-7d9f8c6b5-x2x9q");
  Sample db = Container("podman", "0a72863d4391b9826745c7c0bf32a46f0bf373be0726ae7d45d7ee16658a9f77");
  r.Resolve(&db);
  EXPECT_EQ(db.identity.name, "db");
  EXPECT_EQ(db.metadata->image, "docker.io/library/postgres:16");
  Sample unknown = Container("docker", std::string(64, 'f'));
  r.Resolve(&unknown);
  EXPECT_EQ(unknown.identity.name, "ffffffffffff");  // no state file: the id, and no error
  EXPECT_FALSE(unknown.metadata);
  EXPECT_TRUE(r.errors().empty());
  Sample truncated = Container("docker", "12754dcb42af7a926a92b57fa6ee94401d450d20c9dc5020c52c7afc2c27b5c7");
  r.Resolve(&truncated);
  EXPECT_EQ(truncated.identity.name, "12754dcb42af");
  EXPECT_EQ(r.errors().at("docker"), 1u);
  // The error names the file and where in it the JSON broke off.
  const std::string& why = r.last_errors().at("docker");
  EXPECT_EQ(why.rfind(kRoot + "/var/lib/docker/containers/12754dcb42af", 0), 0u) << why;
  EXPECT_NE(why.find("config.v2.json: line "), std::string::npos) << why;
  // Cached: a second tick does not read (or count) again.
  Sample again = truncated;
  r.Sweep();
  r.Resolve(&again);
  EXPECT_EQ(r.errors().at("docker"), 1u);
}

TEST(ParsePasswdHomes, EveryRealHomeInFileOrder) {
  EXPECT_EQ(ParsePasswdHomes(test_util::ReadFileOrDie(kRoot + "/etc/passwd")),
            (std::vector<std::string>{"/root", "/usr/sbin", "/nonexistent", "/home/alice"}));
  EXPECT_EQ(ParsePasswdHomes("short:x:1\nnohome:x:2:2::relative:/bin/sh\nok:x:3:3::/srv/ok:/bin/sh\n"),
            (std::vector<std::string>{"/srv/ok"}));
  EXPECT_TRUE(ParsePasswdHomes("").empty());
}

TEST(MetadataResolver, RootlessPodmanFromTheUsersHome) {
  RealFileSystem fs;
  MetadataResolver r(fs, kRoot);
  Sample nb = Container("podman", "4649179e41dc4cd7f4a5cd418b882201f03f27ba0d09c9270f06c8483abeacae");
  r.Resolve(&nb);
  EXPECT_EQ(nb.identity.name, "notebook");
  ASSERT_TRUE(nb.metadata);
  EXPECT_EQ(nb.metadata->image, "quay.io/jupyter/base-notebook:2025-11-24");
  // Unknown to every store: the id stays the name, and searching homes is not an error.
  Sample gone = Container("podman", std::string(64, 'e'));
  r.Resolve(&gone);
  EXPECT_EQ(gone.identity.name, "eeeeeeeeeeee");
  EXPECT_TRUE(r.errors().empty());
}

TEST(MetadataResolver, ANewContainerUnderAKnownIdIsReadAfterTheOldOneLeft) {
  test_util::TempTree t;
  const std::string id(64, 'a');
  t.Write("var/lib/docker/containers/" + id + "/config.v2.json", R"({"Name":"/first"})");
  RealFileSystem fs;
  MetadataResolver r(fs, t.root());
  Sample s = Container("docker", id);
  r.Resolve(&s);
  EXPECT_EQ(s.identity.name, "first");
  r.Sweep();
  r.Sweep();  // a tick without it: forgotten
  t.Write("var/lib/docker/containers/" + id + "/config.v2.json", R"({"Name":"/second"})");
  Sample s2 = Container("docker", id);
  r.Resolve(&s2);
  EXPECT_EQ(s2.identity.name, "second");
}

TEST(MetadataResolver, AnUnreadableStateFileIsReadAgainLaterAndLoggedOnce) {
  test_util::TempTree t;
  const std::string id(64, 'b');
  // Refused at first, as the daemon's user is refused Docker's files while the opener is starting.
  class Refusing : public test_util::ForwardingFileSystem {
   public:
    using ForwardingFileSystem::ForwardingFileSystem;
    ReadResult ReadFile(const std::string& p) const override {
      if (refuse) return ReadResult::Error(p + ": Permission denied");
      return ForwardingFileSystem::ReadFile(p);
    }
    bool refuse = true;
  };
  t.Write("var/lib/docker/containers/" + id + "/config.v2.json", R"({"Name":"/late"})");
  RealFileSystem real;
  Refusing fs(real);
  MetadataResolver r(fs, t.root());
  auto tick = [&] {
    Sample s = Container("docker", id);
    r.Resolve(&s);
    r.Sweep();
    return s.identity.name;
  };
  EXPECT_EQ(tick(), id.substr(0, 12));
  EXPECT_EQ(r.errors().at("docker"), 1u);
  fs.refuse = false;
  int ticks = 1;
  while (tick() != "late" && ticks < 100) ++ticks;
  EXPECT_LE(ticks, 31) << "named again within its retry interval";
  EXPECT_GE(ticks, 2) << "not read again every tick";
  EXPECT_EQ(r.errors().at("docker"), 1u);  // the retry that worked counts nothing
}

// As pvesh / the GUI write them: the current settings first, then a snapshot's, "[PENDING]" or
// "[special:cloudinit]" (PVE/QemuServer.pm parse_vm_config, PVE/LXC/Config.pm parse_pct_config).
TEST(ParseProxmoxConfigValue, TheCurrentValueNotASnapshots) {
  const std::string vm =
      "#Build%20box\nboot: order=scsi0\ncores: 2\nname: web01\nsmbios1: uuid=6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a\n"
      "\n[before-upgrade]\nname: web01-old\nsnaptime: 1700000000\n";
  EXPECT_EQ(ParseProxmoxConfigValue(vm, "name"), "web01");
  EXPECT_EQ(ParseProxmoxConfigValue(vm, "snaptime"), "");  // only in the snapshot
  EXPECT_EQ(ParseProxmoxConfigValue("cores: 1\n[PENDING]\nname: later\n", "name"), "");
  EXPECT_EQ(ParseProxmoxConfigValue("arch: amd64\nhostname:   ct-web  \nostype: debian\n", "hostname"), "ct-web");
  EXPECT_EQ(ParseProxmoxConfigValue("hostnamex: a\nlxc.hostname: b\n", "hostname"), "");
  EXPECT_EQ(ParseProxmoxConfigValue("", "name"), "");
}

TEST(MetadataResolver, ProxmoxNamesFromPmxcfsAndNothingWhenRefused) {
  test_util::TempTree t;
  t.Write("etc/pve/qemu-server/100.conf", "cores: 2\nname: web01\n[snap1]\nname: old\n");
  t.Write("etc/pve/lxc/101.conf", "arch: amd64\nhostname: ct-web\n");
  t.Write("etc/pve/lxc/102.conf/x", "");  // unreadable as a file, as to a daemon outside www-data
  RealFileSystem fs;
  MetadataResolver r(fs, t.root());
  auto name = [&](const std::string& kind, const std::string& runtime, const std::string& id) {
    Sample s;
    s.identity = {kind, runtime, id, id, "", ""};
    r.Resolve(&s);
    return s.identity.name;
  };
  EXPECT_EQ(name("vm", "proxmox", "100"), "web01");
  EXPECT_EQ(name("container", "lxc", "101"), "ct-web");
  EXPECT_EQ(name("container", "lxc", "102"), "102");
  EXPECT_EQ(name("container", "lxc", "103"), "103");  // no such file: no Proxmox here
  EXPECT_EQ(name("container", "lxc", "web"), "web");  // plain LXC: its name is the cgroup's
  EXPECT_EQ(name("vm", "proxmox", "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a"),
            "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a");  // joined with its QEMU: named by -name already
  EXPECT_TRUE(r.errors().empty());
}

TEST(LabelAllowed, ExactNamesAndGlobs) {
  EXPECT_FALSE(LabelAllowed({}, "app"));
  EXPECT_TRUE(LabelAllowed({"app"}, "app"));
  EXPECT_FALSE(LabelAllowed({"app"}, "apps"));
  EXPECT_TRUE(LabelAllowed({"com.example.*"}, "com.example.team"));
  EXPECT_FALSE(LabelAllowed({"com.example.*"}, "com.other.team"));
  EXPECT_TRUE(LabelAllowed({"*"}, "anything"));
  EXPECT_TRUE(LabelAllowed({"a*b*c"}, "axxbyyc"));
  EXPECT_FALSE(LabelAllowed({"a*b*c"}, "axxbyy"));
}

TEST(Cardinality, FiveHundredContainersWithFiftyLabelsExportNoneByDefault) {
  test_util::TempTree t;
  t.Write("cgroup.controllers", "cpu memory\n");
  for (int i = 0; i < 500; ++i) {
    char id[65];
    std::snprintf(id, sizeof id, "%064x", i + 1);
    t.Write(std::string("system.slice/docker-") + id + ".scope/cgroup.procs", "1\n");
    std::string labels;
    for (int l = 0; l < 50; ++l) labels += (l ? "," : "") + std::string("\"l") + std::to_string(l) + "\":\"v\"";
    t.Write(std::string("rootfs/var/lib/docker/containers/") + id + "/config.v2.json",
            std::string("{\"Name\":\"/c") + std::to_string(i) + "\",\"Config\":{\"Labels\":{" + labels + "}}}");
  }
  RealFileSystem fs;
  for (const std::vector<std::string>& allow : {std::vector<std::string>{}, std::vector<std::string>{"l7"}}) {
    SamplerSettings settings;
    settings.cgroupfs = t.root();
    settings.procfs = t.Path("no-proc");
    settings.rootfs = t.Path("rootfs");
    settings.label_allow = allow;
    SamplingPipeline pipeline(fs, settings);
    auto snap = pipeline.Tick(std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    ASSERT_EQ(snap->workloads.size(), 500u);
    const std::string text = SerializeText(SnapshotFamilies(*snap, BuildInfo{"t", "t"}));
    std::size_t exported = 0;
    for (std::size_t at = text.find("label_"); at != std::string::npos; at = text.find("label_", at + 1)) ++exported;
    EXPECT_EQ(exported, allow.empty() ? 0u : 500u);  // only workload_info, only the allowed one
  }
}

}  // namespace
}  // namespace we
