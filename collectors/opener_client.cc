#include "collectors/opener_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

namespace we {
namespace {

using Clock = std::chrono::steady_clock;
using Result = OpenerClient::Reply::Result;

// Waits until `fd` is ready for `events` or the deadline passes; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

void CloseAll(const std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
}

}  // namespace

OpenerClient::OpenerClient(std::string socket_path, Options options)
    : socket_path_(std::move(socket_path)), options_(options) {}

OpenerClient::~OpenerClient() { CloseLocked(); }

void OpenerClient::CloseLocked() const {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::map<std::string, uint64_t> OpenerClient::Counts() const {
  return {{"ok", ok_.load()}, {"refused", refused_.load()}, {"unavailable", unavailable_.load()}};
}

OpenerClient::Reply OpenerClient::Open(OpenMode mode, const std::string& path) const {
  std::lock_guard lock(mu_);
  Reply reply;
  if (Clock::now() < paused_until_) {
    ++unavailable_;
    return reply;
  }
  // The opener closes a connection idle for a minute (opener/server.h): a request that meets a
  // closed connection goes once more, on a new one. Opening is idempotent.
  bool retry = false;
  reply = Exchange(mode, path, &retry);
  if (retry) reply = Exchange(mode, path, &retry);
  switch (reply.result) {
    case Result::kOk:
    case Result::kRefused:
      (reply.result == Result::kOk ? ok_ : refused_)++;
      if (warned_) spdlog::info("opener {}: answering again", socket_path_);
      warned_ = false;
      break;
    case Result::kUnavailable:
      ++unavailable_;
      CloseLocked();
      paused_until_ = Clock::now() + options_.retry_after;
      break;
  }
  return reply;
}

OpenerClient::Reply OpenerClient::Exchange(OpenMode mode, const std::string& path, bool* retry) const {
  *retry = false;
  const bool reused = fd_ >= 0;
  const Clock::time_point deadline = Clock::now() + (reused ? options_.timeout : options_.first_timeout);
  Reply unavailable;
  auto fail = [&](const char* what, int err) {
    if (!warned_) {
      spdlog::warn("opener {}: {}: {}; root-only files stay unread (names, exact peaks) until it answers", socket_path_,
                   what, std::strerror(err));
      warned_ = true;
    }
    CloseLocked();
    return unavailable;
  };
  if (fd_ < 0) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path_.size() >= sizeof addr.sun_path) return fail("socket path too long", ENAMETOOLONG);
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return fail("socket", errno);
    // A unix socket connects at once or not at all (EAGAIN: its backlog is full).
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return fail("connect", errno);
  }
  const std::string request = EncodeOpenRequest(mode, path);
  for (;;) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) >= 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && WaitFor(fd_, POLLOUT, deadline)) continue;
    if (reused && (err == EPIPE || err == ECONNRESET || err == ENOTCONN)) {
      CloseLocked();
      *retry = true;
      return unavailable;
    }
    return fail(err == EAGAIN ? "send timed out" : "send", err == EAGAIN ? ETIMEDOUT : err);
  }
  int32_t status = 0;
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  iovec iov{&status, sizeof status};
  msghdr msg{};
  ssize_t n;
  for (;;) {
    msg = msghdr{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && WaitFor(fd_, POLLIN, deadline)) continue;
    if (reused && err == ECONNRESET) {
      CloseLocked();
      *retry = true;
      return unavailable;
    }
    return fail(err == EAGAIN ? "no reply in time" : "recvmsg", err == EAGAIN ? ETIMEDOUT : err);
  }
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (n == 0) {  // the opener closed the connection
    CloseAll(fds);
    if (reused) {
      CloseLocked();
      *retry = true;
      return unavailable;
    }
    return fail("closed the connection", ECONNRESET);
  }
  const bool well_formed = n == sizeof status && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
                           (status == 0 ? fds.size() == 1 : fds.empty() && status > 0);
  if (!well_formed) {
    CloseAll(fds);
    return fail("malformed reply", EPROTO);
  }
  Reply reply;
  if (status == 0) {
    reply.result = Result::kOk;
    reply.fd = fds.front();
  } else {
    reply.result = Result::kRefused;
    reply.error = status;
  }
  return reply;
}

namespace {

bool Refused(int err) { return err == EACCES || err == EPERM; }
bool AbsentErrno(int err) { return err == ENOENT || err == ENOTDIR || err == ENODEV || err == ENXIO; }

}  // namespace

ReadResult BrokeredFileSystem::ReadFile(const std::string& path) const {
  ReadResult own = real_.ReadFile(path);
  if (own.status != ReadResult::Status::kError || !Refused(own.error_number) ||
      !OpenerMightAllow(OpenMode::kRead, path)) {
    return own;
  }
  OpenerClient::Reply reply = opener_.Open(OpenMode::kRead, path);
  if (reply.result == Result::kOk) return ReadAndCloseDescriptor(reply.fd, path);
  if (reply.result == Result::kRefused && AbsentErrno(reply.error)) return ReadResult::Absent();
  return own;  // what the daemon's own user gets
}

std::unique_ptr<ResettableWatermark> BrokeredFileSystem::OpenResettableWatermark(const std::string& path) const {
  int open_errno = 0;
  if (auto own = real_.OpenResettableWatermark(path, &open_errno)) return own;
  if (!(Refused(open_errno) || open_errno == EROFS) || !OpenerMightAllow(OpenMode::kReadWrite, path)) return nullptr;
  OpenerClient::Reply reply = opener_.Open(OpenMode::kReadWrite, path);
  if (reply.result != Result::kOk) return nullptr;
  return AdoptResettableWatermark(reply.fd);
}

}  // namespace we
