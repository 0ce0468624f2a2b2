#pragma once
// The one way config/ and http/ read a file a user named (the main configuration, the web
// configuration, a TLS client CA): whole, bounded, with errno's own words on failure, so that a
// device or a log file named by mistake is refused rather than swallowed.
//
// Thread-safety: a pure function of the file system; any thread.

#include <cstddef>
#include <optional>
#include <string>

namespace we {

// Files a user names for configuration are a few kilobytes.
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;

// The file's text, or nullopt with *error set to "cannot open: <strerror>", "cannot read:
// <strerror>" or "file is larger than N MiB" (N = max_bytes in MiB). The path is not in the
// message: the caller names the file (ConfigError does).
std::optional<std::string> ReadTextFile(const std::string& path, std::string* error,
                                        std::size_t max_bytes = kMaxConfigFileBytes);

}  // namespace we
