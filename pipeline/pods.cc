#include "pipeline/pods.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace we {

void PodMetadata::Apply(std::vector<Sample>* samples) {
  std::unordered_map<std::string_view, std::size_t> pods;  // by id (the UID), into *samples
  for (std::size_t i = 0; i < samples->size(); ++i) {
    if ((*samples)[i].identity.kind == "pod") pods.emplace((*samples)[i].identity.id, i);
  }
  if (pods.empty()) {
    cache_.clear();
    return;
  }
  for (auto& [uid, entry] : cache_) entry.seen = false;
  std::vector<bool> named(samples->size(), false);
  bool sandboxes = false;
  for (const Sample& c : *samples) {
    if (c.identity.parent.empty() || !c.metadata) continue;
    sandboxes = sandboxes || c.metadata->sandbox;
    auto it = pods.find(c.identity.parent);
    if (it == pods.end() || named[it->second] || c.metadata->pod.empty()) continue;
    named[it->second] = true;
    Sample& pod = (*samples)[it->second];
    Entry& entry = cache_[pod.identity.id];
    entry.seen = true;
    if (entry.from != c.metadata) {
      ContainerMetadata m;
      m.k8s_namespace = c.metadata->k8s_namespace;
      m.pod = c.metadata->pod;
      m.name = m.k8s_namespace.empty() ? m.pod : m.k8s_namespace + "/" + m.pod;
      entry.from = c.metadata;
      entry.pod = std::make_shared<const ContainerMetadata>(std::move(m));
    }
    pod.metadata = entry.pod;
    pod.identity.name = entry.pod->name;
  }
  std::erase_if(cache_, [](const auto& e) { return !e.second.seen; });
  // Kata's overhead (kind "vm", runtime "kata", id the sandbox id) is its pod's: the sandbox is
  // known by its own state, and every container's state names it.
  std::unordered_map<std::string_view, std::size_t> by_sandbox;  // sandbox id -> the pod, into *samples
  for (const Sample& c : *samples) {
    if (c.identity.parent.empty() || !c.metadata) continue;
    auto it = pods.find(c.identity.parent);
    if (it == pods.end()) continue;
    const std::string& sandbox = c.metadata->sandbox ? c.identity.id : c.metadata->sandbox_id;
    if (!sandbox.empty()) by_sandbox.emplace(sandbox, it->second);
  }
  for (Sample& s : *samples) {
    if (s.identity.kind != "vm" || s.identity.runtime != "kata") continue;
    auto it = by_sandbox.find(s.identity.id);
    if (it == by_sandbox.end()) continue;
    const Sample& pod = (*samples)[it->second];
    s.identity.pod_uid = pod.identity.id;
    if (pod.metadata) {
      s.metadata = pod.metadata;
      s.identity.name = pod.identity.name;
    }
  }
  if (!sandboxes) return;
  // Which go is decided first: `pods` views the samples' ids, which the compaction moves.
  std::vector<bool> drop(samples->size(), false);
  for (std::size_t i = 0; i < samples->size(); ++i) {
    const Sample& s = (*samples)[i];
    drop[i] = s.metadata && s.metadata->sandbox && pods.contains(s.identity.parent);
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < samples->size(); ++i) {
    if (drop[i]) continue;
    if (kept != i) (*samples)[kept] = std::move((*samples)[i]);
    ++kept;
  }
  samples->resize(kept);
}

}  // namespace we
