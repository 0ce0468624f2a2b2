#pragma once
// The inside of HttpServer (http/server.h), shared by the files that implement it:
//   server.cc    listening, accepting and evicting, shutdown, authentication, routing
//   session.cc   one connection's life: TLS detection and handshake, reading a request,
//                waiting for its answer, writing it, lingering before close
//   listener.cc, request.cc, response.cc   the pure pieces they use
// Not for other stages: include http/server.h.
//
// Thread-safety: as HttpServer's, everything here runs on the io_context's thread, except the
// bcrypt checks on the worker pool (VerifyInBackground), which touch only what they are given.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "config/listen_address.h"
#include "http/listener.h"
#include "http/request.h"
#include "http/response.h"
#include "http/server.h"

namespace we {
namespace serving {

inline constexpr std::size_t kReadChunk = 4096;
// After a response that ends the connection the server stops sending, then reads and drops what
// the client still sends, for at most this long and this much: closing a socket with unread
// input resets the connection, and a reset can destroy the response before the client reads it.
inline constexpr std::chrono::seconds kLingerTimeout{2};
inline constexpr std::size_t kLingerMaxBytes = 64 * 1024;
// accept() failing (EMFILE, ENFILE, ENOBUFS) is retried after a growing pause, as Go's
// net/http does, instead of spinning the loop while the condition lasts.
inline constexpr std::chrono::milliseconds kAcceptBackoffMin{5};
inline constexpr std::chrono::milliseconds kAcceptBackoffMax{1000};
inline constexpr std::chrono::seconds kRefusalLogInterval{10};
// Verified credentials remembered at most; the cache is emptied when full. A few users scraping
// from a few places need a handful; the bound only stops growth.
inline constexpr std::size_t kCredentialsCacheSize = 1024;
// A well-formed bcrypt hash (cost 10, of a random password nobody knows) checked for unknown
// users, so that they cost what a known user's wrong password costs.
inline constexpr std::string_view kDummyHash = "$2y$10$Al10875vmLFtFOYGONb.xOeCKbY0HFL7Wx/dEob5nK4aJvZzoyiVq";

}  // namespace serving

// Short names for the HTTP server's files (this header is theirs alone).
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using serving::BindAttempt;
using serving::Candidate;
using serving::Listener;
using serving::Reply;
using serving::Request;
using serving::Response;

// The server's state, shared with every asynchronous operation so that a completion arriving
// after the HttpServer is gone finds valid memory (and `stopped`) rather than a dangling pointer.
class HttpServer::Core : public std::enable_shared_from_this<Core> {
 public:
  class Session;
  template <class Stream>
  class StreamSession;

  Core(asio::io_context& io, HttpServerOptions options, HttpHandlers handlers)
      : io_(io), options_(std::move(options)), handlers_(std::move(handlers)), grace_timer_(io) {
    // getrandom(2), not RAND_bytes: OpenSSL's first use initialises its providers and makes
    // ~3 MiB of libcrypto resident, which a daemon without TLS or basic auth never needs.
    if (getrandom(cache_key_.data(), cache_key_.size(), 0) != static_cast<ssize_t>(cache_key_.size())) {
      throw std::runtime_error("getrandom failed: cannot key the credentials cache");
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
    std::string hash;  // the user's, or kDummyHash for an unknown user
    bool known_user = false;
    std::string cache_key;  // HMAC-SHA256(user, password)
  };

  std::optional<std::vector<Candidate>> Resolve(const ListenAddress& parsed, const std::string& address,
                                                std::string* error);
  void StartListener(std::shared_ptr<Listener> listener);
  void Accept(const std::shared_ptr<Listener>& listener);
  void OnAccept(const std::shared_ptr<Listener>& listener, const error_code& ec, tcp::socket socket);
  void Refuse(tcp::socket socket);
  // A session for an accepted connection: TLS when `tls` is set (http/session.cc).
  std::shared_ptr<Session> MakeSession(tcp::socket socket, std::shared_ptr<asio::ssl::context> tls);
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
  // The answer, or nullopt when the endpoint answers asynchronously: then *later is the member
  // that will (Metrics or Workloads).
  using Later = void (Core::*)(const Request& req, std::function<void(Reply)> reply);
  std::optional<Reply> Route(const Request& req, Later* later);
  void Workloads(const Request& req, std::function<void(Reply)> reply);
  void WorkloadSeries(const Request& req, std::function<void(Reply)> reply);
  void Metrics(const Request& req, std::function<void(Reply)> reply);
  bool Ready();
  void LogRateLimited(std::size_t& count, std::chrono::steady_clock::time_point& last, std::string_view what);

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
  std::size_t password_checks_pending_ = 0;            // queued or running; at most max_password_checks
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
    peer_ = ec ? std::string("unknown peer") : serving::EndpointText(peer);
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
    return !closed_ && (state_ == State::kHandshake || state_ == State::kIdle || state_ == State::kReading ||
                        state_ == State::kAuthenticating);
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

}  // namespace we
