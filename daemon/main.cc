// workload_exporter: exports the CPU, memory and pressure of every container and VM on this host to
// Prometheus. Defaults for every path live here and in config/config.h, nowhere else.

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "build_info.h"
#include "config/flags.h"
#include "daemon/app.h"
#include "daemon/log.h"
#include "tools/report.h"

int main(int argc, char** argv) {
  // A peer that went away (libvirtd killed mid-call, a scraper that hung up) must be an error
  // return, not a signal that ends the daemon: libvirt's RPC writes with plain write().
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "report") return we::RunReport({args.begin() + 1, args.end()});
  std::string error;
  auto flags = we::ParseFlags(args, &error);
  if (!flags) {
    std::fprintf(stderr, "workload_exporter: %s\n", error.c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(we::UsageText().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("workload_exporter, version %s (revision: %s)\n", we::kVersion, we::kRevision);
    return 0;
  }

  we::LoadedConfig loaded = we::LoadConfiguration(*flags);
  if (flags->check_config) {
    if (!loaded.config) {
      std::fputs(we::FormatErrors(loaded.errors).c_str(), stderr);
      return 1;
    }
    std::printf("%s: configuration is valid\n", flags->config_file.value_or("<defaults>").c_str());
    return 0;
  }
  if (!loaded.config) {
    std::fputs(we::FormatErrors(loaded.errors).c_str(), stderr);
    return 1;
  }
  we::ConfigureLogging(loaded.config->log.level, loaded.config->log.format);
  we::App app(*flags, *loaded.config);
  return app.Run();
}
