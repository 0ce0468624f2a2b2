#pragma once
// The opener's protocol and allowlist, shared by the opener (opener/, which runs as root without
// capabilities and opens files for the daemon) and the daemon's client (collectors/opener_client.h).
//
// Protocol, over a SOCK_SEQPACKET unix socket (one message each way, so no framing):
//   request  one byte, 'r' (read-only) or 'w' (read-write), then the absolute path, no NUL, at
//            most kMaxOpenerPath bytes
//   reply    an int32 errno in host byte order, 0 when the file was opened, and then the
//            descriptor as SCM_RIGHTS
// A message that is not a request closes the connection: a client that sends one is broken.
//
// The allowlist is two tables that the code walks (OpenerAllowed):
//   read-write  files named memory.peak beneath the cgroupfs root (--path.cgroupfs): Linux 6.12
//               resets a descriptor's own high-water mark on a write, so a write through ours
//               changes nothing any other reader sees (collectors/file_system.h)
//   read-only   the container runtimes' state files that collectors/runtime_metadata.cc reads,
//               beneath the rootfs root (--path.rootfs); kRuntimeStateFiles. Rootless Podman's
//               stores are left out: they are in users' homes, which both units hide.
// Everything else is refused with EACCES. Paths are absolute, with no empty, "." or ".."
// component; symbolic links are refused where the opener resolves them (opener/open_beneath.h).
//
// Thread-safety: pure functions and constant tables; any thread.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace we {

enum class OpenMode : char { kRead = 'r', kReadWrite = 'w' };

// PATH_MAX less its NUL: the longest path open(2) takes.
constexpr std::size_t kMaxOpenerPath = 4095;
constexpr std::size_t kMaxOpenerRequest = 1 + kMaxOpenerPath;

struct OpenRequest {
  OpenMode mode = OpenMode::kRead;
  std::string_view path;  // a view into the message
};

// A request as it travels; ParseOpenRequest(EncodeOpenRequest(m, p)) gives m and p back for any
// path that the parser takes.
std::string EncodeOpenRequest(OpenMode mode, std::string_view path);
// nullopt for anything that is not a request: empty, an unknown mode byte, an empty or over-long
// path, or a NUL in it. Says nothing about whether the path is allowed.
std::optional<OpenRequest> ParseOpenRequest(std::string_view message);

// Splits an absolute path into its components; nullopt when it is relative or has an empty, "."
// or ".." component (so "/" itself, "//x" and "/x/" are refused too).
std::optional<std::vector<std::string_view>> SplitAbsolutePath(std::string_view path);

// A runtime state file, as components relative to --path.rootfs; "*" stands for exactly one
// component (a container id, a containerd namespace).
struct StateFilePattern {
  const char* runtime;
  const char* path;
};
// Every file MetadataResolver::Lookup reads with the rootful stores' modes (root-only), and so
// the only files the opener reads for the daemon. tests/collectors/opener_protocol_test.cc checks
// that runtime_metadata.cc reads nothing else beneath the root but etc/passwd (world-readable).
std::span<const StateFilePattern> RuntimeStateFiles();

struct OpenerRoots {
  std::string cgroupfs = "/sys/fs/cgroup";
  std::string rootfs = "/";
};

// Where an allowed path is opened from: its root and the components below it, each to be
// opened without following symbolic links.
struct AllowedOpen {
  std::string_view root;
  std::vector<std::string_view> components;  // views into the path; at least one
};

// The allowlist: where `path` is opened from when `mode` on it is allowed, nullopt (EACCES)
// otherwise. The roots are absolute paths ("/" allowed; a trailing '/' is ignored).
std::optional<AllowedOpen> OpenerAllowed(const OpenerRoots& roots, OpenMode mode, std::string_view path);

// The daemon's side of the same tables, for whichever roots the opener was given: true when
// `path` has the shape of an allowed one (a memory.peak for read-write, a path that ends in a
// state file's pattern for read-only). The daemon asks the opener only for such paths.
bool OpenerMightAllow(OpenMode mode, std::string_view path);

}  // namespace we
