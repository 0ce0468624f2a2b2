// workload_exporter_opener: opens, for the daemon, the root-only files it needs and nothing else
// (collectors/opener_protocol.h, README.md "Privileges"). Runs as root with no capability at all:
// those files are root's, so ownership is enough. Socket-activated by
// systemd/workload_exporter-opener.socket (sd_listen_fds(3)'s LISTEN_FDS and LISTEN_PID, read
// here without libsystemd), or listening itself with --listen=PATH (tests, and containers, where
// no systemd passes a socket: packaging/kubernetes/daemonset.yaml).

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "opener/server.h"

namespace {

constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START

constexpr const char* kUsage =
    "usage: workload_exporter_opener [flags]\n\n"
    "Opens memory.peak files read-write and container runtimes' state files read-only for\n"
    "workload_exporter, and passes the descriptors over a unix socket; refuses everything else.\n\n"
    "Flags:\n"
    "  --path.cgroupfs=PATH   cgroup filesystem mount point: memory.peak files beneath it. Default /sys/fs/cgroup.\n"
    "  --path.rootfs=PATH     Root under which container runtimes' state files are read. Default /.\n"
    "  --listen=PATH          Bind this SOCK_SEQPACKET socket instead of taking systemd's (LISTEN_FDS),\n"
    "                         mode 0660: owned by this process's user and group (run it with the\n"
    "                         daemon's group, e.g. uid 0 and gid 9746 in the container image).\n"
    "  --idle-exit=SECONDS    Exit after this long without a connection; 0 never. Default 60.\n"
    "  --help                 Show this help and exit.\n";

// sd_listen_fds(1): the sockets systemd passed, if they are for this process; the variables are
// unset so that nothing this process starts takes them for its own.
std::vector<int> ListenFds() {
  std::vector<int> fds;
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  if (pid != nullptr && count != nullptr && std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid())) {
    const long n = std::strtol(count, nullptr, 10);
    for (long i = 0; i < n && i < 64; ++i) {
      const int fd = kListenFdsStart + static_cast<int>(i);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      fds.push_back(fd);
    }
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return fds;
}

int Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "--listen: %s: path too long\n", path.c_str());
    return -1;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());  // a stale one
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::fprintf(stderr, "--listen: %s: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  // The daemon, another user in the same group, must be able to connect (write permission).
  if (::chmod(path.c_str(), 0660) != 0) {
    std::fprintf(stderr, "--listen: chmod %s: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  return fd;
}

bool IsSeqpacket(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

}  // namespace

int main(int argc, char** argv) {
  we::OpenerServerOptions options;
  std::string listen_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      if (arg.size() > flag.size() + 1 && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=') {
        return argv[i] + flag.size() + 1;
      }
      return nullptr;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (const char* v = value("--path.cgroupfs")) {
      options.roots.cgroupfs = v;
    } else if (const char* v = value("--path.rootfs")) {
      options.roots.rootfs = v;
    } else if (const char* v = value("--listen")) {
      listen_path = v;
    } else if (const char* v = value("--idle-exit")) {
      char* end = nullptr;
      const long seconds = std::strtol(v, &end, 10);
      if (end == v || *end != '\0' || seconds < 0) {
        std::fprintf(stderr, "--idle-exit: not a number of seconds: %s\n", v);
        return 2;
      }
      options.idle_exit = std::chrono::seconds(seconds);
    } else {
      std::fprintf(stderr, "unknown argument %s (see --help)\n", argv[i]);
      return 2;
    }
  }
  for (const std::string* root : {&options.roots.cgroupfs, &options.roots.rootfs}) {
    if (root->empty() || root->front() != '/') {
      std::fprintf(stderr, "roots must be absolute paths: %s\n", root->c_str());
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  options.listeners = ListenFds();
  if (options.listeners.empty() && !listen_path.empty()) {
    const int fd = Listen(listen_path);
    if (fd < 0) return 1;
    options.listeners.push_back(fd);
  }
  if (options.listeners.empty()) {
    std::fprintf(stderr, "no socket: start me from workload_exporter-opener.socket, or give --listen=PATH\n");
    return 2;
  }
  for (int fd : options.listeners) {
    if (!IsSeqpacket(fd)) {
      std::fprintf(stderr, "descriptor %d is not a SOCK_SEQPACKET socket (ListenSequentialPacket=)\n", fd);
      return 2;
    }
  }
  return we::RunOpenerServer(options);
}
