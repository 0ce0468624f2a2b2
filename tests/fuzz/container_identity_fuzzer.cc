// Fuzzes the runtimes' cgroup naming rules (collectors/container_identity.h): the input is a
// cgroup path relative to its hierarchy's root, as the collector walks it. Seeds are every
// directory of the fixture trees.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/container_identity.h"
#include "tests/fuzz/fuzz_check.h"

namespace we {
namespace {

// systemd's unit-name escaping, the inverse UnescapeSystemdName must undo: every byte outside
// [A-Za-z0-9:_.] becomes "\xNN" in lower-case hex.
std::string EscapeSystemdName(std::string_view name) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
        c == '.') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

bool IsVmRuntime(const std::string& runtime) {
  return runtime == "libvirt" || runtime == "proxmox" || runtime == "firecracker" || runtime == "machined" ||
         runtime == "kata";
}

// machined's answer for every machine: a VM with a UUID.
class EveryMachineAVm final : public MachineLookup {
 public:
  std::optional<MachineRecord> Find(const std::string&) const override {
    return MachineRecord{"vm", "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a"};
  }
};

bool IsOciRuntime(const std::string& runtime) {
  return runtime == "docker" || runtime == "containerd" || runtime == "cri-o" || runtime == "podman" ||
         runtime == "cri";
}

}  // namespace
}  // namespace we

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string_view path = fuzz::AsText(data, size);

  const std::optional<WorkloadIdentity> identity = IdentifyCgroup(path);
  if (identity) {
    FUZZ_CHECK(identity->kind == "container" || identity->kind == "vm" || identity->kind == "pod");
    // A pod is its UID; Kata's overhead its sandbox id.
    if (identity->kind == "pod") FUZZ_CHECK(identity->runtime == "kubernetes" && identity->id == identity->pod_uid);
    if (identity->runtime == "kata") FUZZ_CHECK(IsContainerId(identity->id));
    FUZZ_CHECK(!identity->runtime.empty());
    FUZZ_CHECK(!identity->id.empty());
    FUZZ_CHECK(!identity->name.empty());
    if (IsOciRuntime(identity->runtime)) {
      FUZZ_CHECK(identity->kind == "container");
      FUZZ_CHECK(IsContainerId(identity->id));
      FUZZ_CHECK(identity->name == identity->id.substr(0, 12));
    }
    if (identity->kind == "vm") FUZZ_CHECK(IsVmRuntime(identity->runtime) && identity->runtime != "machined");
    if (identity->runtime == "proxmox") FUZZ_CHECK(identity->id.find_first_not_of("0123456789") == std::string::npos);
    if (identity->runtime == "firecracker") FUZZ_CHECK(identity->id.size() <= 64);
    FUZZ_CHECK(identity->pod_uid.empty() || identity->pod_uid.size() == 36);
  }
  // machined's records change what a machine scope is (and may make a VM of a "qemu-" scope that
  // is no libvirt name), but never unmake a workload, nor a VM into a container here.
  static const EveryMachineAVm kVms;
  const std::optional<WorkloadIdentity> told = IdentifyCgroup(path, &kVms);
  FUZZ_CHECK(told || !identity);
  if (told) {
    FUZZ_CHECK(!told->id.empty() && !told->name.empty());
    if (told->kind == "vm") FUZZ_CHECK(IsVmRuntime(told->runtime));
    if (identity && identity->kind == "vm") FUZZ_CHECK(told->kind == "vm");
  }
  // Only the path's components matter, not how many slashes separate them.
  FUZZ_CHECK(IdentifyCgroup(std::string(path) + "/") == identity);
  FUZZ_CHECK(IdentifyCgroup("/" + std::string(path)) == identity);

  if (IsContainerId(path)) FUZZ_CHECK(path.size() == 64);

  const std::string unescaped = UnescapeSystemdName(path);
  FUZZ_CHECK(unescaped.size() <= path.size());
  if (path.find('\\') == std::string_view::npos) FUZZ_CHECK(unescaped == path);
  FUZZ_CHECK(UnescapeSystemdName(EscapeSystemdName(path)) == path);
  return 0;
}
