// The real daemon under a notify socket the test provides, as systemd runs it with Type=notify
// and WatchdogSec=: READY=1 after the first sample, RELOADING=1 then READY=1 around SIGHUP,
// WATCHDOG=1 at half the watchdog period while sampling is healthy, STOPPING=1 on SIGTERM.

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_util/daemon_process.h"
#include "test_util/http_get.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace test_util;

// Every datagram that arrives within `for_how_long`.
std::vector<std::string> Receive(int fd, std::chrono::milliseconds for_how_long) {
  std::vector<std::string> out;
  const auto deadline = std::chrono::steady_clock::now() + for_how_long;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) out.emplace_back(buf, static_cast<std::size_t>(n));
  }
  return out;
}

int Count(const std::vector<std::string>& messages, const std::string& prefix) {
  int n = 0;
  for (const auto& m : messages) n += m.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

TEST(SdNotifyDaemon, ReadyReloadingWatchdogStopping) {
  TempTree t;
  const std::string path = t.Path("notify.sock");
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  const uint16_t port = PickFreePort();
  DaemonProcess daemon(
      WE_DAEMON_BINARY,
      {"--web.listen-address=127.0.0.1:" + std::to_string(port), "--sampling.interval=200ms", "--libvirt.uri="},
      {"NOTIFY_SOCKET=" + path, "WATCHDOG_USEC=400000"});
  auto first = Receive(fd, 1500ms);
  ASSERT_GE(Count(first, "READY=1"), 1) << daemon.Stderr();
  EXPECT_EQ(first.front(), "READY=1");  // nothing before the first sample is published
  auto r = HttpGet("127.0.0.1", port, "/-/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(Count(first, "WATCHDOG=1"), 3);  // every 200 ms

  daemon.Signal(SIGHUP);
  auto reload = Receive(fd, 600ms);
  int reloading = -1, ready = -1;
  for (int i = 0; i < static_cast<int>(reload.size()); ++i) {
    if (reload[i].rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0 && reloading < 0) reloading = i;
    if (reload[i] == "READY=1" && reloading >= 0 && ready < 0) ready = i;
  }
  EXPECT_GE(reloading, 0) << daemon.Stderr();
  EXPECT_GT(ready, reloading);

  daemon.Signal(SIGTERM);
  auto stopping = Receive(fd, 500ms);
  EXPECT_GE(Count(stopping, "STOPPING=1"), 1);
  auto status = daemon.Wait(2s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  ::close(fd);
}

}  // namespace
}  // namespace we
