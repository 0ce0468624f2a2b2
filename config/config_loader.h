#pragma once
// Loads the YAML configuration file into a Config (config.h), or reports every error in it.
//
// The file mirrors the flags: `web.listen_address` is `--web.listen-address`, and so on; see
// config/workload_exporter.yml for every key, its default and its meaning. Loading is strict:
//   * an empty file, a file of comments only, and a null document (`~`) mean "all defaults";
//     a section that is present but empty (`web:`) means that section's defaults;
//   * unknown keys, duplicate keys, values of the wrong type, invalid values, YAML syntax errors
//     and more than one YAML document are errors;
//   * every error is collected (not only the first), in document order, each as
//     "file:line:column: key.path: message" (ConfigError::ToString).
//
// All functions are thread-safe; only LoadConfigFromFile touches the file system.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/config_error.h"

namespace we {

struct LoadResult {
  std::optional<Config> config;     // set only when `errors` is empty
  std::vector<ConfigError> errors;  // in document order
  bool ok() const { return config.has_value(); }
};

// Parses YAML text, starting from the defaults of Config{}. `file_name` is used only in error
// messages. Pure: reads nothing from the file system.
LoadResult LoadConfigFromString(const std::string& yaml_text, const std::string& file_name);

// Reads the file at `path`, then parses it with LoadConfigFromString. A missing or unreadable
// file is an error (the user named it): one ConfigError with line 0, e.g.
// "cfg.yml: cannot open: No such file or directory".
LoadResult LoadConfigFromFile(const std::string& path);

// The value checks the loader applies, for the code that lets a flag override a single field
// (report a failure as ConfigError{"<flags>", 0, 0, "web.listen_address", message}).
// Each returns nullopt when the value is acceptable, otherwise the message without the key.
namespace config_checks {

// Bounds of sampling.interval, inclusive. Faster than 100ms costs more CPU than the signal is
// worth (cgroup counters themselves update at tick granularity); slower than 1h makes the idle
// and peak windows meaningless.
inline constexpr std::chrono::milliseconds kMinSamplingInterval{100};
inline constexpr std::chrono::milliseconds kMaxSamplingInterval{60 * 60 * 1000};

// host:port, [ipv6]:port or :port, with a decimal port 0-65535. Syntax only: the host is not
// resolved and the port is not bound here.
std::optional<std::string> CheckListenAddress(std::string_view address);
// Starts with '/', and is not "/" itself (the landing page is served there).
std::optional<std::string> CheckTelemetryPath(std::string_view path);
// Non-empty and absolute (paths.cgroupfs, paths.procfs).
std::optional<std::string> CheckAbsolutePath(std::string_view path);
// Between kMinSamplingInterval and kMaxSamplingInterval inclusive.
std::optional<std::string> CheckSamplingInterval(std::chrono::milliseconds interval);
// Bounds of one idle/peak window, inclusive.
inline constexpr std::chrono::milliseconds kMinWindow{1000};
inline constexpr std::chrono::milliseconds kMaxWindow{24 * 60 * 60 * 1000};
// A window holds at most this many samples (window / sampling.interval): memory is 4 bytes per
// sample per workload, so 86400 samples cost 338 KiB per workload.
inline constexpr long long kMaxWindowSamples = 86400;

// Each window within [kMinWindow, kMaxWindow], no two equal, at least one.
std::optional<std::string> CheckWindows(const std::vector<std::chrono::milliseconds>& windows);
// Each window at most kMaxWindowSamples sampling intervals long (a window shorter than one
// interval holds a single sample).
std::optional<std::string> CheckWindowsAgainstInterval(const std::vector<std::chrono::milliseconds>& windows,
                                                       std::chrono::milliseconds interval);
// In [0, 1).
std::optional<std::string> CheckIdleQuantile(double q);
// Non-negative and finite.
std::optional<std::string> CheckNonNegative(double value);
// Between 1s and 1h.
std::optional<std::string> CheckSettleFor(std::chrono::milliseconds d);
// Between 100ms and 1m (libvirt.timeout).
std::optional<std::string> CheckLibvirtTimeout(std::chrono::milliseconds d);
// Empty (disabled) or a URI with a scheme: "qemu:///system", "test:///default".
std::optional<std::string> CheckLibvirtUri(std::string_view uri);
// debug, info, warn or error.
std::optional<std::string> CheckLogLevel(std::string_view level);
// logfmt or json.
std::optional<std::string> CheckLogFormat(std::string_view format);

}  // namespace config_checks
}  // namespace we
