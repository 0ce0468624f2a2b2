#pragma once
// Which workloads `workload_exporter report` looks at: the --select expressions, parsed once from
// the command line and matched against each workload of /api/v1/workloads.
//
//   key=value    equal; a value holding * ? or [...] is a glob (`name=web*`): as fnmatch(3)
//                without flags, but over code points, as the page's script matches them: ?
//                is one character of UTF-8 text, and [a-z] ranges compare code points
//   key!=value   not equal (the same glob rules)
//   key=~regex   the whole value matches the ECMAScript regex (std::regex)
//   key!~regex   it does not
//
// Keys are a workload's labels as /metrics names them: name, id, runtime, kind, and whatever else
// the document's "labels" object holds (image, namespace, pod, container, label_<x>). As in
// Prometheus, a label the workload lacks has the empty value: `label_app!=web` keeps a workload
// without label_app, and `label_app=` selects exactly those.
//
// Thread-safety: every function is pure; a Selector is immutable once parsed and may be shared.

#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/json.h"
#include "pipeline/glob.h"

namespace we {

struct Selector {
  enum class Op { kEqual, kNotEqual, kMatch, kNotMatch };
  std::string text;  // as given, for messages
  std::string key;
  Op op = Op::kEqual;
  std::string value;
  bool glob = false;  // kEqual / kNotEqual: value is a glob (pipeline/glob.h)
  std::regex regex;   // kMatch / kNotMatch, anchored at both ends
};

// Parses one --select argument. nullopt with `error` naming the argument, e.g.
//   --select "name=~(": not a regex: ...
std::optional<Selector> ParseSelector(std::string_view text, std::string* error);

// The value of label `key` on one workload of the document: the top-level string for name, id,
// runtime and kind, else labels[key]; "" when absent.
std::string WorkloadLabel(const json::bj::value& workload, std::string_view key);

// True when `value` (a label's value) satisfies the selector.
bool MatchesValue(const Selector& selector, const std::string& value);

// True when every selector holds for the workload (true for none).
bool Selected(const std::vector<Selector>& selectors, const json::bj::value& workload);

}  // namespace we
