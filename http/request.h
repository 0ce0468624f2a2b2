#pragma once
// Reading a request: its target's path, its header fields, Basic credentials and Accept-Encoding.
// Pure functions over the parsed request, no I/O: the sessions and the router call them on the
// event loop, the tests and fuzzers from any thread.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/http.hpp>

namespace we {

// Whether an Accept-Encoding header value (all of a request's Accept-Encoding fields joined
// with ",") allows a gzip response, per RFC 9110 section 12.5.3: "gzip" (or "x-gzip") with a
// q-value above 0, else "*" with a q-value above 0; "gzip;q=0" refuses it even when "*" allows
// everything. When "identity" is listed with a higher q-value than gzip, the client prefers an
// uncompressed body and gets one. Malformed elements are ignored.
bool AcceptEncodingAllowsGzip(std::string_view accept_encoding);

// Beast enforces a parser's header_limit only while the header is still arriving: a header that
// comes whole in one read may exceed it (tests/fuzz/http_request_fuzzer found an 8,212-byte header
// accepted under the 8,192-byte limit when sent at once, refused when trickled). So the server
// checks again once a request has parsed: of the `consumed` bytes the parser used for it, all but
// the body's are the header's. Pure, for the server and the fuzzer alike.
bool RequestHeaderTooLarge(std::size_t consumed, std::size_t body_bytes, std::size_t max_header_bytes);

// The HTTP server's own pieces (http/server.cc and the files beside it); not for other stages.
namespace serving {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// ASCII case-insensitive equality (header values, schemes, tokens).
bool IEquals(std::string_view a, std::string_view b);
// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);
// An RFC 9110 qvalue ("0", "0.5", "1.000") in thousandths; nullopt when malformed.
std::optional<int> ParseQValue(std::string_view text);
// The path of a request target without its query: origin-form ("/metrics?x=1") or absolute-form
// ("http://host:9746/metrics", which HTTP/1.1 servers must accept). nullopt when malformed.
std::optional<std::string_view> TargetPath(std::string_view target);
// Every field `name` of a request, joined as one comma-separated list.
std::string JoinedField(const Request& req, boost::beast::http::field name);
// RFC 4648 base64 (with or without padding); nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view text);
// "Basic <base64(user:password)>" (RFC 7617; the scheme is case-insensitive) -> user, password.
std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(std::string_view value);

}  // namespace serving
}  // namespace we
