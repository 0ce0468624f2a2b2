#include "collectors/json.h"

// Boost.JSON's definitions, compiled here once for the whole program (see json.h).
#include <boost/json/src.hpp>

#include <cmath>

namespace we::json {

std::optional<bj::value> Parse(std::string_view text, std::string* error, bool allow_invalid_utf8) {
  bj::parse_options options;
  options.allow_invalid_utf8 = allow_invalid_utf8;
  bj::stream_parser parser({}, options);
  bj::error_code ec;
  // write() consumes up to the error, so `consumed` is where the text stops being JSON.
  std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) {
    parser.finish(ec);
    consumed = text.size();
  }
  if (!ec) return parser.release();
  std::size_t line = 1, column = 1;
  for (char c : text.substr(0, std::min(consumed, text.size()))) {
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  *error = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + ec.message();
  return std::nullopt;
}

const bj::value* Find(const bj::value* root, std::initializer_list<std::string_view> path) {
  const bj::value* v = root;
  for (std::string_view key : path) {
    if (v == nullptr || !v->is_object()) return nullptr;
    v = v->get_object().if_contains(key);
  }
  return v;
}

const bj::value* Find(const bj::value& root, std::initializer_list<std::string_view> path) { return Find(&root, path); }

std::optional<std::string_view> String(const bj::value* v) {
  if (v == nullptr || !v->is_string()) return std::nullopt;
  const bj::string& s = v->get_string();
  return std::string_view(s.data(), s.size());
}

std::optional<double> Number(const bj::value* v) {
  if (v == nullptr) return std::nullopt;
  switch (v->kind()) {
    case bj::kind::int64:
      return static_cast<double>(v->get_int64());
    case bj::kind::uint64:
      return static_cast<double>(v->get_uint64());
    case bj::kind::double_:
      return v->get_double();
    default:
      return std::nullopt;
  }
}

bj::value Figure(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  // Below 2^53 every whole double is an exact int64, and reads back as the same double.
  constexpr double kExact = 9007199254740992.0;
  if (std::trunc(*v) == *v && std::abs(*v) < kExact) return static_cast<std::int64_t>(*v);
  return *v;
}

std::string Serialize(const bj::value& v, bool newline) {
  std::string out = bj::serialize(v);
  if (newline) out += '\n';
  return out;
}

}  // namespace we::json
