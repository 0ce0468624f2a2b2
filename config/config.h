#pragma once
// The daemon's configuration: plain structs with their defaults. config_loader.h fills them from
// YAML; flags on the command line override single fields afterwards (see daemon/flags.h).
// Every default here is documented in config/workload_exporter.yml and README.md.

#include <chrono>
#include <string>

namespace we {

struct WebConfig {
  // host:port, [v6]:port, or :port for every interface (node_exporter's convention).
  std::string listen_address = ":9746";
  std::string telemetry_path = "/metrics";
};

struct PathsConfig {
  std::string cgroupfs = "/sys/fs/cgroup";
  std::string procfs = "/proc";
};

struct SamplingConfig {
  std::chrono::milliseconds interval{1000};
};

struct LogConfig {
  std::string level = "info";     // debug, info, warn, error
  std::string format = "logfmt";  // logfmt or json
};

struct Config {
  WebConfig web;
  PathsConfig paths;
  SamplingConfig sampling;
  LogConfig log;
};

}  // namespace we
