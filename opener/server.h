#pragma once
// The opener's loop: one thread, poll(2) over its listening sockets and up to kMaxConnections
// connections. Each message on a connection is one request (collectors/opener_protocol.h) and
// gets one reply; a message that is not a request, or a reply the peer cannot take at once,
// closes that connection. Nothing a client sends can make the loop wait.
//
// Idle: a connection with no request for `idle_exit` is closed, and the process exits once it
// has had no connection for `idle_exit`. systemd keeps the listening socket and starts the
// opener again on the next connection; the daemon's client reconnects by itself. 60 s by
// default: the daemon asks only when it meets a new container or cgroup, so between bursts the
// opener is not running at all, and a burst (a deployment) is served by one process.
//
// Who is served: a peer (SO_PEERCRED) that is root, the opener's own user, or whose group is the
// group of the listening socket's file: the daemon's (SocketGroup=workload_exporter in the unit;
// with --listen, the opener's own group, --user 0:9746 in the container). The socket's mode is the
// first gate; this one holds even if the mode is widened or the socket's directory is shared with
// other users' containers. Anyone else is closed at once, before a request is read, and logged.
// A listener whose file cannot be found (abstract, or unlinked) admits root and the opener's
// user only.
//
// Thread-safety: one thread.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "collectors/opener_protocol.h"

namespace we {

struct OpenerServerOptions {
  OpenerRoots roots;
  std::vector<int> listeners;          // listening SOCK_SEQPACKET unix sockets, non-blocking or not
  std::chrono::seconds idle_exit{60};  // 0: never exit, close no connection for idleness
};

constexpr std::size_t kMaxConnections = 16;

// Serves until idle; returns the exit status (0 when idle, 1 when poll failed).
int RunOpenerServer(const OpenerServerOptions& options);

// One request's answer: the errno (0: opened) and the descriptor (-1 unless 0). What the loop
// does with a message, without the socket: the parsing, the allowlist and the open.
struct OpenerAnswer {
  int error = 0;
  int fd = -1;
};
// nullopt: not a request, the connection is to be closed.
std::optional<OpenerAnswer> AnswerMessage(const OpenerRoots& roots, std::string_view message);

// The rule above, without sockets: may a peer of `uid` and `gid` be served by an opener running
// as `self`, on a socket whose file's group is `socket_group` (nullopt: unknown)?
bool PeerAllowed(uid_t uid, gid_t gid, uid_t self, std::optional<gid_t> socket_group);

}  // namespace we
