// Fuzzes ParseListenAddress (config/listen_address.h), the one parser of listen addresses, and
// checks that the config's validation (config_checks::CheckListenAddress, which --check-config
// runs) says exactly what the parser says: HttpServer::Listen parses the value again at startup.

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_loader.h"
#include "config/listen_address.h"
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

  const std::optional<std::string> problem = config_checks::CheckListenAddress(text);
  FUZZ_CHECK(problem.has_value() != address.has_value());
  if (problem) FUZZ_CHECK(*problem == error);
  return 0;
}
