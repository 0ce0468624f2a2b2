#pragma once
// A configuration error that says where it is: "file:line:column: key.path: message".
// A plain value; any thread.

#include <string>
#include <vector>

namespace we {

struct ConfigError {
  std::string file;      // the file's path as given, or "<flags>" for a command-line flag
  int line = 0;          // 1-based; 0 when the error has no position (a missing file)
  int column = 0;        // 1-based; 0 when unknown
  std::string key_path;  // e.g. "sampling.interval"; empty for a syntax error
  std::string message;

  // file:line:column: key.path: message (position and key are left out when unknown).
  std::string ToString() const;
};

// One error per line, in the order given.
std::string FormatErrors(const std::vector<ConfigError>& errors);

}  // namespace we
