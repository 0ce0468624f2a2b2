#include "config/flags.h"

#include "config/config_loader.h"
#include "config/duration.h"

namespace we {
namespace {

struct FlagSpec {
  const char* name;
  std::optional<std::string> Flags::*value;  // null for booleans
  bool Flags::*boolean;
  const char* help;
  // The setting's default as the help shows it, read from a default Config (config.h holds every
  // default); null: the flag has none to show.
  std::string (*shown_default)(const Config&) = nullptr;
};

const std::vector<FlagSpec>& Specs() {
  static const std::vector<FlagSpec> specs = {
      {"config.file", &Flags::config_file, nullptr, "Path to the YAML configuration file (optional)."},
      {"web.listen-address", &Flags::listen_address, nullptr, "Address to listen on, host:port or :port.",
       [](const Config& c) { return c.web.listen_address; }},
      {"web.telemetry-path", &Flags::telemetry_path, nullptr, "Path under which to expose metrics.",
       [](const Config& c) { return c.web.telemetry_path; }},
      {"web.config.file", &Flags::web_config_file, nullptr,
       "Path to a web config file (exporter-toolkit format) for TLS and basic auth; re-read on SIGHUP."},
      {"path.cgroupfs", &Flags::cgroupfs, nullptr, "cgroup filesystem mount point.",
       [](const Config& c) { return c.paths.cgroupfs; }},
      {"path.procfs", &Flags::procfs, nullptr, "procfs mount point.", [](const Config& c) { return c.paths.procfs; }},
      {"path.rootfs", &Flags::rootfs, nullptr, "Root under which container runtimes' state files are read.",
       [](const Config& c) { return c.paths.rootfs; }},
      {"sampling.interval", &Flags::sampling_interval, nullptr, "How often to sample, e.g. 500ms, 1s.",
       [](const Config& c) { return FormatDuration(c.sampling.interval); }},
      {"libvirt.uri", &Flags::libvirt_uri, nullptr, "libvirt URI to read VMs from; empty disables.",
       [](const Config& c) { return c.libvirt.uri; }},
      {"opener.socket", &Flags::opener_socket, nullptr,
       "Socket of workload_exporter_opener, asked for the root-only files this user is refused (memory.peak "
       "read-write, runtime state files); empty: none. The package sets /run/workload_exporter/opener.sock."},
      {"log.level", &Flags::log_level, nullptr, "Log level: debug, info, warn, error.",
       [](const Config& c) { return c.log.level; }},
      {"log.format", &Flags::log_format, nullptr, "Log format: logfmt or json.",
       [](const Config& c) { return c.log.format; }},
      {"check-config", nullptr, &Flags::check_config, "Validate the configuration and exit 0 (valid) or 1."},
      {"version", nullptr, &Flags::version, "Print the version and exit."},
      {"help", nullptr, &Flags::help, "Show this help and exit."},
  };
  return specs;
}

ConfigError FlagError(const std::string& flag, std::string message) {
  ConfigError e;
  e.file = "--" + flag;
  e.message = std::move(message);
  return e;
}

}  // namespace

std::optional<Flags> ParseFlags(const std::vector<std::string>& args, std::string* error) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      flags.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument \"" + arg + "\"";
      return std::nullopt;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : Specs()) {
      if (name == s.name) spec = &s;
    }
    if (spec == nullptr) {
      *error = "unknown flag --" + name + " (see --help)";
      return std::nullopt;
    }
    if (spec->boolean) {
      if (inline_value && *inline_value != "true" && *inline_value != "false") {
        *error = "--" + name + " takes no value other than true or false";
        return std::nullopt;
      }
      flags.*(spec->boolean) = !inline_value || *inline_value == "true";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) {
        *error = "--" + name + " needs a value";
        return std::nullopt;
      }
      inline_value = args[++i];
    }
    flags.*(spec->value) = *inline_value;
  }
  return flags;
}

std::vector<ConfigError> ApplyFlags(const Flags& flags, Config* config) {
  // The same checks as the YAML file's, so a flag cannot smuggle in what the file would refuse.
  namespace checks = config_checks;
  std::vector<ConfigError> errors;
  auto apply = [&](const std::optional<std::string>& flag, const char* name, std::string* field,
                   std::optional<std::string> (*check)(std::string_view)) {
    if (!flag) return;
    if (auto problem = check(*flag)) {
      errors.push_back(FlagError(name, *problem));
      return;
    }
    *field = *flag;
  };
  apply(flags.listen_address, "web.listen-address", &config->web.listen_address, checks::CheckListenAddress);
  apply(flags.telemetry_path, "web.telemetry-path", &config->web.telemetry_path, checks::CheckTelemetryPath);
  apply(flags.cgroupfs, "path.cgroupfs", &config->paths.cgroupfs, checks::CheckAbsolutePath);
  apply(flags.procfs, "path.procfs", &config->paths.procfs, checks::CheckAbsolutePath);
  apply(flags.rootfs, "path.rootfs", &config->paths.rootfs, checks::CheckAbsolutePath);
  apply(flags.libvirt_uri, "libvirt.uri", &config->libvirt.uri, checks::CheckLibvirtUri);
  if (flags.opener_socket && !flags.opener_socket->empty()) {
    if (auto problem = checks::CheckAbsolutePath(*flags.opener_socket)) {
      errors.push_back(FlagError("opener.socket", *problem));
    }
  }
  apply(flags.log_level, "log.level", &config->log.level, checks::CheckLogLevel);
  apply(flags.log_format, "log.format", &config->log.format, checks::CheckLogFormat);
  if (flags.sampling_interval) {
    auto d = ParseDuration(*flags.sampling_interval);
    if (!d) {
      errors.push_back(FlagError("sampling.interval",
                                 "invalid duration \"" + *flags.sampling_interval + "\" (use e.g. 500ms, 1s, 1m)"));
    } else if (auto problem = checks::CheckSamplingInterval(*d)) {
      errors.push_back(FlagError("sampling.interval", *problem));
    } else {
      config->sampling.interval = *d;
    }
  }
  return errors;
}

std::string UsageText() {
  std::string out =
      "usage: workload_exporter [flags]\n\n"
      "Exports the CPU, memory and pressure of every container and VM on this host to Prometheus.\n\n"
      "Flags:\n";
  const Config defaults;
  for (const auto& s : Specs()) {
    std::string left = std::string("  --") + s.name + (s.value ? "=VALUE" : "");
    if (left.size() < 32) left.resize(32, ' ');
    out += left + " " + s.help;
    if (s.shown_default != nullptr) out += " Default " + s.shown_default(defaults) + ".";
    out += "\n";
  }
  return out;
}

}  // namespace we
