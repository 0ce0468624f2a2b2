#pragma once
// SdNotifier speaks systemd's notify protocol (sd_notify(3)) without libsystemd: each message is
// one datagram of newline-separated KEY=VALUE assignments, sent on an AF_UNIX SOCK_DGRAM socket to
// the address systemd puts in $NOTIFY_SOCKET: a filesystem path ("/run/systemd/notify") or an
// abstract name written with a leading '@' ("@/org/freedesktop/systemd1/notify/...").
//
// The environment is a parameter so that tests can point the notifier at a socket of their own;
// FromEnvironment() reads the process's real one. Only NOTIFY_SOCKET, WATCHDOG_USEC and
// WATCHDOG_PID are read, once, at construction.
//
// Without NOTIFY_SOCKET (not started by systemd, or Type=simple) the notifier is disabled: every
// method is a cheap no-op that returns false and clears *error, and WatchdogInterval() is nullopt.
// The caller need not check enabled() first.
//
// Sending never blocks: the socket is non-blocking, and a full receive queue on systemd's side is
// reported as an error (EAGAIN), not waited on. Errors are returned, never thrown: a method returns
// false and, when `error` is not null, sets it to "sd_notify: <what failed>".
//
// Ownership: the notifier owns its socket (SOCK_CLOEXEC, closed by the destructor). Movable, not
// copyable.
//
// Thread-safety: after construction every method is const and may be called from any thread
// concurrently (one sendto(2) per message on a socket that is never connected or changed, so
// messages never interleave). Moving from or destroying a notifier must not race with its use.

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace we {

class SdNotifier {
 public:
  using Environment = std::map<std::string, std::string>;

  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env`. A NOTIFY_SOCKET that cannot be
  // used (relative path, too long, socket(2) failed) leaves the notifier enabled but failing: each
  // method returns false with the reason, so the caller logs why systemd is not told.
  explicit SdNotifier(const Environment& env);
  // The same, from the process's environment (getenv).
  static SdNotifier FromEnvironment();

  ~SdNotifier();
  SdNotifier(SdNotifier&& other) noexcept;
  SdNotifier& operator=(SdNotifier&& other) noexcept;
  SdNotifier(const SdNotifier&) = delete;
  SdNotifier& operator=(const SdNotifier&) = delete;

  // True when NOTIFY_SOCKET was set (non-empty).
  bool enabled() const { return enabled_; }
  // NOTIFY_SOCKET as given ("" when disabled), for log messages.
  const std::string& socket_name() const { return socket_name_; }

  // "READY=1": start-up finished (after the first complete sample), or a reload finished.
  bool Ready(std::string* error = nullptr) const;
  // "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now, in µs>": a reload has begun; follow with
  // Ready() when it is done, whether or not the new configuration was accepted. MONOTONIC_USEC is
  // what Type=notify-reload (systemd >= 253) requires; older systemd and Type=notify ignore it.
  bool Reloading(std::string* error = nullptr) const;
  // "STOPPING=1": shutdown has begun.
  bool Stopping(std::string* error = nullptr) const;
  // "WATCHDOG=1": keep-alive; send at about half of WatchdogInterval() while healthy.
  bool Watchdog(std::string* error = nullptr) const;
  // "STATUS=<status>": a one-line status for `systemctl status`. '\n', '\r' and NUL, which would
  // start a new assignment or make systemd drop the message, are replaced by spaces.
  bool Status(std::string_view status, std::string* error = nullptr) const;

  // Sends `message` verbatim as one datagram, e.g. "READY=1\nSTATUS=serving". The caller keeps it
  // free of NUL bytes and stray newlines.
  bool Send(std::string_view message, std::string* error = nullptr) const;

  // The watchdog timeout systemd expects keep-alives within (WatchdogSec=), from WATCHDOG_USEC;
  // nullopt when disabled, when WATCHDOG_USEC is absent, zero or malformed, or when WATCHDOG_PID
  // is set to anything but this process's PID (the variable was inherited, not meant for us).
  std::optional<std::chrono::microseconds> WatchdogInterval() const { return watchdog_interval_; }

 private:
  void Close();

  bool enabled_ = false;
  std::string socket_name_;
  int fd_ = -1;
  sockaddr_un address_{};
  socklen_t address_length_ = 0;  // 0 when NOTIFY_SOCKET is unusable
  std::string setup_error_;       // why it is unusable
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace we
