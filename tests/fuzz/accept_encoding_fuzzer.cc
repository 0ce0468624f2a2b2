// Fuzzes AcceptEncodingAllowsGzip (http/server.h) with arbitrary Accept-Encoding values,
// and checks the rules of RFC 9110 section 12.5.3 that hold whatever the rest of the value says.

#include <cstddef>
#include <cstdint>
#include <string>

#include "http/request.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string value(fuzz::AsText(data, size));
  const bool gzip = AcceptEncodingAllowsGzip(value);

  // "gzip;q=0" refuses gzip, and the first mention of a coding is the one that counts.
  FUZZ_CHECK(!AcceptEncodingAllowsGzip("gzip;q=0," + value));
  FUZZ_CHECK(!AcceptEncodingAllowsGzip("identity;q=0,x-gzip;q=0," + value));
  // "identity;q=0" only forbids an uncompressed body; it never decides for gzip.
  FUZZ_CHECK(AcceptEncodingAllowsGzip(value + ",identity;q=0") == gzip);
  // Content codings and parameter names are case-insensitive.
  std::string lower = value;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  FUZZ_CHECK(AcceptEncodingAllowsGzip(lower) == gzip);
  return 0;
}
