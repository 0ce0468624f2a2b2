#include "collectors/runtime_metadata.h"

#include <utility>

#include "collectors/json.h"
#include "collectors/parse.h"

#include <spdlog/spdlog.h>

namespace we {
namespace {

using json::bj::value;

std::string Value(const value* v) { return std::string(json::String(v).value_or("")); }

// An object's string members; members of other types (and empty keys) are left out.
std::map<std::string, std::string> Strings(const value* node) {
  std::map<std::string, std::string> out;
  if (node == nullptr || !node->is_object()) return out;
  for (const auto& member : node->get_object()) {
    if (auto s = json::String(&member.value()); s && !member.key().empty()) {
      out.emplace(std::string(member.key()), std::string(*s));
    }
  }
  return out;
}

// The CRI annotations containerd and CRI-O put in the OCI bundle.
void FromAnnotations(const std::map<std::string, std::string>& a, ContainerMetadata* m) {
  auto get = [&](std::initializer_list<const char*> keys) -> std::string {
    for (const char* k : keys) {
      if (auto it = a.find(k); it != a.end() && !it->second.empty()) return it->second;
    }
    return "";
  };
  m->pod = get({"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"});
  m->k8s_namespace = get({"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"});
  m->container = get({"io.kubernetes.cri.container-name", "io.kubernetes.container.name"});
  m->image = get({"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName", "io.kubernetes.cri-o.Image"});
  // The pod's sandbox: containerd's and CRI-O's container type, cri-dockerd's (and dockershim's)
  // container label.
  m->sandbox = get({"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"}) == "sandbox" ||
               get({"io.kubernetes.docker.type"}) == "podsandbox";
  m->sandbox_id = get({"io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID", "io.kubernetes.sandbox.id"});
  m->name = m->container;
  // Podman keeps its own name in the bundle too.
  if (m->name.empty()) m->name = get({"io.podman.annotations.name", "org.opencontainers.image.title"});
}

}  // namespace

std::optional<ContainerMetadata> ParseDockerConfigV2(std::string_view text, std::string* error) {
  auto doc = json::Parse(text, error);
  if (!doc) return std::nullopt;
  ContainerMetadata m;
  m.name = Value(json::Find(*doc, {"Name"}));
  if (!m.name.empty() && m.name.front() == '/') m.name.erase(0, 1);
  m.image = Value(json::Find(*doc, {"Config", "Image"}));
  m.labels = Strings(json::Find(*doc, {"Config", "Labels"}));
  // Kubernetes on dockershim / cri-dockerd labels the container itself.
  ContainerMetadata k8s;
  FromAnnotations(m.labels, &k8s);
  m.k8s_namespace = k8s.k8s_namespace;
  m.pod = k8s.pod;
  m.container = k8s.container;
  m.sandbox = k8s.sandbox;
  m.sandbox_id = k8s.sandbox_id;
  if (!k8s.container.empty()) m.name = k8s.container;
  return m;
}

std::optional<ContainerMetadata> ParseOciConfig(std::string_view text, std::string* error) {
  auto doc = json::Parse(text, error);
  if (!doc) return std::nullopt;
  ContainerMetadata m;
  FromAnnotations(Strings(json::Find(*doc, {"annotations"})), &m);
  return m;
}

std::optional<ContainerMetadata> ParsePodmanContainersJson(std::string_view text, const std::string& id,
                                                           std::string* error) {
  auto doc = json::Parse(text, error);
  if (!doc) return std::nullopt;
  ContainerMetadata m;
  if (!doc->is_array()) return m;
  for (const value& entry : doc->get_array()) {
    if (json::String(json::Find(entry, {"id"})) != id) continue;
    if (const value* names = json::Find(entry, {"names"});
        names != nullptr && names->is_array() && !names->get_array().empty()) {
      m.name = Value(&names->get_array().front());
    }
    // "metadata" is a JSON string holding the image name among others.
    std::string inner_error;
    if (auto inner = json::Parse(Value(json::Find(entry, {"metadata"})), &inner_error)) {
      m.image = Value(json::Find(*inner, {"image-name"}));
    }
    break;
  }
  return m;
}

std::string ParseProxmoxConfigValue(std::string_view text, std::string_view key) {
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    const std::string_view trimmed = Trim(line);
    if (!trimmed.empty() && trimmed.front() == '[' && trimmed.back() == ']') break;  // a section
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    return std::string(Trim(line.substr(key.size() + 1)));
  }
  return "";
}

std::vector<std::string> ParsePasswdHomes(std::string_view text) {
  std::vector<std::string> homes;
  for (std::string_view line : SplitNonEmpty(text, '\n')) {
    // name:password:uid:gid:gecos:home:shell
    std::size_t field = 0, start = 0;
    std::string_view home;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ':') {
        if (field == 5) home = line.substr(start, i - start);
        ++field;
        start = i + 1;
      }
    }
    if (field != 7 || home.size() < 2 || home.front() != '/') continue;
    homes.emplace_back(home);
  }
  return homes;
}

namespace {
// Ticks between look-ups of a container whose state files could not be read or parsed.
constexpr uint32_t kLookupRetrySweeps = 30;
}  // namespace

MetadataResolver::MetadataResolver(const FileSystem& fs, std::string rootfs, LabelFilter keep_label)
    : fs_(fs), rootfs_(std::move(rootfs)), keep_label_(std::move(keep_label)) {}

