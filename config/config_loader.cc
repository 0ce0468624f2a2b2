#include "config/config_loader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <functional>
#include <map>
#include <sstream>
#include <system_error>
#include <utility>
#include <variant>

#include "config/duration.h"
#include "config/yaml_report.h"

namespace we {
namespace config_checks {
namespace {

constexpr std::string_view kListenForms = "expected host:port, [ipv6]:port or :port";

using yaml_report::Quote;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Host names and IPv4 addresses; '_' because some resolvers allow it.
bool IsHostChar(char c) { return IsAlnum(c) || c == '.' || c == '-' || c == '_'; }
// The inside of [...]: an IPv6 address (possibly with an embedded IPv4 one).
bool IsIpv6Char(char c) { return IsHex(c) || c == ':' || c == '.'; }

std::string BadListenAddress(std::string_view address, std::string_view reason) {
  return "invalid listen address " + Quote(address) + ": " + std::string(reason);
}

std::optional<std::string> OneOf(std::string_view value,
                                 std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return std::nullopt;
  std::string message = "invalid value " + Quote(value) + ": must be one of ";
  for (auto it = allowed.begin(); it != allowed.end(); ++it) {
    if (it != allowed.begin()) message += ", ";
    message += *it;
  }
  return message;
}

}  // namespace

std::optional<std::string> CheckListenAddress(std::string_view address) {
  if (address.empty()) return "must not be empty (" + std::string(kListenForms) + ")";

  std::string_view host;
  std::string_view rest;  // ":port"
  if (address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return BadListenAddress(address, "missing \"]\" after the IPv6 address");
    }
    host = address.substr(1, close - 1);
    rest = address.substr(close + 1);
    if (host.empty()) return BadListenAddress(address, "empty IPv6 address in brackets");
    // An IPv6 address, optionally with a zone: "fe80::1%eth0".
    const std::size_t percent = host.find('%');
    const std::string_view ip = host.substr(0, percent);
    in6_addr v6{};
    if (!std::all_of(ip.begin(), ip.end(), IsIpv6Char) || ip.find(':') == std::string_view::npos ||
        ::inet_pton(AF_INET6, std::string(ip).c_str(), &v6) != 1) {
      return BadListenAddress(address, "invalid IPv6 address in brackets");
    }
    if (percent != std::string_view::npos) {
      const std::string_view zone = host.substr(percent + 1);
      if (zone.empty() || !std::all_of(zone.begin(), zone.end(), IsHostChar)) {
        return BadListenAddress(address, "invalid IPv6 zone in brackets");
      }
    }
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return BadListenAddress(address, "missing port (" + std::string(kListenForms) + ")");
    }
    host = address.substr(0, colon);
    rest = address.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      return BadListenAddress(address,
                              "too many colons; put an IPv6 address in brackets, as in "
                              "\"[::1]:9746\"");
    }
    const auto bad = std::find_if_not(host.begin(), host.end(), IsHostChar);
    if (bad != host.end()) {
      return BadListenAddress(address, "invalid character " + Quote(std::string_view(&*bad, 1)) +
                                           " in the host");
    }
    // Digits and dots only is an IPv4 address, and must be a valid one ("999.0.0.1" is not a
    // host name either).
    if (!host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return IsDigit(c) || c == '.'; })) {
      in_addr v4{};
      if (::inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
        return BadListenAddress(address, "invalid IPv4 address " + Quote(host));
      }
    }
  }

  if (rest.empty() || rest.front() != ':' || rest.size() == 1) {
    return BadListenAddress(address, "missing port (" + std::string(kListenForms) + ")");
  }
  const std::string_view port = rest.substr(1);
  if (!std::all_of(port.begin(), port.end(), IsDigit)) {
    return BadListenAddress(address, "port " + Quote(port) + " is not a number");
  }
  // Leading zeros are harmless; compare the value without risking overflow.
  const std::string_view digits = port.substr(std::min(port.find_first_not_of('0'), port.size()));
  if (digits.size() > 5 || (digits.size() == 5 && digits > "65535")) {
    return BadListenAddress(address, "port " + std::string(port) + " is out of range 0-65535");
  }
  return std::nullopt;
}

