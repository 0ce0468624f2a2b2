#include "http/server.h"

#include "config/listen_address.h"
#include "http/basic_auth.h"
#include "http/tls_context.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <ctime>
#include <exception>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace we {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::string_view kServerName = "workload_exporter";
constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";
constexpr std::string_view kHtmlContentType = "text/html; charset=utf-8";
constexpr std::string_view kJsonContentType = "application/json";
constexpr std::string_view kLandingPath = "/";
constexpr std::string_view kHealthyPath = "/-/healthy";
constexpr std::string_view kReadyPath = "/-/ready";
constexpr std::string_view kWorkloadsPath = "/api/v1/workloads";

constexpr std::size_t kReadChunk = 4096;
// After a response that ends the connection the server stops sending, then reads and drops what
// the client still sends, for at most this long and this much: closing a socket with unread
// input resets the connection, and a reset can destroy the response before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerMaxBytes = 64 * 1024;
// accept() failing (EMFILE, ENFILE, ENOBUFS) is retried after a growing pause, as Go's
// net/http does, instead of spinning the loop while the condition lasts.
constexpr std::chrono::milliseconds kAcceptBackoffMin{5};
constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};
constexpr std::chrono::seconds kRefusalLogInterval{10};
// Verified credentials remembered at most; the cache is emptied when full. A few users scraping
// from a few places need a handful; the bound only stops growth.
constexpr std::size_t kCredentialsCacheSize = 1024;
// A well-formed bcrypt hash (cost 10, of a random password nobody knows) checked for unknown
// users, so that they cost what a known user's wrong password costs.
constexpr std::string_view kDummyHash =
    "$2y$10$Al10875vmLFtFOYGONb.xOeCKbY0HFL7Wx/dEob5nK4aJvZzoyiVq";

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

using Request = http::request<http::string_body>;
using Response = http::response<SharedBody>;

// What a route decided, before the common headers are added.
struct Reply {
  http::status status = http::status::ok;
  std::string_view content_type = kTextContentType;
  SharedBody::value_type body;
  bool gzip = false;  // body is gzip-encoded
  bool vary = false;  // the body depends on Accept-Encoding
  bool allow = false;  // add "Allow: GET, HEAD" (405)
  bool close = false;  // end the connection after this response
  bool challenge = false;  // add "WWW-Authenticate: Basic" (401)
  bool retry_after = false;  // add "Retry-After: 1" (503 at the password-check bound)
};

Reply Literal(http::status status, std::string_view text) {
  Reply reply;
  reply.status = status;
  reply.body.data = text;
  return reply;
}

Reply Owned(http::status status, std::string_view content_type, std::shared_ptr<const std::string> owner) {
  Reply reply;
  reply.status = status;
  reply.content_type = content_type;
  // Bind the view before the pointer is moved into the body (argument order is unspecified).
  const std::string_view view = *owner;
  reply.body = {std::move(owner), view};
  return reply;
}

Reply Owned(http::status status, std::string_view content_type, std::string text) {
  return Owned(status, content_type, std::make_shared<const std::string>(std::move(text)));
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An RFC 9110 qvalue ("0", "0.5", "1.000") in thousandths; nullopt when malformed.
std::optional<int> ParseQValue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  int value = (text[0] - '0') * 1000;
  if (text.size() == 1) return value;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int scale = 100;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > 1000) return std::nullopt;
  return value;
}

// The path of a request target without its query: origin-form ("/metrics?x=1") or absolute-form
// ("http://host:9746/metrics", which HTTP/1.1 servers must accept). nullopt when malformed.
std::optional<std::string_view> TargetPath(std::string_view target) {
  if (target.empty()) return std::nullopt;
  if (target == "*") return target;
  if (target.front() != '/') {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = target.substr(0, scheme_end);
    if (!IEquals(scheme, "http") && !IEquals(scheme, "https")) return std::nullopt;
    const auto path_start = target.find_first_of("/?#", scheme_end + 3);
    if (path_start == std::string_view::npos || target[path_start] != '/') return "/";
    target = target.substr(path_start);
  }
  return target.substr(0, target.find_first_of("?#"));
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string LandingPage(std::string_view telemetry_path, bool workloads) {
  const std::string metrics = HtmlEscape(telemetry_path);
  std::string page =
      "<!DOCTYPE html>\n"
      "<html lang=\"en\">\n"
      "<head><meta charset=\"utf-8\"><title>workload_exporter</title></head>\n"
      "<body>\n"
      "<h1>workload_exporter</h1>\n"
      "<p>Prometheus exporter of per-workload resource usage.</p>\n"
      "<ul>\n"
      "<li><a href=\"" + metrics + "\">Metrics</a> (" + metrics + ")</li>\n"
      "<li><a href=\"/-/healthy\">Health</a> (/-/healthy)</li>\n"
      "<li><a href=\"/-/ready\">Readiness</a> (/-/ready)</li>\n";
  if (workloads) {
    page += "<li><a href=\"/api/v1/workloads\">Workloads</a> (/api/v1/workloads)</li>\n";
  }
  page +=
      "</ul>\n"
      "</body>\n"
      "</html>\n";
  return page;
}

std::string HttpDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::array<char, 64> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text.data(), n);
}

