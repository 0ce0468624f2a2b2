#include "daemon/sd_notify.h"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

namespace we {
namespace {

const char* const kNotifySocket = "NOTIFY_SOCKET";
const char* const kWatchdogUsec = "WATCHDOG_USEC";
const char* const kWatchdogPid = "WATCHDOG_PID";

std::string Lookup(const SdNotifier::Environment& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// A whole string of decimal digits, no sign, no spaces; nullopt otherwise or on overflow.
std::optional<uint64_t> ParseUnsigned(const std::string& text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// sd_watchdog_enabled(3)'s rules: WATCHDOG_USEC must be a positive number of microseconds, and a
// WATCHDOG_PID, when present, must name this process.
std::optional<std::chrono::microseconds> ParseWatchdog(const std::string& usec_text, const std::string& pid_text) {
  auto usec = ParseUnsigned(usec_text);
  if (!usec || *usec == 0 || *usec > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  if (!pid_text.empty()) {
    auto pid = ParseUnsigned(pid_text);
    if (!pid || *pid != static_cast<uint64_t>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<int64_t>(*usec));
}

std::string ErrnoMessage(int err) { return std::error_code(err, std::generic_category()).message(); }

bool Fail(std::string* error, std::string message) {
  if (error) *error = "sd_notify: " + std::move(message);
  return false;
}

}  // namespace

SdNotifier::SdNotifier(const Environment& env) {
  socket_name_ = Lookup(env, kNotifySocket);
  enabled_ = !socket_name_.empty();
  if (!enabled_) return;
  watchdog_interval_ = ParseWatchdog(Lookup(env, kWatchdogUsec), Lookup(env, kWatchdogPid));

  // The address, as libsystemd builds it: a path keeps room for its terminating NUL; an abstract
  // name is '\0' followed by the name's bytes, with no terminator counted.
  const std::string quoted = std::string(kNotifySocket) + "=\"" + socket_name_ + "\"";
  const std::size_t path_offset = offsetof(sockaddr_un, sun_path);
  address_.sun_family = AF_UNIX;
  if (socket_name_.front() == '/') {
    if (socket_name_.size() >= sizeof(address_.sun_path)) {
      setup_error_ = quoted + ": path too long for a unix socket";
      return;
    }
    std::memcpy(address_.sun_path, socket_name_.data(), socket_name_.size());
    address_length_ = static_cast<socklen_t>(path_offset + socket_name_.size() + 1);
  } else if (socket_name_.front() == '@') {
    if (socket_name_.size() > sizeof(address_.sun_path)) {
      setup_error_ = quoted + ": abstract name too long for a unix socket";
      return;
    }
    address_.sun_path[0] = '\0';
    std::memcpy(address_.sun_path + 1, socket_name_.data() + 1, socket_name_.size() - 1);
    address_length_ = static_cast<socklen_t>(path_offset + socket_name_.size());
  } else {
    // systemd >= 254 may also hand out "vsock:CID:PORT" (to VMs); this daemon runs on the host.
    setup_error_ = quoted + ": neither an absolute path nor an @abstract name";
    return;
  }

  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    setup_error_ = "socket(AF_UNIX, SOCK_DGRAM): " + ErrnoMessage(errno);
    address_length_ = 0;
  }
}

SdNotifier SdNotifier::FromEnvironment() {
  Environment env;
  for (const char* name : {kNotifySocket, kWatchdogUsec, kWatchdogPid}) {
    if (const char* value = std::getenv(name)) env.emplace(name, value);
  }
  return SdNotifier(env);
}

SdNotifier::~SdNotifier() { Close(); }

SdNotifier::SdNotifier(SdNotifier&& other) noexcept
    : enabled_(other.enabled_),
      socket_name_(std::move(other.socket_name_)),
      fd_(std::exchange(other.fd_, -1)),
      address_(other.address_),
      address_length_(std::exchange(other.address_length_, 0)),
      setup_error_(std::move(other.setup_error_)),
      watchdog_interval_(other.watchdog_interval_) {
  other.enabled_ = false;
  other.watchdog_interval_.reset();
}

SdNotifier& SdNotifier::operator=(SdNotifier&& other) noexcept {
  if (this != &other) {
    Close();
    enabled_ = std::exchange(other.enabled_, false);
    socket_name_ = std::move(other.socket_name_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = other.address_;
    address_length_ = std::exchange(other.address_length_, 0);
    setup_error_ = std::move(other.setup_error_);
    watchdog_interval_ = std::exchange(other.watchdog_interval_, std::nullopt);
  }
  return *this;
}

void SdNotifier::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SdNotifier::Send(std::string_view message, std::string* error) const {
  if (!enabled_) {
    if (error) error->clear();
    return false;
  }
  if (address_length_ == 0 || fd_ < 0) return Fail(error, setup_error_);
  ssize_t sent;
  do {
    sent = ::sendto(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address_), address_length_);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return Fail(error, "send to " + socket_name_ + ": " + ErrnoMessage(errno));
  if (static_cast<std::size_t>(sent) != message.size()) {
    return Fail(error, "send to " + socket_name_ + ": short datagram");
  }
  return true;
}

bool SdNotifier::Ready(std::string* error) const { return Send("READY=1", error); }

bool SdNotifier::Reloading(std::string* error) const {
  if (!enabled_) return Send({}, error);
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  return Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec), error);
}

bool SdNotifier::Stopping(std::string* error) const { return Send("STOPPING=1", error); }

bool SdNotifier::Watchdog(std::string* error) const { return Send("WATCHDOG=1", error); }

bool SdNotifier::Status(std::string_view status, std::string* error) const {
  if (!enabled_) return Send({}, error);
  const std::string_view key = "STATUS=";
  std::string message(key);
  message.append(status);
  for (std::size_t i = key.size(); i < message.size(); ++i) {
    if (message[i] == '\n' || message[i] == '\r' || message[i] == '\0') message[i] = ' ';
  }
  return Send(message, error);
}

}  // namespace we
