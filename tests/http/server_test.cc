#include "http/server.h"
#include "http/dashboard.h"
#include "http/request.h"

#include "exposition/every_family_snapshot.h"
#include "exposition/gzip.h"
#include "exposition/renderer.h"
#include "test_util/http_get.h"

#include <crypt.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace we {
namespace {

namespace asio = boost::asio;
using test_util::HttpConnection;
using test_util::HttpGet;
using test_util::HttpRequest;
using test_util::HttpResponse;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kLocalhost[] = "127.0.0.1";
constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

std::string ExpositionText(int series) {
  std::string text =
      "# HELP we_workload_cpu_seconds_total CPU time used by the workload.\n"
      "# TYPE we_workload_cpu_seconds_total counter\n";
  for (int i = 0; i < series; ++i) {
    text +=
        "we_workload_cpu_seconds_total{workload=\"pod-" + std::to_string(i) + "\"} " + std::to_string(i * 1.5) + "\n";
  }
  return text;
}

std::shared_ptr<const MetricsBody> MakeBody(std::string text, bool with_gzip = true) {
  auto body = std::make_shared<MetricsBody>();
  body->text = std::move(text);
  if (with_gzip) body->gzip = GzipCompress(body->text);
  return body;
}

std::size_t OpenFileDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// A server on 127.0.0.1 (kernel-chosen port) whose io_context runs on its own thread, as in the
// daemon. Server methods are called on that thread through OnLoop(); handler state is shared
// with the test thread under a mutex.
class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : work_(asio::make_work_guard(io_)) {}

  ~HttpServerTest() override {
    if (loop_.joinable()) {
      OnLoop([this] { server_.reset(); });
      work_.reset();
      io_.stop();
      loop_.join();
    }
  }

  void Start(HttpServerOptions options = {}) {
    HttpHandlers handlers;
    handlers.metrics = [this](bool, HttpHandlers::MetricsDone done) {
      std::lock_guard lock(mu_);
      if (metrics_throws_) throw std::runtime_error("renderer failed");
      if (hold_metrics_) {
        held_.push_back(std::move(done));  // answered by ReleaseMetrics, from the test's thread
        return;
      }
      done(body_);
    };
    if (install_ready_) {
      handlers.ready = [this] {
        std::lock_guard lock(mu_);
        return ready_;
      };
    }
    if (install_workloads_) {
      handlers.workloads_json = [](HttpHandlers::WorkloadsDone done) {
        done(std::make_shared<const std::string>(R"({"workloads":[]})"));
      };
      handlers.workload_series_json = [](HttpHandlers::WorkloadsDone done) {
        done(std::make_shared<const std::string>(R"({"kept":false,"workloads":[]})"));
      };
    }
    server_ = std::make_unique<HttpServer>(io_, std::move(options), std::move(handlers));
    const auto error = server_->Listen("127.0.0.1:0");
    ASSERT_EQ(error, std::nullopt) << *error;
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    loop_ = std::thread([this] { io_.run(); });
  }

  // Runs `f` on the io_context's thread and returns its result.
  template <class F>
  auto OnLoop(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  // The port the server listens on now, read on its loop.
  uint16_t ServerPort() {
    return OnLoop([this] { return server_->port(); });
  }

  // GET /-/healthy on a fresh connection to host:port must answer 200.
  void ExpectHealthy(const std::string& host, uint16_t port) {
    auto response = HttpGet(host, port, "/-/healthy");
    ASSERT_TRUE(response) << host << ":" << port;
    EXPECT_EQ(response->status, 200) << host << ":" << port;
  }

  std::size_t Active() {
    return OnLoop([this] { return server_->active_connections(); });
  }

  // Shutdown on the loop; the future becomes ready when `done` runs.
  std::future<void> Shutdown(std::chrono::milliseconds grace) {
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    OnLoop([&] { server_->Shutdown(grace, [done] { done->set_value(); }); });
    return future;
  }

  template <class Predicate>
  bool WaitUntil(Predicate predicate, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return predicate();
  }

  void SetBody(std::shared_ptr<const MetricsBody> body) {
    std::lock_guard lock(mu_);
    body_ = std::move(body);
  }
  // Metrics requests wait (as for a render) until ReleaseMetrics.
  void HoldMetrics() {
    std::lock_guard lock(mu_);
    hold_metrics_ = true;
  }
  std::size_t HeldMetrics() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  void ReleaseMetrics() {
    std::vector<HttpHandlers::MetricsDone> held;
    std::shared_ptr<const MetricsBody> body;
    {
      std::lock_guard lock(mu_);
      hold_metrics_ = false;
      held.swap(held_);
      body = body_;
    }
    for (auto& done : held) done(body);
  }
  HttpServerStats Stats() {
    return OnLoop([this] { return server_->stats(); });
  }
  void SetReady(bool ready) {
    std::lock_guard lock(mu_);
    ready_ = ready;
  }

  // GETs `target` and checks that the response has `status` and, when given, `body`; the response,
  // or an empty one (status 0) when none came, that failure reported.
  HttpResponse ExpectGet(int status, const std::string& target, const std::optional<std::string>& body = std::nullopt) {
    auto response = Get(target);
    if (!response) return {};
    EXPECT_EQ(response->status, status) << "GET " << target;
    if (body) {
      EXPECT_EQ(response->body, *body) << "GET " << target;
    }
    return *std::move(response);
  }

  // Connects `connection`, sends it `raw` and reads one response (a HEAD's, when `head`); nullopt,
  // the failure reported, when any of that fails.
  std::optional<HttpResponse> SendRaw(HttpConnection& connection, const std::string& raw, bool head = false,
                                      std::string* error = nullptr) {
    std::string own_error;
    if (error == nullptr) error = &own_error;
    if (!connection.Connect(kLocalhost, port_, error) || !connection.WriteRaw(raw, error)) {
      ADD_FAILURE() << "connect or send: " << *error;
      return std::nullopt;
    }
    return connection.ReadResponse(head, error);
  }

  // `method target` on `connection` must answer `status`; the response, or an empty one (status 0)
  // when none came, that failure reported.
  HttpResponse ExpectOn(HttpConnection& connection, int status, const std::string& method, const std::string& target) {
    std::string error;
    auto response = connection.Request(method, target, {}, &error);
    EXPECT_TRUE(response) << method << " " << target << ": " << error;
    if (!response) return {};
    EXPECT_EQ(response->status, status) << method << " " << target;
    return *std::move(response);
  }

  std::optional<HttpResponse> Get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    std::string error;
    auto response = HttpRequest(kLocalhost, port_, "GET", target, headers, 5s, &error);
    EXPECT_TRUE(response.has_value()) << "GET " << target << ": " << error;
    return response;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread loop_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;

  bool install_ready_ = true;
  bool install_workloads_ = false;
  std::mutex mu_;
  std::shared_ptr<const MetricsBody> body_;
  bool ready_ = false;
  bool metrics_throws_ = false;
  bool hold_metrics_ = false;
  std::vector<HttpHandlers::MetricsDone> held_;
};

TEST_F(HttpServerTest, MetricsServesTheNewestBodyExactly) {
  const std::string text = ExpositionText(100);
  SetBody(MakeBody(text));
  SetReady(true);
  Start();

  auto response = Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, text);
  EXPECT_EQ(response->header("content-type"), kMetricsContentType);
  EXPECT_EQ(response->header("content-length"), std::to_string(text.size()));
  EXPECT_EQ(response->header("vary"), "Accept-Encoding");
  EXPECT_FALSE(response->has_header("content-encoding"));
  EXPECT_EQ(response->header("server"), "workload_exporter");
  EXPECT_THAT(response->header("date"), HasSubstr(" GMT"));

