#pragma once
// LibvirtClient: the only code that talks to libvirt. One call, GetAllDomainStats, returns every
// domain's statistics as flat typed parameters ("cpu.time", "balloon.current", "vcpu.0.delay").
// Calls may block for as long as libvirtd takes (a domain stuck in a job can hold it for tens of
// seconds); LibvirtCollector calls it only from its own worker thread, under a deadline.
//
// Thread-safety: one caller at a time.

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace we {

struct DomainStatsRecord {
  std::string name;
  std::string uuid;
  std::map<std::string, double> numbers;       // every numeric and boolean parameter
  std::map<std::string, std::string> strings;  // "block.0.name", "net.0.name", ...
};

// A failed call. `absent` says libvirt is not there at all (no daemon socket), which is a state
// of the host rather than a fault.
class LibvirtError : public std::runtime_error {
 public:
  LibvirtError(const std::string& what, bool absent) : std::runtime_error(what), absent_(absent) {}
  bool absent() const { return absent_; }

 private:
  bool absent_;
};

class LibvirtClient {
 public:
  virtual ~LibvirtClient() = default;
  // Throws LibvirtError.
  virtual std::vector<DomainStatsRecord> GetAllDomainStats() = 0;
};

// The real client over libvirt's C API: a read-only connection to `uri`, opened on first use and
// re-opened (with backoff from 1 s to 30 s) when libvirtd went away; stats with the NOWAIT flag so
// a domain busy in another job is skipped rather than waited for. A close callback (run by a
// process-wide libvirt event loop thread, started on first use) and keepalive probes every 2 s
// tell it that libvirtd exited or hangs, so the next call reconnects instead of failing first.
std::unique_ptr<LibvirtClient> MakeLibvirtClient(const std::string& uri);

}  // namespace we
