// Fuzzes the VMM process parsers of collectors/qemu_process.h. The first byte chooses the parser
// (modulo 3): 0 /proc/PID/cmdline, 1 a "Key: N kB" field of status or smaps_rollup (the second
// byte picks the key), 2 a thread's comm (QEMU's, Firecracker's and Cloud Hypervisor's names).
// The rest is the file's text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/qemu_process.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Whether `text` holds `value` as a number of its own (leading zeros aside).
bool HasNumber(std::string_view text, uint64_t value) {
  const std::string wanted = std::to_string(value);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find_first_of("0123456789", pos);
    if (start == std::string_view::npos) return false;
    std::size_t end = text.find_first_not_of("0123456789", start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view number = text.substr(start, end - start);
    while (number.size() > 1 && number.front() == '0') number.remove_prefix(1);
    if (number == wanted) return true;
    pos = end;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  if (size == 0) return 0;
  std::string_view text = fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      const std::optional<VmmCommandLine> cmdline = ParseVmmCommandLine(text);
      if (!cmdline) break;
      // Only VMMs are recognised, by argv[0]'s base name.
      std::string_view exe = text.substr(0, text.find('\0'));
      exe = exe.substr(exe.rfind('/') == std::string_view::npos ? 0 : exe.rfind('/') + 1);
      FUZZ_CHECK(exe.substr(0, 12) == "qemu-system-" || exe == "qemu-kvm" || exe == "kvm" ||
                 exe.substr(0, 11) == "firecracker" || exe.substr(0, 16) == "cloud-hypervisor");
      // "anonymous-instance" is Firecracker's default name; everything else comes from the text.
      FUZZ_CHECK((cmdline->name.size() < text.size() || cmdline->name == "anonymous-instance") &&
                 cmdline->uuid.size() < text.size() && cmdline->vmm_id.size() < text.size());
      break;
    }
    case 1: {
      if (text.empty()) break;
      static constexpr std::string_view kKeys[] = {"Rss", "VmRSS", "VmHWM", "Pss"};
      const std::string_view key = kKeys[static_cast<unsigned char>(text[0]) % std::size(kKeys)];
      text.remove_prefix(1);
      if (const std::optional<uint64_t> bytes = ParseKbField(text, key)) {
        FUZZ_CHECK(*bytes % 1024 == 0);
        // The kB figure the file holds, unchanged: it must not wrap when scaled to bytes.
        FUZZ_CHECK(HasNumber(text, *bytes / 1024));
      }
      break;
    }
    case 2: {
      if (const std::optional<int> vcpu = ParseVcpuThreadName(text)) {
        FUZZ_CHECK(*vcpu >= 0 && *vcpu <= 4096);
        FUZZ_CHECK(text.find("CPU ") != std::string_view::npos);
      }
      for (std::string_view runtime : {"firecracker", "cloud-hypervisor"}) {
        if (const std::optional<int> vcpu = ParseVmmVcpuThreadName(runtime, text)) {
          FUZZ_CHECK(*vcpu >= 0 && *vcpu <= 4096);
          FUZZ_CHECK(text.find("vcpu") != std::string_view::npos);
        }
      }
      break;
    }
  }
  return 0;
}
