#pragma once
// HttpServer: the daemon's HTTP side, Boost.Beast on the daemon's one Asio io_context.
//
//   <telemetry path>    the newest rendered exposition (gzip when the client accepts it)
//   /                   the page (http/dashboard.h) when workloads_json is set, else a page of
//                       links to the endpoints below
//   /-/healthy          200 "OK" while the process serves HTTP
//   /-/ready            200 "Ready" after the first complete sample, else 503 "Not ready"
//   /api/v1/workloads   JSON from HttpHandlers::workloads_json, 404 when that is unset
//   /api/v1/workloads/series   JSON from HttpHandlers::workload_series_json, 404 when unset
// Every path, the page and its JSON included, is behind the same TLS and basic auth (SetSecurity).
//
// A scrape only copies a pointer to the newest MetricsBody, which the metrics handler hands over
// when it is ready (rendered on the renderer's thread, never on the loop); meanwhile every other
// request is answered. The server never renders, reads files or blocks. Every socket operation is asynchronous and
// bounded by a timeout, so a slow or stalled client costs one connection slot, never the event loop.
//
// Security (--web.config.file, see web_config.h) is set with SetSecurity: TLS through Asio's
// OpenSSL stream on the same io_context (the handshake bounded by read_timeout; a plain HTTP
// request on a TLS listener gets a plain 400), and HTTP basic authentication against bcrypt
// hashes. A bcrypt verification costs ~70 ms at cost 10, so it runs on a worker thread, never
// on the event loop, and successful verifications are cached (as exporter-toolkit does) under
// an HMAC-SHA256 of (user, password) with a per-process random key, so that a scraper sending
// the same credentials every 15 s pays bcrypt once, not per scrape. Failures are not cached:
// caching them would let a client fill the cache. The cache holds at most 1024 entries, is
// emptied when full and whenever SetSecurity is called. Checks queued or running are bounded
// (HttpServerOptions::max_password_checks): above the bound a request is answered 503 with
// Retry-After at once, so a flood of wrong passwords costs at most the worker threads while it
// lasts and nothing after it; a check whose connection was closed (evicted, shut down) before its
// turn is dropped without running bcrypt.
//
// At the connection cap the server evicts rather than refuses (see HttpServerOptions).
//
// Ownership: the server owns its listening socket and its connections. It keeps a reference to
// the io_context, which must outlive it. Destroying the server closes every socket at once and
// drops pending Shutdown callbacks without calling them.
//
// Thread-safety: not thread-safe. Construct, call every method, and destroy the server only on
// the io_context's thread (or before that thread starts running the io_context). The handlers
// are called on that thread too, and must not block.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exposition/metrics_body.h"
#include "http/security.h"

