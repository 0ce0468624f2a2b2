// Fuzzes the container runtimes' state-file parsers (collectors/runtime_metadata.h). The first
// byte chooses the parser (modulo 4): 0 Docker's config.v2.json, 1 an OCI bundle's config.json
// (containerd, CRI-O), 2 Podman's containers.json, looked up for the id of the podman container
// in tests/fixtures, 3 a Proxmox VE guest config (name: and hostname:). The rest is the file's
// text. Seeds are the fixture files under tests/fixtures/rootfs/ and platforms/proxmox/rootfs/.

#include <cstddef>
#include <cstdint>
#include <string>

#include "collectors/runtime_metadata.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  if (size == 0) return 0;
  const std::string_view json = fuzz::AsText(data + 1, size - 1);
  static const std::string kPodmanId = "0a72863d4391b9826745c7c0bf32a46f0bf373be0726ae7d45d7ee16658a9f77";

  std::string error;
  std::optional<ContainerMetadata> metadata;
  if (data[0] % 4 == 3) {
    const std::string_view text = fuzz::AsText(data + 1, size - 1);
    for (std::string_view key : {"name", "hostname"}) {
      const std::string value = ParseProxmoxConfigValue(text, key);
      FUZZ_CHECK(value.size() < text.size() || value.empty());
      FUZZ_CHECK(value.find('\n') == std::string::npos);
      FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.back() != ' '));
      FUZZ_CHECK(value.empty() || text.find(value) != std::string_view::npos);
    }
    return 0;
  }
  switch (data[0] % 4) {
    case 0:
      metadata = ParseDockerConfigV2(json, &error);
      break;
    case 1:
      metadata = ParseOciConfig(json, &error);
      break;
    case 2:
      metadata = ParsePodmanContainersJson(json, kPodmanId, &error);
      break;
  }
  // Malformed JSON is reported, never thrown (an exception here would end the fuzz run).
  if (!metadata) FUZZ_CHECK(!error.empty());
  if (metadata) {
    for (const auto& [key, value] : metadata->labels) FUZZ_CHECK(!key.empty());
  }
  return 0;
}
