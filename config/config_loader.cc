#include "config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <utility>

#include "config/duration.h"
#include "config/listen_address.h"
#include "config/probe_target.h"
#include "config/text_file.h"
#include "config/yaml_report.h"

namespace we {
namespace config_checks {
namespace {

using yaml_report::Quote;

std::optional<std::string> OneOf(std::string_view value, std::initializer_list<std::string_view> allowed) {
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
  std::string error;
  if (ParseListenAddress(address, &error)) return std::nullopt;
  return error;
}

std::optional<std::string> CheckTelemetryPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must start with \"/\", got " + Quote(path);
  if (path == "/") return "must not be \"/\": the landing page is served there";
  const auto bad = std::find_if(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#';
  });
  if (bad != path.end()) {
    return "must be a plain URL path without spaces, control characters, \"?\" or \"#\", got " + Quote(path);
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
  return "must be between " + FormatDuration(kMinSamplingInterval) + " and " + FormatDuration(kMaxSamplingInterval) +
         ", got " + FormatDuration(interval);
}

std::optional<std::string> CheckWindows(const std::vector<std::chrono::milliseconds>& windows) {
  if (windows.empty()) return "must list at least one window, as in [1m, 5m, 1h]";
  for (std::size_t i = 0; i < windows.size(); ++i) {
    if (windows[i] < kMinWindow || windows[i] > kMaxWindow) {
      return "each window must be between " + FormatDuration(kMinWindow) + " and " + FormatDuration(kMaxWindow) +
             ", got " + FormatDuration(windows[i]);
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

std::optional<std::string> CheckLogFormat(std::string_view format) { return OneOf(format, {"logfmt", "json"}); }

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
KeySpec Section(std::string_view name, std::vector<KeySpec> children) { return {name, nullptr, std::move(children)}; }

// The value as a string, or an error when it is not a scalar (null included).
std::optional<std::string> ReadScalar(const Entry& entry, std::string_view expected, Reporter& reporter) {
  if (entry.value.IsScalar()) return entry.value.Scalar();
  reporter.Add(entry.ValueMark(), entry.path, "expected " + std::string(expected) + ", got " + Describe(entry.value));
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
Decoder DurationKey(SectionT Config::*section, std::chrono::milliseconds SectionT::*field, DurationCheck check) {
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
        reporter.Add(item.Mark(), entry.path, "expected a duration such as \"5m\", got " + Describe(item));
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

// The keys a probe's `match` may hold besides label_<x>.
constexpr std::string_view kProbeMatchKeys[] = {"name", "id", "runtime", "kind"};

// A duration within a probe, checked against [low, high].
std::optional<std::chrono::milliseconds> ProbeDuration(const Entry& entry, Reporter& reporter,
                                                       std::chrono::milliseconds low, std::chrono::milliseconds high) {
  std::optional<std::string> text = ReadScalar(entry, "a duration such as \"1s\"", reporter);
  if (!text) return std::nullopt;
  const std::optional<std::chrono::milliseconds> value = ParseDuration(*text);
  if (!value) {
    reporter.Add(entry.ValueMark(), entry.path, "invalid duration " + Quote(*text));
    return std::nullopt;
  }
  if (*value < low || *value > high) {
    reporter.Add(
        entry.ValueMark(), entry.path,
        "must be between " + FormatDuration(low) + " and " + FormatDuration(high) + ", got " + FormatDuration(*value));
    return std::nullopt;
  }
  return value;
}

// One entry of `probes:`, at key path `path` ("probes[0]").
std::optional<ProbeConfig> DecodeProbe(const YAML::Node& node, const std::string& path, Reporter& reporter) {
  if (!node.IsMap()) {
    reporter.Add(node.Mark(), path, "expected a mapping with match and http or tcp, got " + Describe(node));
    return std::nullopt;
  }
  ProbeConfig probe;
  bool ok = true, have_target = false, have_match = false, have_expect = false;
  auto fail = [&](const YAML::Mark& mark, const std::string& at, std::string message) {
    reporter.Add(mark, at, std::move(message));
    ok = false;
  };
  yaml_report::ForEachEntry(node, path, reporter, [&](const Entry& entry) {
    const std::string& key = entry.key.Scalar();
    if (key == "match") {
      have_match = true;
      if (!entry.value.IsMap()) {
        fail(entry.ValueMark(), entry.path,
             "expected a mapping such as {name: \"web*\", runtime: docker}, got " + Describe(entry.value));
        return;
      }
      yaml_report::ForEachEntry(entry.value, entry.path, reporter, [&](const Entry& term) {
        const std::string& name = term.key.Scalar();
        const bool known =
            std::find(std::begin(kProbeMatchKeys), std::end(kProbeMatchKeys), name) != std::end(kProbeMatchKeys) ||
            (name.starts_with("label_") && name.size() > 6);
        if (!known) {
          fail(term.key.Mark(), term.path, "unknown key: match on name, id, runtime, kind or label_<name>");
          return;
        }
        if (!term.value.IsScalar()) {
          fail(term.ValueMark(), term.path, "expected a string or glob, got " + Describe(term.value));
          return;
        }
        probe.match.push_back({name, term.value.Scalar()});
      });
    } else if (key == "http" || key == "tcp") {
      if (have_target) {
        fail(entry.key.Mark(), entry.path, "a probe has one target: http or tcp, not both");
        return;
      }
      have_target = true;
      std::optional<std::string> text = ReadScalar(entry, "a target string", reporter);
      if (!text) {
        ok = false;
        return;
      }
      std::string error;
      auto target = ParseProbeTarget(key == "http" ? ProbeTarget::Kind::kHttp : ProbeTarget::Kind::kTcp, *text, &error);
      if (!target) {
        fail(entry.ValueMark(), entry.path, "invalid target " + Quote(*text) + ": " + error);
        return;
      }
      probe.target = std::move(*target);
    } else if (key == "expect_status") {
      have_expect = true;
      std::optional<std::string> text = ReadScalar(entry, "an HTTP status code", reporter);
      int status = 0;
      if (text) {
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), status);
        if (ec != std::errc() || end != text->data() + text->size() || status < 100 || status > 599) status = 0;
      }
      if (status == 0) {
        fail(entry.ValueMark(), entry.path, "expected an HTTP status code from 100 to 599");
        return;
      }
      probe.expect_status = status;
    } else if (key == "interval") {
      if (auto d = ProbeDuration(entry, reporter, std::chrono::seconds(1), std::chrono::hours(1))) {
        probe.interval = *d;
      } else {
        ok = false;
      }
    } else if (key == "timeout") {
      if (auto d = ProbeDuration(entry, reporter, std::chrono::milliseconds(10), std::chrono::seconds(30))) {
        probe.timeout = *d;
      } else {
        ok = false;
      }
    } else {
      fail(entry.key.Mark(), entry.path,
           "unknown key: a probe has match, http or tcp, expect_status, interval, timeout");
    }
  });
  if (!have_match) fail(node.Mark(), path, "missing match: say which workloads to probe, as in {name: \"web*\"}");
  if (!have_target) fail(node.Mark(), path, "missing target: http: \"http://{ip}:PORT/path\" or tcp: \"HOST:PORT\"");
  if (have_expect && have_target && probe.target.kind != ProbeTarget::Kind::kHttp) {
    fail(node.Mark(), path + ".expect_status", "expect_status needs an http target");
  }
  if (!ok) return std::nullopt;
  return probe;
}

// probes: a sequence of probes; each error names its entry ("probes[1].http").
Decoder ProbesKey() {
  return [](const Entry& entry, Reporter& reporter, Config& config) {
    if (entry.value.IsNull()) {
      config.probes.clear();
      return;
    }
    if (!entry.value.IsSequence()) {
      reporter.Add(entry.ValueMark(), entry.path, "expected a sequence of probes, got " + Describe(entry.value));
      return;
    }
    std::vector<ProbeConfig> probes;
    bool ok = true;
    std::size_t index = 0;
    for (const YAML::Node& item : entry.value) {
      auto probe = DecodeProbe(item, entry.path + "[" + std::to_string(index++) + "]", reporter);
      if (probe) {
        probes.push_back(std::move(*probe));
      } else {
        ok = false;
      }
    }
    if (ok) config.probes = std::move(probes);
  };
}

// Every key the file may hold. Keep in step with config.h and config/workload_exporter.yml.
const std::vector<KeySpec>& Schema() {
  using namespace config_checks;
  static const std::vector<KeySpec> schema = {
      Section("web",
              {
                  Leaf("listen_address", StringKey(&Config::web, &WebConfig::listen_address, CheckListenAddress)),
                  Leaf("telemetry_path", StringKey(&Config::web, &WebConfig::telemetry_path, CheckTelemetryPath)),
              }),
      Section("paths",
              {
                  Leaf("cgroupfs", StringKey(&Config::paths, &PathsConfig::cgroupfs, CheckAbsolutePath)),
                  Leaf("procfs", StringKey(&Config::paths, &PathsConfig::procfs, CheckAbsolutePath)),
                  Leaf("rootfs", StringKey(&Config::paths, &PathsConfig::rootfs, CheckAbsolutePath)),
              }),
      Section("sampling",
              {
                  Leaf("interval", DurationKey(&Config::sampling, &SamplingConfig::interval, CheckSamplingInterval)),
              }),
      Section(
          "idle_peak",
          {
              Leaf("windows", WindowsKey()),
              Leaf("idle_quantile",
                   DoubleKey([](Config& c) -> double& { return c.idle_peak.idle_quantile; }, CheckIdleQuantile)),
              Section(
                  "startup",
                  {
                      Leaf("min_cores", DoubleKey([](Config& c) -> double& { return c.idle_peak.startup.min_cores; },
                                                  CheckNonNegative)),
                      Leaf("idle_factor",
                           DoubleKey([](Config& c) -> double& { return c.idle_peak.startup.idle_factor; },
                                     CheckNonNegative)),
                      Leaf("settle_for",
                           NestedDurationKey(
                               [](Config& c) -> std::chrono::milliseconds& { return c.idle_peak.startup.settle_for; },
                               CheckSettleFor)),
                  }),
          }),
      Section("libvirt",
              {
                  Leaf("uri", StringKey(&Config::libvirt, &LibvirtConfig::uri, CheckLibvirtUri)),
                  Leaf("timeout", DurationKey(&Config::libvirt, &LibvirtConfig::timeout, CheckLibvirtTimeout)),
              }),
      Section("labels", {Leaf("allow", LabelAllowKey())}),
      Section("collectors",
              {Section("cgroup",
                       {Leaf("services", BoolKey([](Config& c) -> bool& { return c.collectors.cgroup_services; }))})}),
      Section("log",
              {
                  Leaf("level", StringKey(&Config::log, &LogConfig::level, CheckLogLevel)),
                  Leaf("format", StringKey(&Config::log, &LogConfig::format, CheckLogFormat)),
              }),
      Leaf("probes", ProbesKey()),
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
void FindLeaves(const std::vector<KeySpec>& keys, const std::string& parent, std::string_view name,
                std::vector<std::string>& found) {
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
std::string UnknownKeyMessage(std::string_view name, const std::vector<KeySpec>& siblings, const std::string& parent) {
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
void WalkMapping(const YAML::Node& node, const std::string& parent, const std::vector<KeySpec>& keys,
                 Reporter& reporter, Config& config) {
  yaml_report::ForEachEntry(node, parent, reporter, [&](const Entry& entry) {
    const std::string& name = entry.key.Scalar();
    const std::string& path = entry.path;
    const auto spec = std::find_if(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == name; });
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

}  // namespace

LoadResult LoadConfigFromString(const std::string& yaml_text, const std::string& file_name) {
  Reporter reporter(file_name);
  yaml_report::Documents documents;
  try {
    documents = yaml_report::LoadAtMostTwoDocuments(yaml_text);
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
      reporter.Add(*documents.second, "", "a second YAML document; the configuration must be a single document");
    }
  }

  if (reporter.empty()) {
    // Keys that must agree with each other, once each is valid on its own.
    if (auto problem = config_checks::CheckWindowsAgainstInterval(config.idle_peak.windows, config.sampling.interval)) {
      reporter.Add(YAML::Mark::null_mark(), "idle_peak.windows", std::move(*problem));
    }
  }
  if (!reporter.empty()) return LoadResult{std::nullopt, reporter.Take()};
  return LoadResult{std::move(config), {}};
}

LoadResult LoadConfigFromFile(const std::string& path) {
  std::string error;
  const std::optional<std::string> text = ReadTextFile(path, &error);
  if (!text) {
    // Only a size error says more than errno does: the usual mistake is naming the wrong file.
    if (error.starts_with("file is larger")) error += "; is it really the configuration file?";
    return LoadResult{std::nullopt, {ConfigError{path, 0, 0, "", std::move(error)}}};
  }
  return LoadConfigFromString(*text, path);
}

}  // namespace we
