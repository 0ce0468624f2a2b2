// Fuzzes ParseDuration and FormatDuration (config/duration.h): the input is parsed as duration
// text, and its first eight bytes are also read as a millisecond count to format.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "config/duration.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  using std::chrono::milliseconds;
  const std::string_view text = fuzz::AsText(data, size);

  if (const std::optional<milliseconds> d = ParseDuration(text)) {
    FUZZ_CHECK(d->count() >= 0);
    // A successful parse round-trips through FormatDuration.
    const std::string formatted = FormatDuration(*d);
    FUZZ_CHECK(ParseDuration(formatted) == d);
  }

  if (size >= sizeof(int64_t)) {
    int64_t count = 0;
    std::memcpy(&count, data, sizeof count);
    const milliseconds d{count};
    const std::string formatted = FormatDuration(d);
    FUZZ_CHECK(!formatted.empty());
    if (count >= 0) {
      FUZZ_CHECK(ParseDuration(formatted) == d);
    } else {
      FUZZ_CHECK(formatted.front() == '-' && !ParseDuration(formatted));
    }
  }
  return 0;
}
