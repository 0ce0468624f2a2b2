// Fuzzes the opener's request parser and allowlist (collectors/opener_protocol.h), what a client
// of the root opener controls: the message is parsed, and a request is checked against the
// allowlist for the package's roots and for a root below "/".

#include <cstddef>
#include <cstdint>
#include <string>

#include "collectors/opener_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckAllowed(const we::OpenerRoots& roots, const we::OpenRequest& r) {
  const std::optional<we::AllowedOpen> allowed = we::OpenerAllowed(roots, r.mode, r.path);
  if (!allowed) return;
  // Beneath the mode's root, by whole components that the opener can open one by one.
  const std::string& root = r.mode == we::OpenMode::kReadWrite ? roots.cgroupfs : roots.rootfs;
  FUZZ_CHECK(allowed->root == root);
  FUZZ_CHECK(r.path.rfind(root == "/" ? "/" : root + "/", 0) == 0);
  FUZZ_CHECK(!allowed->components.empty());
  for (std::string_view c : allowed->components) {
    FUZZ_CHECK(!c.empty() && c != "." && c != "..");
    FUZZ_CHECK(c.find('/') == std::string_view::npos && c.find('\0') == std::string_view::npos);
  }
  if (r.mode == we::OpenMode::kReadWrite) FUZZ_CHECK(allowed->components.back() == "memory.peak");
  // The daemon's filter lets through everything the opener allows.
  FUZZ_CHECK(we::OpenerMightAllow(r.mode, r.path));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string_view message = fuzz::AsText(data, size);
  const std::optional<OpenRequest> request = ParseOpenRequest(message);
  if (!request) return 0;
  FUZZ_CHECK(!request->path.empty() && request->path.size() <= kMaxOpenerPath);
  FUZZ_CHECK(EncodeOpenRequest(request->mode, request->path) == message);
  CheckAllowed(OpenerRoots{}, *request);
  CheckAllowed(OpenerRoots{"/sys/fs/cgroup/unified", "/host"}, *request);
  return 0;
}
