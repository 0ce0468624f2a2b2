#include "opener/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "opener/open_beneath.h"

namespace we {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd;
  Clock::time_point last_request;
};

// Sends the answer without waiting: false when the peer cannot take it now (or is gone).
bool Reply(int fd, const OpenerAnswer& answer) {
  int32_t status = answer.error;
  iovec iov{&status, sizeof status};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (answer.fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &answer.fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof status);
}

// Reads and answers one message; false when the connection is to be closed.
bool Serve(const OpenerRoots& roots, int fd) {
  // One byte more than the longest request, so that a longer one shows as MSG_TRUNC too.
  static char buf[kMaxOpenerRequest + 1];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // No control buffer: descriptors a client sends are dropped by the kernel (MSG_CTRUNC).
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN;
  if (n == 0) return false;  // closed
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return false;
  std::optional<OpenerAnswer> answer = AnswerMessage(roots, std::string_view(buf, static_cast<std::size_t>(n)));
  if (!answer) return false;
  const bool sent = Reply(fd, *answer);
  if (answer->fd >= 0) ::close(answer->fd);
  return sent;
}

// The group of the listening socket's file, found by the path it is bound to.
std::optional<gid_t> SocketFileGroup(int listener) {
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX ||
      len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] == '\0') {
    return std::nullopt;  // unnamed or abstract
  }
  const std::string path(addr.sun_path, strnlen(addr.sun_path, len - offsetof(sockaddr_un, sun_path)));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return std::nullopt;
  return st.st_gid;
}

void AcceptAll(int listener, std::vector<Connection>* connections) {
  // Looked up at each accept: connections are few, and the file's group may be set after the
  // opener bound it (chgrp of a --listen socket).
  const std::optional<gid_t> socket_group = SocketFileGroup(listener);
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; EMFILE and the like: the next poll tries again
    }
    if (connections->size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
        !PeerAllowed(peer.uid, peer.gid, ::geteuid(), socket_group)) {
      std::fprintf(
          stderr, "refused a connection from pid %d, uid %u, gid %u: not root, not this user, not the socket's group\n",
          static_cast<int>(peer.pid), static_cast<unsigned>(peer.uid), static_cast<unsigned>(peer.gid));
      ::close(fd);
      continue;
    }
    connections->push_back({fd, Clock::now()});
  }
}

}  // namespace

bool PeerAllowed(uid_t uid, gid_t gid, uid_t self, std::optional<gid_t> socket_group) {
  return uid == 0 || uid == self || (socket_group && gid == *socket_group);
}

std::optional<OpenerAnswer> AnswerMessage(const OpenerRoots& roots, std::string_view message) {
  const std::optional<OpenRequest> request = ParseOpenRequest(message);
  if (!request) return std::nullopt;
  const int fd = OpenAllowlisted(roots, *request);
  if (fd < 0) {
    if (fd == -EACCES && !OpenerAllowed(roots, request->mode, request->path)) {
      std::fprintf(stderr, "refused %c %.*s: not allowlisted\n", static_cast<char>(request->mode),
                   static_cast<int>(request->path.size()), request->path.data());
    }
    return OpenerAnswer{-fd, -1};
  }
  return OpenerAnswer{0, fd};
}

int RunOpenerServer(const OpenerServerOptions& options) {
  for (int fd : options.listeners) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
  std::vector<Connection> connections;
  Clock::time_point last_connection = Clock::now();
  const bool idles = options.idle_exit.count() > 0;
  std::vector<pollfd> polled;
  for (;;) {
    const Clock::time_point now = Clock::now();
    if (idles) {
      // Close what has been idle, then exit if nothing is left and nothing came for long.
      std::erase_if(connections, [&](const Connection& c) {
        if (now - c.last_request < options.idle_exit) return false;
        ::close(c.fd);
        return true;
      });
      if (!connections.empty()) last_connection = now;
      if (connections.empty() && now - last_connection >= options.idle_exit) return 0;
    }
    int timeout_ms = -1;
    if (idles) {
      Clock::time_point next = last_connection + options.idle_exit;
      for (const Connection& c : connections) next = std::min(next, c.last_request + options.idle_exit);
      if (connections.empty()) next = last_connection + options.idle_exit;
      timeout_ms =
          static_cast<int>(std::max<int64_t>(1, std::chrono::ceil<std::chrono::milliseconds>(next - now).count()));
    }
    polled.clear();
    for (int fd : options.listeners) polled.push_back({fd, POLLIN, 0});
    for (const Connection& c : connections) polled.push_back({c.fd, POLLIN, 0});
    const int ready = ::poll(polled.data(), polled.size(), timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      std::perror("poll");
      return 1;
    }
    const std::size_t listeners = options.listeners.size();
    // Connections first (the indices match `connections` until it changes), then new ones.
    std::vector<Connection> kept;
    kept.reserve(connections.size());
    for (std::size_t i = 0; i < connections.size(); ++i) {
      Connection c = connections[i];
      const short revents = polled[listeners + i].revents;
      if (revents == 0) {
        kept.push_back(c);
        continue;
      }
      if (Serve(options.roots, c.fd)) {
        c.last_request = Clock::now();
        kept.push_back(c);
      } else {
        ::close(c.fd);
      }
    }
    connections.swap(kept);
    for (std::size_t i = 0; i < listeners; ++i) {
      if (polled[i].revents != 0) AcceptAll(options.listeners[i], &connections);
    }
    if (!connections.empty()) last_connection = Clock::now();
  }
}

}  // namespace we
