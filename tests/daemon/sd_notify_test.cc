#include "daemon/sd_notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using Env = SdNotifier::Environment;

// What systemd does with NOTIFY_SOCKET: a bound AF_UNIX datagram socket that reads whole messages.
// `name` is a path or "@abstract", as in NOTIFY_SOCKET.
class NotifyReceiver {
 public:
  explicit NotifyReceiver(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length;
    if (name.front() == '@') {
      std::memcpy(address.sun_path + 1, name.data() + 1, name.size() - 1);
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    } else {
      std::memcpy(address.sun_path, name.data(), name.size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    }
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
      throw std::runtime_error("bind " + name + ": " + std::strerror(errno));
    }
  }
  ~NotifyReceiver() { ::close(fd_); }
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;

  // One whole datagram, or nullopt when none arrives within `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout = 2s) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    std::string buffer(65536, '\0');
    ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0 || static_cast<std::size_t>(n) > buffer.size()) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }

  void SetReceiveBuffer(int bytes) const { ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }

 private:
  int fd_ = -1;
};

std::string UniqueAbstractName() {
  static std::atomic<int> counter{0};
  return "@workload_exporter-sd-notify-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

uint64_t MonotonicUsec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
}

class SdNotifierSocketTest : public ::testing::Test {
 protected:
  test_util::TempTree tree_;
  std::string path_ = tree_.Path("notify");
  NotifyReceiver receiver_{path_};
  SdNotifier notifier_{Env{{"NOTIFY_SOCKET", path_}}};
};

TEST_F(SdNotifierSocketTest, EachMessageArrivesByteExact) {
  ASSERT_TRUE(notifier_.enabled());
  EXPECT_EQ(notifier_.socket_name(), path_);
  std::string error;
  ASSERT_TRUE(notifier_.Ready(&error)) << error;
  EXPECT_EQ(receiver_.Receive(), "READY=1");
  ASSERT_TRUE(notifier_.Stopping(&error)) << error;
  EXPECT_EQ(receiver_.Receive(), "STOPPING=1");
  ASSERT_TRUE(notifier_.Watchdog(&error)) << error;
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  ASSERT_TRUE(notifier_.Status("serving 12 workloads", &error)) << error;
  EXPECT_EQ(receiver_.Receive(), "STATUS=serving 12 workloads");
  ASSERT_TRUE(notifier_.Send("READY=1\nSTATUS=reloaded", &error)) << error;
  EXPECT_EQ(receiver_.Receive(), "READY=1\nSTATUS=reloaded");
  EXPECT_TRUE(notifier_.Ready());  // error may be null
  EXPECT_EQ(receiver_.Receive(), "READY=1");
  EXPECT_EQ(receiver_.Receive(50ms), std::nullopt) << "one datagram per message";
}

TEST_F(SdNotifierSocketTest, ReloadingCarriesTheMonotonicClock) {
  const uint64_t before = MonotonicUsec();
  std::string error;
  ASSERT_TRUE(notifier_.Reloading(&error)) << error;
  const uint64_t after = MonotonicUsec();
  auto message = receiver_.Receive();
  ASSERT_TRUE(message);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(message->rfind(prefix, 0), 0u) << *message;
  const std::string digits = message->substr(prefix.size());
  ASSERT_FALSE(digits.empty());
  ASSERT_EQ(digits.find_first_not_of("0123456789"), std::string::npos) << *message;
  ASSERT_NE(digits.front(), '0') << *message;
  const uint64_t usec = std::stoull(digits);
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
}

TEST_F(SdNotifierSocketTest, StatusCannotInjectAssignmentsOrNul) {
  ASSERT_TRUE(notifier_.Status("bad config\nREADY=1\r\0x"s));
  EXPECT_EQ(receiver_.Receive(), "STATUS=bad config READY=1  x");
}

TEST_F(SdNotifierSocketTest, MovedNotifierKeepsTheSocket) {
  SdNotifier moved = std::move(notifier_);
  EXPECT_TRUE(moved.Watchdog());
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  EXPECT_FALSE(notifier_.enabled());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_FALSE(notifier_.Watchdog());

  SdNotifier assigned{Env{}};
  assigned = std::move(moved);
  EXPECT_TRUE(assigned.Ready());
  EXPECT_EQ(receiver_.Receive(), "READY=1");
}

