// `workload_exporter report`: its figures are those of the snapshot /api/v1/workloads was built
// from (the fixture host: containers and one VM), its JSON output parses whatever the names hold,
// and its client gets the document from a real server and gives up, saying so, on a daemon that
// accepts and never answers.

#include "tools/report.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

#include "collectors/json.h"
#include "exposition/workloads_json.h"
#include "http/server.h"
#include "test_util/fixture_snapshot.h"

namespace we {
namespace {

namespace bj = json::bj;

std::string Mib(double bytes) {
  char buf[32];
  const double v = bytes / (1 << 20);
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 1 ? "%.2f" : "%.3f", v);
  return buf;
}

bj::value ParseOrDie(const std::string& text) {
  std::string error;
  auto doc = json::Parse(text, &error);
  EXPECT_TRUE(doc) << error << "\n" << text;
  return doc ? std::move(*doc) : bj::value();
}

TEST(Report, TheVmRowsAreTheSnapshotsFigures) {
  auto snap = test_util::FixtureSnapshot();
  std::string error;
  auto md = RenderReport(WorkloadsJson(*snap), "markdown", &error);
  ASSERT_TRUE(md) << error;
  EXPECT_NE(md->find("| Metric "), std::string::npos);
  // The one VM: its 1h idle and peak memory, in MiB as the report prints them.
  const WorkloadView* vm = nullptr;
  double container_idle_sum = 0;
  int containers = 0;
  for (const auto& v : snap->workloads) {
    if (v.sample.identity.kind == "vm") vm = &v;
    if (v.sample.identity.kind == "container" && v.windows[2].memory_idle_bytes) {
      container_idle_sum += *v.windows[2].memory_idle_bytes;
      ++containers;
    }
  }
  ASSERT_NE(vm, nullptr);
  const std::string vm_idle = Mib(*vm->windows[2].memory_idle_bytes);
  const std::string container_idle = Mib(container_idle_sum / containers);
  EXPECT_NE(md->find("| Idle memory (MiB) | " + vm_idle), std::string::npos) << *md;
  EXPECT_NE(md->find(container_idle), std::string::npos) << *md;
  EXPECT_NE(md->find("window 1h"), std::string::npos);
  auto table = RenderReport(WorkloadsJson(*snap), "table", &error);
  ASSERT_TRUE(table);
  EXPECT_NE(table->find("Peak CPU (cores)"), std::string::npos);

  // --format json, read back: the same figures as numbers.
  auto text = RenderReport(WorkloadsJson(*snap), "json", &error);
  ASSERT_TRUE(text) << error;
  const bj::value doc = ParseOrDie(*text);
  EXPECT_EQ(doc.at("window"), "1h");
  const bj::value& idle = doc.at("kinds").at("memory_idle_bytes");
  ASSERT_TRUE(json::Number(&idle.at("vm")));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("vm")), *vm->windows[2].memory_idle_bytes / (1 << 20));
  EXPECT_DOUBLE_EQ(*json::Number(&idle.at("container")), container_idle_sum / containers / (1 << 20));
  const bj::array& workloads = doc.at("workloads").as_array();
  ASSERT_EQ(workloads.size(), snap->workloads.size());
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    EXPECT_EQ(workloads[i].at("name"), bj::value(snap->workloads[i].sample.identity.name));
    EXPECT_EQ(workloads[i].at("kind"), bj::value(snap->workloads[i].sample.identity.kind));
    const auto peak = snap->workloads[i].windows[2].cpu_peak_cores;
    EXPECT_EQ(json::Number(&workloads[i].at("cpu_peak_cores")), peak);
  }
}

TEST(Report, ANameWithQuotesAndBackslashesStaysJson) {
  auto snap = test_util::FixtureSnapshot();
  const std::string odd = R"(say "hi" \n C:\dir)";
  snap->workloads[0].sample.identity.name = odd;
  std::string error;
  auto text = RenderReport(WorkloadsJson(*snap), "json", &error);
  ASSERT_TRUE(text) << error;
  EXPECT_EQ(ParseOrDie(*text).at("workloads").at(0).at("name"), bj::value(odd));
}

