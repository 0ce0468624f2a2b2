// The prober on a real io_context against real loopback servers: a server that answers gets a
// ready time, success and a duration; one that accepts and never answers is abandoned at the
// deadline, leaves no ready time and reports failure; a vanished workload cancels its probe; an
// address outside loopback, the host's and the workload's own is never connected to.

#include "pipeline/prober.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "config/probe_target.h"

namespace we {
namespace {

using boost::asio::ip::tcp;
using namespace std::chrono_literals;

double WallNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// Accepts on 127.0.0.1; answers each request with `response`, or holds the connection silently
// when it is empty.
class LoopbackServer {
 public:
  LoopbackServer(boost::asio::io_context& io, std::string response)
      : acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)), response_(std::move(response)) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      ++accepted_;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      held_.push_back(s);
      if (!response_.empty()) {
        auto buf = std::make_shared<std::array<char, 1024>>();
        s->async_read_some(boost::asio::buffer(*buf),
                           [this, s, buf](const boost::system::error_code& rec, std::size_t) {
                             if (rec) return;
                             boost::asio::async_write(*s, boost::asio::buffer(response_),
                                                      [s](const boost::system::error_code&, std::size_t) {
                                                        boost::system::error_code ignored;
                                                        s->shutdown(tcp::socket::shutdown_both, ignored);
                                                      });
                           });
      }
      Accept();
    });
  }
  tcp::acceptor acceptor_;
  std::string response_;
  std::vector<std::shared_ptr<tcp::socket>> held_;
  int accepted_ = 0;
};

ProbeConfig HttpProbe(const std::string& url, std::chrono::milliseconds timeout = 300ms) {
  ProbeConfig p;
  p.match = {{"name", "web*"}};
  std::string error;
  p.target =
      *ParseProbeTarget(url.starts_with("http") ? ProbeTarget::Kind::kHttp : ProbeTarget::Kind::kTcp, url, &error);
  p.interval = 1s;
  p.timeout = timeout;
  return p;
}

Snapshot OneWorkload(const std::string& name, double start, uint64_t instance = 7) {
  Snapshot snap;
  snap.time_seconds = WallNow();
  WorkloadView v;
  v.sample.identity = {"container", "docker", name + "-id", name, "", ""};
  v.sample.instance = instance;
  v.sample.start_time_seconds = start;
  snap.workloads.push_back(v);
  return snap;
}

// Feeds `snap` to the prober every `every` while running the loop for `total`.
void Drive(boost::asio::io_context& io, Prober& prober, const Snapshot& snap, std::chrono::milliseconds every,
           std::chrono::milliseconds total) {
  boost::asio::steady_timer timer(io);
  const auto end = std::chrono::steady_clock::now() + total;
  std::function<void()> tick = [&] {
    prober.Update(snap);
    if (std::chrono::steady_clock::now() + every > end) return;
    timer.expires_after(every);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  io.run_for(total + 50ms);
  io.restart();
}

const ProbeFigures* FiguresOf(const ProbeResultsStore& store, const std::string& name) {
  static std::shared_ptr<const ProbeFiguresMap> hold;
  hold = store.Get();
  if (!hold) return nullptr;
  auto it = hold->find(WorkloadIdentity{"container", "docker", name + "-id", name, "", ""}.Key());
  return it == hold->end() ? nullptr : &it->second;
}

TEST(Prober, ReadyOnTheFirstSuccessThenSuccessAndDurations) {
  boost::asio::io_context io;
  LoopbackServer server(io, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  ProbeResultsStore store;
  Prober prober(io, store, nullptr);
  prober.Configure({HttpProbe("http://127.0.0.1:" + std::to_string(server.port()) + "/health")}, 100ms);
  const double start = WallNow() - 0.5;
  const Snapshot snap = OneWorkload("web-1", start);
  Drive(io, prober, snap, 100ms, 600ms);
  const ProbeFigures* f = FiguresOf(store, "web-1");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->instance, 7u);
  ASSERT_TRUE(f->ready_seconds);
  EXPECT_GE(*f->ready_seconds, 0.5);
  EXPECT_LT(*f->ready_seconds, 1.5);
  EXPECT_EQ(f->success, true);
  ASSERT_TRUE(f->durations);
  // Ready at once, then the 1 s interval: one probe in 600 ms, however often the snapshots come.
  EXPECT_EQ(f->durations->count, 1u);
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_LT(f->durations->sum, 0.3);
  EXPECT_EQ(prober.in_flight(), 0u);
}

TEST(Prober, ASilentServerIsAbandonedAtTheDeadline) {
  boost::asio::io_context io;
  LoopbackServer silent(io, "");
  ProbeResultsStore store;
  Prober prober(io, store, nullptr);
  prober.Configure({HttpProbe("http://127.0.0.1:" + std::to_string(silent.port()) + "/", 150ms)}, 100ms);
  const Snapshot snap = OneWorkload("web-2", WallNow());
  // The loop is never held by the hanging probe: the test's own timer keeps its 100 ms pace.
  const auto before = std::chrono::steady_clock::now();
  Drive(io, prober, snap, 100ms, 700ms);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 900ms);
  const ProbeFigures* f = FiguresOf(store, "web-2");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->success, false);
  EXPECT_FALSE(f->ready_seconds);
  EXPECT_FALSE(f->durations);
  // One at a time, each ended by its deadline, retried every sampling interval until ready.
  EXPECT_GE(silent.accepted(), 3);
  EXPECT_LE(silent.accepted(), 6);
  EXPECT_LE(prober.in_flight(), 1u);
}

