#pragma once
// Kubernetes pods as workloads of their own (kind "pod", container_identity.h), once the runtimes'
// state files are read (MetadataResolver): the kubelet names no pod in its cgroup, but the CRI
// annotations name it on every container of it, the sandbox's too.
//   * A pod takes "<namespace>/<pod>" as its name and its namespace and pod labels from the first
//     of its containers (by identity) whose state names them; without one it keeps its UID.
//   * Kata Containers' overhead (kind "vm", runtime "kata", its id the sandbox id: the VMM, shim
//     and virtiofsd in /kata_overhead/<sandbox id>, outside the pod's cgroup) is joined to its pod
//     through the sandbox id its containers' state names: it takes the pod's UID as pod_uid and
//     the pod's name and labels, but no parent (its figures are not in the pod's).
//   * A pod's sandbox (pause) container, as its state file marks it (ContainerMetadata::sandbox),
//     is not reported: its cgroup is inside the pod's, so its figures are the pod's already, and
//     it runs nothing of the user's. A sandbox whose state file cannot be read stays a container
//     with the pod as its parent.
//
// Thread-safety: not thread-safe; owned and called by the sampler.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "collectors/sample.h"

namespace we {

class PodMetadata {
 public:
  // Names the pods among `samples` and drops their sandboxes. The pods' metadata is made once per
  // pod and container state, and kept while the pod is seen.
  void Apply(std::vector<Sample>* samples);

 private:
  struct Entry {
    std::shared_ptr<const ContainerMetadata> from;  // the container's state it was made from
    std::shared_ptr<const ContainerMetadata> pod;
    bool seen = false;
  };
  std::unordered_map<std::string, Entry> cache_;  // by pod UID
};

}  // namespace we
