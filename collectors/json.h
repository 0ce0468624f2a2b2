#pragma once
// The project's one JSON library, Boost.JSON, and the few helpers every reader and writer of JSON
// here shares: the runtimes' state files (collectors/runtime_metadata), /api/v1/workloads
// (exposition/workloads_json) and `workload_exporter report` (tools/report).
//
// Boost.JSON is compiled into this library (collectors/json.cc includes boost/json/src.hpp), so
// nothing links libboost_json and the binary needs no Boost library at run time. No other file may
// include boost/json/src.hpp or link Boost::json: its definitions would then be there twice.
//
// Reading: a missing member, or one of another type than asked for, is absent (nullopt or null),
// never an error; only text that is not JSON is. Numbers stay numbers.
//
// Thread-safety: every function is pure.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

namespace we::json {

namespace bj = boost::json;

// Parses one JSON text (nothing but whitespace after it). nullopt for anything else, with
// `error` saying where: "line 2, column 17: incomplete JSON". Callers that read a file prefix its
// path. Never throws for malformed input. Strings must be valid UTF-8 unless
// `allow_invalid_utf8` (their bytes are then kept as they are).
std::optional<bj::value> Parse(std::string_view text, std::string* error, bool allow_invalid_utf8 = false);

// The value at a path of object keys ({"Config", "Labels"}), or nullptr when a step is missing or
// not an object. Keys are matched whole, so keys holding dots or slashes are fine.
const bj::value* Find(const bj::value& root, std::initializer_list<std::string_view> path);
const bj::value* Find(const bj::value* root, std::initializer_list<std::string_view> path);

// The string at `v`; nullopt when `v` is null, absent or not a string.
std::optional<std::string_view> String(const bj::value* v);
// The number at `v` (integer or not) as a double; nullopt when absent or not a number.
std::optional<double> Number(const bj::value* v);

// A figure for writing: null when absent or not finite (JSON has no NaN or infinity). A whole
// number that a double holds exactly is written as an integer ("1764300000", not "1.7643E9");
// others are written as the shortest text that reads back as the same double.
bj::value Figure(std::optional<double> v);

// `v` as JSON text, with a trailing newline when `newline` (for a document served or printed).
std::string Serialize(const bj::value& v, bool newline = true);

}  // namespace we::json