TEST(Prober, AVanishedWorkloadCancelsItsProbe) {
  boost::asio::io_context io;
  LoopbackServer silent(io, "");
  ProbeResultsStore store;
  Prober prober(io, store, nullptr);
  prober.Configure({HttpProbe("http://127.0.0.1:" + std::to_string(silent.port()) + "/", 5s)}, 100ms);
  prober.Update(OneWorkload("web-3", WallNow()));
  io.run_for(100ms);
  EXPECT_EQ(prober.in_flight(), 1u);
  prober.Update(Snapshot{});
  EXPECT_EQ(prober.in_flight(), 0u);
  EXPECT_EQ(prober.tracked(), 0u);
  io.run_for(50ms);  // the cancelled probe's handlers run and report to nobody
  EXPECT_EQ(FiguresOf(store, "web-3"), nullptr);

  // A recreated workload (a new instance) starts afresh too.
  prober.Update(OneWorkload("web-3", WallNow(), 1));
  io.run_for(50ms);
  EXPECT_EQ(prober.in_flight(), 1u);
  prober.Update(OneWorkload("web-3", WallNow(), 2));
  EXPECT_EQ(prober.in_flight(), 1u);  // the old one cancelled, the new one's started
  EXPECT_EQ(prober.tracked(), 1u);
}

TEST(Prober, OnlyAllowedAddressesAndMatchingWorkloads) {
  boost::asio::io_context io;
  ProbeResultsStore store;
  Prober prober(io, store, [] { return std::vector<std::string>{"192.0.2.7"}; });
  // 192.0.2.8 (TEST-NET) is neither loopback, the host's nor the workload's: never connected to.
  prober.Configure({HttpProbe("192.0.2.8:80")}, 100ms);
  prober.Update(OneWorkload("web-4", WallNow()));
  EXPECT_EQ(prober.in_flight(), 0u);
  prober.Update(OneWorkload("web-4", WallNow()));
  EXPECT_EQ(prober.in_flight(), 0u);
  prober.Update(OneWorkload("db", WallNow()));  // matches no probe
  EXPECT_EQ(prober.tracked(), 0u);
  // Loopback is: the same workload is probed once its probe points there.
  LoopbackServer server(io, "HTTP/1.0 200 OK\r\n\r\n");
  prober.Configure({HttpProbe("http://127.0.0.1:" + std::to_string(server.port()) + "/")}, 100ms);
  prober.Update(OneWorkload("web-4", WallNow()));
  EXPECT_EQ(prober.in_flight(), 1u);
  io.run_for(200ms);
  EXPECT_EQ(prober.in_flight(), 0u);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(Prober, ALateWorkloadGetsNoReadyTime) {
  boost::asio::io_context io;
  LoopbackServer server(io, "HTTP/1.1 204 No Content\r\n\r\n");
  ProbeResultsStore store;
  Prober prober(io, store, nullptr);
  prober.Configure({HttpProbe("http://127.0.0.1:" + std::to_string(server.port()) + "/")}, 100ms);
  // Started an hour before the daemon saw it: its first response is not its startup.
  Drive(io, prober, OneWorkload("web-5", WallNow() - 3600), 100ms, 300ms);
  const ProbeFigures* f = FiguresOf(store, "web-5");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->success, true);
  EXPECT_FALSE(f->ready_seconds);
}

}  // namespace
}  // namespace we