TEST(Report, FiguresThatAreNotNumbersAreAbsent) {
  // The report once read every value as text; now a string where a number belongs is no figure.
  const std::string doc = R"({"windows":["1m"],"workloads":[{"kind":"vm","name":"v",
      "startup_seconds":"12","windows":{"1m":{"memory_idle_bytes":1048576,"cpu_peak_cores":0.5}}}]})";
  std::string error;
  auto text = RenderReport(doc, "json", &error);
  ASSERT_TRUE(text) << error;
  const bj::value out = ParseOrDie(*text);
  const bj::value& w = out.at("workloads").at(0);
  EXPECT_TRUE(w.at("startup_seconds").is_null());
  EXPECT_EQ(json::Number(&w.at("memory_idle_bytes")), 1.0);
  EXPECT_EQ(json::Number(&w.at("cpu_peak_cores")), 0.5);
  EXPECT_TRUE(out.at("kinds").at("cpu_peak_cores").at("container").is_null());
}

TEST(Report, BadInputNamesTheProblem) {
  std::string error;
  EXPECT_FALSE(RenderReport("{\"workloads\":[", "table", &error));
  EXPECT_EQ(error, "cannot read the daemon's answer: line 1, column 15: incomplete JSON");
  EXPECT_FALSE(RenderReport("{}", "yaml", &error));
  EXPECT_EQ(error, "--format must be table, markdown or json, got \"yaml\"");
}

// A loopback TCP listener on a free port that accepts connections and never answers them.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    accepter_ = std::thread([this] {
      // Until the listener is shut down: accept() then fails.
      for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted_.push_back(c);
    });
  }
  ~SilentListener() {
    Hangup();
    ::close(fd_);
  }
  // Stops accepting and closes every connection accepted: a client still waiting then sees the end.
  void Hangup() {
    ::shutdown(fd_, SHUT_RDWR);
    if (accepter_.joinable()) accepter_.join();
    for (int c : accepted_) ::close(c);
    accepted_.clear();
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread accepter_;
  std::vector<int> accepted_;
};

TEST(FetchWorkloadsJson, ADaemonThatAcceptsAndNeverAnswersTimesOut) {
  SilentListener silent;
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.port());
  // Run aside, so that a hang fails this test instead of blocking the suite.
  auto fetch = std::async(std::launch::async, [&] {
    std::string error;
    auto body =
        FetchWorkloadsJson(url, {.connect = std::chrono::seconds(5), .read = std::chrono::milliseconds(300)}, &error);
    return std::make_pair(body, error);
  });
  if (fetch.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    silent.Hangup();  // so that the fetch ends and this test can fail rather than hang
    FAIL() << "the report hangs on a daemon that never answers";
  }
  auto [body, error] = fetch.get();
  EXPECT_FALSE(body);
  EXPECT_EQ(error, url + "/api/v1/workloads: no answer within 300ms");
}

TEST(FetchWorkloadsJson, NobodyListeningNamesTheUrl) {
  uint16_t port;
  {
    SilentListener closed;  // a port that was free a moment ago, now closed again
    port = closed.port();
  }
  std::string error;
  EXPECT_FALSE(FetchWorkloadsJson("http://127.0.0.1:" + std::to_string(port), {}, &error));
  EXPECT_EQ(error.rfind("http://127.0.0.1:" + std::to_string(port) + "/api/v1/workloads: cannot connect: ", 0), 0u)
      << error;
}

TEST(FetchWorkloadsJson, TheDocumentFromTheDaemonsServer) {
  boost::asio::io_context io;
  auto doc = std::make_shared<const std::string>(WorkloadsJson(*test_util::FixtureSnapshot()));
  HttpServer server(io, HttpServerOptions{},
                    HttpHandlers{.metrics = [](bool, HttpHandlers::MetricsDone done) { done(nullptr); },
                                 .ready = nullptr,
                                 .workloads_json = [doc](HttpHandlers::WorkloadsDone done) { done(doc); }});
  ASSERT_EQ(server.Listen("127.0.0.1:0"), std::nullopt);
  auto work = boost::asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::string error;
  auto body = FetchWorkloadsJson("http://127.0.0.1:" + std::to_string(server.port()), {}, &error);
  work.reset();
  io.stop();
  loop.join();
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(*body, *doc);
}

TEST(RunReport, UsageErrorsNeedNoDaemon) {
  EXPECT_EQ(RunReport({"--format", "yaml", "--url", "http://127.0.0.1:1"}), 2);
  EXPECT_EQ(RunReport({"--timeout", "soon"}), 2);
  EXPECT_EQ(RunReport({"--bogus"}), 2);
}

}  // namespace
}  // namespace we
