#pragma once
// What the two YAML loaders share to report errors as "file:line:column: key.path: message":
// config/config_loader.cc (--config.file) and config/web_config.cc (--web.config.file). Both
// reject non-string and duplicate keys alike, quote values alike and count lines alike.
//
// Thread-safety: pure functions; a Reporter belongs to one load.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"

namespace we::yaml_report {

// `text` in double quotes, with control characters escaped and long values shortened, so that a
// message stays on one line and readable whatever the user wrote.
std::string Quote(std::string_view text);

// yaml-cpp's marks are 0-based and -1 when unknown; ConfigError's are 1-based and 0 when unknown.
int OneBased(int zero_based);

// What a node is, for "expected X, got Y" messages: null, scalar "...", a sequence, a mapping.
std::string Describe(const YAML::Node& node);

// "parent.name", or "name" at the top.
std::string JoinKeyPath(const std::string& parent, std::string_view name);

// Collects the errors of one document, in the order they are found (document order).
class Reporter {
 public:
  // `file_name` must outlive the reporter.
  explicit Reporter(const std::string& file_name) : file_name_(file_name) {}
  void Add(const YAML::Mark& mark, std::string key_path, std::string message) {
    errors_.push_back(
        ConfigError{file_name_, OneBased(mark.line), OneBased(mark.column), std::move(key_path), std::move(message)});
  }
  bool empty() const { return errors_.empty(); }
  std::vector<ConfigError> Take() { return std::move(errors_); }

 private:
  const std::string& file_name_;
  std::vector<ConfigError> errors_;
};

// One key/value pair of a mapping (node handles are cheap copies).
struct Entry {
  YAML::Node key;
  YAML::Node value;
  std::string path;  // e.g. "web.listen_address"

  // Where to point at the value. A missing value (`key:`) has a null node whose mark is that of
  // the next token, so point at the key instead.
  YAML::Mark ValueMark() const { return value.IsNull() ? key.Mark() : value.Mark(); }
};

// Calls `visit` for each entry of mapping `node` at key path `parent`, in document order: each
// key a scalar, seen once. A non-scalar key ("expected a string key, got ...") and a repeated one
// ("duplicate key (first set at line L, column C)") are reported where they stand, between the
// visits, so that errors stay in document order, and are not visited.
void ForEachEntry(const YAML::Node& node, const std::string& parent, Reporter& reporter,
                  const std::function<void(const Entry&)>& visit);

// The first document of `text`, and where a second one starts, if there is one: a configuration
// file holds one document, and a second is reported at its mark. Throws YAML::Exception (invalid
// YAML, or nesting too deep). Not YAML::LoadAll: yaml-cpp 0.7's LoadAll never returns on some
// inputs (a lone ",": upstream bug 1040, found by tests/fuzz), while each HandleNextDocument call
// does; two are all that is needed.
struct Documents {
  std::optional<YAML::Node> first;   // nullopt: no document at all (empty, or comments only)
  std::optional<YAML::Mark> second;  // where a second document starts
};
Documents LoadAtMostTwoDocuments(const std::string& text);

}  // namespace we::yaml_report
