#pragma once
// The daemon's configuration: plain structs with their defaults. config_loader.h fills them from
// YAML; flags on the command line override single fields afterwards (see config/flags.h).
// This is the one place defaults are set: SamplerSettings and the flags' help read them from here.
// Every default is documented in config/workload_exporter.yml and README.md. Plain values; any
// thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace we {

struct WebConfig {
  // host:port, [v6]:port, or :port for every interface (node_exporter's convention).
  std::string listen_address = ":9746";
  std::string telemetry_path = "/metrics";
};

struct PathsConfig {
  std::string cgroupfs = "/sys/fs/cgroup";
  std::string procfs = "/proc";
  // Prefix of the container runtimes' state files (/var/lib/docker, /run/containerd, ...): "/" on
  // the host, the host's root mounted elsewhere when the daemon runs in a container.
  std::string rootfs = "/";
};

struct CollectorsConfig {
  // Also report systemd services (system.slice/*.service) as workloads, kind="service".
  bool cgroup_services = false;
};

struct LabelsConfig {
  // Container labels exported as label_<name> on workload_info: only those whose name matches one
  // of these (exact, or a glob with '*'). Empty: none, so secrets and high cardinality stay out.
  std::vector<std::string> allow;
};

struct SamplingConfig {
  std::chrono::milliseconds interval{1000};
};

// How idle and peak are computed (README.md, "Idle and peak"). Each window slides over the last
// `window` of samples; idle is the `idle_quantile` of its samples, peak their maximum.
struct StartupConfig {
  // A workload has started up once its per-interval CPU settles at or below
  // max(min_cores, idle_factor x idle CPU of the shortest window): a quiet interval from which
  // the next `settle_for` averages at or below it (WorkloadWindows::FirstQuietRun).
  double min_cores = 0.05;
  double idle_factor = 2.0;
  std::chrono::milliseconds settle_for{10'000};
};

struct IdlePeakConfig {
  std::vector<std::chrono::milliseconds> windows = {std::chrono::minutes(1), std::chrono::minutes(5),
                                                    std::chrono::hours(1)};
  double idle_quantile = 0.10;
  StartupConfig startup;
};

struct LibvirtConfig {
  // libvirt connection URI; empty disables the libvirt collector (VMs are still found as QEMU
  // processes and cgroups).
  std::string uri = "qemu:///system";
  // Deadline for one round of libvirt calls; a late answer is dropped, never waited for.
  std::chrono::milliseconds timeout{2000};
};

struct LogConfig {
  std::string level = "info";     // debug, info, warn, error
  std::string format = "logfmt";  // logfmt or json
};

// Where a ready probe connects (config/probe_target.h parses it from the file's text).
struct ProbeTarget {
  enum class Kind : uint8_t { kHttp, kTcp };
  Kind kind = Kind::kTcp;
  // A literal IPv4 or IPv6 address (no brackets), "localhost", or empty for the workload's own
  // address ({ip} in the file: the first non-loopback IPv4 address of its network namespace).
  std::string host;
  bool workload_ip = false;  // the host is {ip}
  uint16_t port = 0;
  std::string path = "/";  // http: the request target, query included
  std::string text;        // as written, for logs
};

// One term of a probe's `match`: `key` is name, id, runtime, kind or label_<x> (a container
// label, among those labels.allow exports); `glob` is matched with '*' and '?'.
struct ProbeMatchTerm {
  std::string key;
  std::string glob;
};

// One entry of `probes:` (README.md, "Ready probes"). A workload gets the first probe whose every
// match term holds.
struct ProbeConfig {
  std::vector<ProbeMatchTerm> match;
  ProbeTarget target;
  int expect_status = 0;  // http: the one status that succeeds; 0: any 2xx or 3xx
  // After the first success, a probe every `interval` (before it, every sampling interval).
  std::chrono::milliseconds interval{15'000};
  std::chrono::milliseconds timeout{1'000};  // each probe's deadline, connection included
};

struct Config {
  WebConfig web;
  PathsConfig paths;
  SamplingConfig sampling;
  IdlePeakConfig idle_peak;
  LibvirtConfig libvirt;
  LabelsConfig labels;
  CollectorsConfig collectors;
  LogConfig log;
  std::vector<ProbeConfig> probes;  // none by default
};

}  // namespace we
