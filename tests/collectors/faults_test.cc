// Faults the real system produces, produced for real: a read interrupted by a signal (EINTR), and
// /proc processes that exit while the collector reads them. (Vanished cgroups, EIO and garbage are
// in cgroup_collector_test.cc through a FileSystem wrapper; libvirt hanging or dying in
// libvirt_collector_test.cc and tests/integration/real_vm_test.cc; a broken config on reload and
// SIGTERM during scrapes in tests/integration/lifecycle_test.cc; cgroups removed between listing
// and reading, at 20 a second, in tests/integration/churn_test.cc.)

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "collectors/file_system.h"
#include "collectors/qemu_process.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_alarms{0};
void OnAlarm(int) { g_alarms.fetch_add(1); }

// A FIFO makes open() and read() block for as long as the test likes, and an interval timer whose
// handler is installed without SA_RESTART interrupts them: both calls see EINTR over and over.
// ReadFile must retry and return the whole content, not an error.
TEST(Faults, ReadsInterruptedBySignalsAreRetried) {
  test_util::TempTree t;
  const std::string fifo = t.Path("cpu.stat");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string content = "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n";

  struct sigaction sa {
  }, old{};
  sa.sa_handler = OnAlarm;
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);
  itimerval every_5ms{{0, 5000}, {0, 5000}}, off{};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every_5ms, nullptr), 0);

  // The writer (a child, so the alarms hit only this thread's blocking calls) opens the FIFO
  // after 100 ms, writes half, waits 100 ms, writes the rest and closes it.
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    ::usleep(100000);
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    if (fd < 0) ::_exit(1);
    const std::size_t half = content.size() / 2;
    if (::write(fd, content.data(), half) != static_cast<ssize_t>(half)) ::_exit(2);
    ::usleep(100000);
    if (::write(fd, content.data() + half, content.size() - half) != static_cast<ssize_t>(content.size() - half)) {
      ::_exit(3);
    }
    ::close(fd);
    ::_exit(0);
  }
  g_alarms = 0;
  RealFileSystem fs;
  ReadResult r = fs.ReadFile(fifo);
  const int alarms = g_alarms.load();
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old, nullptr);
  int status = 0;
  while (::waitpid(writer, &status, 0) < 0 && errno == EINTR) {
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  EXPECT_GT(alarms, 10) << "the signals should have interrupted the open and the read many times";
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.data, content);
}

// The QEMU collector scans every process in the real /proc while a thread keeps starting processes
// that exit at once: directories vanish between the listing and the reads of cmdline, stat and
// status, thousands of times. None of that is an error, and nothing crashes.
TEST(Faults, ProcessesExitingMidScanAreNotErrors) {
  std::atomic<bool> stop{false};
  std::atomic<int> spawned{0};
  std::thread spawner([&] {
    while (!stop.load()) {
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(0);
      if (pid > 0) {
        ::waitpid(pid, nullptr, 0);
        spawned.fetch_add(1);
      }
    }
  });
  RealFileSystem fs;
  QemuProcessCollector collector(fs, "/proc", static_cast<double>(::sysconf(_SC_CLK_TCK)));
  int scans = 0, errors = 0;
  std::string first_error;
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) {
    CollectResult r = collector.Collect();
    ++scans;
    errors += static_cast<int>(r.errors.size());
    if (!r.errors.empty() && first_error.empty()) first_error = r.errors.front();
  }
  stop = true;
  spawner.join();
  RecordProperty("scans", scans);
  RecordProperty("processes_spawned", spawned.load());
  EXPECT_GT(spawned.load(), 100);
  EXPECT_GT(scans, 5);
  EXPECT_EQ(errors, 0) << first_error;
}

}  // namespace
}  // namespace we