std::optional<std::string> CheckTelemetryPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must start with \"/\", got " + Quote(path);
  if (path == "/") return "must not be \"/\": the landing page is served there";
  const auto bad = std::find_if(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#';
  });
  if (bad != path.end()) {
    return "must be a plain URL path without spaces, control characters, \"?\" or \"#\", got " +
           Quote(path);
  }
  return std::nullopt;
}

std::optional<std::string> CheckAbsolutePath(std::string_view path) {
  if (path.empty()) return "must not be empty";
  if (path.front() != '/') return "must be an absolute path, got " + Quote(path);
  return std::nullopt;
}

std::optional<std::string> CheckSamplingInterval(std::chrono::milliseconds interval) {
  if (interval >= kMinSamplingInterval && interval <= kMaxSamplingInterval) return std::nullopt;
  return "must be between " + FormatDuration(kMinSamplingInterval) + " and " +
         FormatDuration(kMaxSamplingInterval) + ", got " + FormatDuration(interval);
}

std::optional<std::string> CheckWindows(const std::vector<std::chrono::milliseconds>& windows) {
  if (windows.empty()) return "must list at least one window, as in [1m, 5m, 1h]";
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (windows[i] < kMinWindow || windows[i] > kMaxWindow) {
      return "each window must be between " + FormatDuration(kMinWindow) + " and " +
             FormatDuration(kMaxWindow) + ", got " + FormatDuration(windows[i]);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (windows[j] == windows[i]) return "window " + FormatDuration(windows[i]) + " is listed twice";
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckWindowsAgainstInterval(const std::vector<std::chrono::milliseconds>& windows,
                                                       std::chrono::milliseconds interval) {
  for (const auto w : windows) {
    if (interval.count() > 0 && w.count() / interval.count() > kMaxWindowSamples) {
      return "window " + FormatDuration(w) + " holds more than " + std::to_string(kMaxWindowSamples) +
             " samples at sampling.interval " + FormatDuration(interval);
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckIdleQuantile(double q) {
  if (q >= 0 && q < 1) return std::nullopt;
  return "must be at least 0 and less than 1, got " + std::to_string(q);
}

std::optional<std::string> CheckNonNegative(double value) {
  if (value >= 0 && value < 1e12) return std::nullopt;
  return "must be a non-negative number, got " + std::to_string(value);
}

std::optional<std::string> CheckSettleFor(std::chrono::milliseconds d) {
  if (d >= std::chrono::seconds(1) && d <= std::chrono::hours(1)) return std::nullopt;
  return "must be between 1s and 1h, got " + FormatDuration(d);
}

std::optional<std::string> CheckLibvirtTimeout(std::chrono::milliseconds d) {
  if (d >= std::chrono::milliseconds(100) && d <= std::chrono::minutes(1)) return std::nullopt;
  return "must be between 100ms and 1m, got " + FormatDuration(d);
}

std::optional<std::string> CheckLibvirtUri(std::string_view uri) {
  if (uri.empty()) return std::nullopt;
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return "invalid URI " + Quote(uri) + ": expected a scheme as in \"qemu:///system\" (or empty to disable)";
  }
  return std::nullopt;
}

std::optional<std::string> CheckLogLevel(std::string_view level) {
  return OneOf(level, {"debug", "info", "warn", "error"});
}

std::optional<std::string> CheckLogFormat(std::string_view format) {
  return OneOf(format, {"logfmt", "json"});
}

}  // namespace config_checks

namespace {

using yaml_report::Describe;
using yaml_report::Entry;
using yaml_report::OneBased;
using yaml_report::Quote;
using yaml_report::Reporter;

// Decodes and validates one value into `config`, or reports why it cannot.
using Decoder = std::function<void(const Entry& entry, Reporter& reporter, Config& config)>;

// A key of the configuration: a leaf with a decoder, or a section holding further keys.
// Adding a key is one line in Schema() below; adding a section is one Section(...) there.
struct KeySpec {
  std::string_view name;
  Decoder decode;                 // leaves only
  std::vector<KeySpec> children;  // sections only
  bool is_section() const { return !decode; }
};

KeySpec Leaf(std::string_view name, Decoder decode) { return {name, std::move(decode), {}}; }
KeySpec Section(std::string_view name, std::vector<KeySpec> children) {
  return {name, nullptr, std::move(children)};
}

// The value as a string, or an error when it is not a scalar (null included).
std::optional<std::string> ReadScalar(const Entry& entry, std::string_view expected,
                                      Reporter& reporter) {
  if (entry.value.IsScalar()) return entry.value.Scalar();
  reporter.Add(entry.ValueMark(), entry.path,
               "expected " + std::string(expected) + ", got " + Describe(entry.value));
  return std::nullopt;
}

using StringCheck = std::optional<std::string> (*)(std::string_view);
using DurationCheck = std::optional<std::string> (*)(std::chrono::milliseconds);

// A string key stored in `(config.*section).*field` once `check` accepts it.
template <typename SectionT>
Decoder StringKey(SectionT Config::*section, std::string SectionT::*field, StringCheck check) {
  return [=](const Entry& entry, Reporter& reporter, Config& config) {
    std::optional<std::string> value = ReadScalar(entry, "a string", reporter);
    if (!value) return;
    if (std::optional<std::string> problem = check(*value)) {
      reporter.Add(entry.ValueMark(), entry.path, std::move(*problem));
      return;
    }
    (config.*section).*field = std::move(*value);
  };
}

// A Prometheus duration ("30s", "1m30s") stored once it parses and `check` accepts it.
template <typename SectionT>
Decoder DurationKey(SectionT Config::*section, std::chrono::milliseconds SectionT::*field,
                    DurationCheck check) {
  return [=](const Entry& entry, Reporter& reporter, Config& config) {
    std::optional<std::string> text = ReadScalar(entry, "a duration such as \"1s\"", reporter);
    if (!text) return;
    const std::optional<std::chrono::milliseconds> value = ParseDuration(*text);
    if (!value) {
      reporter.Add(entry.ValueMark(), entry.path,
                   "invalid duration " + Quote(*text) +
                       ": expected a number and a unit (ms, s, m, h, d, w, y), as in \"500ms\", "
                       "\"1s\" or \"1m30s\"");
      return;
    }
    if (std::optional<std::string> problem = check(*value)) {
      reporter.Add(entry.ValueMark(), entry.path, std::move(*problem));
      return;
    }
    (config.*section).*field = *value;
  };
}

using DoubleCheck = std::optional<std::string> (*)(double);

// A number stored once it parses fully and `check` accepts it.
Decoder DoubleKey(std::function<double&(Config&)> field, DoubleCheck check) {
  return [=](const Entry& entry, Reporter& reporter, Config& config) {
    std::optional<std::string> text = ReadScalar(entry, "a number", reporter);
    if (!text) return;
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || errno != 0 || value != value) {
      reporter.Add(entry.ValueMark(), entry.path, "expected a number, got " + Quote(*text));
      return;
    }
    if (std::optional<std::string> problem = check(value)) {
      reporter.Add(entry.ValueMark(), entry.path, std::move(*problem));
      return;
    }
    field(config) = value;
  };
}

// A duration stored through an accessor, for keys nested deeper than one section.
Decoder NestedDurationKey(std::function<std::chrono::milliseconds&(Config&)> field, DurationCheck check) {
  return [=](const Entry& entry, Reporter& reporter, Config& config) {
    std::optional<std::string> text = ReadScalar(entry, "a duration such as \"1s\"", reporter);
    if (!text) return;
    const std::optional<std::chrono::milliseconds> value = ParseDuration(*text);
    if (!value) {
      reporter.Add(entry.ValueMark(), entry.path, "invalid duration " + Quote(*text));
      return;
    }
    if (std::optional<std::string> problem = check(*value)) {
      reporter.Add(entry.ValueMark(), entry.path, std::move(*problem));
      return;
    }
    field(config) = *value;
  };
}

// A sequence of durations ("[1m, 5m, 1h]"); each element's error points at that element.
Decoder WindowsKey() {
  return [](const Entry& entry, Reporter& reporter, Config& config) {
    if (!entry.value.IsSequence()) {
      reporter.Add(entry.ValueMark(), entry.path,
                   "expected a sequence of durations such as [1m, 5m, 1h], got " + Describe(entry.value));
      return;
    }
    std::vector<std::chrono::milliseconds> windows;
    bool ok = true;
    for (const YAML::Node& item : entry.value) {
      std::optional<std::chrono::milliseconds> d;
      if (item.IsScalar()) d = ParseDuration(item.Scalar());
      if (!d) {
        reporter.Add(item.Mark(), entry.path,
                     "expected a duration such as \"5m\", got " + Describe(item));
        ok = false;
        continue;
      }
      windows.push_back(*d);
    }
    if (!ok) return;
    if (std::optional<std::string> problem = config_checks::CheckWindows(windows)) {
      reporter.Add(entry.ValueMark(), entry.path, std::move(*problem));
      return;
    }
    config.idle_peak.windows = std::move(windows);
  };
}

// true or false (YAML 1.2 spellings only: no "yes"/"on").
Decoder BoolKey(std::function<bool&(Config&)> field) {
  return [=](const Entry& entry, Reporter& reporter, Config& config) {
    std::optional<std::string> text = ReadScalar(entry, "true or false", reporter);
    if (!text) return;
    if (*text == "true") {
      field(config) = true;
    } else if (*text == "false") {
      field(config) = false;
    } else {
      reporter.Add(entry.ValueMark(), entry.path, "expected true or false, got " + Quote(*text));
    }
  };
}

// labels.allow: a sequence of label names or globs.
Decoder LabelAllowKey() {
  return [](const Entry& entry, Reporter& reporter, Config& config) {
    if (!entry.value.IsSequence()) {
      reporter.Add(entry.ValueMark(), entry.path,
                   "expected a sequence of label names such as [app, \"com.example.*\"], got " + Describe(entry.value));
      return;
    }
    std::vector<std::string> allow;
    for (const YAML::Node& item : entry.value) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        reporter.Add(item.Mark(), entry.path, "expected a label name, got " + Describe(item));
        return;
      }
      allow.push_back(item.Scalar());
    }
    config.labels.allow = std::move(allow);
  };
}

// Every key the file may hold. Keep in step with config.h and config/workload_exporter.yml.
const std::vector<KeySpec>& Schema() {
  using namespace config_checks;
  static const std::vector<KeySpec> schema = {
      Section("web",
              {
                  Leaf("listen_address",
                       StringKey(&Config::web, &WebConfig::listen_address, CheckListenAddress)),
                  Leaf("telemetry_path",
                       StringKey(&Config::web, &WebConfig::telemetry_path, CheckTelemetryPath)),
              }),
      Section("paths",
              {
                  Leaf("cgroupfs", StringKey(&Config::paths, &PathsConfig::cgroupfs,
                                             CheckAbsolutePath)),
                  Leaf("procfs",
                       StringKey(&Config::paths, &PathsConfig::procfs, CheckAbsolutePath)),
                  Leaf("rootfs",
                       StringKey(&Config::paths, &PathsConfig::rootfs, CheckAbsolutePath)),
              }),
      Section("sampling",
              {
                  Leaf("interval", DurationKey(&Config::sampling, &SamplingConfig::interval,
                                               CheckSamplingInterval)),
              }),
      Section("idle_peak",
              {
                  Leaf("windows", WindowsKey()),
                  Leaf("idle_quantile",
                       DoubleKey([](Config& c) -> double& { return c.idle_peak.idle_quantile; },
                                 CheckIdleQuantile)),
                  Section("startup",
                          {
                              Leaf("min_cores",
                                   DoubleKey([](Config& c) -> double& { return c.idle_peak.startup.min_cores; },
                                             CheckNonNegative)),
                              Leaf("idle_factor",
                                   DoubleKey([](Config& c) -> double& { return c.idle_peak.startup.idle_factor; },
                                             CheckNonNegative)),
                              Leaf("settle_for",
                                   NestedDurationKey(
                                       [](Config& c) -> std::chrono::milliseconds& {
                                         return c.idle_peak.startup.settle_for;
                                       },
                                       CheckSettleFor)),
                          }),
              }),
      Section("libvirt",
              {
                  Leaf("uri", StringKey(&Config::libvirt, &LibvirtConfig::uri, CheckLibvirtUri)),
                  Leaf("timeout", DurationKey(&Config::libvirt, &LibvirtConfig::timeout, CheckLibvirtTimeout)),
              }),
      Section("labels", {Leaf("allow", LabelAllowKey())}),
      Section("collectors", {Section("cgroup", {Leaf("services", BoolKey([](Config& c) -> bool& {
                                                   return c.collectors.cgroup_services;
                                                 }))})}),
      Section("log",
              {
                  Leaf("level", StringKey(&Config::log, &LogConfig::level, CheckLogLevel)),
                  Leaf("format", StringKey(&Config::log, &LogConfig::format, CheckLogFormat)),
              }),
  };
  return schema;
}


// Edit distance counting a swap of neighbours as one edit (optimal string alignment).
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// Every leaf whose own name is `name`, as a full key path: for a key put in the wrong section.
void FindLeaves(const std::vector<KeySpec>& keys, const std::string& parent,
                std::string_view name, std::vector<std::string>& found) {
  for (const KeySpec& key : keys) {
    if (key.is_section()) {
      FindLeaves(key.children, yaml_report::JoinKeyPath(parent, key.name), name, found);
    } else if (key.name == name) {
      found.push_back(yaml_report::JoinKeyPath(parent, key.name));
    }
  }
}

// "unknown key", with the nearest known key when one is close: a sibling with a typo
// ("lsten_address") or the same key in another section ("level" under web).
std::string UnknownKeyMessage(std::string_view name, const std::vector<KeySpec>& siblings,
                              const std::string& parent) {
  std::string best;
  std::size_t best_distance = 0;
  for (const KeySpec& sibling : siblings) {
    const std::size_t distance = EditDistance(name, sibling.name);
    const std::size_t allowed = sibling.name.size() <= 4 ? 1 : 2;
    if (distance <= allowed && (best.empty() || distance < best_distance)) {
      best = yaml_report::JoinKeyPath(parent, sibling.name);
      best_distance = distance;
    }
  }
  if (best.empty()) {
    std::vector<std::string> elsewhere;
    FindLeaves(Schema(), "", name, elsewhere);
    if (elsewhere.size() == 1) best = elsewhere.front();
  }
  if (best.empty()) return "unknown key";
  return "unknown key (did you mean \"" + best + "\"?)";
}

// Walks the mapping `node` at key path `parent` against `keys`: every key must be a scalar,
// appear once and be known; each value goes to its decoder or, for a section, is walked in turn.
void WalkMapping(const YAML::Node& node, const std::string& parent,
                 const std::vector<KeySpec>& keys, Reporter& reporter, Config& config) {
  yaml_report::ForEachEntry(node, parent, reporter, [&](const Entry& entry) {
    const std::string& name = entry.key.Scalar();
    const std::string& path = entry.path;
    const auto spec = std::find_if(keys.begin(), keys.end(),
                                   [&](const KeySpec& k) { return k.name == name; });
    if (spec == keys.end()) {
      reporter.Add(entry.key.Mark(), path, UnknownKeyMessage(name, keys, parent));
      return;
    }

    if (!spec->is_section()) {
      spec->decode(entry, reporter, config);
    } else if (entry.value.IsMap()) {
      WalkMapping(entry.value, path, spec->children, reporter, config);
    } else if (!entry.value.IsNull()) {  // `web:` with nothing under it keeps the section's defaults
      reporter.Add(entry.ValueMark(), path, "expected a mapping, got " + Describe(entry.value));
    }
  });
}

// The only code here that touches the file system. Returns the file's text, or the error.
std::variant<std::string, ConfigError> ReadConfigFile(const std::string& path) {
  // A configuration is a few kilobytes; refuse to swallow a device or a log file named by mistake.
  constexpr std::size_t kMaxBytes = 1 << 20;
  const auto failure = [&](std::string_view what, int error_number) {
    return ConfigError{path, 0, 0, "",
                       std::string(what) + ": " +
                           std::error_code(error_number, std::generic_category()).message()};
  };

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure("cannot open", errno);
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      ::close(fd);
      return failure("cannot read", error_number);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxBytes) {
      ::close(fd);
      return ConfigError{path, 0, 0, "",
                         "file is larger than " + std::to_string(kMaxBytes >> 20) +
                             " MiB; is it really the configuration file?"};
    }
  }
  ::close(fd);
  return text;
}

