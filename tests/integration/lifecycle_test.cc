// The daemon's life as an operator sees it: --check-config, SIGHUP with a good and a broken file,
// SIGTERM. Each runs the real binary.

#include <signal.h>
#include <sys/wait.h>

#include <fstream>

#include <gtest/gtest.h>

#include "test_util/daemon_process.h"
#include "test_util/http_get.h"
#include "test_util/prom_text.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

int RunToExit(const std::vector<std::string>& args, std::string* err) {
  DaemonProcess p(WE_DAEMON_BINARY, args);
  auto status = p.Wait(10s);
  *err = p.Stderr();
  if (!status || !WIFEXITED(*status)) return -1;
  return WEXITSTATUS(*status);
}

TEST(Lifecycle, CheckConfig) {
  TempTree t;
  t.Write("good.yml", "sampling:\n  interval: 2s\nlog:\n  level: debug\n");
  t.Write("bad.yml", "sampling:\n  interval: soon\nweb:\n  listen_adress: \":1\"\n");
  std::string err;
  EXPECT_EQ(RunToExit({"--config.file=" + t.Path("good.yml"), "--check-config"}, &err), 0) << err;
  EXPECT_EQ(RunToExit({"--config.file=" + t.Path("bad.yml"), "--check-config"}, &err), 1);
  // Every error at once, each naming file:line:column and the key.
  EXPECT_NE(err.find(t.Path("bad.yml") + ":2:13: sampling.interval:"), std::string::npos) << err;
  EXPECT_NE(err.find(t.Path("bad.yml") + ":4:3: web.listen_adress:"), std::string::npos) << err;
  EXPECT_EQ(RunToExit({"--config.file=" + t.Path("missing.yml"), "--check-config"}, &err), 1);
  EXPECT_NE(err.find(t.Path("missing.yml")), std::string::npos) << err;
  EXPECT_EQ(RunToExit({"--sampling.interval=fast", "--check-config"}, &err), 1);
  EXPECT_NE(err.find("--sampling.interval"), std::string::npos) << err;
  EXPECT_EQ(RunToExit({"--no-such-flag"}, &err), 2);
  EXPECT_EQ(RunToExit({"--version"}, &err), 0);
}

TEST(Lifecycle, ReloadAppliesGoodConfigAndKeepsOldOnBrokenOne) {
  TempTree t;
  const uint16_t port = PickFreePort();
  const std::string listen = "web:\n  listen_address: \"127.0.0.1:" + std::to_string(port) + "\"\n";
  t.Write("c.yml", listen + "  telemetry_path: /metrics\nsampling:\n  interval: 500ms\n");
  DaemonProcess daemon(WE_DAEMON_BINARY, {"--config.file=" + t.Path("c.yml")});
  ASSERT_TRUE(WaitReady(port, 10s)) << daemon.Stderr();
  ASSERT_EQ(HttpGet("127.0.0.1", port, "/metrics")->status, 200);

  // A valid change takes effect without a restart.
  t.Write("c.yml", listen + "  telemetry_path: /custom\nsampling:\n  interval: 500ms\n");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitHttpOk(port, "/custom", 5s)) << daemon.Stderr();
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/metrics")->status, 404);

  // A broken file is logged with its errors and the running configuration stays.
  t.Write("c.yml", listen + "  telemetry_path: /other\nsampling:\n  interval: -1s\n  bogus: 1\n");
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return daemon.Stderr().find("reload failed") != std::string::npos; }, 5s))
      << daemon.Stderr();
  std::string log = daemon.Stderr();
  EXPECT_NE(log.find(t.Path("c.yml") + ":5:13: sampling.interval:"), std::string::npos) << log;
  EXPECT_NE(log.find(t.Path("c.yml") + ":6:3: sampling.bogus:"), std::string::npos) << log;
  auto r = HttpGet("127.0.0.1", port, "/custom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(HttpGet("127.0.0.1", port, "/other")->status, 404);
  // The failure is visible to Prometheus too (after the next tick re-renders).
  EXPECT_TRUE(WaitFor(
      [&] {
        auto m = HttpGet("127.0.0.1", port, "/custom");
        return m && FindValue(ParsePromText(m->body), "workload_exporter_config_last_reload_successful") == 0.0;
      },
      3s));

  // SIGTERM: exit 0 before systemd would kill it (the unit's TimeoutStopSec=10s). How fast is
  // not a test's to say on a shared runner: a clean exit in time is the contract.
  daemon.Signal(SIGTERM);
  auto status = daemon.Wait(10s);
  ASSERT_TRUE(status) << "daemon did not exit within TimeoutStopSec";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << daemon.Stderr();
}

TEST(Lifecycle, SigtermDuringScrapesExitsCleanly) {
  const uint16_t port = PickFreePort();
  DaemonProcess daemon(WE_DAEMON_BINARY,
                       {"--web.listen-address=127.0.0.1:" + std::to_string(port), "--sampling.interval=200ms"});
  ASSERT_TRUE(WaitReady(port, 10s)) << daemon.Stderr();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::thread scraper([&] {
    while (!stop) {
      auto r = HttpGet("127.0.0.1", port, "/metrics");
      if (r && r->status == 200) ++ok;
    }
  });
  std::this_thread::sleep_for(300ms);
  daemon.Signal(SIGTERM);
  auto status = daemon.Wait(2s);
  stop = true;
  scraper.join();
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << daemon.Stderr();
  EXPECT_GT(ok.load(), 0);
}

}  // namespace
}  // namespace we
