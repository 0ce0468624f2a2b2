#include "http/server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <exception>
#include <limits>
#include <stdexcept>
#include <utility>

#include "http/basic_auth.h"
#include "http/dashboard.h"
#include "http/server_core.h"
#include "http/tls_context.h"

namespace we {

using namespace serving;

namespace {

constexpr std::string_view kLandingPath = "/";
constexpr std::string_view kHealthyPath = "/-/healthy";
constexpr std::string_view kReadyPath = "/-/ready";
constexpr std::string_view kWorkloadsPath = "/api/v1/workloads";
constexpr std::string_view kSeriesPath = "/api/v1/workloads/series";

}  // namespace

std::optional<std::string> HttpServer::Core::Listen(const std::string& address) {
  if (draining_ || stopped_) return address + ": the server is shutting down";
  if (listener_ && listener_->address == address) return std::nullopt;
  std::string error;
  const std::optional<ListenAddress> parsed = ParseListenAddress(address, &error);
  if (!parsed) return error;
  const auto candidates = Resolve(*parsed, address, &error);
  if (!candidates) return error;

  BindAttempt attempt = BindFirst(io_, *candidates);
  if (!attempt.listener && attempt.error == asio::error::address_in_use && listener_ && parsed->port != 0 &&
      listener_->endpoint.port() == parsed->port) {
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
        spdlog::error("http: after failing to listen on {}, could not listen on {} again: {}", address, old->address,
                      BindError(old->address, restored));
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
  listener->acceptor.async_accept([self = shared_from_this(), listener](const error_code& ec, tcp::socket socket) {
    self->OnAccept(listener, ec, std::move(socket));
  });
}

void HttpServer::Core::OnAccept(const std::shared_ptr<Listener>& listener, const error_code& ec, tcp::socket socket) {
  if (stopped_ || draining_ || !listener->acceptor.is_open()) return;
  if (ec == asio::error::connection_aborted) {  // the client left before accept(); nothing wrong
    Accept(listener);
    return;
  }
  if (ec) {
    listener->backoff_delay = std::clamp(listener->backoff_delay * 2, kAcceptBackoffMin, kAcceptBackoffMax);
    spdlog::warn("http: accept on {}: {}; retrying in {} ms", EndpointText(listener->endpoint), ec.message(),
                 listener->backoff_delay.count());
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
    if (session->evictable() && (victim == nullptr || session->waiting_since() < victim->waiting_since())) {
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
  MakeSession(std::move(socket), security_.tls)->Start();
  Accept(listener);
}

void HttpServer::Core::Evict(Session* victim) {
  spdlog::debug("http: {}: evicted at the limit of {} open connections", victim->peer(), options_.max_connections);
  victim->Close();
  LogRateLimited(evicted_since_log_, last_eviction_log_, "closed the longest-waiting connection to admit a new one");
}

void HttpServer::Core::LogRateLimited(std::size_t& count, std::chrono::steady_clock::time_point& last,
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
           "Content-Length: " +
           std::to_string(body.size()) +
           "\r\n"
           "Connection: close\r\n"
           "\r\n" +
           body;
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
      spdlog::warn("http: closing {} connection(s) still open after the shutdown grace period", self->sessions_.size());
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
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(), &length);
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
  const std::optional<std::pair<std::string, std::string>> credentials = ParseBasicCredentials(field->value());
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

bool HttpServer::Core::VerifyInBackground(AuthCheck check, std::shared_ptr<const std::atomic<bool>> abandoned,
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
  asio::post(*bcrypt_pool_, [check = std::move(check), abandoned = std::move(abandoned), done = std::move(done),
                             self = shared_from_this()]() mutable {
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

namespace {

// A JSON document from `handler` (workloads_json or workload_series_json), answered on the loop.
void ServeJson(asio::io_context& io, const std::function<void(HttpHandlers::WorkloadsDone)>& handler,
               std::function<void(Reply)> reply) {
  handler([&io, reply = std::move(reply)](std::shared_ptr<const std::string> doc) mutable {
    asio::post(io, [reply = std::move(reply), doc = std::move(doc)]() mutable {
      reply(Owned(http::status::ok, kJsonContentType, std::move(doc)));
    });
  });
}

}  // namespace

void HttpServer::Core::WorkloadSeries(const Request&, std::function<void(Reply)> reply) {
  ServeJson(io_, handlers_.workload_series_json, std::move(reply));
}

void HttpServer::Core::Workloads(const Request&, std::function<void(Reply)> reply) {
  ServeJson(io_, handlers_.workloads_json, std::move(reply));
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
  enum class Endpoint { kNone, kMetrics, kLanding, kHealthy, kReady, kWorkloads, kSeries };
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
  } else if (*path == kSeriesPath && handlers_.workload_series_json) {
    endpoint = Endpoint::kSeries;
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
    case Endpoint::kLanding: {
      if (!handlers_.workloads_json)
        return Owned(http::status::ok, kHtmlContentType, LandingPage(options_.telemetry_path, false));
      Reply page = Owned(http::status::ok, kHtmlContentType, DashboardPage(options_.telemetry_path));
      page.content_security_policy = DashboardContentSecurityPolicy();
      return page;
    }
    case Endpoint::kHealthy:
      return Literal(http::status::ok, "OK\n");
    case Endpoint::kReady:
      return Ready() ? Literal(http::status::ok, "Ready\n") : Literal(http::status::service_unavailable, "Not ready\n");
    case Endpoint::kWorkloads:
      *later = &Core::Workloads;
      return std::nullopt;
    case Endpoint::kSeries:
      *later = &Core::WorkloadSeries;
      return std::nullopt;
    case Endpoint::kNone:
      break;
  }
  return Literal(http::status::not_found, "not found\n");
}

void HttpServer::Core::Respond(const Request& req, std::function<void(Response)> respond) {
  auto failed = [&](const std::exception& e) {
    spdlog::error("http: {} {}: {}", std::string_view(req.method_string()), std::string_view(req.target()), e.what());
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

HttpServer::HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandlers handlers)
    : core_(std::make_shared<Core>(io, std::move(options), std::move(handlers))) {}

HttpServer::~HttpServer() { core_->Stop(); }

std::optional<std::string> HttpServer::Listen(const std::string& listen_address) {
  return core_->Listen(listen_address);
}

void HttpServer::set_telemetry_path(std::string path) { core_->set_telemetry_path(std::move(path)); }

void HttpServer::SetSecurity(HttpSecurity security) { core_->SetSecurity(std::move(security)); }

uint16_t HttpServer::port() const { return core_->port(); }

void HttpServer::Shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  core_->Shutdown(grace, std::move(done));
}

std::size_t HttpServer::active_connections() const { return core_->active_connections(); }

HttpServerStats HttpServer::stats() const { return core_->stats(); }

}  // namespace we
