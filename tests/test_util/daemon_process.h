#pragma once
// DaemonProcess runs a binary (the real daemon) as a child of the test, with its stdout and
// stderr captured in a temporary file, and stops it by PID when the test is done with it: it only
// ever signals the process it started.
//
// Thread-safety: Stderr() may be called from any thread; the rest from the owning thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace we::test_util {

// True in a ThreadSanitizer build (scripts/sanitize.sh), whose daemon binary is instrumented too:
// its allocator and shadow memory make RSS and memory figures of instrumented processes
// meaningless, and such checks are skipped under it.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kUnderThreadSanitizer = true;
#else
inline constexpr bool kUnderThreadSanitizer = false;
#endif
#else
inline constexpr bool kUnderThreadSanitizer = false;
#endif

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
uint16_t PickFreePort();

// Polls `predicate` every 20 ms until it holds or `timeout` passes; returns its last result.
bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

// Polls GET `path` on 127.0.0.1:`port` (WaitFor's cadence) until it answers 200 or `timeout`
// passes.
bool WaitHttpOk(uint16_t port, const std::string& path, std::chrono::milliseconds timeout);
// WaitHttpOk on /-/ready: whether the daemon listening there came up and said it was ready.
bool WaitReady(uint16_t port, std::chrono::milliseconds timeout);

class DaemonProcess {
 public:
  DaemonProcess(const std::string& binary, const std::vector<std::string>& args,
                const std::vector<std::string>& extra_env = {});
  // Sends SIGKILL if the process is still running, and reaps it.
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal) const;

  // Waits for the process to exit; its wait status, or nullopt when it still runs at the timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  // Everything the process has written to stdout and stderr so far.
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

}  // namespace we::test_util
