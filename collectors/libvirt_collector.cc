#include "collectors/libvirt_collector.h"

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

namespace we {
namespace {

std::optional<double> Number(const DomainStatsRecord& r, const std::string& key) {
  auto it = r.numbers.find(key);
  if (it == r.numbers.end()) return std::nullopt;
  return it->second;
}

// A non-negative count that fits in 64 bits (libvirt's ullong arrives as a double; NaN, infinity
// and 2^64 or more are not counts).
std::optional<uint64_t> Count(const DomainStatsRecord& r, const std::string& key, double scale = 1) {
  auto v = Number(r, key);
  if (!v || !std::isfinite(*v) || *v < 0) return std::nullopt;
  const double scaled = *v * scale;
  if (!(scaled < 18446744073709551616.0)) return std::nullopt;
  return static_cast<uint64_t>(scaled);
}

std::optional<int> SmallInt(const DomainStatsRecord& r, const std::string& key) {
  auto v = Number(r, key);
  if (!v || !std::isfinite(*v) || *v < -1e6 || *v > 1e6) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<double> Seconds(const DomainStatsRecord& r, const std::string& key) {
  auto v = Number(r, key);
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return *v / 1e9;  // libvirt counts nanoseconds
}

std::vector<DeviceCounters> Devices(const DomainStatsRecord& r, const std::string& prefix, const char* rb,
                                    const char* wb, const char* rr, const char* wr) {
  std::vector<DeviceCounters> out;
  const auto count = Count(r, prefix + ".count").value_or(0);
  for (uint64_t i = 0; i < count && i < 4096; ++i) {
    const std::string p = prefix + "." + std::to_string(i) + ".";
    DeviceCounters d;
    auto name = r.strings.find(p + "name");
    d.device = name != r.strings.end() ? name->second : std::to_string(i);
    d.read_bytes = Count(r, p + rb);
    d.write_bytes = Count(r, p + wb);
    d.read_requests = Count(r, p + rr);
    d.write_requests = Count(r, p + wr);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

Sample SampleFromDomainStats(const DomainStatsRecord& r, double now_seconds) {
  Sample s;
  s.identity.kind = "vm";
  s.identity.runtime = "libvirt";
  s.identity.id = r.uuid.empty() ? r.name : r.uuid;
  s.identity.name = r.name;
  // A domain's identity is its UUID; libvirt gives no start time or cgroup inode here.
  s.instance = std::hash<std::string>{}(r.uuid + "/" + r.name);
  s.cpu.usage_seconds = Seconds(r, "cpu.time");
  s.cpu.user_seconds = Seconds(r, "cpu.user");
  s.cpu.system_seconds = Seconds(r, "cpu.system");
  // balloon.rss is the QEMU process's resident memory, in KiB: what the host pays.
  s.memory.usage_bytes = Count(r, "balloon.rss", 1024);
  s.memory.working_set_bytes = s.memory.usage_bytes;

  VmFigures vm;
  vm.uuid = r.uuid;
  vm.state = SmallInt(r, "state.state");
  vm.state_reason = SmallInt(r, "state.reason");
  vm.vcpus = Count(r, "vcpu.current");
  const auto maximum = Count(r, "vcpu.maximum").value_or(vm.vcpus.value_or(0));
  for (uint64_t i = 0; i < maximum && i < 4096; ++i) {
    const std::string p = "vcpu." + std::to_string(i) + ".";
    if (!Number(r, p + "state")) continue;
    VcpuFigures v;
    v.index = static_cast<int>(i);
    v.seconds = Seconds(r, p + "time");
    v.delay_seconds = Seconds(r, p + "delay");
    vm.vcpu.push_back(v);
  }
  vm.memory_assigned_bytes = Count(r, "balloon.current", 1024);
  vm.memory_max_bytes = Count(r, "balloon.maximum", 1024);
  const auto available = Count(r, "balloon.available", 1024);
  const auto unused = Count(r, "balloon.unused", 1024);
  if (available && unused && *available >= *unused) vm.guest_memory_used_bytes = *available - *unused;
  if (auto updated = Number(r, "balloon.last-update"); updated && *updated > 0) {
    vm.guest_memory_stats_age_seconds = std::max(0.0, now_seconds - *updated);
  }
  vm.block = Devices(r, "block", "rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs");
  vm.net = Devices(r, "net", "rx.bytes", "tx.bytes", "rx.pkts", "tx.pkts");
  s.vm = std::move(vm);
  return s;
}

// State shared with the worker thread, which may outlive the collector while stuck in a call.
struct LibvirtCollector::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<LibvirtClient> client;
  bool stop = false;
  uint64_t requested = 0;  // rounds asked for
  uint64_t answered = 0;   // rounds finished
  bool busy = false;
  std::vector<DomainStatsRecord> records;
  std::optional<LibvirtError> error;

  void Run() {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || requested > answered; });
      if (stop) return;
      const uint64_t round = requested;
      busy = true;
      lock.unlock();
      std::vector<DomainStatsRecord> got;
      std::optional<LibvirtError> failure;
      try {
        got = client->GetAllDomainStats();
      } catch (const LibvirtError& e) {
        failure = e;
      } catch (const std::exception& e) {
        failure = LibvirtError(std::string("libvirt: ") + e.what(), false);
      }
      lock.lock();
      busy = false;
      answered = round;
      records = std::move(got);
      error = std::move(failure);
      cv.notify_all();
    }
  }
};

LibvirtCollector::LibvirtCollector(std::unique_ptr<LibvirtClient> client, std::chrono::milliseconds timeout)
    : shared_(std::make_shared<Shared>()), timeout_(timeout) {
  shared_->client = std::move(client);
  std::thread([shared = shared_] { shared->Run(); }).detach();
}

LibvirtCollector::~LibvirtCollector() {
  std::lock_guard lock(shared_->mu);
  shared_->stop = true;
  shared_->cv.notify_all();
}

CollectResult LibvirtCollector::Collect() {
  CollectResult result;
  std::unique_lock lock(shared_->mu);
  if (shared_->busy) {
    result.errors.push_back(
        "libvirt: the previous round of calls has not returned yet (a stuck domain or "
        "libvirtd?); VM guest figures left out");
    return result;
  }
  const uint64_t round = ++shared_->requested;
  shared_->cv.notify_all();
  if (!shared_->cv.wait_for(lock, timeout_, [&] { return shared_->answered >= round; })) {
    result.errors.push_back("libvirt: no answer within " + std::to_string(timeout_.count()) +
                            " ms; VM guest figures left out this tick");
    return result;
  }
  if (shared_->error) {
    if (shared_->error->absent()) {
      if (!absent_logged_) {
        spdlog::info("{}; VMs will be found from their QEMU processes and cgroups only", shared_->error->what());
        absent_logged_ = true;
      }
      return result;  // no libvirt here: not a failure
    }
    result.errors.push_back(shared_->error->what());
    return result;
  }
  if (absent_logged_) {
    spdlog::info("libvirt: connected");
    absent_logged_ = false;
  }
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const DomainStatsRecord& r : shared_->records) result.samples.push_back(SampleFromDomainStats(r, now));
  return result;
}

}  // namespace we