std::optional<ContainerMetadata> MetadataResolver::Lookup(const WorkloadIdentity& id) {
  std::string error;
  std::string path;  // of the file read last, for its errors
  auto fail = [&](std::string what) {
    ++errors_[id.runtime];
    lookup_failed_ = true;
    // Once per container (its state is cached; retries are quiet), so a broken file is one line,
    // not one a tick.
    if (!quiet_) spdlog::warn("{} metadata: {}", id.runtime, what);
    last_errors_[id.runtime] = std::move(what);
  };
  // `count_errors` is false where looking is a guess (other users' homes, which the daemon's own
  // user may well be refused): there a refusal is as good as absent.
  auto read = [&](const std::string& rel, bool count_errors = true) -> std::optional<std::string> {
    path = JoinPath(rootfs_, rel);
    ReadResult r = fs_.ReadFile(path);
    if (r.ok()) return std::move(r.data);
    if (r.status == ReadResult::Status::kError && count_errors) fail(std::move(r.error));
    return std::nullopt;
  };
  auto parsed = [&](std::optional<ContainerMetadata> m) {
    if (!m) fail(path + ": " + error);
    return m;
  };
  // Proxmox VE: a missing or refused file (no pmxcfs here, the daemon not in www-data) is no name.
  auto proxmox = [&](const std::string& rel, std::string_view key) -> std::optional<ContainerMetadata> {
    if (id.id.empty() || id.id.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    auto text = read(rel, /*count_errors=*/false);
    if (!text) return std::nullopt;
    ContainerMetadata m;
    m.name = ParseProxmoxConfigValue(*text, key);
    return m;
  };
  if (id.runtime == "proxmox") return proxmox("etc/pve/qemu-server/" + id.id + ".conf", "name");
  if (id.runtime == "lxc") return proxmox("etc/pve/lxc/" + id.id + ".conf", "hostname");
  if (id.runtime == "docker") {
    if (auto text = read("var/lib/docker/containers/" + id.id + "/config.v2.json")) {
      return parsed(ParseDockerConfigV2(*text, &error));
    }
  } else if (id.runtime == "containerd" || id.runtime == "cri") {
    const std::string base = "run/containerd/io.containerd.runtime.v2.task";
    if (auto namespaces = fs_.ListDir(JoinPath(rootfs_, base))) {
      for (const DirEntry& ns : *namespaces) {
        if (auto text = read(base + "/" + ns.name + "/" + id.id + "/config.json")) {
          return parsed(ParseOciConfig(*text, &error));
        }
      }
    }
  } else if (id.runtime == "cri-o") {
    if (auto text = read("run/containers/storage/overlay-containers/" + id.id + "/userdata/config.json")) {
      return parsed(ParseOciConfig(*text, &error));
    }
  } else if (id.runtime == "podman") {
    // One store: the containers.json index, then the bundle's config.json for what it lacks.
    auto from_store = [&](const std::string& base, bool rootful) -> std::optional<ContainerMetadata> {
      std::optional<ContainerMetadata> m;
      if (auto text = read(base + "containers.json", rootful)) {
        m = parsed(ParsePodmanContainersJson(*text, id.id, &error));
      }
      if (auto text = read(base + id.id + "/userdata/config.json", rootful)) {
        if (auto oci = parsed(ParseOciConfig(*text, &error))) {
          if (!m) m = ContainerMetadata{};
          if (m->name.empty()) m->name = oci->name;
          if (m->image.empty()) m->image = oci->image;
        }
      }
      return m;
    };
    const auto known = [](const std::optional<ContainerMetadata>& m) { return m && !m->name.empty(); };
    std::optional<ContainerMetadata> m = from_store("var/lib/containers/storage/overlay-containers/", true);
    if (known(m)) return m;
    if (auto passwd = read("etc/passwd")) {
      for (const std::string& home : ParsePasswdHomes(*passwd)) {
        auto rootless = from_store(home.substr(1) + "/.local/share/containers/storage/overlay-containers/", false);
        if (known(rootless)) return rootless;
      }
    }
    return m;
  }
  return std::nullopt;
}

void MetadataResolver::Resolve(Sample* sample) {
  if (sample->identity.kind != "container" && sample->identity.runtime != "proxmox") return;
  sample->identity.KeyInto(&key_);
  auto it = cache_.find(key_);
  const bool fresh = it == cache_.end();
  if (fresh) it = cache_.try_emplace(key_).first;
  Entry& entry = it->second;
  if (fresh || (!entry.metadata && entry.failed && entry.sweeps_since_lookup >= kLookupRetrySweeps)) {
    lookup_failed_ = false;
    quiet_ = !fresh;
    std::optional<ContainerMetadata> m = Lookup(sample->identity);
    entry.failed = lookup_failed_;
    entry.sweeps_since_lookup = 0;
    if (m) {
      if (keep_label_) std::erase_if(m->labels, [&](const auto& l) { return !keep_label_(l.first); });
      entry.metadata = std::make_shared<const ContainerMetadata>(std::move(*m));
    }
  }
  it->second.seen = true;
  if (!it->second.metadata) return;
  sample->metadata = it->second.metadata;
  if (!it->second.metadata->name.empty()) sample->identity.name = it->second.metadata->name;
}

void MetadataResolver::Sweep() {
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (!it->second.seen) {
      it = cache_.erase(it);
    } else {
      it->second.seen = false;
      ++it->second.sweeps_since_lookup;
      ++it;
    }
  }
}

}  // namespace we
