// Fuzzes the HTTP request parsing of http/server.cc: the bytes a client sends on one
// connection go through Boost.Beast's request parser with the server's own type and limits
// (HttpServerOptions' defaults), read the way http::async_read reads them, including pipelined
// requests after the first. What the server then looks at (method, target, Host, keep-alive,
// the joined Accept-Encoding fields) is read too, and a response is serialized with the
// request's version, as HttpServer::Core::Respond does.
//
// Every input is parsed twice: as if it arrived in one read, and as if a slow client sent it in
// small pieces. Both must parse the same requests: the server sees whatever TCP delivers.
// Seeds are requests as Prometheus, curl and hostile clients send them.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "http/server.h"
#include "tests/fuzz/fuzz_check.h"

namespace we {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// What one read of one request came to.
struct Outcome {
  beast::error_code ec;
  bool done = false;
  std::string request;  // the parsed request, serialized again; empty unless done
  std::string rest;     // the bytes after it (a pipelined request), unless it failed

  // The error itself may differ: a request that is malformed and never completed is "bad
  // method" when the whole start line arrives at once, and "partial message" when it trickles
  // in and the client gives up. Both mean the same to the server: no request to answer.
  bool operator==(const Outcome& o) const {
    return static_cast<bool>(ec) == static_cast<bool>(o.ec) && done == o.done && request == o.request && rest == o.rest;
  }
};

// What the server does with a complete request before answering it.
std::string Serve(const http::request<http::string_body>& req) {
  const HttpServerOptions options;
  FUZZ_CHECK(req.body().size() <= options.max_body_bytes);
  FUZZ_CHECK(!req.method_string().empty());
  FUZZ_CHECK(!req.target().empty());

  std::string accept_encoding;  // as JoinedField() in http/server.cc
  for (auto [it, end] = req.equal_range(http::field::accept_encoding); it != end; ++it) {
    if (!accept_encoding.empty()) accept_encoding += ',';
    accept_encoding.append(it->value().data(), it->value().size());
  }
  const bool gzip = AcceptEncodingAllowsGzip(accept_encoding);
  const bool missing_host = req.version() >= 11 && req.find(http::field::host) == req.end();

  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain");
  if (gzip) res.set(http::field::content_encoding, "gzip");
  res.keep_alive(req.keep_alive() && !missing_host);
  res.body() = "ok\n";
  res.prepare_payload();
  std::ostringstream response;
  response << res;
  FUZZ_CHECK(!response.str().empty());

  std::ostringstream request;
  request << req;
  return request.str();
}

// Reads one request from `input` as http::async_read does into the server's flat_buffer, with
// at most `chunk` bytes arriving per socket read.
Outcome ReadOne(std::string_view input, std::size_t chunk) {
  const HttpServerOptions options;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
  parser.eager(true);

  beast::flat_buffer buffer;
  std::size_t received = 0;
  const auto receive = [&] {
    const std::size_t n = std::min(chunk, input.size() - received);
    if (n == 0) return false;
    auto space = buffer.prepare(n);
    std::copy_n(input.data() + received, n, static_cast<char*>(space.data()));
    buffer.commit(n);
    received += n;
    return true;
  };

  Outcome out;
  std::size_t consumed = 0;  // by the parser, as http::async_read reports it
  while (!parser.is_done()) {
    if (buffer.size() == 0 && !receive()) break;
    const std::size_t used = parser.put(buffer.data(), out.ec);
    buffer.consume(used);
    consumed += used;
    if (out.ec == http::error::need_more) {
      out.ec = {};
      if (!receive()) break;
      continue;
    }
    if (out.ec) return out;
  }
  if (!parser.is_done() && !out.ec) {
    // The client closed the connection.
    if (parser.got_some()) {
      parser.put_eof(out.ec);
    } else {
      out.ec = http::error::end_of_stream;
    }
    if (out.ec || !parser.is_done()) return out;
  }
  // The server's own check of the header's size (see RequestHeaderTooLarge).
  if (RequestHeaderTooLarge(consumed, parser.get().body().size(), options.max_header_bytes)) {
    out.ec = http::error::header_limit;
    return out;
  }
  out.done = true;
  out.request = Serve(parser.get());
  const auto unread = buffer.data();
  out.rest.assign(static_cast<const char*>(unread.data()), unread.size());
  out.rest.append(input.substr(received));
  return out;
}

// The requests of one connection, one after the other while the client keeps it open.
std::vector<Outcome> ReadConnection(std::string_view input, std::size_t chunk) {
  std::vector<Outcome> outcomes;
  std::string rest(input);
  for (int i = 0; i < 4 && !rest.empty(); ++i) {
    outcomes.push_back(ReadOne(rest, chunk));
    if (!outcomes.back().done) break;
    rest = outcomes.back().rest;
  }
  return outcomes;
}

}  // namespace
}  // namespace we

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  const std::string_view input = fuzz::AsText(data, size);
  const std::vector<Outcome> at_once = ReadConnection(input, input.size() + 1);
  const std::vector<Outcome> trickled = ReadConnection(input, 1 + size % 29);
  if (at_once != trickled) {
    for (std::size_t i = 0; i < std::max(at_once.size(), trickled.size()); ++i) {
      const auto show = [](const std::vector<Outcome>& v, std::size_t i) {
        return i < v.size() ? v[i].ec.message() + (v[i].done ? " (done)" : "") : std::string("-");
      };
      std::fprintf(stderr, "request %zu: at once: %s; trickled: %s\n", i, show(at_once, i).c_str(),
                   show(trickled, i).c_str());
    }
  }
  FUZZ_CHECK(at_once == trickled);
  return 0;
}