  SetBody(MakeBody("we_up 1\n"));
  response = Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "we_up 1\n");
}

TEST_F(HttpServerTest, PathMatchingIgnoresTheQueryAndAcceptsAbsoluteForm) {
  SetBody(MakeBody("we_up 1\n"));
  Start();
  for (const std::string target :
       {"/metrics?collect[]=cpu&x=1", "/metrics?", "http://127.0.0.1/metrics?x=1", "HTTP://example.com:9746/metrics"}) {
    ExpectGet(200, target, "we_up 1\n");
  }
  for (const std::string target : {"/metricsx", "/metrics/", "/Metrics", "/nope", "*"}) {
    ExpectGet(404, target, "not found\n");
  }
}

TEST_F(HttpServerTest, GzipIsNegotiatedFromAcceptEncoding) {
  const std::string text = ExpositionText(500);
  const auto body = MakeBody(text);
  SetBody(body);
  Start();

  const std::pair<std::string, bool> cases[] = {
      {"gzip", true},
      {"GZIP", true},
      {"deflate, gzip;q=0.5", true},
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
      {"x-gzip", true},
      {"*", true},
      {"gzip;q=0", false},
      {"gzip;q=0.000", false},
      {"gzip;q=0, *", false},
      {"*;q=0", false},
      {"identity", false},
      {"br, deflate", false},
      {"identity;q=1, gzip;q=0.5", false},
      {"", false},
  };
  for (const auto& [accept, expect_gzip] : cases) {
    auto response = Get("/metrics", {{"Accept-Encoding", accept}});
    ASSERT_TRUE(response) << accept;
    EXPECT_EQ(response->status, 200) << accept;
    EXPECT_EQ(response->header("vary"), "Accept-Encoding") << accept;
    if (expect_gzip) {
      EXPECT_EQ(response->header("content-encoding"), "gzip") << accept;
      EXPECT_EQ(response->body, body->gzip) << accept;
      EXPECT_EQ(response->header("content-length"), std::to_string(body->gzip.size())) << accept;
      EXPECT_EQ(GzipDecompress(response->body), text) << accept;
    } else {
      EXPECT_FALSE(response->has_header("content-encoding")) << accept;
      EXPECT_EQ(response->body, text) << accept;
    }
  }
  // No Accept-Encoding at all: identity.
  auto response = Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->has_header("content-encoding"));
  EXPECT_EQ(response->body, text);
}

TEST_F(HttpServerTest, RepeatedAcceptEncodingFieldsAreCombined) {
  const auto body = MakeBody(ExpositionText(10));
  SetBody(body);
  Start();
  HttpConnection connection;
  auto response =
      SendRaw(connection, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\nAccept-Encoding: gzip\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("content-encoding"), "gzip");
  EXPECT_EQ(response->body, body->gzip);
}

TEST_F(HttpServerTest, WithoutGzipBytesTheTextIsServedEvenWhenGzipIsAccepted) {
  SetBody(MakeBody("we_up 1\n", /*with_gzip=*/false));
  Start();
  auto response = Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_FALSE(response->has_header("content-encoding"));
  EXPECT_EQ(response->header("vary"), "Accept-Encoding");
  EXPECT_EQ(response->body, "we_up 1\n");
}

TEST(AcceptEncodingAllowsGzipTest, ParsesTokensAndQValues) {
  const std::pair<std::string, bool> cases[] = {
      {"gzip", true},
      {"Gzip", true},
      {"x-gzip", true},
      {"gzip;q=1", true},
      {"gzip; q=1.0", true},
      {"gzip ; Q=0.5", true},
      {"gzip;q=0.001", true},
      {"gzip;level=1", true},
      {" , gzip ,", true},
      {"compress, gzip", true},
      {"*", true},
      {"*;q=0.5", true},
      {"*;q=0, gzip", true},                 // the explicit gzip wins over *
      {"gzip;q=0.5, identity;q=0.5", true},  // a tie prefers the smaller body
      {"identity;q=0.1, gzip", true},
      {"", false},
      {"identity", false},
      {"deflate, br", false},
      {"gzip;q=0", false},
      {"gzip;q=0.0", false},
      {"gzip;q=0.000", false},
      {"gzip ; q = 0", false},
      {"gzip;q=0, *", false},  // explicitly refused, whatever * says
      {"*;q=0", false},
      {"identity;q=1, gzip;q=0.5", false},  // the client prefers identity
      {"gzip;q=1.5", false},                // malformed q-value: the element is ignored
      {"gzip;q=abc", false},
      {"gzip;q=0.0001", false},
      {"gzip;q=", false},
      {"gzipx", false},
      {"gzip;q=0, gzip", false},  // the first mention counts
  };
  for (const auto& [header, expected] : cases) {
    EXPECT_EQ(AcceptEncodingAllowsGzip(header), expected) << '"' << header << '"';
  }
}

