#include "daemon/app.h"

#include <algorithm>
#include <csignal>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "build_info.h"
#include "collectors/parse.h"
#include "config/config_loader.h"
#include "config/duration.h"
#include "daemon/log.h"
#include "exposition/workloads_json.h"
#include "http/tls_context.h"

namespace we {
namespace {

// How long SIGTERM waits for in-flight scrapes before closing what is left.
constexpr std::chrono::milliseconds kShutdownGrace{800};

double UnixNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

LoadedConfig LoadConfiguration(const Flags& flags) {
  LoadedConfig out;
  Config config;
  if (flags.config_file) {
    LoadResult r = LoadConfigFromFile(*flags.config_file);
    if (!r.ok()) {
      out.errors = std::move(r.errors);
      return out;
    }
    config = *r.config;
  }
  out.errors = ApplyFlags(flags, &config);
  if (out.errors.empty()) {
    // --sampling.interval may have changed what the file's windows were checked against.
    if (auto problem = config_checks::CheckWindowsAgainstInterval(config.idle_peak.windows, config.sampling.interval)) {
      out.errors.push_back(
          ConfigError{flags.config_file.value_or("--sampling.interval"), 0, 0, "idle_peak.windows", *problem});
    }
  }
  HttpSecurity security;
  if (flags.web_config_file) {
    WebSecurityResult web = LoadWebSecurity(*flags.web_config_file);
    if (web.ok()) {
      security = std::move(*web.security);
    } else {
      out.errors.insert(out.errors.end(), web.errors.begin(), web.errors.end());
    }
  }
  if (out.errors.empty()) {
    out.config = std::move(config);
    out.security = std::move(security);
  }
  return out;
}

namespace {

void LogSecurity(const std::optional<std::string>& file, const HttpSecurity& security) {
  if (!file) return;
  spdlog::info("web config {}: TLS {}, basic auth {}", *file, security.tls ? "enabled" : "disabled",
               security.basic_auth_users.empty()
                   ? std::string("disabled")
                   : "for " + std::to_string(security.basic_auth_users.size()) + " user(s)");
}

std::unique_ptr<OpenerClient> MakeOpener(const Flags& flags) {
  if (!flags.opener_socket || flags.opener_socket->empty()) return nullptr;
  spdlog::info("opener {}: asked for the root-only files this user is refused", *flags.opener_socket);
  return std::make_unique<OpenerClient>(*flags.opener_socket);
}

std::unique_ptr<FileSystem> MakeFileSystem(const OpenerClient* opener) {
  if (opener == nullptr) return std::make_unique<RealFileSystem>();
  return std::make_unique<BrokeredFileSystem>(*opener);
}

}  // namespace

SamplerSettings App::SamplerSettingsFor(const Config& config) {
  SamplerSettings settings = SamplerSettingsFrom(config);
  settings.cgroup_descriptors = descriptors_.cgroup_files;
  settings.opener = opener_.get();
  settings.scrape_schedule = &scrape_schedule_;
  settings.probe_results = &probe_results_;
  return settings;
}

App::App(Flags flags, Config config)
    : flags_(std::move(flags)),
      config_(std::move(config)),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      descriptors_(RaiseAndPlanDescriptors(HttpServerOptions{}.max_connections)),
      opener_(MakeOpener(flags_)),
      fs_(MakeFileSystem(opener_.get())),
      sampler_(std::make_unique<Sampler>(*fs_, store_, SamplerSettingsFor(config_))),
      registry_(std::make_shared<prometheus::Registry>()),
      renderer_(store_, BuildInfo{kVersion, kRevision}, {registry_}),
      http_(io_,
            HttpServerOptions{.telemetry_path = config_.web.telemetry_path,
                              .max_connections = descriptors_.http_connections},
            HttpHandlers{.metrics =
                             [this](bool gzip, HttpHandlers::MetricsDone done) {
                               renderer_.CurrentAsync(gzip, std::move(done));  // renders off the loop
                             },
                         .ready = [this] { return sampler_->ready(); },
                         .workloads_json =
                             [this](HttpHandlers::WorkloadsDone done) {
                               workloads_json_.CurrentAsync(std::move(done));  // builds off the loop
                             },
                         .workload_series_json =
                             [this](HttpHandlers::WorkloadsDone done) {
                               // Someone looks: snapshots keep the series for a while (the page
                               // asks again at each refresh), then free them.
                               sampler_->WantSeries(std::chrono::steady_clock::now() + kSeriesKeptFor);
                               workload_series_.CurrentAsync(std::move(done));
                             }}) {
  reload_success_ = &prometheus::BuildGauge()
                         .Name("workload_exporter_config_last_reload_successful")
                         .Help("1 if the last configuration reload (SIGHUP) succeeded, 0 if it kept the old one.")
                         .Register(*registry_)
                         .Add({});
  reload_timestamp_ = &prometheus::BuildGauge()
                           .Name("workload_exporter_config_last_reload_success_timestamp_seconds")
                           .Help("Unix time of the last configuration load that took effect.")
                           .Register(*registry_)
                           .Add({});
  reload_success_->Set(1);
  reload_timestamp_->Set(UnixNow());
  // Each scrape tells the sampler when the next is expected: the figures only a scrape shows are
  // read on the tick before it.
  renderer_.set_scrape_schedule(&scrape_schedule_);
  // After each tick, the renderer's thread renders ahead if a scrape is due before the next one:
  // Prometheus' fixed cadence then finds every body ready.
  // The probes' own addresses check: the daemon's namespace's addresses, from its fib_trie.
  prober_ = std::make_unique<Prober>(io_, probe_results_, [this] {
    std::vector<std::string> out;
    ReadResult trie = fs_->ReadFile(JoinPath(config_.paths.procfs, "self/net/fib_trie"));
    if (trie.ok()) {
      for (uint32_t a : ParseFibTrieLocalAddresses(trie.data)) out.push_back(FormatIpv4(a));
    }
    return out;
  });
  prober_->Configure(config_.probes, config_.sampling.interval);
  sampler_->set_on_publish([this](std::chrono::steady_clock::duration interval) {
    renderer_.PrerenderAsync(interval);
    // The probes run on the main loop: hand it the new snapshot (a pointer, not a copy).
    boost::asio::post(io_, [this] {
      if (stopping_) return;
      if (auto snap = store_.Get()) prober_->Update(*snap);
    });
  });
}

App::~App() {
  sampler_->Stop();
  prober_.reset();  // cancels the probes in flight while io_ still stands
}

int App::Run() {
  if (flags_.web_config_file) {
    // Loaded again (main() checked it moments ago) because App is given only the Config.
    WebSecurityResult web = LoadWebSecurity(*flags_.web_config_file);
    if (!web.ok()) {
      for (const auto& e : web.errors) spdlog::error("{}", e.ToString());
      return 1;
    }
    LogSecurity(flags_.web_config_file, *web.security);
    http_.SetSecurity(std::move(*web.security));
  }
  if (auto err = http_.Listen(config_.web.listen_address)) {
    spdlog::error("cannot listen: {}", *err);
    return 1;
  }
  spdlog::info("workload_exporter {} (revision {}) listening on {} (port {}), metrics at {}, sampling every {}",
               kVersion, kRevision, config_.web.listen_address, http_.port(), config_.web.telemetry_path,
               FormatDuration(config_.sampling.interval));
  spdlog::info("descriptor limit {}: up to {} HTTP connections and {} cgroup files kept open", descriptors_.limit,
               descriptors_.http_connections, descriptors_.cgroup_files);
  sampler_->Start();
  WaitForSignals();
  if (notifier_.enabled()) {
    NotifyWhenReady();
    if (auto period = notifier_.WatchdogInterval()) ScheduleWatchdog(*period / 2);
  }
  io_.run();
  sampler_->Stop();
  spdlog::info("stopped");
  return 0;
}

void App::WaitForSignals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      notifier_.Reloading();
      const bool ok = Reload();
      notifier_.Status(ok ? "configuration reloaded" : "reload failed; the previous configuration keeps running");
      notifier_.Ready();
      WaitForSignals();
      return;
    }
    spdlog::info("received {}, shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
    Shutdown();
  });
}

