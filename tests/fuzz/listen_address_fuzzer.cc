// Fuzzes ParseListenAddress (daemon/listen_address.h), and checks it against the config's own
// validation, config_checks::CheckListenAddress: the config file and --web.listen-address are
// validated by the latter, and HttpServer::Listen then parses the value with the former, so an
// address the check accepts and the parser refuses passes --check-config and fails at startup.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "config/config_loader.h"
#include "daemon/listen_address.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string_view text = fuzz::AsText(data, size);

  std::string error;
  const std::optional<ListenAddress> address = ParseListenAddress(text, &error);
  if (address) {
    // The canonical form parses back to the same address.
    std::string again_error;
    const std::string formatted = FormatListenAddress(*address);
    const std::optional<ListenAddress> again = ParseListenAddress(formatted, &again_error);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *address);
    FUZZ_CHECK(FormatListenAddress(*again) == formatted);
  } else {
    FUZZ_CHECK(error.rfind("invalid listen address \"", 0) == 0);
  }

  // The reverse (ParseListenAddress accepting what the check refuses, such as odd zone names)
  // is harmless: the server never sees a value the check refused.
  const std::optional<std::string> problem = config_checks::CheckListenAddress(text);
  if (!problem && !address) {
    std::fprintf(stderr, "listen address accepted by config_checks::CheckListenAddress, refused by "
                         "ParseListenAddress: %s\n", error.c_str());
  }
  FUZZ_CHECK(problem || address);
  return 0;
}
