#pragma once
// The report's HTTP client: one GET on Boost.Beast, over plain TCP or TLS (Boost.Asio's OpenSSL
// stream), with basic authentication, a deadline on connecting and one on the answer, and no
// redirects. Used for the daemon's /api/v1/workloads (FetchWorkloadsJson in report.h).
//
// TLS verifies the server's certificate against --ca-file (or the system's CA store without
// one) and that it names the URL's host (a DNS name, or an IP address in an IP SAN); --insecure
// skips both. A 3xx answer is an error naming its Location: credentials are never sent on to
// another place, and a report should read the daemon it was pointed at.
//
// Thread-safety: HttpGet may be called from any thread; each call has its own io_context and
// blocks the caller until the answer or a deadline.

#include <chrono>
#include <optional>
#include <string>

namespace we {

struct HttpGetOptions {
  std::chrono::milliseconds connect{10'000};  // resolving nothing slower than DNS, connecting, TLS handshake
  std::chrono::milliseconds read{10'000};     // from sending the request to the answer's last byte
  std::string ca_file{};                      // PEM CA certificates for https; "": the system's
  bool insecure = false;                      // https without verifying the certificate or host
  std::string user{};                         // basic auth when non-empty
  std::string password{};
};

// The parts of an http:// or https:// URL the client needs.
struct HttpUrl {
  bool tls = false;
  std::string host;       // without brackets for IPv6
  std::string port;       // "80" / "443" when the URL has none
  std::string authority;  // host[:port] as written, for Host: and messages
  std::string target;     // the path and query, "/" when empty
};

// Parses `url`. nullopt with `error` naming it for another scheme, no host or a bad port.
// A URL without a scheme is http. Pure.
std::optional<HttpUrl> ParseHttpUrl(const std::string& url, std::string* error);

// "Basic " + base64(user ":" password). Pure.
std::string BasicAuthorization(const std::string& user, const std::string& password);

// GET `target` (e.g. "/api/v1/workloads") from the server of `url` (its own path is replaced).
// The body of a 200 answer; otherwise nullopt with `error` naming the URL and what went wrong:
//   "https://h:9746/api/v1/workloads: no answer within 10s"
//   "https://h:9746/api/v1/workloads: TLS handshake: certificate verify failed"
//   "https://h:9746/api/v1/workloads: HTTP 401 Unauthorized (check --user and --password-file)"
//   "https://h:9746/api/v1/workloads: redirected to https://elsewhere/ (HTTP 302); redirects are not followed"
std::optional<std::string> HttpGet(const std::string& url, const std::string& target, const HttpGetOptions& options,
                                   std::string* error);

// An answer that is not a redirect, whatever its status: for servers whose errors carry a body
// worth reading (Prometheus' {"status":"error","error":...} with 400, 422 or 503).
struct HttpAnswer {
  unsigned status = 0;
  std::string reason;
  std::string body;
};

// As HttpGet, but any status but 3xx is an answer; `error` only for what HttpGet reports beyond
// the status (no connection, TLS, a deadline, a redirect).
std::optional<HttpAnswer> HttpFetch(const std::string& url, const std::string& target, const HttpGetOptions& options,
                                    std::string* error);

}  // namespace we
