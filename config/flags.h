#pragma once
// Command-line flags in node_exporter's style ("--web.listen-address=:9746" or
// "--web.listen-address :9746"). A flag overrides the same setting from the YAML file, on start
// and on every reload. The help text shows config.h's defaults.
//
// Thread-safety: pure functions; any thread.

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_error.h"

namespace we {

struct Flags {
  std::optional<std::string> config_file;
  std::optional<std::string> listen_address;
  std::optional<std::string> telemetry_path;
  // exporter-toolkit's web config file (TLS, basic auth; config/web_config.h). Flag only, as
  // in node_exporter; re-read on SIGHUP.
  std::optional<std::string> web_config_file;
  std::optional<std::string> cgroupfs;
  std::optional<std::string> procfs;
  std::optional<std::string> rootfs;
  std::optional<std::string> sampling_interval;
  std::optional<std::string> libvirt_uri;
  // The opener's socket (opener/, README.md "Privileges"): asked for the root-only files the
  // daemon's user is refused. Flag only, like web_config_file: it belongs to the unit, not to the
  // configuration; absent or empty: no opener.
  std::optional<std::string> opener_socket;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;
  bool check_config = false;
  bool version = false;
  bool help = false;
};

// Parses argv[1..]. Unknown flags, a missing value and stray arguments are errors.
std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error);

// Overrides `config` with the flags that were given, validating each; errors name the flag
// ("--sampling.interval: ...") in ConfigError::file with no position.
std::vector<ConfigError> ApplyFlags(const Flags& flags, Config* config);

std::string UsageText();

}  // namespace we