// Every Accept-Encoding field of a request, joined as one list.
std::string JoinedField(const Request& req, http::field name) {
  std::string joined;
  for (auto [it, end] = req.equal_range(name); it != end; ++it) {
    if (!joined.empty()) joined += ',';
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

// RFC 4648 base64 (with or without padding); nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  unsigned int bits = 0;
  int count = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned int>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  if (count >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

// "Basic <base64(user:password)>" (RFC 7617; the scheme is case-insensitive) -> user, password.
std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(std::string_view value) {
  value = Trim(value);
  constexpr std::string_view kScheme = "basic";
  if (value.size() <= kScheme.size() || !IEquals(value.substr(0, kScheme.size()), kScheme) ||
      (value[kScheme.size()] != ' ' && value[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  const std::optional<std::string> decoded = DecodeBase64(Trim(value.substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  const std::string port = std::to_string(endpoint.port());
  if (endpoint.address().is_v6()) return "[" + endpoint.address().to_string() + "]:" + port;
  return endpoint.address().to_string() + ":" + port;
}

void SetCloseOnExec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// One listening socket, with the pause that follows a failing accept().
struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io), backoff(io) {}

  void Close() {
    error_code ignored;
    acceptor.close(ignored);
    backoff.cancel();
  }

  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::chrono::milliseconds backoff_delay{0};
  std::string address;     // as given to Listen
  tcp::endpoint endpoint;  // as bound (with the kernel's port for port 0)
  bool dual_stack = false;
};

struct Candidate {
  tcp::endpoint endpoint;
  bool dual_stack = false;  // "::" that also accepts IPv4
};

struct BindAttempt {
  std::shared_ptr<Listener> listener;  // null on failure
  error_code error;
  std::string step;  // the call that failed: "socket", "bind", ...
  tcp::endpoint endpoint;
};

BindAttempt Bind(asio::io_context& io, const Candidate& candidate) {
  auto listener = std::make_shared<Listener>(io);
  tcp::acceptor& acceptor = listener->acceptor;
  BindAttempt attempt;
  attempt.endpoint = candidate.endpoint;
  auto failed = [&](const error_code& ec, std::string step) {
    attempt.error = ec;
    attempt.step = std::move(step);
    return attempt;
  };
  error_code ec;
  acceptor.open(candidate.endpoint.protocol(), ec);
  if (ec) return failed(ec, "socket");
  SetCloseOnExec(acceptor.native_handle());
  if (candidate.dual_stack) {
    acceptor.set_option(asio::ip::v6_only(false), ec);
    if (ec) return failed(ec, "setsockopt IPV6_V6ONLY");
  }
  // A restarted daemon can bind while the old one's connections linger in TIME_WAIT.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return failed(ec, "setsockopt SO_REUSEADDR");
  acceptor.bind(candidate.endpoint, ec);
  if (ec) return failed(ec, "bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed(ec, "listen");
  listener->endpoint = acceptor.local_endpoint(ec);
  if (ec) return failed(ec, "getsockname");
  listener->dual_stack = candidate.dual_stack;
  attempt.listener = std::move(listener);
  return attempt;
}

// Errors that mean "this address family is not usable here": try the next candidate.
bool IsFamilyUnavailable(const error_code& ec) {
  return ec == asio::error::address_family_not_supported ||
         ec == asio::error::operation_not_supported ||
         ec == boost::system::errc::address_not_available ||
         ec == boost::system::errc::protocol_not_supported ||
         ec == boost::system::errc::no_protocol_option;
}

// Binds the first candidate that can be bound, moving on only when a candidate's address family
// is unavailable. A failure reports the first error that was not about the address family.
BindAttempt BindFirst(asio::io_context& io, const std::vector<Candidate>& candidates) {
  BindAttempt reported;
  bool have_reported = false;
  for (const Candidate& candidate : candidates) {
    BindAttempt attempt = Bind(io, candidate);
    if (attempt.listener) return attempt;
    if (!have_reported || (IsFamilyUnavailable(reported.error) &&
                           !IsFamilyUnavailable(attempt.error))) {
      reported = attempt;
      have_reported = true;
    }
    if (!IsFamilyUnavailable(attempt.error)) break;
  }
  return reported;
}

std::string BindError(const std::string& address, const BindAttempt& attempt) {
  std::string where = address;
  const std::string endpoint = EndpointText(attempt.endpoint);
  if (endpoint != address) where += " (" + endpoint + ")";
  return where + ": " + attempt.step + ": " + attempt.error.message();
}

}  // namespace

// The server's state, shared with every asynchronous operation so that a completion arriving
// after the HttpServer is gone finds valid memory (and `stopped`) rather than a dangling pointer.
class HttpServer::Core : public std::enable_shared_from_this<Core> {
 public:
  class Session;
  template <class Stream>
  class StreamSession;

  Core(asio::io_context& io, HttpServerOptions options, HttpHandlers handlers)
      : io_(io), options_(std::move(options)), handlers_(std::move(handlers)), grace_timer_(io) {
    if (RAND_bytes(cache_key_.data(), static_cast<int>(cache_key_.size())) != 1) {
      throw std::runtime_error("RAND_bytes failed: cannot key the credentials cache");
    }
  }

  std::optional<std::string> Listen(const std::string& address);
  void set_telemetry_path(std::string path) { options_.telemetry_path = std::move(path); }
  void SetSecurity(HttpSecurity security);
  uint16_t port() const { return listener_ ? listener_->endpoint.port() : 0; }
  void Shutdown(std::chrono::milliseconds grace, std::function<void()> done);
  std::size_t active_connections() const { return sessions_.size(); }
  HttpServerStats stats() const;
  // The HttpServer is being destroyed: close everything, call nothing more.
  void Stop();

 private:
  // What a request's credentials call for.
  struct AuthCheck {
    enum class Decision { kAllowed, kDenied, kVerify } decision = Decision::kAllowed;
    std::string password;
    std::string hash;       // the user's, or kDummyHash for an unknown user
    bool known_user = false;
    std::string cache_key;  // HMAC-SHA256(user, password)
  };

  std::optional<std::vector<Candidate>> Resolve(const ListenAddress& parsed,
                                                const std::string& address, std::string* error);
  void StartListener(std::shared_ptr<Listener> listener);
  void Accept(const std::shared_ptr<Listener>& listener);
  void OnAccept(const std::shared_ptr<Listener>& listener, const error_code& ec,
                tcp::socket socket);
  void Refuse(tcp::socket socket);
  void Evict(Session* victim);
  void OnSessionGone(Session* session);
  void CloseSessions(bool idle_only);
  void FinishShutdown();
  AuthCheck Authenticate(const Request& req) const;
  // Queues bcrypt on the worker pool, then calls `done(matched)` on the io_context; false (and
  // nothing queued) at max_password_checks. `abandoned` set before the check's turn: bcrypt is
  // skipped and `done` is released on the io_context without being called.
  bool VerifyInBackground(AuthCheck check, std::shared_ptr<const std::atomic<bool>> abandoned,
                          std::function<void(bool)> done);
  void RememberCredentials(std::string cache_key, std::uint64_t generation);
  std::string CacheKey(std::string_view user, std::string_view password) const;
  // Answers `req` through `reply`: at once, or (/metrics) on the io_context once the metrics
  // handler has the body. `req` must stay valid until then.
  void Respond(const Request& req, std::function<void(Response)> reply);
  Response Unauthorized(const Request& req);
  Response Busy(const Request& req);
  Response Finish(const Request& req, Reply reply);
  // The answer, or nullopt when the endpoint answers asynchronously: then *later is the member
  // that will (Metrics or Workloads).
  using Later = void (Core::*)(const Request& req, std::function<void(Reply)> reply);
  std::optional<Reply> Route(const Request& req, Later* later);
  void Workloads(const Request& req, std::function<void(Reply)> reply);
  void Metrics(const Request& req, std::function<void(Reply)> reply);
  bool Ready();
  void LogRateLimited(std::size_t& count, std::chrono::steady_clock::time_point& last,
                      std::string_view what);

  asio::io_context& io_;
  HttpServerOptions options_;
  HttpHandlers handlers_;
  std::shared_ptr<Listener> listener_;
  std::unordered_set<Session*> sessions_;  // each removes itself when destroyed
  bool stopped_ = false;
  bool draining_ = false;
  bool shutdown_finished_ = false;
  std::vector<std::function<void()>> done_callbacks_;
  asio::steady_timer grace_timer_;
  std::size_t refused_since_log_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::size_t evicted_since_log_ = 0;
  std::chrono::steady_clock::time_point last_eviction_log_{};

  HttpSecurity security_;
  // Bumped by SetSecurity: a connection accepted under an older value closes after its request.
  std::uint64_t security_generation_ = 0;
  std::array<unsigned char, 32> cache_key_{};
  std::unordered_set<std::string> credentials_cache_;  // HMACs of verified (user, password)
  std::unique_ptr<asio::thread_pool> bcrypt_pool_;     // created on the first verification
  std::size_t password_checks_pending_ = 0;  // queued or running; at most max_password_checks
  std::uint64_t password_checks_run_ = 0;
  std::uint64_t password_checks_dropped_ = 0;
  std::uint64_t password_checks_refused_ = 0;
};

// One client connection. Owned by the completion handlers of its pending operation: when an
// operation ends without starting another, the session is destroyed and its socket closed.
// Session holds what does not depend on the stream; StreamSession<Stream> does the I/O over a
// plain TCP stream or a TLS one.
class HttpServer::Core::Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State { kHandshake, kIdle, kReading, kAuthenticating, kAwaitingMetrics, kWriting, kLingering };

  Session(std::shared_ptr<Core> core, const tcp::socket& socket)
      : core_(std::move(core)), generation_(core_->security_generation_) {
    core_->sessions_.insert(this);
    error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown peer") : EndpointText(peer);
  }
  virtual ~Session() { core_->OnSessionGone(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  virtual void Start() = 0;
  // Closes the socket; the pending operation then completes with an error and the session ends.
  virtual void Close() = 0;

  // Waiting for a request's first byte: nothing is lost by closing now.
  bool idle() const { return state_ == State::kIdle; }
  bool closed() const { return closed_; }
  State state() const { return state_; }
  // Waiting on the client (or on bcrypt for its credentials), not answering it: what the cap
  // may evict (see HttpServerOptions::max_connections). Its queued password check, if any, is
  // then dropped before it runs. A request waiting for its /metrics body is being answered.
  bool evictable() const {
    return !closed_ && (state_ == State::kHandshake || state_ == State::kIdle ||
                        state_ == State::kReading || state_ == State::kAuthenticating);
  }
  // When the current wait began: the connection's start, or its current request's first byte.
  std::chrono::steady_clock::time_point waiting_since() const { return since_; }
  const std::string& peer() const { return peer_; }

 protected:
  void Enter(State state) {
    state_ = state;
    since_ = std::chrono::steady_clock::now();
  }
  // A completion that arrives after Close() or after the server is gone must do nothing.
  bool Abandoned() const { return closed_ || core_->stopped_; }
  void Drop(std::string_view during, const error_code& ec) {
    spdlog::debug("http: {}: connection closed {}: {}", peer_, during, ec.message());
  }

  std::shared_ptr<Core> core_;
  std::string peer_;
  State state_ = State::kHandshake;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  bool closed_ = false;
  // Set with closed_, read by the bcrypt worker: a closed connection's check is skipped.
  std::shared_ptr<std::atomic<bool>> abandoned_ = std::make_shared<std::atomic<bool>>(false);
  std::uint64_t generation_;
};

template <class Stream>
class HttpServer::Core::StreamSession final : public HttpServer::Core::Session {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  StreamSession(std::shared_ptr<Core> core, tcp::socket socket)
    requires(!kTls)
      : Session(std::move(core), socket), stream_(std::move(socket)) {}
  // `context` is kept alive by the session: SetSecurity may replace the server's meanwhile.
  StreamSession(std::shared_ptr<Core> core, tcp::socket socket,
                std::shared_ptr<asio::ssl::context> context)
    requires(kTls)
      : Session(std::move(core), socket), context_(std::move(context)),
        stream_(std::move(socket), *context_) {}

  void Start() override {
    error_code ignored;
    Lowest().socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kTls) {
      DetectTls();
    } else {
      WaitForRequest();
    }
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    abandoned_->store(true, std::memory_order_release);
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

 private:
  std::shared_ptr<StreamSession> self() {
    return std::static_pointer_cast<StreamSession>(shared_from_this());
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // TLS: the first bytes say whether this is a TLS client at all. One that speaks plain HTTP
  // gets a plain 400 saying why, as Go's servers answer it, rather than a handshake failure it
  // cannot read. Detection and handshake together are bounded by read_timeout.
  void DetectTls() {
    Enter(State::kHandshake);
    Lowest().expires_after(core_->options_.read_timeout);
    beast::async_detect_ssl(Lowest(), buffer_, [self = self()](const error_code& ec, bool tls) {
      self->OnDetected(ec, tls);
    });
  }

  void OnDetected(const error_code& ec, bool tls) {
    if constexpr (kTls) {
      if (Abandoned()) return;
      if (ec) return Drop("before a TLS handshake", ec);
      if (!tls) {
        spdlog::debug("http: {}: plain HTTP on the TLS listener", peer_);
        static constexpr std::string_view kRefusal =
            "HTTP/1.0 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n"
            "\r\n"
            "Client sent an HTTP request to an HTTPS server.\n";
        Enter(State::kWriting);
        Lowest().expires_after(core_->options_.write_timeout);
        asio::async_write(Lowest(), asio::buffer(kRefusal),
                          [self = self()](const error_code& wec, std::size_t) {
                            if (wec || self->Abandoned()) return;
                            self->LingerPlain();
                          });
        return;
      }
      // `used` has a default only because Boost 1.81's beast::ssl_stream constrains the buffered
      // handshake's handler to void(error_code) while calling it with (error_code, size_t).
      stream_.async_handshake(asio::ssl::stream_base::server, buffer_.data(),
                              [self = self()](const error_code& hec, std::size_t used = 0) {
                                self->OnHandshake(hec, used);
                              });
    }
  }

  void OnHandshake(const error_code& ec, std::size_t used) {
    if (Abandoned()) return;
    if (ec) return Drop("during the TLS handshake", ec);
    buffer_.consume(used);
    WaitForRequest();
  }

  void WaitForRequest() {
    if (buffer_.size() > 0) {  // a pipelined request has already arrived
      ReadRequest();
      return;
    }
    Enter(State::kIdle);
    if (buffer_.capacity() > 4 * kReadChunk) buffer_.shrink_to_fit();
    Lowest().expires_after(core_->options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = self()](const error_code& ec, std::size_t n) {
                              self->OnFirstBytes(ec, n);
                            });
  }

  void OnFirstBytes(const error_code& ec, std::size_t n) {
    if (Abandoned()) return;
    if (ec) return Drop("while idle", ec);
    buffer_.commit(n);
    ReadRequest();
  }

  void ReadRequest() {
    Enter(State::kReading);
    const HttpServerOptions& options = core_->options_;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
    Lowest().expires_after(options.read_timeout);
    // The handler's count is what the parser consumed for this request (not what was read).
    http::async_read(stream_, buffer_, *parser_,
                     [self = self()](const error_code& ec, std::size_t consumed) { self->OnRead(ec, consumed); });
  }

  void OnRead(const error_code& ec, std::size_t consumed) {
    if (Abandoned()) return;
    if (ec == http::error::header_limit ||
        (!ec && RequestHeaderTooLarge(consumed, parser_->get().body().size(), core_->options_.max_header_bytes))) {
      spdlog::debug("http: {}: request header larger than {} bytes", peer_,
                    core_->options_.max_header_bytes);
      return SendError(http::status::request_header_fields_too_large,
                       "request header too large\n");
    }
    if (ec == http::error::body_limit) {
      spdlog::debug("http: {}: request body larger than {} bytes", peer_,
                    core_->options_.max_body_bytes);
      return SendError(http::status::payload_too_large, "request body too large\n");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      spdlog::debug("http: {}: malformed request: {}", peer_, ec.message());
      return SendError(http::status::bad_request, "malformed request\n");
    }
    if (ec) return Drop("while reading a request", ec);
    Authorize();
  }

  void Authorize() {
    AuthCheck check = core_->Authenticate(parser_->get());
    switch (check.decision) {
      case AuthCheck::Decision::kAllowed:
        return Answer();
      case AuthCheck::Decision::kDenied:
        return Write(core_->Unauthorized(parser_->get()));
      case AuthCheck::Decision::kVerify:
        break;
    }
    // Still waiting on behalf of the client: evictable, and since the request's first byte.
    state_ = State::kAuthenticating;
    Lowest().expires_never();  // no I/O is pending; bcrypt's time is bounded by its cost
    const std::uint64_t generation = core_->security_generation_;
    std::string key = check.cache_key;
    const bool queued = core_->VerifyInBackground(
        std::move(check), abandoned_, [self = self(), key = std::move(key), generation](bool matched) {
          if (self->Abandoned()) return;
          if (matched) self->core_->RememberCredentials(key, generation);
          if (!matched) return self->Write(self->core_->Unauthorized(self->parser_->get()));
          self->Answer();
        });
    if (!queued) Write(core_->Busy(parser_->get()));
  }

  // The request is authorised: route it, and write the response when it is ready (a /metrics
  // body may come from the renderer's thread later).
  void Answer() {
    Enter(State::kAwaitingMetrics);
    core_->Respond(parser_->get(), [self = self()](Response res) {
      if (self->Abandoned()) return;
      self->Write(std::move(res));
    });
  }

  void SendError(http::status status, std::string_view text) {
    Response res{status, 11};
    res.set(http::field::server, kServerName);
    res.set(http::field::content_type, kTextContentType);
    res.keep_alive(false);
    res.body().data = text;
    res.prepare_payload();
    // The rest of a rejected request is never parsed, so the connection cannot continue.
    Write(std::move(res));
  }

  void Write(Response res) {
    Enter(State::kWriting);
    parser_.reset();
    response_.emplace(std::move(res));
    if (core_->draining_ || generation_ != core_->security_generation_) {
      response_->keep_alive(false);
    }
    Lowest().expires_after(core_->options_.write_timeout);
    http::async_write(stream_, *response_,
                      [self = self()](const error_code& ec, std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const error_code& ec) {
    if (Abandoned()) return;
    if (ec) return Drop("while writing a response", ec);
    const bool close = response_->need_eof() || core_->draining_ ||
                       generation_ != core_->security_generation_;
    response_.reset();
    if (!close) return WaitForRequest();
    if constexpr (kTls) {
      // close_notify first, so that the client can tell the end from a truncation; bounded
      // like the plain linger below.
      Enter(State::kLingering);
      Lowest().expires_after(kLingerTimeout);
      stream_.async_shutdown([self = self()](const error_code&) {
        if (self->Abandoned()) return;
        self->LingerPlain();
      });
    } else {
      LingerPlain();
    }
  }

  // Sends FIN, then reads and drops input until the client closes too (see kLingerTimeout).
  void LingerPlain() {
    Enter(State::kLingering);
    error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    buffer_.consume(buffer_.size());
    Lowest().expires_after(kLingerTimeout);
    DrainInput();
  }

  void DrainInput() {
    Lowest().async_read_some(buffer_.prepare(kReadChunk),
                             [self = self()](const error_code& ec, std::size_t n) {
                               if (ec || self->Abandoned()) return;
                               self->drained_ += n;
                               if (self->drained_ > kLingerMaxBytes) return;
                               self->DrainInput();
                             });
  }

  std::shared_ptr<asio::ssl::context> context_;  // declared before stream_, which uses it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;
  std::size_t drained_ = 0;
};

std::optional<std::vector<Candidate>> HttpServer::Core::Resolve(const ListenAddress& parsed,
                                                                const std::string& address,
                                                                std::string* error) {
  if (parsed.all_interfaces()) {
    return std::vector<Candidate>{
        {tcp::endpoint(asio::ip::address_v6::any(), parsed.port), true},
        {tcp::endpoint(asio::ip::address_v4::any(), parsed.port), false}};
  }
  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(parsed.host, ec);
  if (!ec) return std::vector<Candidate>{{tcp::endpoint(literal, parsed.port), false}};

  tcp::resolver resolver(io_);
  const auto results =
      resolver.resolve(parsed.host, std::to_string(parsed.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) {
    *error = address + ": resolve " + parsed.host + ": " + ec.message();
    return std::nullopt;
  }
  std::vector<Candidate> candidates;
  for (const auto& entry : results) {
    Candidate candidate{entry.endpoint(), false};
    const bool seen = std::any_of(candidates.begin(), candidates.end(), [&](const Candidate& c) {
      return c.endpoint == candidate.endpoint;
    });
    if (!seen) candidates.push_back(candidate);
  }
  if (candidates.empty()) {
    *error = address + ": resolve " + parsed.host + ": no addresses";
    return std::nullopt;
  }
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](const Candidate& c) { return c.endpoint.address().is_v4(); });
  return candidates;
}

std::optional<std::string> HttpServer::Core::Listen(const std::string& address) {
  if (draining_ || stopped_) return address + ": the server is shutting down";
  if (listener_ && listener_->address == address) return std::nullopt;
  std::string error;
  const std::optional<ListenAddress> parsed = ParseListenAddress(address, &error);
  if (!parsed) return error;
  const auto candidates = Resolve(*parsed, address, &error);
  if (!candidates) return error;

  BindAttempt attempt = BindFirst(io_, *candidates);
  if (!attempt.listener && attempt.error == asio::error::address_in_use && listener_ &&
      parsed->port != 0 && listener_->endpoint.port() == parsed->port) {
    // Another host on the same port: the old listener holds the port, so it has to go first.
    const std::shared_ptr<Listener> old = std::move(listener_);
    old->Close();
    attempt = BindFirst(io_, *candidates);
    if (!attempt.listener) {
      BindAttempt restored = Bind(io_, Candidate{old->endpoint, old->dual_stack});
      if (restored.listener) {
        restored.listener->address = old->address;
        StartListener(restored.listener);
      } else {
        spdlog::error("http: after failing to listen on {}, could not listen on {} again: {}",
                      address, old->address, BindError(old->address, restored));
      }
    }
  }
  if (!attempt.listener) return BindError(address, attempt);

  attempt.listener->address = address;
  if (listener_) listener_->Close();
  StartListener(attempt.listener);
  spdlog::info("http: listening on {}", EndpointText(listener_->endpoint));
  return std::nullopt;
}

void HttpServer::Core::StartListener(std::shared_ptr<Listener> listener) {
  listener_ = std::move(listener);
  Accept(listener_);
}

void HttpServer::Core::Accept(const std::shared_ptr<Listener>& listener) {
  listener->acceptor.async_accept(
      [self = shared_from_this(), listener](const error_code& ec, tcp::socket socket) {
        self->OnAccept(listener, ec, std::move(socket));
      });
}

void HttpServer::Core::OnAccept(const std::shared_ptr<Listener>& listener, const error_code& ec,
                                tcp::socket socket) {
  if (stopped_ || draining_ || !listener->acceptor.is_open()) return;
  if (ec == asio::error::connection_aborted) {  // the client left before accept(); nothing wrong
    Accept(listener);
    return;
  }
  if (ec) {
    listener->backoff_delay = std::clamp(listener->backoff_delay * 2, kAcceptBackoffMin,
                                         kAcceptBackoffMax);
    spdlog::warn("http: accept on {}: {}; retrying in {} ms", EndpointText(listener->endpoint),
                 ec.message(), listener->backoff_delay.count());
    listener->backoff.expires_after(listener->backoff_delay);
    listener->backoff.async_wait([self = shared_from_this(), listener](const error_code& wait) {
      if (wait || self->stopped_ || !listener->acceptor.is_open()) return;
      self->Accept(listener);
    });
    return;
  }
  listener->backoff_delay = std::chrono::milliseconds{0};
  SetCloseOnExec(socket.native_handle());
  // At the cap, make room by evicting the connection that has waited longest on its client
  // rather than refusing the newcomer. Refusing would hand the server to whoever holds the
  // slots: 64 slowloris connections trickling a header byte each second, renewed every
  // read_timeout, would answer every scrape with 503. Evicting the longest waiter costs an
  // honest client nothing it would miss: its request is not being answered, and a scraper's
  // connection waits microseconds between connecting and sending its request, so it is never
  // the oldest, unless attackers churn through every slot within the few milliseconds a
  // client may take to send its request: hence a cap (1024) well above what a slowloris attack
  // needs to hold, with per-connection memory bounded instead (see HttpServerOptions).
  // Connections that are writing or closing are never evicted: they are answering someone.
  std::size_t open = 0;
  Session* victim = nullptr;
  for (Session* session : sessions_) {
    if (session->closed()) continue;  // its fd is closed already; it is only unwinding
    ++open;
    if (session->evictable() &&
        (victim == nullptr || session->waiting_since() < victim->waiting_since())) {
      victim = session;
    }
  }
  if (open >= options_.max_connections) {
    if (victim == nullptr) {
      Refuse(std::move(socket));
      Accept(listener);
      return;
    }
    Evict(victim);
  }
  if (security_.tls) {
    std::make_shared<StreamSession<beast::ssl_stream<beast::tcp_stream>>>(
        shared_from_this(), std::move(socket), security_.tls)
        ->Start();
  } else {
    std::make_shared<StreamSession<beast::tcp_stream>>(shared_from_this(), std::move(socket))
        ->Start();
  }
  Accept(listener);
}

void HttpServer::Core::Evict(Session* victim) {
  spdlog::debug("http: {}: evicted at the limit of {} open connections", victim->peer(),
                options_.max_connections);
  victim->Close();
  LogRateLimited(evicted_since_log_, last_eviction_log_,
                 "closed the longest-waiting connection to admit a new one");
}

void HttpServer::Core::LogRateLimited(std::size_t& count,
                                      std::chrono::steady_clock::time_point& last,
                                      std::string_view what) {
  ++count;
  const auto now = std::chrono::steady_clock::now();
  if (now - last >= kRefusalLogInterval) {
    spdlog::warn("http: {} time(s): {}; the limit of {} open connections is reached", count, what,
                 options_.max_connections);
    count = 0;
    last = now;
  }
}

// At max_connections with nothing to evict: a canned 503 written without waiting (a new
// socket's send buffer has
// room for it), then close. The loop never blocks and no session is created.
void HttpServer::Core::Refuse(tcp::socket socket) {
  static const std::string kResponse = [] {
    const std::string body = "too many open connections\n";
    return "HTTP/1.1 503 Service Unavailable\r\n"
           "Server: workload_exporter\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n"
           "Connection: close\r\n"
           "\r\n" + body;
  }();
  error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kResponse), ec);
  // Drop what the client has sent already, so the close sends FIN rather than RST.
  std::array<char, 4096> discard;
  for (int i = 0; i < 16 && !ec; ++i) socket.read_some(asio::buffer(discard), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  LogRateLimited(refused_since_log_, last_refusal_log_,
                 "refused a connection (503): every open one is answering a request");
}

void HttpServer::Core::OnSessionGone(Session* session) {
  sessions_.erase(session);
  if (draining_ && !stopped_ && !shutdown_finished_ && sessions_.empty()) FinishShutdown();
}

void HttpServer::Core::CloseSessions(bool idle_only) {
  // Close() only cancels operations; no session is destroyed during this loop, but copy anyway
  // so the loop does not depend on that.
  const std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* session : sessions) {
    if (!idle_only || session->idle()) session->Close();
  }
}

void HttpServer::Core::Shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  if (stopped_) return;
  if (done) done_callbacks_.push_back(std::move(done));
  if (shutdown_finished_) {
    FinishShutdown();
    return;
  }
  if (!draining_) {
    draining_ = true;
    if (listener_) {
      listener_->Close();
      listener_.reset();
    }
    spdlog::debug("http: shutting down; {} connection(s) open", sessions_.size());
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->stopped_ || self->shutdown_finished_) return;
      spdlog::warn("http: closing {} connection(s) still open after the shutdown grace period",
                    self->sessions_.size());
      self->CloseSessions(/*idle_only=*/false);
      self->FinishShutdown();
    });
    CloseSessions(/*idle_only=*/true);
  }
  if (sessions_.empty()) FinishShutdown();
}

void HttpServer::Core::FinishShutdown() {
  shutdown_finished_ = true;
  grace_timer_.cancel();
  for (auto& done : std::exchange(done_callbacks_, {})) asio::post(io_, std::move(done));
}

void HttpServer::Core::Stop() {
  stopped_ = true;
  if (listener_) {
    listener_->Close();
    listener_.reset();
  }
  grace_timer_.cancel();
  done_callbacks_.clear();
  CloseSessions(/*idle_only=*/false);
  handlers_ = {};  // what the handlers captured may die with the server's owner
  if (bcrypt_pool_) {
    // Waits for a verification in progress (one bcrypt at most per thread); queued ones are
    // dropped. Their results, posted to the io_context, find the sessions closed.
    bcrypt_pool_->stop();
    bcrypt_pool_->join();
  }
}

void HttpServer::Core::SetSecurity(HttpSecurity security) {
  security_ = std::move(security);
  ++security_generation_;
  credentials_cache_.clear();
  CloseSessions(/*idle_only=*/true);
}

std::string HttpServer::Core::CacheKey(std::string_view user, std::string_view password) const {
  // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
  std::string message = std::to_string(user.size()) + ":";
  message.append(user);
  message.append(password);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), cache_key_.data(), static_cast<int>(cache_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
       &length);
  OPENSSL_cleanse(message.data(), message.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

HttpServerStats HttpServer::Core::stats() const {
  HttpServerStats stats;
  stats.connections = sessions_.size();
  for (const Session* session : sessions_) {
    if (session->closed()) continue;
    if (session->state() == Session::State::kReading) ++stats.reading;
    if (session->state() == Session::State::kWriting) ++stats.writing;
    if (session->state() == Session::State::kAwaitingMetrics) ++stats.awaiting_metrics;
  }
  stats.password_checks_pending = password_checks_pending_;
  stats.password_checks_run = password_checks_run_;
  stats.password_checks_dropped = password_checks_dropped_;
  stats.password_checks_refused = password_checks_refused_;
  return stats;
}

HttpServer::Core::AuthCheck HttpServer::Core::Authenticate(const Request& req) const {
  AuthCheck check;
  if (security_.basic_auth_users.empty()) return check;  // allowed
  check.decision = AuthCheck::Decision::kDenied;
  const auto field = req.find(http::field::authorization);
  if (field == req.end()) return check;
  const std::optional<std::pair<std::string, std::string>> credentials =
      ParseBasicCredentials(field->value());
  if (!credentials) return check;
  const auto& [user, password] = *credentials;
  check.cache_key = CacheKey(user, password);
  // The cache's lookup is not constant-time, but its keys are HMACs under a key the client does
  // not know, so how long it takes says nothing about the password.
  if (credentials_cache_.count(check.cache_key) != 0) {
    check.decision = AuthCheck::Decision::kAllowed;
    return check;
  }
  const auto known = security_.basic_auth_users.find(user);
  check.known_user = known != security_.basic_auth_users.end();
  // An unknown user costs a bcrypt too, so that timing does not tell which users exist.
  check.hash = check.known_user ? known->second : std::string(kDummyHash);
  check.password = password;
  check.decision = AuthCheck::Decision::kVerify;
  return check;
}

bool HttpServer::Core::VerifyInBackground(AuthCheck check,
                                          std::shared_ptr<const std::atomic<bool>> abandoned,
                                          std::function<void(bool)> done) {
  // Two threads: bcrypt is CPU-bound, and a flood of wrong passwords then costs at most two
  // cores while the event loop keeps serving. The queue is bounded here, not by
  // max_connections: a session waiting for its check is evictable, so a client churning
  // connections could otherwise queue checks (and the sessions they hold) without limit, and
  // leave both cores busy long after it stopped.
  if (password_checks_pending_ >= options_.max_password_checks) {
    ++password_checks_refused_;
    OPENSSL_cleanse(check.password.data(), check.password.size());
    return false;
  }
  ++password_checks_pending_;
  if (!bcrypt_pool_) bcrypt_pool_ = std::make_unique<asio::thread_pool>(2);
  asio::post(*bcrypt_pool_, [check = std::move(check), abandoned = std::move(abandoned),
                             done = std::move(done), self = shared_from_this()]() mutable {
    const bool run = !abandoned->load(std::memory_order_acquire);
    const bool matched = run && BcryptMatches(check.password, check.hash) && check.known_user;
    OPENSSL_cleanse(check.password.data(), check.password.size());
    // `done` (which owns the session) moves to the io_context: nothing of the session is
    // released on this thread.
    asio::io_context& io = self->io_;
    asio::post(io, [self = std::move(self), done = std::move(done), matched, run] {
      --self->password_checks_pending_;
      ++(run ? self->password_checks_run_ : self->password_checks_dropped_);
      if (run) done(matched);
    });
  });
  return true;
}

void HttpServer::Core::RememberCredentials(std::string cache_key, std::uint64_t generation) {
  if (generation != security_generation_) return;  // verified against users since replaced
  if (credentials_cache_.size() >= kCredentialsCacheSize) credentials_cache_.clear();
  credentials_cache_.insert(std::move(cache_key));
}

bool HttpServer::Core::Ready() { return !handlers_.ready || handlers_.ready(); }

void HttpServer::Core::Metrics(const Request& req, std::function<void(Reply)> reply) {
  const bool accepts_gzip = AcceptEncodingAllowsGzip(JoinedField(req, http::field::accept_encoding));
  if (!handlers_.metrics) return reply(Literal(http::status::service_unavailable, "no sample yet\n"));
  // The body may come from another thread: the reply is always posted to the loop, never
  // written from inside the handler.
  handlers_.metrics(accepts_gzip, [&io = io_, reply = std::move(reply),
                                   accepts_gzip](std::shared_ptr<const MetricsBody> body) mutable {
    asio::post(io, [reply = std::move(reply), body = std::move(body), accepts_gzip]() mutable {
      if (!body) return reply(Literal(http::status::service_unavailable, "no sample yet\n"));
      Reply answer;
      answer.content_type = kMetricsContentType;
      answer.vary = true;
      if (!body->gzip.empty() && accepts_gzip) {
        answer.gzip = true;
        answer.body.data = body->gzip;
      } else {
        answer.body.data = body->text;
      }
      answer.body.owner = std::move(body);
      reply(std::move(answer));
    });
  });
}

void HttpServer::Core::Workloads(const Request&, std::function<void(Reply)> reply) {
  handlers_.workloads_json([&io = io_, reply = std::move(reply)](std::shared_ptr<const std::string> doc) mutable {
    asio::post(io, [reply = std::move(reply), doc = std::move(doc)]() mutable {
      reply(Owned(http::status::ok, kJsonContentType, std::move(doc)));
    });
  });
}

std::optional<Reply> HttpServer::Core::Route(const Request& req, Later* later) {
  if (req.version() >= 11 && req.find(http::field::host) == req.end()) {
    Reply reply = Literal(http::status::bad_request, "missing Host header\n");
    reply.close = true;
    return reply;
  }
  const std::optional<std::string_view> path = TargetPath(req.target());
  if (!path) {
    Reply reply = Literal(http::status::bad_request, "malformed request target\n");
    reply.close = true;
    return reply;
  }
  enum class Endpoint { kNone, kMetrics, kLanding, kHealthy, kReady, kWorkloads };
  Endpoint endpoint = Endpoint::kNone;
  // The telemetry path is matched first, so it may even be "/".
  if (*path == options_.telemetry_path) {
    endpoint = Endpoint::kMetrics;
  } else if (*path == kLandingPath) {
    endpoint = Endpoint::kLanding;
  } else if (*path == kHealthyPath) {
    endpoint = Endpoint::kHealthy;
  } else if (*path == kReadyPath) {
    endpoint = Endpoint::kReady;
  } else if (*path == kWorkloadsPath && handlers_.workloads_json) {
    endpoint = Endpoint::kWorkloads;
  }
  if (endpoint == Endpoint::kNone) return Literal(http::status::not_found, "not found\n");
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Reply reply = Literal(http::status::method_not_allowed, "method not allowed\n");
    reply.allow = true;
    return reply;
  }
  switch (endpoint) {
    case Endpoint::kMetrics:
      *later = &Core::Metrics;
      return std::nullopt;
    case Endpoint::kLanding:
      return Owned(http::status::ok, kHtmlContentType,
                   LandingPage(options_.telemetry_path,
                               static_cast<bool>(handlers_.workloads_json)));
    case Endpoint::kHealthy:
      return Literal(http::status::ok, "OK\n");
    case Endpoint::kReady:
      return Ready() ? Literal(http::status::ok, "Ready\n")
                     : Literal(http::status::service_unavailable, "Not ready\n");
    case Endpoint::kWorkloads:
      *later = &Core::Workloads;
      return std::nullopt;
    case Endpoint::kNone:
      break;
  }
  return Literal(http::status::not_found, "not found\n");
}

void HttpServer::Core::Respond(const Request& req, std::function<void(Response)> respond) {
  auto failed = [&](const std::exception& e) {
    spdlog::error("http: {} {}: {}", std::string_view(req.method_string()),
                  std::string_view(req.target()), e.what());
    respond(Finish(req, Literal(http::status::internal_server_error, "internal server error\n")));
  };
  std::optional<Reply> reply;
  try {
    Later later = nullptr;
    reply = Route(req, &later);
    if (!reply) {
      // `respond` is shared so that a handler that throws after taking its copy cannot leave
      // the request without an answer or answer it twice.
      auto pending = std::make_shared<std::function<void(Response)>>(std::move(respond));
      respond = [pending](Response res) {
        if (*pending) std::exchange(*pending, {})(std::move(res));
      };
      (this->*later)(req, [this, self = shared_from_this(), &req, pending](Reply r) {
        if (*pending) std::exchange(*pending, {})(Finish(req, std::move(r)));
      });
      return;
    }
  } catch (const std::exception& e) {
    failed(e);
    return;
  }
  respond(Finish(req, std::move(*reply)));
}

Response HttpServer::Core::Busy(const Request& req) {
  Reply reply = Literal(http::status::service_unavailable, "too many password checks in progress\n");
  reply.retry_after = true;
  return Finish(req, std::move(reply));
}

Response HttpServer::Core::Unauthorized(const Request& req) {
  Reply reply = Literal(http::status::unauthorized, "Unauthorized\n");
  reply.challenge = true;
  return Finish(req, std::move(reply));
}

Response HttpServer::Core::Finish(const Request& req, Reply reply) {
  Response res{reply.status, req.version()};
  res.set(http::field::server, kServerName);
  res.set(http::field::date, HttpDate());
  res.set(http::field::content_type, reply.content_type);
  if (reply.gzip) res.set(http::field::content_encoding, "gzip");
  if (reply.vary) res.set(http::field::vary, "Accept-Encoding");
  if (reply.allow) res.set(http::field::allow, "GET, HEAD");
  if (reply.challenge) res.set(http::field::www_authenticate, "Basic");
  if (reply.retry_after) res.set(http::field::retry_after, "1");
  res.keep_alive(req.keep_alive() && !reply.close);
  res.body() = std::move(reply.body);
  res.prepare_payload();  // Content-Length from the body
  if (req.method() == http::verb::head) res.body() = {};  // same headers, no body
  return res;
}

HttpServer::HttpServer(boost::asio::io_context& io, HttpServerOptions options,
                       HttpHandlers handlers)
    : core_(std::make_shared<Core>(io, std::move(options), std::move(handlers))) {}

HttpServer::~HttpServer() { core_->Stop(); }

std::optional<std::string> HttpServer::Listen(const std::string& listen_address) {
  return core_->Listen(listen_address);
}

void HttpServer::set_telemetry_path(std::string path) {
  core_->set_telemetry_path(std::move(path));
}

void HttpServer::SetSecurity(HttpSecurity security) { core_->SetSecurity(std::move(security)); }

uint16_t HttpServer::port() const { return core_->port(); }

void HttpServer::Shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  core_->Shutdown(grace, std::move(done));
}

std::size_t HttpServer::active_connections() const { return core_->active_connections(); }

HttpServerStats HttpServer::stats() const { return core_->stats(); }

bool RequestHeaderTooLarge(std::size_t consumed, std::size_t body_bytes, std::size_t max_header_bytes) {
  return consumed > body_bytes && consumed - body_bytes > max_header_bytes;
}

bool AcceptEncodingAllowsGzip(std::string_view accept_encoding) {
  std::optional<int> gzip_q;  // thousandths
  std::optional<int> star_q;
  std::optional<int> identity_q;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size()
                                                                   : comma + 1);
    const auto semicolon = element.find(';');
    const std::string_view coding = Trim(element.substr(0, semicolon));
    if (coding.empty()) continue;
    std::optional<int> q = 1000;
    std::string_view params =
        semicolon == std::string_view::npos ? std::string_view() : element.substr(semicolon + 1);
    while (!params.empty() && q) {
      const auto next = params.find(';');
      const std::string_view param = Trim(params.substr(0, next));
      params.remove_prefix(next == std::string_view::npos ? params.size() : next + 1);
      const auto equals = param.find('=');
      if (equals == std::string_view::npos) continue;
      if (IEquals(Trim(param.substr(0, equals)), "q")) {
        q = ParseQValue(Trim(param.substr(equals + 1)));
      }
    }
    if (!q) continue;  // malformed q-value: ignore the element
    std::optional<int>* slot = nullptr;
    if (IEquals(coding, "gzip") || IEquals(coding, "x-gzip")) {
      slot = &gzip_q;
    } else if (coding == "*") {
      slot = &star_q;
    } else if (IEquals(coding, "identity")) {
      slot = &identity_q;
    }
    if (slot != nullptr && !slot->has_value()) *slot = q;  // the first mention counts
  }
  const int gzip = gzip_q ? *gzip_q : star_q.value_or(0);
  if (gzip <= 0) return false;
  return !(identity_q && *identity_q > gzip);
}

}  // namespace we