void App::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  notifier_.Stopping();
  ready_timer_.cancel();
  watchdog_timer_.cancel();
  sampler_->Stop();
  http_.Shutdown(kShutdownGrace, [this] {
    signals_.cancel();
    io_.stop();
  });
}

void App::NotifyWhenReady() {
  if (sampler_->ready()) {
    std::string error;
    if (!notifier_.Ready(&error)) spdlog::warn("{}", error);
    return;
  }
  ready_timer_.expires_after(std::chrono::milliseconds(20));
  ready_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) NotifyWhenReady();
  });
}

void App::ScheduleWatchdog(std::chrono::microseconds period) {
  watchdog_timer_.expires_after(period);
  watchdog_timer_.async_wait([this, period](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    // Only while sampling is healthy: the newest snapshot is at most three intervals old.
    auto snap = store_.Get();
    const double age = snap ? UnixNow() - snap->time_seconds : 1e9;
    const double limit = 3 * std::chrono::duration<double>(config_.sampling.interval).count() + 1;
    if (age <= limit) {
      notifier_.Watchdog();
    } else {
      spdlog::warn("no sample for {:.1f} s; withholding the systemd watchdog ping", age);
    }
    ScheduleWatchdog(period);
  });
}

bool App::Reload() {
  spdlog::info("reloading configuration{}", flags_.config_file ? " from " + *flags_.config_file : "");
  LoadedConfig loaded = LoadConfiguration(flags_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors)
      spdlog::error("reload failed, keeping the running configuration: {}", e.ToString());
    reload_success_->Set(0);
    renderer_.Invalidate();
    return false;
  }
  Config next = *loaded.config;
  // The web config file went through LoadConfiguration too: broken, it failed the reload above
  // with its errors (each naming the file) and the running TLS and users stay in force.
  if (next.web.listen_address != config_.web.listen_address) {
    if (auto err = http_.Listen(next.web.listen_address)) {
      spdlog::error("reload failed, keeping the running configuration: cannot listen: {}", *err);
      reload_success_->Set(0);
      renderer_.Invalidate();
      return false;
    }
  }
  ConfigureLogging(next.log.level, next.log.format);
  http_.set_telemetry_path(next.web.telemetry_path);
  if (flags_.web_config_file) {
    LogSecurity(flags_.web_config_file, *loaded.security);
    http_.SetSecurity(std::move(*loaded.security));  // new certificates, users, a fresh cache
  }
  sampler_->Reconfigure(SamplerSettingsFor(next));
  prober_->Configure(next.probes, next.sampling.interval);
  config_ = std::move(next);
  reload_success_->Set(1);
  reload_timestamp_->Set(UnixNow());
  renderer_.Invalidate();
  spdlog::info("configuration reloaded");
  return true;
}

}  // namespace we
