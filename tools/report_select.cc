#include "tools/report_select.h"

#include <cctype>

namespace we {

std::optional<Selector> ParseSelector(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Selector> {
    *error = "--select \"" + std::string(text) + "\": " + why;
    return std::nullopt;
  };
  Selector s;
  s.text = std::string(text);
  // The first operator wins: a value may hold '=', '!' and '~' ("label_x=a=b" is key label_x).
  const std::size_t at = text.find_first_of("=!");
  if (at == std::string_view::npos) return fail("expected key=value, key!=value, key=~regex or key!~regex");
  s.key = std::string(text.substr(0, at));
  std::size_t value_at;
  if (text[at] == '=') {
    const bool regex = at + 1 < text.size() && text[at + 1] == '~';
    s.op = regex ? Selector::Op::kMatch : Selector::Op::kEqual;
    value_at = at + (regex ? 2 : 1);
  } else if (at + 1 < text.size() && (text[at + 1] == '=' || text[at + 1] == '~')) {
    s.op = text[at + 1] == '=' ? Selector::Op::kNotEqual : Selector::Op::kNotMatch;
    value_at = at + 2;
  } else {
    return fail("'!' must be followed by '=' or '~'");
  }
  if (s.key.empty()) return fail("no key before the operator");
  for (char c : s.key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return fail("a key is a label name ([A-Za-z0-9_]+), got \"" + s.key + "\"");
    }
  }
  s.value = std::string(text.substr(value_at));
  if (s.op == Selector::Op::kMatch || s.op == Selector::Op::kNotMatch) {
    try {
      s.regex = std::regex(s.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(std::string("not a regex: ") + e.what());
    }
  } else {
    s.glob = s.value.find_first_of("*?[") != std::string::npos;
  }
  return s;
}

std::string WorkloadLabel(const json::bj::value& workload, std::string_view key) {
  const json::bj::value* v = key == "name" || key == "id" || key == "runtime" || key == "kind"
                                 ? json::Find(workload, {key})
                                 : json::Find(workload, {"labels", key});
  return std::string(json::String(v).value_or(""));
}

bool MatchesValue(const Selector& s, const std::string& value) {
  switch (s.op) {
    case Selector::Op::kEqual:
      return s.glob ? GlobMatch(s.value, value) : value == s.value;
    case Selector::Op::kNotEqual:
      return s.glob ? !GlobMatch(s.value, value) : value != s.value;
    case Selector::Op::kMatch:
      return std::regex_match(value, s.regex);
    case Selector::Op::kNotMatch:
      return !std::regex_match(value, s.regex);
  }
  return false;
}

bool Selected(const std::vector<Selector>& selectors, const json::bj::value& workload) {
  for (const Selector& s : selectors) {
    if (!MatchesValue(s, WorkloadLabel(workload, s.key))) return false;
  }
  return true;
}

}  // namespace we
