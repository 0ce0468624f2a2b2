// Pods named from their containers' state, and their sandboxes (pause containers) dropped.

#include "pipeline/pods.h"

#include <gtest/gtest.h>

namespace we {
namespace {

const std::string kUid = "6b1e9f8a-2c4d-4e5f-9a0b-1c2d3e4f5a6b";

Sample Workload(std::string kind, std::string id, std::string parent = "") {
  Sample s;
  s.identity.kind = std::move(kind);
  s.identity.runtime = s.identity.kind == "pod" ? "kubernetes" : "containerd";
  s.identity.id = id;
  s.identity.name = id;
  s.identity.parent = std::move(parent);
  return s;
}

std::shared_ptr<const ContainerMetadata> State(std::string container, bool sandbox = false) {
  ContainerMetadata m;
  m.k8s_namespace = "prod";
  m.pod = "shop-7d9f8c6b5-x2x9q";
  m.container = container;
  m.name = container;
  m.sandbox = sandbox;
  return std::make_shared<const ContainerMetadata>(std::move(m));
}

TEST(PodMetadata, NamesThePodFromItsContainersAndDropsItsSandbox) {
  std::vector<Sample> samples;
  samples.push_back(Workload("container", "aaa", kUid));
  samples.back().metadata = State("shop");
  samples.push_back(Workload("container", "ppp", kUid));  // the pause container
  samples.back().metadata = State("", /*sandbox=*/true);
  samples.push_back(Workload("pod", kUid));
  samples.push_back(Workload("container", "lone"));  // no pod: untouched
  PodMetadata pods;
  pods.Apply(&samples);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].identity.id, "aaa");
  EXPECT_EQ(samples[1].identity.kind, "pod");
  EXPECT_EQ(samples[1].identity.name, "prod/shop-7d9f8c6b5-x2x9q");
  ASSERT_TRUE(samples[1].metadata);
  EXPECT_EQ(samples[1].metadata->k8s_namespace, "prod");
  EXPECT_EQ(samples[1].metadata->pod, "shop-7d9f8c6b5-x2x9q");
  EXPECT_TRUE(samples[1].metadata->container.empty());
  EXPECT_EQ(samples[2].identity.id, "lone");

  // The next tick with the same container state reuses the pod's metadata.
  const auto first = samples[1].metadata;
  std::vector<Sample> again;
  again.push_back(Workload("container", "aaa", kUid));
  again.back().metadata = samples[0].metadata;
  again.push_back(Workload("pod", kUid));
  pods.Apply(&again);
  EXPECT_EQ(again[1].metadata, first);
}

TEST(PodMetadata, WithoutStateThePodKeepsItsUidAndAnUnknownSandboxStays) {
  std::vector<Sample> samples;
  samples.push_back(Workload("container", "ppp", kUid));  // no state file read
  samples.push_back(Workload("pod", kUid));
  PodMetadata pods;
  pods.Apply(&samples);
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].identity.name, kUid);
  EXPECT_FALSE(samples[1].metadata);
}

TEST(PodMetadata, ASandboxIsDroppedOnlyInsideAPodItKnows) {
  std::vector<Sample> samples;
  samples.push_back(Workload("container", "ppp"));  // a sandbox outside any pod cgroup: kept
  samples.back().metadata = State("", /*sandbox=*/true);
  samples.push_back(Workload("pod", kUid));
  PodMetadata pods;
  pods.Apply(&samples);
  EXPECT_EQ(samples.size(), 2u);
}

// Kata's overhead, outside the pod's cgroup, is joined to its pod through the sandbox id: the
// pod's UID and name, no parent.
TEST(PodMetadata, KataOverheadTakesItsPodsUidAndName) {
  const std::string sandbox(64, 'e');
  std::vector<Sample> samples;
  samples.push_back(Workload("container", sandbox, kUid));  // the sandbox scope (the vCPU threads)
  {
    ContainerMetadata m = *State("", /*sandbox=*/true);
    m.sandbox_id = sandbox;
    samples.back().metadata = std::make_shared<const ContainerMetadata>(std::move(m));
  }
  samples.push_back(Workload("pod", kUid));
  samples.push_back(Workload("vm", sandbox));
  samples.back().identity.runtime = "kata";
  PodMetadata pods;
  pods.Apply(&samples);
  ASSERT_EQ(samples.size(), 2u);  // the sandbox is folded into the pod
  EXPECT_EQ(samples[1].identity.kind, "vm");
  EXPECT_EQ(samples[1].identity.pod_uid, kUid);
  EXPECT_EQ(samples[1].identity.name, "prod/shop-7d9f8c6b5-x2x9q");
  EXPECT_TRUE(samples[1].identity.parent.empty());
  ASSERT_TRUE(samples[1].metadata);
  EXPECT_EQ(samples[1].metadata->k8s_namespace, "prod");
}

}  // namespace
}  // namespace we