// Where each document starts; the events themselves are not needed.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

// The first document, and a null node standing for a second one (at its mark) if there is one.
// Not YAML::LoadAll: yaml-cpp 0.7's LoadAll never returns on some inputs (a lone ",": upstream
// bug 1040, found by tests/fuzz), while each HandleNextDocument call does; two are all we need.
struct Documents {
  std::optional<YAML::Node> first;
  std::optional<YAML::Mark> second;  // where a second document starts, if there is one
};

Documents LoadAtMostTwoDocuments(const std::string& text) {
  Documents out;
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.starts.empty()) return out;
  out.first = YAML::Load(text);
  if (counter.starts.size() > 1) out.second = counter.starts[1];
  return out;
}

}  // namespace

LoadResult LoadConfigFromString(const std::string& yaml_text, const std::string& file_name) {
  Reporter reporter(file_name);
  Documents documents;
  try {
    documents = LoadAtMostTwoDocuments(yaml_text);
  } catch (const YAML::Exception& e) {  // ParserException, and DeepRecursion for deep nesting
    reporter.Add(e.mark, "", "invalid YAML: " + e.msg);
    return LoadResult{std::nullopt, reporter.Take()};
  }

  Config config;
  // No document at all (empty, or comments only) and a null document both mean "all defaults".
  if (documents.first) {
    const YAML::Node& root = *documents.first;
    if (root.IsMap()) {
      WalkMapping(root, "", Schema(), reporter, config);
    } else if (!root.IsNull()) {
      reporter.Add(root.Mark(), "", "expected a mapping at the top level, got " + Describe(root));
    }
    if (documents.second) {
      reporter.Add(*documents.second, "",
                   "a second YAML document; the configuration must be a single document");
    }
  }

  if (reporter.empty()) {
    // Keys that must agree with each other, once each is valid on its own.
    if (auto problem = config_checks::CheckWindowsAgainstInterval(config.idle_peak.windows,
                                                                  config.sampling.interval)) {
      reporter.Add(YAML::Mark::null_mark(), "idle_peak.windows", std::move(*problem));
    }
  }
  if (!reporter.empty()) return LoadResult{std::nullopt, reporter.Take()};
  return LoadResult{std::move(config), {}};
}

LoadResult LoadConfigFromFile(const std::string& path) {
  std::variant<std::string, ConfigError> text = ReadConfigFile(path);
  if (auto* error = std::get_if<ConfigError>(&text)) {
    return LoadResult{std::nullopt, {std::move(*error)}};
  }
  return LoadConfigFromString(std::get<std::string>(text), path);
}

}  // namespace we