TEST_F(HttpServerTest, HeadSendsTheHeadersWithoutTheBody) {
  const std::string text = ExpositionText(50);
  const auto body = MakeBody(text);
  SetBody(body);
  Start();
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));

  auto head = ExpectOn(connection, 200, "HEAD", "/metrics");
  EXPECT_EQ(head.header("content-type"), kMetricsContentType);
  EXPECT_EQ(head.header("content-length"), std::to_string(text.size()));
  EXPECT_TRUE(head.body.empty());

  auto head_gzip = connection.Request("HEAD", "/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(head_gzip);
  EXPECT_EQ(head_gzip->header("content-encoding"), "gzip");
  EXPECT_EQ(head_gzip->header("content-length"), std::to_string(body->gzip.size()));

  auto head_landing = ExpectOn(connection, 200, "HEAD", "/");
  EXPECT_NE(head_landing.header("content-length"), "0");

  // Had any body bytes followed a HEAD response, this response would not parse.
  auto get = ExpectOn(connection, 200, "GET", "/metrics");
  EXPECT_EQ(get.body, text);
}

TEST_F(HttpServerTest, OtherMethodsGet405WithAllow) {
  SetBody(MakeBody("we_up 1\n"));
  Start();
  for (const std::string method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"}) {
    for (const std::string target : {"/metrics", "/", "/-/healthy"}) {
      std::string error;
      auto response = HttpRequest(kLocalhost, port_, method, target, {}, 5s, &error);
      ASSERT_TRUE(response) << method << " " << target << ": " << error;
      EXPECT_EQ(response->status, 405) << method << " " << target;
      EXPECT_EQ(response->header("allow"), "GET, HEAD") << method << " " << target;
    }
  }
  // A method on a path that does not exist is still 404.
  auto response = HttpRequest(kLocalhost, port_, "POST", "/nope");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
}

TEST_F(HttpServerTest, BeforeTheFirstSampleMetricsAndReadyAre503) {
  Start();
  ExpectGet(503, "/metrics", "no sample yet\n");

  ExpectGet(503, "/-/ready", "Not ready\n");

  ExpectGet(200, "/-/healthy", "OK\n");

  SetBody(MakeBody("we_up 1\n"));
  SetReady(true);
  ExpectGet(200, "/metrics");
  ExpectGet(200, "/-/ready", "Ready\n");
}

// Readiness cannot follow the first body any more without asking for a render: the metrics
// handler answers asynchronously. The daemon always installs a ready handler.
TEST_F(HttpServerTest, WithoutAReadyHandlerTheServerIsReady) {
  install_ready_ = false;
  Start();
  ExpectGet(200, "/-/ready");
}

TEST_F(HttpServerTest, WhileAMetricsBodyIsPendingEveryOtherRequestIsAnswered) {
  SetBody(MakeBody("we_up 1\n"));
  SetReady(true);
  HoldMetrics();
  Start();
  HttpConnection scrape;
  ASSERT_TRUE(scrape.Connect(kLocalhost, port_));
  ASSERT_TRUE(scrape.WriteRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitUntil([&] { return HeldMetrics() == 1; }));
  EXPECT_EQ(Stats().awaiting_metrics, 1u);
  // The scrape is still waiting for its body; these are answered meanwhile.
  for (const char* path : {"/-/healthy", "/-/ready", "/"}) {
    auto response = Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 200) << path;
  }
  EXPECT_EQ(HeldMetrics(), 1u);
  ReleaseMetrics();
  auto response = scrape.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "we_up 1\n");
}

// 10,000 containers with every figure set (every_family_snapshot.h's container), as
// bench/make_fixture's tree gives the sampler.
std::shared_ptr<const Snapshot> LargeSnapshot(double time_seconds) {
  auto snap = std::make_shared<Snapshot>(test::EveryFamilySnapshot());
  snap->time_seconds = time_seconds;
  WorkloadView c = snap->workloads.front();
  snap->workloads.clear();
  for (int i = 0; i < 10'000; ++i) {
    char id[65];
    std::snprintf(id, sizeof id, "%064x", i);
    c.sample.identity = {"container", "docker", id, "web-" + std::to_string(i), "", ""};
    c.sample.cgroup = std::string("/system.slice/docker-") + id + ".scope";
    snap->workloads.push_back(c);
  }
  return snap;
}

// The daemon's wiring (daemon/app.cc): the renderer's thread renders, the loop serves.
TEST_F(HttpServerTest, HealthIsAnsweredAtOnceWhileALargeScrapeRenders) {
  SnapshotStore store;
  MetricsRenderer renderer(store, BuildInfo{"v", "r"});
  HttpHandlers handlers;
  handlers.metrics = [&renderer](bool gzip, HttpHandlers::MetricsDone done) {
    renderer.CurrentAsync(gzip, std::move(done));
  };
  server_ = std::make_unique<HttpServer>(io_, HttpServerOptions{}, std::move(handlers));
  ASSERT_EQ(server_->Listen("127.0.0.1:0"), std::nullopt);
  port_ = server_->port();
  loop_ = std::thread([this] { io_.run(); });

  // Each round publishes a fresh snapshot, asks for its gzip body and, once the renderer is
  // rendering it, asks for /-/healthy. A round counts when the render was still running after
  // /-/healthy's answer came (so it was answered during the render); a render that ends first
  // says nothing, and the next round tries again.
  int during_render = 0;
  for (int round = 0; round < 10 && during_render < 3; ++round) {
    store.Publish(LargeSnapshot(1764300000 + round));
    const uint64_t renders = renderer.renders();
    HttpConnection scrape;
    ASSERT_TRUE(scrape.Connect(kLocalhost, port_));
    ASSERT_TRUE(scrape.WriteRaw("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"));
    ASSERT_TRUE(WaitUntil([&] { return renderer.rendering() || renderer.renders() > renders; }));
    const auto started = std::chrono::steady_clock::now();
    auto healthy = Get("/-/healthy");
    const auto took = std::chrono::steady_clock::now() - started;
    const bool still_rendering = renderer.rendering() && renderer.renders() == renders + 1;
    ASSERT_TRUE(healthy);
    EXPECT_EQ(healthy->status, 200);
    if (still_rendering) {
      ++during_render;
      EXPECT_LT(took, 50ms) << "round " << round;
    }
    auto metrics = scrape.ReadResponse();
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->header("content-encoding"), "gzip");
  }
  EXPECT_GE(during_render, 1) << "no render lasted as long as one /-/healthy request";
  OnLoop([this] { server_.reset(); });
}

