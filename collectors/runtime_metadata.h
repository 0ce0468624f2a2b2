#pragma once
// Names containers as their users name them, from the container runtimes' own state files, without
// talking to any daemon:
//   docker      <rootfs>/var/lib/docker/containers/<id>/config.v2.json (Name, Config.Image, Config.Labels)
//   containerd  <rootfs>/run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
//   cri-o       <rootfs>/run/containers/storage/overlay-containers/<id>/userdata/config.json
//   podman      <rootfs>/var/lib/containers/storage/overlay-containers/<id>/userdata/config.json and
//               the containers.json index beside it (name, image); rootless Podman keeps the same
//               files under <home>/.local/share/containers/storage/, searched for each home
//               directory in <rootfs>/etc/passwd when the rootful store does not know the id
//   proxmox     <rootfs>/etc/pve/qemu-server/<vmid>.conf `name:` (a VM whose QEMU process was not
//               seen: a seen one is named by its -name, which Proxmox takes from the same line)
//   lxc         <rootfs>/etc/pve/lxc/<vmid>.conf `hostname:` for Proxmox VE's numbered containers
// (OCI config.json: the io.kubernetes.* annotations give namespace, pod, container and image,
// and whether it is the pod's sandbox: containerd's io.kubernetes.cri.container-type, CRI-O's
// io.kubernetes.cri-o.ContainerType "sandbox", cri-dockerd's io.kubernetes.docker.type
// "podsandbox" label.)
// Other LXC and nspawn names are in the cgroup path already. Proxmox's files are root:www-data
// 0640 on pmxcfs: a daemon outside that group gets no name, which is not an error either. A missing file leaves the id
// as the name and is not an error; an unreadable or malformed one is counted per runtime and named in the log.
//
// Thread-safety: parsers are pure; MetadataResolver is used by the sampler thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/file_system.h"
#include "collectors/sample.h"

namespace we {

// Pure parsers (collectors/json.h); nullopt for malformed JSON, with `error` saying where
// ("line 2, column 17: incomplete JSON"; the resolver prefixes the file's path). A member that is
// missing, null or not a string leaves its field empty and is not an error.
std::optional<ContainerMetadata> ParseDockerConfigV2(std::string_view json, std::string* error);
std::optional<ContainerMetadata> ParseOciConfig(std::string_view json, std::string* error);
// Podman's containers.json: the entry with this id, or an empty ContainerMetadata if none.
std::optional<ContainerMetadata> ParsePodmanContainersJson(std::string_view json, const std::string& id,
                                                           std::string* error);

// A Proxmox VE guest config (qemu-server/<vmid>.conf, lxc/<vmid>.conf): the value of the first
// `key: value` line of the current configuration, before any "[snapshot]", "[PENDING]" or
// "[special:...]" section (PVE/QemuServer.pm parse_vm_config, PVE/LXC/Config.pm
// parse_pct_config). Empty when absent. Pure.
std::string ParseProxmoxConfigValue(std::string_view text, std::string_view key);

// /etc/passwd: the home directory of every account that has one (not "/", not empty), in file
// order. Malformed lines are skipped: this file only says where to look.
std::vector<std::string> ParsePasswdHomes(std::string_view text);

class MetadataResolver {
 public:
  // Which container labels are kept (by name); the rest are dropped once, when a container's
  // state is read, so they never reach a series.
  using LabelFilter = std::function<bool(const std::string&)>;

  // `fs` must outlive the resolver; `rootfs` is --path.rootfs ("/" normally, "/host" in a container).
  // Without a filter every label is kept.
  MetadataResolver(const FileSystem& fs, std::string rootfs, LabelFilter keep_label = nullptr);

  // Fills `sample->metadata` (and the identity's name) for a container, from the cache or by
  // reading its runtime's files once per new id (again every kLookupRetrySweeps ticks while they
  // were unreadable or malformed). Ids not seen in a tick are dropped by Sweep().
  void Resolve(Sample* sample);
  void Sweep();

  // Malformed or unreadable state files so far, by runtime.
  const std::map<std::string, uint64_t>& errors() const { return errors_; }
  // The latest of them, by runtime: "path: what was wrong" (also logged, once per container).
  const std::map<std::string, std::string>& last_errors() const { return last_errors_; }

 private:
  std::optional<ContainerMetadata> Lookup(const WorkloadIdentity& id);

  const FileSystem& fs_;
  std::string rootfs_;
  struct Entry {
    std::shared_ptr<const ContainerMetadata> metadata;  // null: none readable
    bool seen = false;
    // The last look-up met an unreadable or malformed file and found nothing: looked up again after
    // kLookupRetrySweeps ticks (the opener may have been starting, a runtime mid-write).
    bool failed = false;
    uint32_t sweeps_since_lookup = 0;
  };
  LabelFilter keep_label_;
  std::unordered_map<std::string, Entry> cache_;  // by identity key
  std::string key_;                               // scratch for look-ups
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, std::string> last_errors_;
  bool lookup_failed_ = false;  // set by Lookup's errors
  bool quiet_ = false;          // a retry: count errors, do not log them again
};

}  // namespace we
