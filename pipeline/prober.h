#pragma once
// The ready probes (README.md, "Ready probes"): for each workload that a configured probe matches,
// an HTTP GET or a TCP connect on the daemon's event loop, from the workload's first sight every
// sampling interval until the first success (workload_ready_seconds), then every probe interval
// (workload_probe_success, workload_probe_duration_seconds).
//
// Nothing here blocks: connects, writes and reads are asynchronous, each probe has a deadline
// (its timeout) after which its socket is closed, a workload has at most one probe in flight and
// the daemon at most kMaxInFlight. A workload that leaves the snapshot (or is recreated) has its
// probe cancelled and its figures dropped. Only the addresses ProbeAddressAllowed admits are ever
// connected to, and the probes come only from the daemon's configuration.
//
// The figures go to a ProbeResultsStore, which the sampling pipeline reads at each tick: they
// reach /metrics with the next snapshot.
//
// Ownership and thread-safety: construct, call and destroy on the thread that runs `io` (the
// daemon's main loop). `io` and `store` must outlive the prober; its destructor cancels every
// probe in flight, whose handlers then find nothing to report to.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.h"
#include "pipeline/probe_results.h"
#include "pipeline/probe_schedule.h"
#include "pipeline/snapshot.h"

namespace we {

class Prober {
 public:
  static constexpr std::size_t kMaxInFlight = 64;
  // The host's own addresses ("10.0.0.5"), asked for now and then; empty: loopback only.
  using HostAddresses = std::function<std::vector<std::string>()>;

  Prober(boost::asio::io_context& io, ProbeResultsStore& store, HostAddresses host_addresses);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // The probes and the sampling interval (the period until the first success). A workload whose
  // matching probe is unchanged keeps its schedule and figures; any other starts afresh, and is
  // not seen from its start, so it gets no ready time.
  void Configure(std::vector<ProbeConfig> probes, std::chrono::milliseconds sampling_interval);

  // A new snapshot: starts the probes that are due, cancels those of vanished workloads.
  void Update(const Snapshot& snapshot);

  std::size_t in_flight() const { return in_flight_; }
  std::size_t tracked() const { return workloads_.size(); }

 private:
  struct Attempt;
  struct Workload {
    uint64_t instance = 0;
    std::string probe_key;  // ProbeKey of the probe it runs
    std::size_t probe = 0;  // index into probes_
    std::optional<double> start_time;
    bool seen_from_start = false;
    ProbeSchedule schedule;
    std::shared_ptr<Attempt> attempt;  // the probe in flight, if any
    ProbeFigures figures;
    std::string refused;  // the address last refused (logged once)
  };

  void Start(const std::string& key, Workload& w, const ProbeConfig& probe, const std::string& address);
  void Finish(const std::string& key, uint64_t instance, bool success, double seconds);
  void Cancel(Workload& w);
  void Publish();

  boost::asio::io_context& io_;
  ProbeResultsStore& store_;
  HostAddresses host_addresses_;
  std::vector<std::string> host_cache_;
  uint64_t updates_ = 0;  // the host's addresses are asked for again every 30 updates
  std::vector<ProbeConfig> probes_;
  std::vector<std::string> probe_keys_;
  std::chrono::milliseconds interval_{1000};
  std::map<std::string, Workload> workloads_;  // by identity key
  std::size_t in_flight_ = 0;
};

}  // namespace we