TEST_F(HttpServerTest, LandingPageLinksToTheConfiguredTelemetryPath) {
  SetBody(MakeBody("we_up 1\n"));
  HttpServerOptions options;
  options.telemetry_path = "/custom/metrics";
  Start(options);

  auto landing = Get("/");
  ASSERT_TRUE(landing);
  EXPECT_EQ(landing->status, 200);
  EXPECT_EQ(landing->header("content-type"), "text/html; charset=utf-8");
  EXPECT_THAT(landing->body, HasSubstr("<title>workload_exporter</title>"));
  EXPECT_THAT(landing->body, HasSubstr("href=\"/custom/metrics\""));
  EXPECT_THAT(landing->body, HasSubstr("href=\"/-/healthy\""));
  EXPECT_THAT(landing->body, HasSubstr("href=\"/-/ready\""));
  EXPECT_THAT(landing->body, Not(HasSubstr("/api/v1/workloads")));

  ExpectGet(200, "/custom/metrics", "we_up 1\n");
  ExpectGet(404, "/metrics");

  // The path can change at run time (SIGHUP); the landing page follows, HTML-escaped.
  OnLoop([this] { server_->set_telemetry_path("/m<2>"); });
  ExpectGet(200, "/m<2>");
  landing = Get("/");
  ASSERT_TRUE(landing);
  EXPECT_THAT(landing->body, HasSubstr("href=\"/m&lt;2&gt;\""));
  ExpectGet(404, "/custom/metrics");
}

TEST_F(HttpServerTest, WorkloadsJsonIsServedOnlyWhenAHandlerIsSet) {
  Start();
  ExpectGet(404, "/api/v1/workloads");
}

TEST_F(HttpServerTest, WorkloadsJsonHandler) {
  install_workloads_ = true;
  Start();
  auto response = ExpectGet(200, "/api/v1/workloads");
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"workloads":[]})");
  response = ExpectGet(200, "/api/v1/workloads/series");
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"kept":false,"workloads":[]})");
}

TEST_F(HttpServerTest, WithWorkloadsTheRootIsThePageUnderItsContentSecurityPolicy) {
  install_workloads_ = true;
  HttpServerOptions options;
  options.telemetry_path = "/m\"<x>";
  Start(options);
  auto page = ExpectGet(200, "/");
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body, serving::DashboardPage("/m\"<x>"));
  EXPECT_THAT(page.body, HasSubstr("href=\"/m&quot;&lt;x&gt;\""));
  EXPECT_EQ(page.header("content-security-policy"), serving::DashboardContentSecurityPolicy());
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  // The query is the page's (its script reads it); the server serves the same document.
  EXPECT_EQ(ExpectGet(200, "/?select=name%3D~web.*&group_by=label_app").body, page.body);
  // Other responses carry no page policy.
  EXPECT_EQ(ExpectGet(200, "/api/v1/workloads").header("content-security-policy"), "");
}

TEST_F(HttpServerTest, SeriesJsonIsServedOnlyWhenAHandlerIsSet) {
  Start();
  ExpectGet(404, "/api/v1/workloads/series");
  // Without the workloads document the root stays a page of links, without a script.
  auto landing = ExpectGet(200, "/");
  EXPECT_THAT(landing.body, Not(HasSubstr("<script")));
  EXPECT_EQ(landing.header("content-security-policy"), "");
}

TEST_F(HttpServerTest, AHandlerExceptionIsA500AndTheConnectionLivesOn) {
  metrics_throws_ = true;
  Start();
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));
  ExpectOn(connection, 500, "GET", "/metrics");
  ExpectOn(connection, 200, "GET", "/-/healthy");
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  const std::string text = ExpositionText(20);
  SetBody(MakeBody(text));
  Start();
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));
  for (int i = 0; i < 2; ++i) {
    std::string error;
    auto response = connection.Request("GET", "/metrics", {}, &error);
    ASSERT_TRUE(response) << "request " << i << ": " << error;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, text);
    EXPECT_NE(response->header("connection"), "close");
    EXPECT_EQ(Active(), 1u);
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  SetReady(true);
  Start();
  HttpConnection connection;
  auto first = SendRaw(connection,
                       "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
                       "HEAD /-/ready HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n");
  auto second = connection.ReadResponse(/*head=*/true);
  auto third = connection.ReadResponse();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body, "OK\n");
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->header("content-length"), "6");
  EXPECT_EQ(third->body, "Ready\n");
}

