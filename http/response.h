#pragma once
// Writing a response: what a route decides (Reply), the body type that lets a response send bytes
// owned elsewhere without copying them (SharedBody: a scrape copies no exposition), and Finish,
// which adds the headers every response carries. Pure, no I/O; called on the event loop.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>

#include "http/request.h"

namespace we::serving {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

inline constexpr std::string_view kServerName = "workload_exporter";
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
inline constexpr std::string_view kHtmlContentType = "text/html; charset=utf-8";
inline constexpr std::string_view kJsonContentType = "application/json";

// A response body that refers to bytes owned elsewhere: a MetricsBody shared by every scrape of
// one snapshot, a string literal, or a string the response owns. A scrape copies no exposition.
struct SharedBody {
  struct value_type {
    std::shared_ptr<const void> owner;  // keeps `data` alive; null for string literals
    std::string_view data;
  };

  static std::uint64_t size(const value_type& body) { return body.data.size(); }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}

    void init(error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
      ec = {};
      return {{asio::const_buffer(body_.data.data(), body_.data.size()), false}};
    }

   private:
    const value_type& body_;
  };
};

using Response = http::response<SharedBody>;

// What a route decided, before the common headers are added.
struct Reply {
  http::status status = http::status::ok;
  std::string_view content_type = kTextContentType;
  SharedBody::value_type body;
  bool gzip = false;         // body is gzip-encoded
  bool vary = false;         // the body depends on Accept-Encoding
  bool allow = false;        // add "Allow: GET, HEAD" (405)
  bool close = false;        // end the connection after this response
  bool challenge = false;    // add "WWW-Authenticate: Basic" (401)
  bool retry_after = false;  // add "Retry-After: 1" (503 at the password-check bound)
  // Non-empty: this Content-Security-Policy (which must outlive the response), with nosniff and
  // no-referrer (the page at /, http/dashboard.h).
  std::string_view content_security_policy;
};

// A reply whose body is a string literal (or other text that outlives every response).
Reply Literal(http::status status, std::string_view text);
// A reply whose body `owner` keeps alive until the response is sent.
Reply Owned(http::status status, std::string_view content_type, std::shared_ptr<const std::string> owner);
Reply Owned(http::status status, std::string_view content_type, std::string text);

// The landing page of a server without /api/v1/workloads (with it, / is http/dashboard.h's page):
// links to the telemetry path, the health and readiness endpoints and, with `workloads`,
// /api/v1/workloads.
std::string LandingPage(std::string_view telemetry_path, bool workloads);

// Now, as an HTTP Date header value (RFC 9110 IMF-fixdate).
std::string HttpDate();

// The response to `req`: `reply` with Server, Date, Content-Type, Content-Length and the headers
// `reply` asks for; keep-alive as the request and `reply.close` allow; no body for HEAD.
Response Finish(const Request& req, Reply reply);

}  // namespace we::serving
