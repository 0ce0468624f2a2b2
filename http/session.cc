#include <type_traits>
#include <utility>

#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/server_core.h"

namespace we {

using namespace serving;

template <class Stream>
class HttpServer::Core::StreamSession final : public HttpServer::Core::Session {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  StreamSession(std::shared_ptr<Core> core, tcp::socket socket) requires(!kTls)
      : Session(std::move(core), socket), stream_(std::move(socket)) {}
  // `context` is kept alive by the session: SetSecurity may replace the server's meanwhile.
  StreamSession(std::shared_ptr<Core> core, tcp::socket socket,
                std::shared_ptr<asio::ssl::context> context) requires(kTls)
      : Session(std::move(core), socket), context_(std::move(context)), stream_(std::move(socket), *context_) {}

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
  std::shared_ptr<StreamSession> self() { return std::static_pointer_cast<StreamSession>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // TLS: the first bytes say whether this is a TLS client at all. One that speaks plain HTTP
  // gets a plain 400 saying why, as Go's servers answer it, rather than a handshake failure it
  // cannot read. Detection and handshake together are bounded by read_timeout.
  void DetectTls() {
    Enter(State::kHandshake);
    Lowest().expires_after(core_->options_.read_timeout);
    beast::async_detect_ssl(Lowest(), buffer_,
                            [self = self()](const error_code& ec, bool tls) { self->OnDetected(ec, tls); });
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
        asio::async_write(Lowest(), asio::buffer(kRefusal), [self = self()](const error_code& wec, std::size_t) {
          if (wec || self->Abandoned()) return;
          self->LingerPlain();
        });
        return;
      }
      // `used` has a default only because Boost 1.81's beast::ssl_stream constrains the buffered
      // handshake's handler to void(error_code) while calling it with (error_code, size_t).
      stream_.async_handshake(
          asio::ssl::stream_base::server, buffer_.data(),
          [self = self()](const error_code& hec, std::size_t used = 0) { self->OnHandshake(hec, used); });
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
                            [self = self()](const error_code& ec, std::size_t n) { self->OnFirstBytes(ec, n); });
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
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
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
      spdlog::debug("http: {}: request header larger than {} bytes", peer_, core_->options_.max_header_bytes);
      return SendError(http::status::request_header_fields_too_large, "request header too large\n");
    }
    if (ec == http::error::body_limit) {
      spdlog::debug("http: {}: request body larger than {} bytes", peer_, core_->options_.max_body_bytes);
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
    http::async_write(stream_, *response_, [self = self()](const error_code& ec, std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const error_code& ec) {
    if (Abandoned()) return;
    if (ec) return Drop("while writing a response", ec);
    const bool close = response_->need_eof() || core_->draining_ || generation_ != core_->security_generation_;
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
    Lowest().async_read_some(buffer_.prepare(kReadChunk), [self = self()](const error_code& ec, std::size_t n) {
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

std::optional<std::vector<Candidate>> HttpServer::Core::Resolve(const ListenAddress& parsed, const std::string& address,
                                                                std::string* error) {
  if (parsed.all_interfaces()) {
    return std::vector<Candidate>{{tcp::endpoint(asio::ip::address_v6::any(), parsed.port), true},
                                  {tcp::endpoint(asio::ip::address_v4::any(), parsed.port), false}};
  }
  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(parsed.host, ec);
  if (!ec) return std::vector<Candidate>{{tcp::endpoint(literal, parsed.port), false}};

  tcp::resolver resolver(io_);
  const auto results = resolver.resolve(parsed.host, std::to_string(parsed.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) {
    *error = address + ": resolve " + parsed.host + ": " + ec.message();
    return std::nullopt;
  }
  std::vector<Candidate> candidates;
  for (const auto& entry : results) {
    Candidate candidate{entry.endpoint(), false};
    const bool seen = std::any_of(candidates.begin(), candidates.end(),
                                  [&](const Candidate& c) { return c.endpoint == candidate.endpoint; });
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

std::shared_ptr<HttpServer::Core::Session> HttpServer::Core::MakeSession(tcp::socket socket,
                                                                         std::shared_ptr<asio::ssl::context> tls) {
  if (tls) {
    return std::make_shared<StreamSession<beast::ssl_stream<beast::tcp_stream>>>(shared_from_this(), std::move(socket),
                                                                                 std::move(tls));
  }
  return std::make_shared<StreamSession<beast::tcp_stream>>(shared_from_this(), std::move(socket));
}

}  // namespace we