TEST_F(SdNotifierSocketTest, NeverBlocksOnAFullQueue) {
  receiver_.SetReceiveBuffer(1);  // the kernel's minimum; nobody reads
  std::string error;
  int sent = 0;
  const auto start = std::chrono::steady_clock::now();
  while (sent < 100000 && notifier_.Status(std::string(512, 'x'), &error)) ++sent;
  EXPECT_LT(sent, 100000) << "the queue never filled";
  EXPECT_NE(error.find("Resource temporarily unavailable"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // Once drained, sending works again.
  while (receiver_.Receive(10ms)) {
  }
  EXPECT_TRUE(notifier_.Ready(&error)) << error;
}

TEST_F(SdNotifierSocketTest, ConcurrentSendersNeverInterleave) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::atomic<int> delivered{0};
  std::set<std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i)
      expected.insert("STATUS=thread " + std::to_string(t) + " message " + std::to_string(i));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (notifier_.Status("thread " + std::to_string(t) + " message " + std::to_string(i))) ++delivered;
      }
    });
  }
  std::set<std::string> received;
  while (auto message = receiver_.Receive(200ms)) received.insert(*message);
  for (auto& thread : threads) thread.join();
  while (auto message = receiver_.Receive(50ms)) received.insert(*message);
  for (const auto& message : received) EXPECT_TRUE(expected.count(message)) << message;
  EXPECT_EQ(static_cast<int>(received.size()), delivered.load());
  EXPECT_GT(delivered.load(), 0);
}