TEST_F(HttpServerTest, Http10AndConnectionCloseEndTheConnectionAfterTheResponse) {
  Start();
  {
    HttpConnection connection;
    auto response = SendRaw(connection, "GET /-/healthy HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "OK\n");
    EXPECT_EQ(connection.ReadUntilClosed(), "");
  }
  {
    HttpConnection connection;
    ASSERT_TRUE(connection.Connect(kLocalhost, port_));
    auto response = connection.Request("GET", "/-/healthy", {{"Connection", "close"}});
    ASSERT_TRUE(response);
    EXPECT_EQ(response->header("connection"), "close");
    EXPECT_EQ(connection.ReadUntilClosed(), "");
  }
}

TEST_F(HttpServerTest, AnOversizedHeaderGets431AndTheConnectionCloses) {
  Start();
  HttpConnection connection;
  auto response =
      SendRaw(connection, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(connection.ReadUntilClosed().has_value());
  EXPECT_TRUE(WaitUntil([&] { return Active() == 0; }));
}

// The limit holds to the byte whether the header arrives whole or in pieces: Beast alone let a
// header a few bytes over through when it came in one read (see RequestHeaderTooLarge).
TEST_F(HttpServerTest, TheHeaderLimitHoldsToTheByteEvenWhenTheHeaderArrivesWhole) {
  Start();
  const std::size_t limit = HttpServerOptions{}.max_header_bytes;
  auto request_of = [](std::size_t total) {
    const std::string head = "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    return head + std::string(total - head.size() - 4, 'a') + "\r\n\r\n";
  };
  for (std::size_t total : {limit - 1, limit, limit + 1, limit + 2, limit + 20}) {
    HttpConnection connection;
    ASSERT_TRUE(connection.Connect(kLocalhost, port_));
    const std::string request = request_of(total);
    ASSERT_EQ(request.size(), total);
    ASSERT_TRUE(connection.WriteRaw(request));
    auto response = connection.ReadResponse();
    ASSERT_TRUE(response) << total;
    EXPECT_EQ(response->status, total <= limit ? 200 : 431) << total << " bytes of header";
  }
  EXPECT_FALSE(RequestHeaderTooLarge(100, 0, 100));
  EXPECT_TRUE(RequestHeaderTooLarge(101, 0, 100));
  EXPECT_FALSE(RequestHeaderTooLarge(150, 50, 100));  // the body's bytes are not the header's
  EXPECT_FALSE(RequestHeaderTooLarge(0, 0, 100));
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheConnectionCloses) {
  Start();
  for (const std::string& request : {
           std::string("GET /metrics NOTHTTP\r\n\r\n"), std::string("GET\r\n\r\n"),
           std::string("GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n"),
           std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"),
           std::string("GET /metrics HTTP/1.1\r\n\r\n"),            // HTTP/1.1 without Host
           std::string("GET metrics HTTP/1.1\r\nHost: x\r\n\r\n"),  // not origin-form
       }) {
    HttpConnection connection;
    ASSERT_TRUE(connection.Connect(kLocalhost, port_));
    ASSERT_TRUE(connection.WriteRaw(request));
    std::string error;
    auto response = connection.ReadResponse(false, &error);
    ASSERT_TRUE(response) << request << ": " << error;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_EQ(response->header("connection"), "close") << request;
    EXPECT_TRUE(connection.ReadUntilClosed().has_value()) << request;
  }
}

TEST_F(HttpServerTest, ABodyOverOneKibibyteGets413) {
  SetBody(MakeBody("we_up 1\n"));
  Start();
  {
    HttpConnection connection;
    // Refused on the Content-Length alone, before any of the body is sent.
    auto response = SendRaw(connection, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(connection.ReadUntilClosed().has_value());
  }
  {
    HttpConnection connection;
    auto response = SendRaw(connection,
                            "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "800\r\n" +
                                std::string(2048, 'x') + "\r\n0\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  {
    // A small body is read and ignored, and the connection carries on.
    HttpConnection connection;
    auto response = SendRaw(connection, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    auto again = connection.Request("GET", "/metrics");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, "we_up 1\n");
  }
}

TEST_F(HttpServerTest, ASlowClientDoesNotBlockOthersAndIsClosedAfterTheReadTimeout) {
  SetBody(MakeBody("we_up 1\n"));
  HttpServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  Start(options);

  HttpConnection slow;
  ASSERT_TRUE(slow.Connect(kLocalhost, port_));
  ASSERT_TRUE(slow.WriteRaw("GET /metrics HTTP/1.1\r\nHo"));
  const auto slow_started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] { return Active() == 1; }));

  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    auto response = Get("/metrics");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "we_up 1\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  }

  std::string error;
  auto rest = slow.ReadUntilClosed(&error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, "");  // closed without a response
  const auto slow_lasted = std::chrono::steady_clock::now() - slow_started;
  EXPECT_GE(slow_lasted, 900ms);
  EXPECT_LT(slow_lasted, 4s);
  EXPECT_TRUE(WaitUntil([&] { return Active() == 0; }));
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  Start(options);
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));
  ASSERT_TRUE(connection.Request("GET", "/-/healthy"));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.ReadUntilClosed().has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
}

TEST_F(HttpServerTest, AtTheCapTheLongestWaitingConnectionIsEvictedForANewOne) {
  SetBody(MakeBody("we_up 1\n"));
  HttpServerOptions options;
  options.max_connections = 2;
  options.read_timeout = 30s;
  options.idle_timeout = 30s;
  Start(options);
  // The oldest waits for a request that never comes; the second has sent half a request.
  HttpConnection oldest;
  ASSERT_TRUE(oldest.Connect(kLocalhost, port_));
  ASSERT_TRUE(WaitUntil([&] { return Active() == 1; }));
  std::this_thread::sleep_for(20ms);
  HttpConnection slow;
  ASSERT_TRUE(slow.Connect(kLocalhost, port_));
  ASSERT_TRUE(slow.WriteRaw("GET /metrics HTTP/1.1\r\nHo"));
  ASSERT_TRUE(WaitUntil([&] { return Active() == 2; }));

  // A scraper is served, not refused, and the oldest connection made room for it. It keeps its
  // connection open (keep-alive), so the server stays at the cap.
  HttpConnection scraper;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(scraper.Connect(kLocalhost, port_));
  auto response = ExpectOn(scraper, 200, "GET", "/metrics");
  EXPECT_EQ(response.body, "we_up 1\n");
  // Answered by eviction, not after a timeout freed a slot (the timeouts are 30 s).
  EXPECT_LT(std::chrono::steady_clock::now() - started, options.read_timeout / 3);
  std::string error;
  auto rest = oldest.ReadUntilClosed(&error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, "");  // closed without a response

  // The next newcomer evicts the next longest waiter: the half-sent request, not the scraper
  // that was answered after it started.
  HttpConnection next;
  ASSERT_TRUE(next.Connect(kLocalhost, port_));
  ExpectOn(next, 200, "GET", "/-/healthy");
  rest = slow.ReadUntilClosed(&error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, "");
  EXPECT_EQ(Active(), 2u);
  // The scraper's connection is still there (the newcomer evicted nothing else).
  ExpectOn(scraper, 200, "GET", "/-/healthy");
}

