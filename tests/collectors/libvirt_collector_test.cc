// The libvirt collector: typed parameters to figures, the deadline around a call that never
// returns, a host without libvirt, and libvirt's own test driver through the real library.

#include "collectors/libvirt_collector.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace we {
namespace {

using std::chrono::milliseconds;

DomainStatsRecord Record() {
  DomainStatsRecord r;
  r.name = "web";
  r.uuid = "11111111-2222-3333-4444-555555555555";
  r.numbers = {{"state.state", 1},
               {"state.reason", 1},
               {"cpu.time", 2.5e9},
               {"cpu.user", 1.5e9},
               {"cpu.system", 1.0e9},
               {"balloon.current", 1048576},
               {"balloon.maximum", 2097152},
               {"balloon.available", 1000000},
               {"balloon.unused", 600000},
               {"balloon.rss", 300000},
               {"balloon.last-update", 1000},
               {"vcpu.current", 2},
               {"vcpu.maximum", 2},
               {"vcpu.0.state", 1},
               {"vcpu.0.time", 4e9},
               {"vcpu.0.delay", 5e8},
               {"vcpu.1.state", 1},
               {"vcpu.1.time", 1e9},
               {"block.count", 1},
               {"block.0.rd.bytes", 4096},
               {"block.0.wr.bytes", 8192},
               {"block.0.rd.reqs", 1},
               {"block.0.wr.reqs", 2},
               {"net.count", 1},
               {"net.0.rx.bytes", 100},
               {"net.0.tx.bytes", 200},
               {"net.0.rx.pkts", 3},
               {"net.0.tx.pkts", 4}};
  r.strings = {{"block.0.name", "vda"}, {"net.0.name", "vnet0"}};
  return r;
}

TEST(SampleFromDomainStats, EveryFigureInItsUnit) {
  const Sample s = SampleFromDomainStats(Record(), 1010);
  EXPECT_EQ(s.identity.kind, "vm");
  EXPECT_EQ(s.identity.runtime, "libvirt");
  EXPECT_EQ(s.identity.id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(s.identity.name, "web");
  EXPECT_DOUBLE_EQ(*s.cpu.usage_seconds, 2.5);
  EXPECT_DOUBLE_EQ(*s.cpu.user_seconds, 1.5);
  EXPECT_EQ(*s.memory.usage_bytes, 300000u * 1024);
  ASSERT_TRUE(s.vm);
  const VmFigures& vm = *s.vm;
  EXPECT_EQ(vm.state, std::optional<int>(1));
  EXPECT_EQ(vm.vcpus, std::optional<uint64_t>(2));
  ASSERT_EQ(vm.vcpu.size(), 2u);
  EXPECT_DOUBLE_EQ(*vm.vcpu[0].seconds, 4.0);
  EXPECT_DOUBLE_EQ(*vm.vcpu[0].delay_seconds, 0.5);
  EXPECT_FALSE(vm.vcpu[1].delay_seconds);
  EXPECT_EQ(*vm.memory_assigned_bytes, 1048576u * 1024);
  EXPECT_EQ(*vm.memory_max_bytes, 2097152u * 1024);
  EXPECT_EQ(*vm.guest_memory_used_bytes, 400000u * 1024);
  EXPECT_DOUBLE_EQ(*vm.guest_memory_stats_age_seconds, 10);
  ASSERT_EQ(vm.block.size(), 1u);
  EXPECT_EQ(vm.block[0].device, "vda");
  EXPECT_EQ(*vm.block[0].write_bytes, 8192u);
  ASSERT_EQ(vm.net.size(), 1u);
  EXPECT_EQ(vm.net[0].device, "vnet0");
  EXPECT_EQ(*vm.net[0].write_requests, 4u);
}

TEST(SampleFromDomainStats, WithoutGuestBalloonStatsTheGuestFiguresAreAbsent) {
  DomainStatsRecord r;
  r.name = "bare";
  r.numbers = {{"state.state", 3}};
  const Sample s = SampleFromDomainStats(r, 0);
  EXPECT_EQ(s.identity.id, "bare");  // no UUID: the name
  EXPECT_FALSE(s.cpu.usage_seconds);
  EXPECT_FALSE(s.vm->guest_memory_used_bytes);
  EXPECT_FALSE(s.vm->guest_memory_stats_age_seconds);
  EXPECT_TRUE(s.vm->vcpu.empty());
}

// A client whose calls block until the test lets them go.
class GatedClient : public LibvirtClient {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int calls = 0;
  };
  explicit GatedClient(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::vector<DomainStatsRecord> GetAllDomainStats() override {
    std::unique_lock lock(gate_->mu);
    ++gate_->calls;
    gate_->cv.wait(lock, [&] { return gate_->open; });
    return {Record()};
  }

 private:
  std::shared_ptr<Gate> gate_;
};

TEST(LibvirtCollector, AStuckCallNeverBlocksATickAndTheVmsReturnAfterIt) {
  auto gate = std::make_shared<GatedClient::Gate>();
  LibvirtCollector c(std::make_unique<GatedClient>(gate), milliseconds(100));
  auto started = std::chrono::steady_clock::now();
  CollectResult first = c.Collect();
  const auto first_took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(first_took, milliseconds(100));  // waited its deadline
  EXPECT_TRUE(first.samples.empty());
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_NE(first.errors[0].find("no answer within 100 ms"), std::string::npos);

  // Still stuck: reported at once (without waiting a deadline again: a ratio to the first, so a
  // loaded runner slows both), and no second call piles up behind the first.
  started = std::chrono::steady_clock::now();
  CollectResult second = c.Collect();
  EXPECT_LT(std::chrono::steady_clock::now() - started, first_took / 2);
  ASSERT_EQ(second.errors.size(), 1u);
  EXPECT_NE(second.errors[0].find("has not returned yet"), std::string::npos);
  {
    std::lock_guard lock(gate->mu);
    EXPECT_EQ(gate->calls, 1);
    gate->open = true;
  }
  gate->cv.notify_all();
  // Once it returns, the next tick gets fresh figures.
  CollectResult third;
  for (int i = 0; i < 50 && third.samples.empty(); ++i) {
    third = c.Collect();
    if (third.samples.empty()) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(third.samples.size(), 1u);
  EXPECT_TRUE(third.errors.empty());
}

TEST(LibvirtCollector, DestroyingItWhileACallIsStuckDoesNotWait) {
  auto gate = std::make_shared<GatedClient::Gate>();
  {
    LibvirtCollector c(std::make_unique<GatedClient>(gate), milliseconds(50));
    c.Collect();
  }  // returns although the call is still blocked
  std::lock_guard lock(gate->mu);
  gate->open = true;
  gate->cv.notify_all();
}

class ThrowingClient : public LibvirtClient {
 public:
  explicit ThrowingClient(bool absent) : absent_(absent) {}
  std::vector<DomainStatsRecord> GetAllDomainStats() override {
    throw LibvirtError("libvirt: cannot connect to qemu:///system: no socket", absent_);
  }

 private:
  bool absent_;
};

TEST(LibvirtCollector, NoLibvirtHereIsNotAFailureButABrokenOneIs) {
  LibvirtCollector absent(std::make_unique<ThrowingClient>(true), milliseconds(1000));
  EXPECT_TRUE(absent.Collect().errors.empty());
  EXPECT_TRUE(absent.Collect().errors.empty());
  LibvirtCollector broken(std::make_unique<ThrowingClient>(false), milliseconds(1000));
  auto r = broken.Collect();
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("cannot connect"), std::string::npos);
}

TEST(LibvirtCollector, TheTestDriverThroughTheRealLibrary) {
  // libvirt's built-in test driver: no daemon, one running domain named "test".
  LibvirtCollector c(MakeLibvirtClient("test:///default"), milliseconds(5000));
  CollectResult r = c.Collect();
  ASSERT_TRUE(r.errors.empty()) << r.errors.front();
  ASSERT_EQ(r.samples.size(), 1u);
  const Sample& s = r.samples[0];
  EXPECT_EQ(s.identity.name, "test");
  EXPECT_EQ(s.identity.id, "6695eb01-f6a4-8304-79aa-97f2502e193f");
  ASSERT_TRUE(s.vm);
  EXPECT_EQ(s.vm->state, std::optional<int>(1));  // running
}

TEST(LibvirtCollector, AMissingDaemonSocketIsAbsent) {
  LibvirtCollector c(MakeLibvirtClient("qemu+unix:///system?socket=/nonexistent/libvirt-sock"), milliseconds(5000));
  CollectResult r = c.Collect();
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_TRUE(r.samples.empty());
}

}  // namespace
}  // namespace we
