#pragma once
// LibvirtCollector: each VM's guest-side view from libvirt, without ever blocking a tick.
//
// libvirt calls run on the collector's own worker thread. Collect() asks for a round and waits
// for it at most `timeout`; a late round marks this tick unsuccessful and its VMs' libvirt
// figures absent (the previous values are not repeated), and while the worker is still stuck no
// new round is started: each tick just reports it. When the stuck call returns, the next tick
// starts a fresh round. A host without libvirt (no daemon socket) is reported once in the log and
// is not a failure: VMs are then found as QEMU processes and cgroups alone.
//
// Thread-safety: Collect() is called by the sampler thread only.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "collectors/collector.h"
#include "collectors/libvirt_client.h"

namespace we {

// One domain's statistics as a sample: kind="vm", runtime="libvirt", id = UUID. `now_seconds`
// (Unix time) dates the guest's balloon report. Pure.
Sample SampleFromDomainStats(const DomainStatsRecord& record, double now_seconds);

class LibvirtCollector final : public Collector {
 public:
  LibvirtCollector(std::unique_ptr<LibvirtClient> client, std::chrono::milliseconds timeout);
  ~LibvirtCollector() override;  // never waits for a stuck call

  std::string name() const override { return "libvirt"; }
  CollectResult Collect() override;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  std::chrono::milliseconds timeout_;
  bool absent_logged_ = false;
};

}  // namespace we