TEST_F(HttpServerTest, WhenEveryConnectionIsAnsweringANewOneGets503) {
  // Two clients that request a large body and do not read it keep their connections writing:
  // nothing to evict, so a third connection is refused with a canned 503.
  SetBody(MakeBody(std::string(64 << 20, 'x'), /*with_gzip=*/false));
  HttpServerOptions options;
  options.max_connections = 2;
  Start(options);
  HttpConnection first;
  HttpConnection second;
  for (HttpConnection* c : {&first, &second}) {
    ASSERT_TRUE(c->Connect(kLocalhost, port_));
    ASSERT_TRUE(c->WriteRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  // Both writing (and blocked in it: neither reads): nothing the cap may evict.
  ASSERT_TRUE(WaitUntil([&] { return Stats().writing == 2; }));

  HttpConnection refused;
  ASSERT_TRUE(refused.Connect(kLocalhost, port_));
  std::string error;
  auto answer = refused.ReadUntilClosed(&error);
  ASSERT_TRUE(answer) << error;
  EXPECT_THAT(*answer, HasSubstr("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(*answer, HasSubstr("too many open connections"));
  EXPECT_EQ(Active(), 2u);
}

TEST_F(HttpServerTest, FileDescriptorsAreReleasedWhenSessionsEnd) {
  SetBody(MakeBody(ExpositionText(10)));
  Start();
  ASSERT_TRUE(Get("/metrics"));  // let one-time allocations (resolver, epoll) happen first
  ASSERT_TRUE(WaitUntil([&] { return Active() == 0; }));
  const std::size_t before = OpenFileDescriptors();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Get("/metrics"));
  {
    std::vector<std::unique_ptr<HttpConnection>> idle;
    for (int i = 0; i < 10; ++i) {
      idle.push_back(std::make_unique<HttpConnection>());
      ASSERT_TRUE(idle.back()->Connect(kLocalhost, port_));
    }
    ASSERT_TRUE(WaitUntil([&] { return Active() == 10; }));
  }
  ASSERT_TRUE(WaitUntil([&] { return Active() == 0; }));
  EXPECT_TRUE(WaitUntil([&] { return OpenFileDescriptors() == before; }))
      << OpenFileDescriptors() << " open, " << before << " before";
}

TEST_F(HttpServerTest, ListenMovesToANewAddressAndOpenConnectionsStay) {
  Start();
  const uint16_t old_port = port_;
  HttpConnection kept;
  ASSERT_TRUE(kept.Connect(kLocalhost, old_port));
  ASSERT_TRUE(kept.Request("GET", "/-/healthy"));

  // A different address (a host name, resolved) binds a new port; the old listener closes.
  const auto error = OnLoop([this] { return server_->Listen("localhost:0"); });
  ASSERT_EQ(error, std::nullopt) << *error;
  const uint16_t new_port = ServerPort();
  ASSERT_NE(new_port, old_port);

  ExpectHealthy(kLocalhost, new_port);
  std::string refused;
  EXPECT_FALSE(HttpRequest(kLocalhost, old_port, "GET", "/-/healthy", {}, 2s, &refused));
  EXPECT_THAT(refused, HasSubstr("connect"));

  ExpectOn(kept, 200, "GET", "/-/healthy");
}

TEST_F(HttpServerTest, ListenToTheSameAddressIsANoOp) {
  Start();
  EXPECT_EQ(OnLoop([this] { return server_->Listen("127.0.0.1:0"); }), std::nullopt);
  EXPECT_EQ(ServerPort(), port_);
  EXPECT_TRUE(HttpGet(kLocalhost, port_, "/-/healthy"));
}

TEST_F(HttpServerTest, AFailedListenNamesTheAddressAndKeepsTheOldListener) {
  Start();
  asio::io_context other;
  asio::ip::tcp::acceptor blocker(other, {asio::ip::make_address(kLocalhost), 0});
  const std::string taken = "127.0.0.1:" + std::to_string(blocker.local_endpoint().port());

  const auto error = OnLoop([&] { return server_->Listen(taken); });
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, HasSubstr(taken));
  EXPECT_THAT(*error, HasSubstr("bind"));
  EXPECT_THAT(*error, HasSubstr("in use"));

  const auto invalid = OnLoop([&] { return server_->Listen("::1:80"); });
  ASSERT_TRUE(invalid);
  EXPECT_THAT(*invalid, HasSubstr("\"::1:80\""));

  EXPECT_EQ(ServerPort(), port_);
  ExpectHealthy(kLocalhost, port_);
}

TEST_F(HttpServerTest, ListenMovesToAnotherHostOnTheSamePort) {
  Start();
  const std::string all_v4 = "0.0.0.0:" + std::to_string(port_);
  const auto error = OnLoop([&] { return server_->Listen(all_v4); });
  ASSERT_EQ(error, std::nullopt) << *error;
  EXPECT_EQ(ServerPort(), port_);
  ExpectHealthy(kLocalhost, port_);
}

TEST_F(HttpServerTest, ListenOnAllInterfacesAcceptsIPv4AndIPv6Loopback) {
  Start();
  const auto error = OnLoop([this] { return server_->Listen(":0"); });
  ASSERT_EQ(error, std::nullopt) << *error;
  const uint16_t port = ServerPort();
  ExpectHealthy(kLocalhost, port);
  // Where IPv6 is available, "::" accepts it too.
  boost::system::error_code ec;
  asio::io_context probe_io;
  asio::ip::tcp::acceptor probe(probe_io);
  probe.open(asio::ip::tcp::v6(), ec);
  if (!ec) probe.bind({asio::ip::address_v6::loopback(), 0}, ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback here: " << ec.message();
  ExpectHealthy("::1", port);
}

TEST_F(HttpServerTest, ShutdownClosesIdleConnectionsStopsAcceptingAndCallsDone) {
  Start();
  HttpConnection idle;
  ASSERT_TRUE(idle.Connect(kLocalhost, port_));
  ASSERT_TRUE(idle.Request("GET", "/-/healthy"));

  const auto started = std::chrono::steady_clock::now();
  auto done = Shutdown(10s);
  ASSERT_EQ(done.wait_for(3s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // not the grace period
  EXPECT_TRUE(idle.ReadUntilClosed().has_value());
  EXPECT_EQ(Active(), 0u);
  EXPECT_EQ(ServerPort(), 0);
  EXPECT_FALSE(HttpRequest(kLocalhost, port_, "GET", "/-/healthy", {}, 2s));
  EXPECT_TRUE(OnLoop([this] { return server_->Listen("127.0.0.1:0"); }).has_value());
}

TEST_F(HttpServerTest, ShutdownWithNoConnectionsCallsDoneAfterReturning) {
  Start();
  bool called_inside = true;
  auto done = std::make_shared<std::promise<void>>();
  OnLoop([&] {
    // Shared, not on this lambda's stack: the callback runs after the lambda has returned.
    auto called = std::make_shared<bool>(false);
    server_->Shutdown(1s, [called, done] {
      *called = true;
      done->set_value();
    });
    called_inside = *called;
  });
  EXPECT_FALSE(called_inside);
  EXPECT_EQ(done->get_future().wait_for(2s), std::future_status::ready);
}

TEST_F(HttpServerTest, ARequestInFlightAtShutdownStillGetsItsResponse) {
  const std::string text = ExpositionText(30);
  SetBody(MakeBody(text));
  Start();
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));
  ASSERT_TRUE(connection.WriteRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  ASSERT_TRUE(WaitUntil([&] { return Stats().reading == 1; }));  // the first half has arrived

  auto done = Shutdown(10s);
  EXPECT_EQ(done.wait_for(300ms), std::future_status::timeout);  // waits for this request

  ASSERT_TRUE(connection.WriteRaw("\r\n"));
  std::string error;
  auto response = connection.ReadResponse(false, &error);
  ASSERT_TRUE(response) << error;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, text);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(connection.ReadUntilClosed().has_value());
  connection.Close();
  EXPECT_EQ(done.wait_for(3s), std::future_status::ready);
}

TEST_F(HttpServerTest, ShutdownClosesWhatIsLeftAfterTheGracePeriod) {
  Start();
  HttpConnection stalled;
  ASSERT_TRUE(stalled.Connect(kLocalhost, port_));
  ASSERT_TRUE(stalled.WriteRaw("GET /metrics HTTP/1.1\r\n"));
  ASSERT_TRUE(WaitUntil([&] { return Stats().reading == 1; }));  // not idle: not closed at once

  const auto started = std::chrono::steady_clock::now();
  auto done = Shutdown(500ms);
  ASSERT_EQ(done.wait_for(3s), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 450ms);
  EXPECT_TRUE(stalled.ReadUntilClosed().has_value());
  EXPECT_TRUE(WaitUntil([&] { return Active() == 0; }));
}

TEST_F(HttpServerTest, DestroyingTheServerClosesItsConnections) {
  Start();
  HttpConnection connection;
  ASSERT_TRUE(connection.Connect(kLocalhost, port_));
  ASSERT_TRUE(connection.Request("GET", "/-/healthy"));
  OnLoop([this] { server_.reset(); });
  EXPECT_TRUE(connection.ReadUntilClosed().has_value());
  server_ = nullptr;
}

// ------------------------------------------------------------------ basic auth and TLS

// htpasswd -nbBC 4 alice 'correct horse': cost 4, so that these tests stay fast.
constexpr char kAliceHash[] = "$2y$04$sIjzjH0FQliyt5THU5pAEunoILHokiFp59wzOgbpjaqrUJCuQsoBe";

std::string Basic(const std::string& user_and_password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned int bits = 0;
  int count = 0;
  for (unsigned char c : user_and_password) {
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

// A bcrypt hash of `password` at `cost`, made with libxcrypt.
std::string BcryptHash(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt) == nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();
  return crypt_r(password.c_str(), salt, data.get());
}

class HttpServerAuthTest : public HttpServerTest {
 protected:
  void Secure(HttpSecurity security) {
    OnLoop([&] { server_->SetSecurity(std::move(security)); });
  }
  std::optional<HttpResponse> GetAs(const std::string& authorization, const std::string& target = "/metrics") {
    return Get(target, {{"Authorization", authorization}});
  }
};

TEST_F(HttpServerAuthTest, MissingOrWrongCredentialsGet401WithABasicChallenge) {
  SetBody(MakeBody("we_up 1\n"));
  SetReady(true);
  install_workloads_ = true;  // the page and its JSON, behind the same credentials
  Start();
  Secure(HttpSecurity{nullptr, {{"alice", kAliceHash}}});

  auto response = Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_EQ(response->header("www-authenticate"), "Basic");
  EXPECT_EQ(response->body, "Unauthorized\n");
  for (const std::string& bad :
       {Basic("alice:wrong"), Basic("mallory:correct horse"), Basic("alice"), Basic("alice:"), std::string("Basic !!!"),
        std::string("Bearer abc"), std::string("Basic"), Basic("alice:correct horse").substr(0, 15)}) {
    response = GetAs(bad);
    ASSERT_TRUE(response) << bad;
    EXPECT_EQ(response->status, 401) << bad;
    EXPECT_EQ(response->header("www-authenticate"), "Basic") << bad;
  }
  // Every path is behind it, the landing page and health included.
  for (const char* path : {"/", "/-/healthy", "/-/ready", "/nope", "/api/v1/workloads", "/api/v1/workloads/series"}) {
    response = Get(path);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401) << path;
  }

  response = GetAs(Basic("alice:correct horse"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "we_up 1\n");
  std::string lower = Basic("alice:correct horse");
  lower[0] = 'b';  // the scheme is case-insensitive
  response = GetAs(lower, "/-/healthy");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  for (const char* path : {"/", "/api/v1/workloads", "/api/v1/workloads/series"}) {
    response = GetAs(Basic("alice:correct horse"), path);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << path;
  }
}

TEST_F(HttpServerAuthTest, AVerifiedPasswordIsCachedAndBcryptNeverBlocksTheLoop) {
  SetBody(MakeBody("we_up 1\n"));
  Start();
  const std::string hash = BcryptHash("s3cret", 12);  // ~200 ms per verification
  Secure(HttpSecurity{nullptr, {{"alice", hash}}});
  const std::string good = Basic("alice:s3cret");

  auto response = GetAs(good);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(Stats().password_checks_run, 1u);  // paid bcrypt once
  for (int i = 0; i < 5; ++i) {
    response = GetAs(good);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(Stats().password_checks_run, 1u);  // and never again: cached

  // Wrong passwords are verified every time (not cached) on the worker threads; meanwhile the
  // cached scraper is answered at once. "Meanwhile" is the server's state, not a clock: a cached
  // scrape counts when a check was pending before it and the same check still after its answer.
  std::thread wrong([&] {
    for (int i = 0; i < 3; ++i) {
      auto r = HttpRequest(kLocalhost, port_, "GET", "/metrics", {{"Authorization", Basic("alice:guess")}}, 5s);
      EXPECT_TRUE(r && r->status == 401);
    }
  });
  int during_bcrypt = 0;
  for (int i = 0; i < 200 && during_bcrypt < 3; ++i) {
    const HttpServerStats before = Stats();
    if (before.password_checks_pending == 0) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    response = GetAs(good);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    const HttpServerStats after = Stats();
    if (after.password_checks_pending > 0 && after.password_checks_run == before.password_checks_run) ++during_bcrypt;
  }
  wrong.join();
  EXPECT_GE(during_bcrypt, 1) << "no cached scrape was answered while a check ran";
  EXPECT_EQ(Stats().password_checks_run, 4u);

  // New users: the cache is emptied, so the old credentials are checked against them and fail.
  Secure(HttpSecurity{nullptr, {{"bob", kAliceHash}}});
  response = GetAs(good);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  response = GetAs(Basic("bob:correct horse"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpServerAuthTest, PasswordChecksAboveTheBoundAre503AtOnceAndCachedOnesStillPass) {
  SetBody(MakeBody("we_up 1\n"));
  HttpServerOptions options;
  options.max_password_checks = 2;
  Start(options);
  const std::string hash = BcryptHash("s3cret", 12);  // ~200 ms per check
  Secure(HttpSecurity{nullptr, {{"alice", hash}}});
  const std::string good = Basic("alice:s3cret");
  ASSERT_EQ(GetAs(good)->status, 200);  // verified once, cached from now on
  EXPECT_EQ(Stats().password_checks_run, 1u);

  // Six wrong passwords at once: two are checked, four are answered 503 without waiting.
  std::vector<std::unique_ptr<HttpConnection>> guesses;
  for (int i = 0; i < 6; ++i) {
    guesses.push_back(std::make_unique<HttpConnection>());
    ASSERT_TRUE(guesses.back()->Connect(kLocalhost, port_));
    ASSERT_TRUE(guesses.back()->WriteRaw(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: " + Basic("alice:guess" + std::to_string(i)) + "\r\n\r\n"));
  }
  ASSERT_TRUE(WaitUntil([&] {
    const HttpServerStats stats = Stats();
    return stats.password_checks_refused + stats.password_checks_run >= 5 && stats.password_checks_refused >= 4;
  }));
  EXPECT_LE(Stats().password_checks_pending, 2u);
  // The cached scraper passes meanwhile, without a check of its own.
  EXPECT_EQ(GetAs(good)->status, 200);
  int refused = 0;
  int denied = 0;
  for (auto& guess : guesses) {
    auto response = guess->ReadResponse();
    ASSERT_TRUE(response);
    if (response->status == 503) {
      ++refused;
      EXPECT_EQ(response->header("retry-after"), "1");
    } else {
      EXPECT_EQ(response->status, 401);
      ++denied;
    }
  }
  EXPECT_EQ(refused, 4);
  EXPECT_EQ(denied, 2);
  ASSERT_TRUE(WaitUntil([&] { return Stats().password_checks_pending == 0; }));
  EXPECT_EQ(Stats().password_checks_run, 3u);
}

TEST_F(HttpServerAuthTest, AnEvictedConnectionsQueuedCheckIsDroppedBeforeBcrypt) {
  SetBody(MakeBody("we_up 1\n"));
  HttpServerOptions options;
  options.max_connections = 3;
  Start(options);
  const std::string hash = BcryptHash("s3cret", 14);  // ~800 ms per check: the queue stays put
  Secure(HttpSecurity{nullptr, {{"alice", hash}}});
  // Three wrong passwords, one after another: two run on the two worker threads, one waits.
  std::vector<std::unique_ptr<HttpConnection>> guesses;
  for (int i = 0; i < 3; ++i) {
    guesses.push_back(std::make_unique<HttpConnection>());
    ASSERT_TRUE(guesses.back()->Connect(kLocalhost, port_));
    ASSERT_TRUE(guesses.back()->WriteRaw(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: " + Basic("alice:guess" + std::to_string(i)) + "\r\n\r\n"));
    ASSERT_TRUE(WaitUntil([&] { return Stats().password_checks_pending == static_cast<std::size_t>(i + 1); }));
  }
  // Three newcomers at the cap evict the three waiting on their checks, oldest first: the queued
  // one is the third.
  std::vector<std::unique_ptr<HttpConnection>> newcomers;
  for (int i = 0; i < 3; ++i) {
    newcomers.push_back(std::make_unique<HttpConnection>());
    ASSERT_TRUE(newcomers.back()->Connect(kLocalhost, port_));
    std::string error;
    auto rest = guesses[static_cast<std::size_t>(i)]->ReadUntilClosed(&error);
    ASSERT_TRUE(rest) << error;
    EXPECT_EQ(*rest, "");  // closed without an answer
  }
  ASSERT_TRUE(WaitUntil([&] { return Stats().password_checks_pending == 0; }, 20s));
  const HttpServerStats stats = Stats();
  EXPECT_EQ(stats.password_checks_run, 2u);
  EXPECT_EQ(stats.password_checks_dropped, 1u);
  for (auto& newcomer : newcomers) EXPECT_EQ(newcomer->Request("GET", "/-/healthy")->status, 401);
}

TEST_F(HttpServerAuthTest, NewSecurityClosesKeepAliveConnectionsAfterTheirRequest) {
  Start();
  HttpConnection kept;
  ASSERT_TRUE(kept.Connect(kLocalhost, port_));
  auto response = kept.Request("GET", "/-/healthy");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  // Idle under the old settings: closed, so that it cannot go on without credentials.
  Secure(HttpSecurity{nullptr, {{"alice", kAliceHash}}});
  std::string error;
  auto rest = kept.ReadUntilClosed(&error);
  ASSERT_TRUE(rest) << error;
  EXPECT_EQ(*rest, "");
  EXPECT_EQ(Get("/-/healthy")->status, 401);
}

TEST_F(HttpServerAuthTest, PlainHttpOnATlsListenerGetsAPlain400) {
  Start();
  Secure(HttpSecurity{std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server), {}});
  HttpConnection plain;
  ASSERT_TRUE(plain.Connect(kLocalhost, port_));
  ASSERT_TRUE(plain.WriteRaw("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string error;
  auto answer = plain.ReadUntilClosed(&error);
  ASSERT_TRUE(answer) << error;
  EXPECT_THAT(*answer, HasSubstr("HTTP/1.0 400 Bad Request\r\n"));
  EXPECT_THAT(*answer, HasSubstr("Client sent an HTTP request to an HTTPS server."));
  EXPECT_TRUE(WaitUntil([&] { return Active() == 0; }));
}

TEST_F(HttpServerAuthTest, ATlsHandshakeIsBoundedByTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  Start(options);
  Secure(HttpSecurity{std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server), {}});
  // A TLS record header and then nothing: the server waits for the rest, but not forever.
  HttpConnection silent;
  ASSERT_TRUE(silent.Connect(kLocalhost, port_));
  ASSERT_TRUE(silent.WriteRaw(std::string("\x16\x03\x01\x02\x00", 5)));
  const auto started = std::chrono::steady_clock::now();
  std::string error;
  auto rest = silent.ReadUntilClosed(&error);
  ASSERT_TRUE(rest) << error;
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_GE(lasted, 900ms);
  EXPECT_LT(lasted, 3s);
  EXPECT_TRUE(WaitUntil([&] { return Active() == 0; }));
}

}  // namespace
}  // namespace we