TEST(SdNotifier, AbstractSocket) {
  const std::string name = UniqueAbstractName();
  NotifyReceiver receiver(name);
  SdNotifier notifier(Env{{"NOTIFY_SOCKET", name}});
  std::string error;
  ASSERT_TRUE(notifier.Ready(&error)) << error;
  EXPECT_EQ(receiver.Receive(), "READY=1");
  ASSERT_TRUE(notifier.Reloading(&error)) << error;
  auto reloading = receiver.Receive();
  ASSERT_TRUE(reloading);
  EXPECT_EQ(reloading->rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << *reloading;
  ASSERT_TRUE(notifier.Stopping(&error)) << error;
  EXPECT_EQ(receiver.Receive(), "STOPPING=1");
}

TEST(SdNotifier, WithoutNotifySocketEverythingIsANoOp) {
  for (const Env& env : {Env{}, Env{{"NOTIFY_SOCKET", ""}}, Env{{"WATCHDOG_USEC", "30000000"}}}) {
    SdNotifier notifier(env);
    EXPECT_FALSE(notifier.enabled());
    std::string error = "stale";
    EXPECT_FALSE(notifier.Ready(&error));
    EXPECT_EQ(error, "");
    error = "stale";
    EXPECT_FALSE(notifier.Reloading(&error));
    EXPECT_EQ(error, "");
    EXPECT_FALSE(notifier.Stopping(&error));
    EXPECT_FALSE(notifier.Watchdog(&error));
    EXPECT_FALSE(notifier.Status("x", &error));
    EXPECT_FALSE(notifier.Send("READY=1"));
    EXPECT_EQ(error, "");
    EXPECT_EQ(notifier.WatchdogInterval(), std::nullopt) << "no socket to send keep-alives to";
  }
}

TEST(SdNotifier, MissingSocketPathFailsWithoutThrowing) {
  test_util::TempTree tree;
  const std::string path = tree.Path("no-such-socket");
  std::optional<SdNotifier> notifier;
  ASSERT_NO_THROW(notifier.emplace(Env{{"NOTIFY_SOCKET", path}}));
  EXPECT_TRUE(notifier->enabled());
  std::string error;
  EXPECT_NO_THROW(EXPECT_FALSE(notifier->Ready(&error)));
  EXPECT_EQ(error, "sd_notify: send to " + path + ": No such file or directory");
  EXPECT_NO_THROW(EXPECT_FALSE(notifier->Reloading(&error)));
  EXPECT_NO_THROW(EXPECT_FALSE(notifier->Watchdog()));
}

TEST(SdNotifier, MissingAbstractSocketFails) {
  SdNotifier notifier(Env{{"NOTIFY_SOCKET", UniqueAbstractName()}});
  std::string error;
  EXPECT_FALSE(notifier.Ready(&error));
  EXPECT_NE(error.find("Connection refused"), std::string::npos) << error;
}

TEST(SdNotifier, UnusableSocketNamesFailWithTheReason) {
  std::string error;
  EXPECT_FALSE(SdNotifier(Env{{"NOTIFY_SOCKET", "run/systemd/notify"}}).Ready(&error));
  EXPECT_EQ(error, "sd_notify: NOTIFY_SOCKET=\"run/systemd/notify\": neither an absolute path nor an @abstract name");
  EXPECT_FALSE(SdNotifier(Env{{"NOTIFY_SOCKET", "vsock:2:1234"}}).Ready(&error));
  EXPECT_NE(error.find("neither an absolute path"), std::string::npos) << error;
  EXPECT_FALSE(SdNotifier(Env{{"NOTIFY_SOCKET", "/" + std::string(200, 'a')}}).Ready(&error));
  EXPECT_NE(error.find("path too long"), std::string::npos) << error;
  EXPECT_FALSE(SdNotifier(Env{{"NOTIFY_SOCKET", "@" + std::string(200, 'a')}}).Ready(&error));
  EXPECT_NE(error.find("abstract name too long"), std::string::npos) << error;
}

std::optional<std::chrono::microseconds> IntervalFor(const std::string& usec, const std::optional<std::string>& pid) {
  Env env{{"NOTIFY_SOCKET", "/run/systemd/notify"}, {"WATCHDOG_USEC", usec}};
  if (pid) env["WATCHDOG_PID"] = *pid;
  return SdNotifier(env).WatchdogInterval();
}

TEST(SdNotifier, WatchdogInterval) {
  const std::string self = std::to_string(::getpid());
  EXPECT_EQ(IntervalFor("30000000", std::nullopt), std::chrono::microseconds(30000000));
  EXPECT_EQ(IntervalFor("30000000", self), 30s);
  EXPECT_EQ(IntervalFor("1", self), 1us);
  EXPECT_EQ(IntervalFor("30000000", ""), 30s) << "an empty WATCHDOG_PID counts as unset";
}

TEST(SdNotifier, WatchdogPidOfAnotherProcessDisablesTheWatchdog) {
  EXPECT_EQ(IntervalFor("30000000", std::to_string(::getpid() + 1)), std::nullopt);
  EXPECT_EQ(IntervalFor("30000000", "1"), std::nullopt);
  EXPECT_EQ(IntervalFor("30000000", "abc"), std::nullopt);
  EXPECT_EQ(IntervalFor("30000000", "-" + std::to_string(::getpid())), std::nullopt);
}

TEST(SdNotifier, MalformedWatchdogUsecDisablesTheWatchdog) {
  for (const char* usec :
       {"", "0", "abc", "-5", "+5", " 5", "5 ", "12x", "1e6", "18446744073709551615", "99999999999999999999999"}) {
    EXPECT_EQ(IntervalFor(usec, std::nullopt), std::nullopt) << '"' << usec << '"';
  }
  SdNotifier no_usec(Env{{"NOTIFY_SOCKET", "/run/systemd/notify"}});
  EXPECT_EQ(no_usec.WatchdogInterval(), std::nullopt);
}

// Restores one environment variable when it goes out of scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(SdNotifier, FromEnvironmentReadsTheProcessEnvironment) {
  test_util::TempTree tree;
  const std::string path = tree.Path("notify");
  NotifyReceiver receiver(path);
  {
    ScopedEnv socket("NOTIFY_SOCKET", path);
    ScopedEnv usec("WATCHDOG_USEC", "4000000");
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid()));
    SdNotifier notifier = SdNotifier::FromEnvironment();
    EXPECT_EQ(notifier.WatchdogInterval(), 4s);
    EXPECT_TRUE(notifier.Watchdog());
    EXPECT_EQ(receiver.Receive(), "WATCHDOG=1");
  }
  ScopedEnv socket("NOTIFY_SOCKET", std::nullopt);
  EXPECT_FALSE(SdNotifier::FromEnvironment().enabled());
}

}  // namespace
}  // namespace we
