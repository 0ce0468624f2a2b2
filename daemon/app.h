#pragma once
// App wires the daemon together from a Config: the sampler (its own thread), the SnapshotStore,
// the metrics renderer, the /api/v1/workloads cache and the HTTP server (on the main io_context),
// and the signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the configuration (a broken file
// keeps the old one).
//
// Ownership: App owns every part and the io_context they share; the parts hold references to
// each other (the sampler to fs_ and store_, the renderer and the workloads cache to store_, the
// server's handlers to the renderer, the cache and the sampler), so they are members in the order
// they are built and destroyed.
// One App per process: it raises RLIMIT_NOFILE and installs signal handlers.
//
// Thread-safety: construct, Run and destroy on the main thread. Run's io_context runs on that
// thread too, so Reload (from SIGHUP) and every HTTP handler are called there; the sampler's
// thread only publishes snapshots to store_ and posts to the io_context.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "collectors/file_system.h"
#include "collectors/opener_client.h"
#include "config/config.h"
#include "config/flags.h"
#include "daemon/descriptor_budget.h"
#include "daemon/sd_notify.h"
#include "exposition/renderer.h"
#include "exposition/workloads_json.h"
#include "http/server.h"
#include "pipeline/probe_results.h"
#include "pipeline/prober.h"
#include "pipeline/sampler.h"
#include "pipeline/snapshot.h"

namespace we {

// Loads the file named by --config.file (defaults when none), then applies the flags. The file
// named by --web.config.file is loaded too (certificates included), so that --check-config and
// the start fail on a broken one; `security` is what it turns on.
struct LoadedConfig {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  std::optional<HttpSecurity> security;  // set with `config` (default: plain HTTP, no auth)
};
LoadedConfig LoadConfiguration(const Flags& flags);

class App {
 public:
  App(Flags flags, Config config);
  ~App();

  // Binds, starts sampling and serves until SIGTERM or SIGINT. Returns the process exit code.
  int Run();

  // What SIGHUP does. Returns true when the new configuration took effect.
  bool Reload();

 private:
  void WaitForSignals();
  void Shutdown();
  // systemd's notify protocol: READY=1 once the first sample is published, WATCHDOG=1 while
  // samples keep coming (see systemd/workload_exporter.service).
  void NotifyWhenReady();
  void ScheduleWatchdog(std::chrono::microseconds period);
  // The sampler's settings: the configuration's, and the descriptor budget's share.
  SamplerSettings SamplerSettingsFor(const Config& config);

  Flags flags_;
  Config config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  DescriptorPlan descriptors_;  // planned once: a reload does not change RLIMIT_NOFILE
  // --opener.socket: its client, and the filesystem that asks it for what the daemon's user is
  // refused; without the flag, no client and the real filesystem.
  std::unique_ptr<OpenerClient> opener_;
  ScrapeSchedule scrape_schedule_;  // before the sampler and the renderer, which hold it
  std::unique_ptr<FileSystem> fs_;
  SnapshotStore store_;
  ProbeResultsStore probe_results_;  // before the sampler, which reads it, and the prober
  std::unique_ptr<Sampler> sampler_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* reload_success_ = nullptr;
  prometheus::Gauge* reload_timestamp_ = nullptr;
  MetricsRenderer renderer_;
  WorkloadsJsonCache workloads_json_{store_};  // before http_, whose handler uses it
  WorkloadsJsonCache workload_series_{store_, WorkloadSeriesJson};
  // How long after a request for /api/v1/workloads/series the snapshots keep the series.
  static constexpr std::chrono::minutes kSeriesKeptFor{5};
  HttpServer http_;
  // The ready probes, on io_ (after it, so that its sockets close first); fed each snapshot.
  std::unique_ptr<Prober> prober_;
  SdNotifier notifier_ = SdNotifier::FromEnvironment();
  boost::asio::steady_timer ready_timer_{io_};
  boost::asio::steady_timer watchdog_timer_{io_};
  bool stopping_ = false;
};

}  // namespace we
