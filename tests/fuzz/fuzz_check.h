#pragma once
// What the fuzz targets share: a check that fails loudly, so that libFuzzer records the input that
// broke an invariant exactly as it records a sanitizer report.

#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts with the failed condition and its place when `cond` is false. Unlike assert() it stays on
// in every build type.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace we::fuzz {

inline std::string_view AsText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace we::fuzz