namespace we {

// What the server asks the rest of the daemon. Called on the io_context's thread; each must
// return quickly. An exception from a handler becomes a 500 response and an error log line.
struct HttpHandlers {
  using MetricsDone = std::function<void(std::shared_ptr<const MetricsBody>)>;
  // Asks for the newest body and returns at once; calls `done` exactly once with it, from any
  // thread (the server moves the answer to its own), e.g. on the renderer's thread when the
  // render ends. nullptr before the first sample (the telemetry path then answers 503).
  // `gzip`: the client accepts gzip, and gzip is served if the body has it; otherwise the body
  // must have text.
  std::function<void(bool gzip, MetricsDone done)> metrics;
  // True after the first complete sample. Unset: always ready.
  std::function<bool()> ready;
  using WorkloadsDone = std::function<void(std::shared_ptr<const std::string>)>;
  // Asks for the JSON document for /api/v1/workloads and returns at once; calls `done` exactly
  // once with it, from any thread, like `metrics` (built once per snapshot off the loop,
  // exposition/workloads_json.h); never null. Unset: that path answers 404.
  std::function<void(WorkloadsDone done)> workloads_json;
  // The same for /api/v1/workloads/series (exposition/workloads_json.h), the page's plots.
  // Has a default so that handler sets written before it need not name it.
  std::function<void(WorkloadsDone done)> workload_series_json = nullptr;
};

struct HttpServerOptions {
  std::string telemetry_path = "/metrics";
  // The request line and header fields together; beyond it: 431 and the connection closes.
  std::size_t max_header_bytes = 8192;
  // Requests carry no body here; a larger one (by Content-Length or as sent) gets 413.
  std::size_t max_body_bytes = 1024;
  // From a request's first byte until it is complete; a slower client is disconnected.
  std::chrono::seconds read_timeout{10};
  // For writing one response; a client that does not read is disconnected.
  std::chrono::seconds write_timeout{30};
  // How long a keep-alive connection may wait for its next request (and a new connection for
  // its first). Longer than Prometheus' usual scrape intervals, so scrapes reuse connections.
  std::chrono::seconds idle_timeout{120};
  // Open connections at most. Large enough that a slowloris attack of hundreds of connections
  // does not reach it: what a connection may hold is bounded (a header of max_header_bytes, a
  // 4 KiB read buffer, OpenSSL's buffers released while idle), about 16 KiB, so 1024 cost some
  // 16 MiB at most; the caller must leave that many file descriptors free (App raises
  // RLIMIT_NOFILE and sizes this to it). At the cap, a new connection evicts the open one that
  // has waited longest for a request or for the rest of one (idle keep-alive, TLS handshake,
  // partly received request, credentials being checked): such a client has had its chance, and
  // slow or silent ones must not lock a scraper out. Only when every connection is writing a
  // response or closing is the new one answered 503 and closed, without reading.
  std::size_t max_connections = 1024;
  // Password checks (bcrypt, ~70 ms of one core each) queued or running at most, on two worker
  // threads; beyond it a request with uncached credentials is answered 503 at once. A few per
  // thread: enough for scrapers that arrive together after a reload, small enough that a flood
  // ends within a fraction of a second of its last request.
  std::size_t max_password_checks = 8;
};

// What the server is doing now, for tests and diagnostics.
struct HttpServerStats {
  std::size_t connections = 0;                // as active_connections()
  std::size_t reading = 0;                    // connections receiving a request (its first byte came)
  std::size_t writing = 0;                    // connections writing a response
  std::size_t awaiting_metrics = 0;           // requests waiting for the metrics handler's body
  std::size_t password_checks_pending = 0;    // queued or running
  std::uint64_t password_checks_run = 0;      // bcrypt ran
  std::uint64_t password_checks_dropped = 0;  // connection gone before its turn: bcrypt skipped
  std::uint64_t password_checks_refused = 0;  // answered 503 at max_password_checks
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandlers handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `listen_address` (see listen_address.h) and starts accepting. Returns nullopt on
  // success, else a message naming the address, e.g.
  //   "127.0.0.1:9746: bind: Address already in use".
  // A host name is resolved here, synchronously (IPv4 addresses first, as Go's net.Listen).
  // ":port" binds "::" accepting IPv4 too, or 0.0.0.0 where IPv6 is unavailable.
  //
  // May be called again, e.g. after SIGHUP. The same address as now is a no-op. A new address
  // is bound before the old listener closes, so a failure leaves the old one serving. The one
  // exception: a new host on the same port cannot be bound while the old listener holds that
  // port, so then the old listener closes first, and is bound again if the new bind fails.
  // Open connections are unaffected either way. Fails after Shutdown.
  std::optional<std::string> Listen(const std::string& listen_address);

  // Takes effect for the next request.
  void set_telemetry_path(std::string path);

  // TLS and basic authentication for connections accepted from now on. Open connections finish
  // the request they are in (authenticated by the new users) and are then closed, idle ones at
  // once, so that no connection goes on under the old settings.
  void SetSecurity(HttpSecurity security);

  // The bound port (the kernel's choice for port 0); 0 when not listening.
  uint16_t port() const;

  // Stops accepting, lets requests already being received or answered finish (their responses
  // carry "Connection: close"), closes idle keep-alive connections, and calls `done` once every
  // connection is gone or `grace` has passed, whichever is first; at `grace` it closes whatever
  // is left. `done` is posted to the io_context, never called from inside Shutdown. Calling
  // Shutdown again adds another `done` to the same shutdown.
  void Shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  // Connections being served (accepted and not yet closed), excluding ones refused by the cap.
  std::size_t active_connections() const;
  HttpServerStats stats() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;
};

}  // namespace we
