#include "pipeline/prober.h"

#include <array>
#include <set>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "pipeline/probe_rules.h"

namespace we {

namespace {
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// A response whose status line has not come within this many bytes is not HTTP.
constexpr std::size_t kMaxStatusBytes = 4096;
// The host's addresses are asked for again every this many snapshots.
constexpr uint64_t kHostAddressesEvery = 30;
}  // namespace

// One probe in flight. Its handlers hold it alive; `done` is what reports back, cleared when the
// prober cancels it, so that a late handler reports to nobody.
struct Prober::Attempt : std::enable_shared_from_this<Attempt> {
  explicit Attempt(boost::asio::io_context& io) : socket(io), timer(io) {}

  tcp::socket socket;
  boost::asio::steady_timer timer;
  std::string request;  // empty: a TCP probe
  int expect_status = 0;
  std::string received;
  std::array<char, 512> buffer{};
  Clock::time_point started;
  std::function<void(bool success, double seconds)> done;
  bool finished = false;

  void Run(const tcp::endpoint& endpoint, std::chrono::milliseconds timeout) {
    started = Clock::now();
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->Complete(false);  // the deadline: whatever was pending is abandoned
    });
    socket.async_connect(endpoint, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return self->Complete(false);
      if (self->request.empty()) return self->Complete(true);
      boost::asio::async_write(self->socket, boost::asio::buffer(self->request),
                               [self](const boost::system::error_code& wec, std::size_t) {
                                 if (wec) return self->Complete(false);
                                 self->Read();
                               });
    });
  }

  void Read() {
    socket.async_read_some(boost::asio::buffer(buffer),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->received.append(self->buffer.data(), n);
                             if (auto status = ParseHttpStatus(self->received)) {
                               return self->Complete(HttpStatusSucceeds(*status, self->expect_status));
                             }
                             if (ec || self->received.size() > kMaxStatusBytes) return self->Complete(false);
                             self->Read();
                           });
  }

  void Complete(bool success) {
    if (finished) return;
    finished = true;
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    boost::system::error_code ignored;
    timer.cancel();
    socket.close(ignored);
    auto report = std::move(done);
    done = nullptr;
    if (report) report(success, seconds);
  }
};

Prober::Prober(boost::asio::io_context& io, ProbeResultsStore& store, HostAddresses host_addresses)
    : io_(io), store_(store), host_addresses_(std::move(host_addresses)) {}

Prober::~Prober() {
  for (auto& [key, w] : workloads_) Cancel(w);
}

void Prober::Configure(std::vector<ProbeConfig> probes, std::chrono::milliseconds sampling_interval) {
  probes_ = std::move(probes);
  probe_keys_.clear();
  for (const ProbeConfig& p : probes_) probe_keys_.push_back(ProbeKey(p));
  interval_ = sampling_interval;
  // Workloads whose probe changed or went are dropped at the next Update, which sees the match.
  if (probes_.empty()) {
    for (auto& [key, w] : workloads_) Cancel(w);
    workloads_.clear();
    Publish();
  }
}

void Prober::Cancel(Workload& w) {
  if (!w.attempt) return;
  w.attempt->done = nullptr;
  w.attempt->Complete(false);
  w.attempt.reset();
  w.schedule.Cancelled();
  --in_flight_;
}

void Prober::Update(const Snapshot& snapshot) {
  if (probes_.empty() && workloads_.empty()) return;
  if (host_addresses_ && updates_++ % kHostAddressesEvery == 0) host_cache_ = host_addresses_();
  const auto now = Clock::now();
  const double interval = std::chrono::duration<double>(interval_).count();
  bool changed = false;
  std::set<std::string> seen;
  for (const WorkloadView& view : snapshot.workloads) {
    const Sample& s = view.sample;
    const std::optional<std::size_t> index = FindProbe(probes_, s);
    std::string key = s.identity.Key();
    auto it = workloads_.find(key);
    if (it != workloads_.end() &&
        (!index || it->second.instance != s.instance || it->second.probe_key != probe_keys_[*index])) {
      Cancel(it->second);  // recreated, or its probe changed: start afresh
      workloads_.erase(it);
      it = workloads_.end();
      changed = true;
    }
    if (!index) continue;
    if (it == workloads_.end()) {
      Workload w;
      w.instance = s.instance;
      w.probe_key = probe_keys_[*index];
      w.start_time = s.start_time_seconds;
      // As the normaliser times startup: only a workload seen from (near) its start.
      w.seen_from_start = s.start_time_seconds && snapshot.time_seconds - *s.start_time_seconds <= 2 * interval + 1.0;
      w.schedule = ProbeSchedule(now, interval_, probes_[*index].interval);
      w.figures.instance = s.instance;
      it = workloads_.emplace(key, std::move(w)).first;
    }
    seen.insert(key);
    Workload& w = it->second;
    w.probe = *index;
    if (!w.schedule.Due(now) || in_flight_ >= kMaxInFlight) continue;
    const ProbeConfig& probe = probes_[*index];
    const std::optional<std::string> address = ProbeAddress(probe.target, s);
    if (!address) continue;  // {ip} not known yet
    if (!ProbeAddressAllowed(*address, host_cache_, s)) {
      if (w.refused != *address) {
        spdlog::warn("probe {} for {}: {} is not loopback, a host address or the workload's own: not probed",
                     probe.target.text, s.identity.name, *address);
        w.refused = *address;
      }
      continue;
    }
    Start(key, w, probe, *address);
  }
  for (auto it = workloads_.begin(); it != workloads_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    Cancel(it->second);  // vanished: its probe is abandoned
    it = workloads_.erase(it);
    changed = true;
  }
  if (changed) Publish();
}

void Prober::Start(const std::string& key, Workload& w, const ProbeConfig& probe, const std::string& address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec) return;
  auto attempt = std::make_shared<Attempt>(io_);
  if (probe.target.kind == ProbeTarget::Kind::kHttp) {
    attempt->request = HttpProbeRequest(probe.target, address);
    attempt->expect_status = probe.expect_status;
  }
  attempt->done = [this, key, instance = w.instance](bool success, double seconds) {
    Finish(key, instance, success, seconds);
  };
  w.attempt = attempt;
  w.schedule.Started(Clock::now());
  ++in_flight_;
  attempt->Run(tcp::endpoint(ip, probe.target.port), probe.timeout);
}

void Prober::Finish(const std::string& key, uint64_t instance, bool success, double seconds) {
  auto it = workloads_.find(key);
  if (it == workloads_.end() || it->second.instance != instance || !it->second.attempt) return;
  Workload& w = it->second;
  w.attempt.reset();
  --in_flight_;
  const bool first = w.schedule.Finished(Clock::now(), success);
  if (first && w.seen_from_start && w.start_time) {
    const double wall = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    w.figures.ready_seconds = std::max(0.0, wall - *w.start_time);
  }
  w.figures.success = success;
  if (success) {
    // Copied, not changed in place: published figures are read by the sampler's thread.
    auto durations = w.figures.durations ? std::make_shared<ProbeDurations>(*w.figures.durations)
                                         : std::make_shared<ProbeDurations>();
    durations->Observe(seconds);
    w.figures.durations = std::move(durations);
  }
  Publish();
}

void Prober::Publish() {
  auto results = std::make_shared<ProbeFiguresMap>();
  for (const auto& [key, w] : workloads_) {
    if (w.figures.success || w.figures.ready_seconds) results->emplace(key, w.figures);
  }
  store_.Publish(std::move(results));
}

}  // namespace we
