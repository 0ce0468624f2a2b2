#include "tools/http_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "config/duration.h"

namespace we {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// What OpenSSL says of a failed handshake: the certificate check's own words when that failed
// ("hostname mismatch", "unable to get local issuer certificate"), else the error's.
std::string HandshakeError(SSL* ssl, const beast::error_code& ec) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) return std::string("certificate not accepted: ") + X509_verify_cert_error_string(verify);
  return ec.message();
}

struct Exchange {
  asio::io_context& io;
  const HttpGetOptions& options;
  const std::function<std::nullopt_t(const std::string&)>& fail;
  http::request<http::empty_body>& request;

  // Runs the loop until the pending operations end.
  void Run() {
    io.restart();
    io.run();
  }

  template <typename Stream>
  std::optional<HttpAnswer> ReadAnswer(Stream& stream) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    // No limit: the document is ~600 bytes a workload with three windows, so 10,000 workloads
    // with a few more windows pass Beast's default limit of 8 MB.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    beast::get_lowest_layer(stream).expires_after(options.read);
    http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
      ec = e;
      if (!e) http::async_read(stream, buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    Run();
    if (ec == beast::error::timeout) return fail("no answer within " + FormatDuration(options.read));
    if (ec) return fail(ec.message());
    const auto& response = parser.get();
    const unsigned status = response.result_int();
    if (status >= 300 && status < 400) {
      const auto location = response.find(http::field::location);
      return fail("redirected to " +
                  (location == response.end() ? std::string("(no Location)") : std::string(location->value())) +
                  " (HTTP " + std::to_string(status) + "); redirects are not followed");
    }
    HttpAnswer answer{status, std::string(response.reason()), {}};
    answer.body = std::move(parser.release().body());
    return answer;
  }
};

}  // namespace

std::optional<HttpUrl> ParseHttpUrl(const std::string& url, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<HttpUrl> {
    *error = url + ": " + why;
    return std::nullopt;
  };
  HttpUrl u;
  std::string rest = url;
  if (const auto scheme = url.find("://"); scheme != std::string::npos) {
    const std::string name = url.substr(0, scheme);
    if (name != "http" && name != "https") return fail("the scheme must be http or https, not \"" + name + "\"");
    u.tls = name == "https";
    rest = url.substr(scheme + 3);
  }
  const auto slash = rest.find_first_of("/?#");
  u.authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.authority.find('@') != std::string::npos) return fail("credentials go in --user and --password-file");
  u.host = u.authority;
  u.port = u.tls ? "443" : "80";
  std::string port;
  if (!u.authority.empty() && u.authority.front() == '[') {
    const auto close = u.authority.find(']');
    if (close == std::string::npos) return fail("an IPv6 address needs its closing ']'");
    u.host = u.authority.substr(1, close - 1);
    if (close + 1 < u.authority.size()) {
      if (u.authority[close + 1] != ':') return fail("expected ':' and a port after ']'");
      port = u.authority.substr(close + 2);
    }
  } else if (const auto colon = u.authority.rfind(':'); colon != std::string::npos) {
    u.host = u.authority.substr(0, colon);
    port = u.authority.substr(colon + 1);
  }
  if (u.host.empty()) return fail("no host");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
      return fail("the port must be a number from 1 to 65535, got \"" + port + "\"");
    }
    u.port = port;
  }
  return u;
}

std::string BasicAuthorization(const std::string& user, const std::string& password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return "Basic " + out;
}

std::optional<std::string> HttpGet(const std::string& url, const std::string& target, const HttpGetOptions& options,
                                   std::string* error) {
  auto answer = HttpFetch(url, target, options, error);
  if (!answer) return std::nullopt;
  if (answer->status != 200) {
    auto parsed = ParseHttpUrl(url, error);
    *error = (parsed->tls ? "https://" : "http://") + parsed->authority + target + ": HTTP " +
             std::to_string(answer->status) + " " + answer->reason;
    if (answer->status == 401) *error += " (check --user and --password-file)";
    return std::nullopt;
  }
  return std::move(answer->body);
}

std::optional<HttpAnswer> HttpFetch(const std::string& url, const std::string& target, const HttpGetOptions& options,
                                    std::string* error) {
  auto parsed = ParseHttpUrl(url, error);
  if (!parsed) return std::nullopt;
  const HttpUrl& u = *parsed;
  const std::string where = (u.tls ? "https://" : "http://") + u.authority + target;
  const std::function<std::nullopt_t(const std::string&)> fail = [&](const std::string& what) -> std::nullopt_t {
    *error = where + ": " + what;
    return std::nullopt;
  };

  asio::io_context io;
  beast::error_code ec;
  // Synchronous: getaddrinfo is bounded by the resolver's own timeouts, and Asio's asynchronous
  // resolve cannot cut it short either.
  const auto endpoints = asio::ip::tcp::resolver(io).resolve(u.host, u.port, ec);
  if (ec) return fail(ec.message());

  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, u.authority);
  request.set(http::field::user_agent, "workload_exporter report");
  if (!options.user.empty())
    request.set(http::field::authorization, BasicAuthorization(options.user, options.password));
  request.keep_alive(false);
  Exchange exchange{io, options, fail, request};

  // One timer per phase on the stream: when it fires, the pending operation ends with `timeout`.
  auto connect = [&](beast::tcp_stream& tcp) -> std::optional<std::string> {
    tcp.expires_after(options.connect);
    tcp.async_connect(endpoints, [&](beast::error_code e, const asio::ip::tcp::endpoint&) { ec = e; });
    exchange.Run();
    if (ec == beast::error::timeout) return "cannot connect within " + FormatDuration(options.connect);
    if (ec) return "cannot connect: " + ec.message();
    return std::nullopt;
  };

  if (!u.tls) {
    beast::tcp_stream stream(io);
    if (auto e = connect(stream)) return fail(*e);
    return exchange.ReadAnswer(stream);
  }

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  if (options.insecure) {
    ctx.set_verify_mode(asio::ssl::verify_none);
  } else {
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (!options.ca_file.empty()) {
      // Said first, and in the file's own words: OpenSSL would only say "system lib".
      if (std::ifstream probe(options.ca_file); !probe) {
        *error = "--ca-file " + options.ca_file + ": " + std::strerror(errno);
        return std::nullopt;
      }
      ctx.load_verify_file(options.ca_file, ec);
      if (ec) {
        *error = "--ca-file " + options.ca_file + ": no PEM certificate read (" + ec.message() + ")";
        return std::nullopt;
      }
    } else {
      ctx.set_default_verify_paths(ec);
      if (ec) return fail("cannot load the system's CA certificates: " + ec.message());
    }
  }
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  SSL* ssl = stream.native_handle();
  const bool ip = IsIpAddress(u.host);
  if (!options.insecure) {
    // The certificate must name the host: OpenSSL checks it during the handshake.
    const int set =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host.c_str()) : SSL_set1_host(ssl, u.host.c_str());
    if (set != 1) return fail("cannot verify the host name \"" + u.host + "\"");
  }
  if (!ip) SSL_set_tlsext_host_name(ssl, u.host.c_str());  // SNI takes names only
  if (auto e = connect(beast::get_lowest_layer(stream))) return fail(*e);
  beast::get_lowest_layer(stream).expires_after(options.connect);
  stream.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  exchange.Run();
  if (ec == beast::error::timeout) return fail("no TLS handshake within " + FormatDuration(options.connect));
  if (ec) return fail("TLS handshake: " + HandshakeError(ssl, ec));
  return exchange.ReadAnswer(stream);
}

}  // namespace we
