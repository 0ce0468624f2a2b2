#include "collectors/opener_protocol.h"

namespace we {
namespace {

// The files runtime_metadata.cc reads (its header lists them), as patterns. Rootless Podman's
// homes and etc/passwd are not here: the first are hidden from both units, the second is
// world-readable.
constexpr StateFilePattern kRuntimeStateFiles[] = {
    {"docker", "var/lib/docker/containers/*/config.v2.json"},
    {"containerd", "run/containerd/io.containerd.runtime.v2.task/*/*/config.json"},
    {"cri-o", "run/containers/storage/overlay-containers/*/userdata/config.json"},
    {"podman", "var/lib/containers/storage/overlay-containers/containers.json"},
    {"podman", "var/lib/containers/storage/overlay-containers/*/userdata/config.json"},
};

constexpr std::string_view kWatermarkName = "memory.peak";

std::vector<std::string_view> Components(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= pattern.size(); ++i) {
    if (i == pattern.size() || pattern[i] == '/') {
      out.push_back(pattern.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// True when `components` (already free of empty, "." and "..") match the pattern exactly.
bool Matches(std::string_view pattern, std::span<const std::string_view> components) {
  const std::vector<std::string_view> want = Components(pattern);
  if (want.size() != components.size()) return false;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] != "*" && want[i] != components[i]) return false;
  }
  return true;
}

bool IsStateFile(std::span<const std::string_view> components) {
  for (const StateFilePattern& p : kRuntimeStateFiles) {
    if (Matches(p.path, components)) return true;
  }
  return false;
}

// `path`'s components beneath `root`, nullopt when it is not beneath it.
std::optional<std::vector<std::string_view>> Beneath(std::string_view root, const std::vector<std::string_view>& path) {
  auto root_components = SplitAbsolutePath(root);
  if (!root_components) {
    if (root != "/") {
      // A root with a trailing '/' ("/host/"): the same root without it.
      if (root.size() < 2 || root.back() != '/') return std::nullopt;
      root_components = SplitAbsolutePath(root.substr(0, root.size() - 1));
      if (!root_components) return std::nullopt;
    } else {
      root_components.emplace();
    }
  }
  if (path.size() <= root_components->size()) return std::nullopt;
  for (std::size_t i = 0; i < root_components->size(); ++i) {
    if ((*root_components)[i] != path[i]) return std::nullopt;
  }
  return std::vector<std::string_view>(path.begin() + static_cast<std::ptrdiff_t>(root_components->size()), path.end());
}

}  // namespace

std::string EncodeOpenRequest(OpenMode mode, std::string_view path) {
  std::string out;
  out.reserve(1 + path.size());
  out.push_back(static_cast<char>(mode));
  out.append(path);
  return out;
}

std::optional<OpenRequest> ParseOpenRequest(std::string_view message) {
  if (message.size() < 2 || message.size() > kMaxOpenerRequest) return std::nullopt;
  OpenRequest r;
  if (message[0] == 'r') {
    r.mode = OpenMode::kRead;
  } else if (message[0] == 'w') {
    r.mode = OpenMode::kReadWrite;
  } else {
    return std::nullopt;
  }
  r.path = message.substr(1);
  if (r.path.find('\0') != std::string_view::npos) return std::nullopt;
  return r;
}

std::optional<std::vector<std::string_view>> SplitAbsolutePath(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return std::nullopt;
  std::vector<std::string_view> out;
  std::size_t start = 1;
  for (std::size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    std::string_view c = path.substr(start, i - start);
    if (c.empty() || c == "." || c == "..") return std::nullopt;
    out.push_back(c);
    start = i + 1;
  }
  return out;
}

std::span<const StateFilePattern> RuntimeStateFiles() { return kRuntimeStateFiles; }

std::optional<AllowedOpen> OpenerAllowed(const OpenerRoots& roots, OpenMode mode, std::string_view path) {
  if (path.size() > kMaxOpenerPath) return std::nullopt;
  auto components = SplitAbsolutePath(path);
  if (!components) return std::nullopt;
  const std::string& root = mode == OpenMode::kReadWrite ? roots.cgroupfs : roots.rootfs;
  auto below = Beneath(root, *components);
  if (!below) return std::nullopt;
  const bool allowed = mode == OpenMode::kReadWrite ? below->back() == kWatermarkName : IsStateFile(*below);
  if (!allowed) return std::nullopt;
  return AllowedOpen{root, std::move(*below)};
}

bool OpenerMightAllow(OpenMode mode, std::string_view path) {
  auto components = SplitAbsolutePath(path);
  if (!components || path.size() > kMaxOpenerPath) return false;
  if (mode == OpenMode::kReadWrite) return components->back() == kWatermarkName;
  for (const StateFilePattern& p : kRuntimeStateFiles) {
    const std::size_t n = Components(p.path).size();
    if (components->size() < n) continue;
    if (Matches(p.path, std::span(*components).subspan(components->size() - n))) return true;
  }
  return false;
}

}  // namespace we
