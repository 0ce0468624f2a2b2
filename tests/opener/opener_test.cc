// The real opener binary (opener/) on a socket in a temp dir, with temp cgroupfs and rootfs
// roots holding root-owned 0600 files, and clients in a child that has dropped to uid 65534:
// what the direct open refuses, the opener gives for allowlisted paths and refuses for the rest;
// a dead opener means the daemon's own result, not an error and not a wait. Needs root.

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "collectors/opener_client.h"
#include "opener/server.h"

namespace we {
namespace {

namespace fs = std::filesystem;
using Result = OpenerClient::Reply::Result;

constexpr uid_t kNobody = 65534;
const std::string kId = "6100a81c4235f3c3ed111d6f6f4c726b5e76f5c261204854d6d0e9b95b254edf";
const std::string kConfig = R"({"Name":"/web-1","Config":{"Image":"nginx:1.25"}})";

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
  ::chmod(path.c_str(), mode);
}

// Runs `body` in a child that has dropped to `uid` and `gid` with no supplementary group, and
// returns what it returned ("child failed: ..." when it could not run it).
std::string AsUser(uid_t uid, gid_t gid, const std::function<std::string()>& body) {
  int out[2];
  if (::pipe(out) != 0) return "child failed: pipe";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(out[0]);
    std::string result;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) {
      result = "child failed: cannot drop to " + std::to_string(uid) + ": " + std::strerror(errno);
    } else {
      result = body();
    }
    const char* p = result.data();
    std::size_t left = result.size();
    while (left > 0) {
      const ssize_t n = ::write(out[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(out[1]);
  std::string result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) result.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed: exit status " + std::to_string(status);
  return result;
}

// The daemon's stand-in: uid and gid 65534, the group the socket is shared with.
std::string AsNobody(const std::function<std::string()>& body) { return AsUser(kNobody, kNobody, body); }

std::string Describe(const OpenerClient::Reply& r) {
  switch (r.result) {
    case Result::kOk:
      return "ok";
    case Result::kRefused:
      return std::string("refused ") + std::strerror(r.error);
    case Result::kUnavailable:
      return "unavailable";
  }
  return "?";
}

std::string Counts(const OpenerClient& client) {
  std::string out;
  for (const auto& [result, n] : client.Counts()) out += result + "=" + std::to_string(n) + " ";
  return out;
}

class OpenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the opener's files are root's, its client uid 65534";
    char tmpl[] = "/tmp/we-opener-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    ::chmod(base_.c_str(), 0711);  // the client may reach its socket, nothing else
    cgroupfs_ = base_ + "/cgroup";
    rootfs_ = base_ + "/rootfs";
    outside_ = base_ + "/outside";
    peak_ = cgroupfs_ + "/system.slice/docker-1.scope/memory.peak";
    config_ = rootfs_ + "/var/lib/docker/containers/" + kId + "/config.v2.json";
    WriteFile(peak_, "4096\n", 0600);
    WriteFile(cgroupfs_ + "/system.slice/docker-1.scope/memory.max", "max\n", 0600);
    WriteFile(config_, kConfig, 0600);
    WriteFile(rootfs_ + "/var/lib/docker/containers/" + kId + "/hostconfig.json", "{}", 0600);
    WriteFile(outside_ + "/memory.peak", "1\n", 0600);
    WriteFile(outside_ + "/config.v2.json", kConfig, 0600);
    // What must be refused where it is: links out of the roots, a FIFO, a directory.
    fs::create_symlink(outside_, cgroupfs_ + "/link");
    fs::create_directories(cgroupfs_ + "/final");
    fs::create_symlink(outside_ + "/memory.peak", cgroupfs_ + "/final/memory.peak");
    fs::create_directories(cgroupfs_ + "/fifo");
    ::mkfifo((cgroupfs_ + "/fifo/memory.peak").c_str(), 0600);
    fs::create_directories(cgroupfs_ + "/dir/memory.peak");
    fs::create_symlink(outside_, rootfs_ + "/var/lib/docker/containers/linked");
    fs::create_symlink(outside_, rootfs_ + "/var/lib/docker/containers/" + kId + "x");
    ::chmod(cgroupfs_.c_str(), 0700);
    ::chmod(rootfs_.c_str(), 0700);
    ::chmod(outside_.c_str(), 0700);
    socket_ = base_ + "/opener.sock";
    listener_ = Bind(socket_);
    ASSERT_GE(listener_, 0) << std::strerror(errno);
    ASSERT_TRUE(StartOpener({}));
  }

  void TearDown() override {
    StopOpener();
    if (listener_ >= 0) ::close(listener_);
    if (!base_.empty()) fs::remove_all(base_);
  }

  static int Bind(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
      return -1;
    }
    // As the package's unit makes it: 0660 root:workload_exporter, the client's group here.
    if (::chown(path.c_str(), 0, kNobody) != 0 || ::chmod(path.c_str(), 0660) != 0) return -1;
    return fd;
  }

  // Starts the opener on listener_ as systemd would (LISTEN_FDS=1, LISTEN_PID), or with
  // `extra` flags instead (e.g. --listen).
  bool StartOpener(std::vector<std::string> extra, bool socket_activated = true) {
    std::vector<std::string> args = {WE_OPENER_BINARY, "--path.cgroupfs=" + cgroupfs_, "--path.rootfs=" + rootfs_,
                                     "--idle-exit=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      if (socket_activated) {
        if (listener_ == 3) {
          ::fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep O_CLOEXEC
        } else {
          ::dup2(listener_, 3);  // a copy, without O_CLOEXEC
        }
        ::setenv("LISTEN_FDS", "1", 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return true;
  }

  // Kills the opener; the listening socket stays (as systemd keeps it).
  int StopOpener() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::string base_, cgroupfs_, rootfs_, outside_, peak_, config_, socket_;
  int listener_ = -1;
  pid_t pid_ = -1;
};

TEST_F(OpenerTest, WhatTheUserIsRefusedTheOpenerGivesForAllowlistedPaths) {
  const std::string report = AsNobody([&] {
    std::ostringstream out;
    const int direct_r = ::open(config_.c_str(), O_RDONLY | O_CLOEXEC);
    out << "direct read: " << (direct_r < 0 ? std::strerror(errno) : "opened") << "\n";
    const int direct_w = ::open(peak_.c_str(), O_RDWR | O_CLOEXEC);
    out << "direct write: " << (direct_w < 0 ? std::strerror(errno) : "opened") << "\n";
    OpenerClient client(socket_);
    BrokeredFileSystem brokered(client);
    ReadResult r = brokered.ReadFile(config_);
    out << "brokered read: " << (r.ok() ? r.data : "failed: " + r.error) << "\n";
    // Not allowlisted, root's: the daemon's own refusal, and the opener is not even asked.
    ReadResult other = brokered.ReadFile(rootfs_ + "/var/lib/docker/containers/" + kId + "/hostconfig.json");
    out << "brokered other: " << (other.ok() ? "read" : std::strerror(other.error_number)) << "\n";
    OpenerClient::Reply w = client.Open(OpenMode::kReadWrite, peak_);
    out << "rw open: " << Describe(w) << "\n";
    if (w.fd >= 0) {
      char buf[16] = {};
      const ssize_t n = ::pread(w.fd, buf, sizeof buf - 1, 0);
      out << "rw read: " << std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      out << "rw write: " << (::pwrite(w.fd, "reset\n", 6, 0) == 6 ? "written" : std::strerror(errno)) << "\n";
      ::close(w.fd);
    }
    out << "counts: " << Counts(client) << "\n";
    return out.str();
  });
  EXPECT_EQ(report,
            "direct read: Permission denied\n"
            "direct write: Permission denied\n"
            "brokered read: " +
                kConfig +
                "\n"
                "brokered other: Permission denied\n"
                "rw open: ok\n"
                "rw read: 4096\n"
                "rw write: written\n"
                "counts: ok=2 refused=0 unavailable=0 \n");
  std::ifstream in(peak_);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "reset\n") << "the write reached the file";
}

TEST_F(OpenerTest, RefusesWhatIsNotAllowlisted) {
  const std::string containers = rootfs_ + "/var/lib/docker/containers/";
  const std::vector<std::pair<std::pair<OpenMode, std::string>, std::string>> cases = {
      {{OpenMode::kRead, containers + kId + "/hostconfig.json"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, config_}, "refused Permission denied"},  // state files are read-only
      {{OpenMode::kRead, peak_}, "refused Permission denied"},         // memory.peak is read-write only
      {{OpenMode::kReadWrite, cgroupfs_ + "/system.slice/docker-1.scope/memory.max"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, cgroupfs_ + "/system.slice/../system.slice/docker-1.scope/memory.peak"},
       "refused Permission denied"},
      {{OpenMode::kReadWrite, cgroupfs_ + "/system.slice/./docker-1.scope/memory.peak"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, cgroupfs_ + "//system.slice/docker-1.scope/memory.peak"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, "system.slice/docker-1.scope/memory.peak"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, outside_ + "/memory.peak"}, "refused Permission denied"},
      // A link in a directory component, out of the root: not followed.
      {{OpenMode::kReadWrite, cgroupfs_ + "/link/memory.peak"}, "refused Not a directory"},
      {{OpenMode::kRead, containers + "linked/config.v2.json"}, "refused Not a directory"},
      // A link as the final component.
      {{OpenMode::kReadWrite, cgroupfs_ + "/final/memory.peak"}, std::string("refused ") + std::strerror(ELOOP)},
      // Not regular files; the FIFO must not block the opener either.
      {{OpenMode::kReadWrite, cgroupfs_ + "/fifo/memory.peak"}, "refused Permission denied"},
      {{OpenMode::kReadWrite, cgroupfs_ + "/dir/memory.peak"}, "refused Permission denied"},
      // Allowed but absent.
      {{OpenMode::kRead, containers + "0000/config.v2.json"}, "refused No such file or directory"},
      // And it still serves.
      {{OpenMode::kRead, config_}, "ok"},
  };
  const std::string report = AsNobody([&] {
    std::string out;
    OpenerClient client(socket_);
    for (const auto& [request, want] : cases) {
      OpenerClient::Reply r = client.Open(request.first, request.second);
      if (r.fd >= 0) ::close(r.fd);
      out += request.second + ": " + Describe(r) + "\n";
    }
    return out;
  });
  std::string want;
  for (const auto& [request, answer] : cases) want += request.second + ": " + answer + "\n";
  EXPECT_EQ(report, want);
}

// Sends `message` on a new connection; true when the opener closed it instead of answering.
bool ClosedOn(const std::string& socket, const std::string& message) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket.data(), socket.size());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  // A bound on the wait, so that a broken opener fails the test instead of hanging it.
  const timeval bound{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return false;
  ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
  char buf[16];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // the opener answers or closes at once
  ::close(fd);
  return n == 0;
}

TEST_F(OpenerTest, BadMessagesCloseTheConnection) {
  EXPECT_TRUE(ClosedOn(socket_, "x" + config_));
  EXPECT_TRUE(ClosedOn(socket_, "r"));
  EXPECT_TRUE(ClosedOn(socket_, std::string("r/a\0b", 5)));
  EXPECT_TRUE(ClosedOn(socket_, "r/" + std::string(kMaxOpenerPath + 10, 'a')));
  EXPECT_FALSE(ClosedOn(socket_, "r/etc/shadow"));  // a request: answered (EACCES)
  OpenerClient client(socket_);
  OpenerClient::Reply r = client.Open(OpenMode::kRead, config_);
  EXPECT_EQ(Describe(r), "ok");
  if (r.fd >= 0) ::close(r.fd);
}

TEST_F(OpenerTest, ADeadOpenerMeansTheUsersOwnResultWithoutWaitingTwice) {
  StopOpener();  // the listening socket stays, as systemd's: a connect succeeds, nobody answers
  const std::string report = AsNobody([&] {
    std::ostringstream out;
    OpenerClient client(socket_, {.timeout = std::chrono::milliseconds(100),
                                  .first_timeout = std::chrono::milliseconds(100),
                                  .retry_after = std::chrono::hours(1)});
    BrokeredFileSystem brokered(client);
    for (int i = 0; i < 3; ++i) {
      ReadResult r = brokered.ReadFile(config_);
      out << "read: " << (r.ok() ? "read" : std::strerror(r.error_number)) << "\n";
    }
    out << "watermark: " << (brokered.OpenResettableWatermark(peak_) ? "opened" : "none") << "\n";
    out << "counts: " << Counts(client) << "\n";
    // No socket at all.
    OpenerClient missing(base_ + "/missing.sock");
    out << "missing: " << Describe(missing.Open(OpenMode::kRead, config_)) << " " << Counts(missing) << "\n";
    return out.str();
  });
  // The first request waited for its timeout; the others were not sent (the pause after a failure).
  EXPECT_EQ(report,
            "read: Permission denied\nread: Permission denied\nread: Permission denied\n"
            "watermark: none\n"
            "counts: ok=0 refused=0 unavailable=3 \n"
            "missing: unavailable ok=0 refused=0 unavailable=1 \n");
}

TEST_F(OpenerTest, TheClientReconnectsToARestartedOpener) {
  OpenerClient client(socket_);
  OpenerClient::Reply first = client.Open(OpenMode::kRead, config_);
  EXPECT_EQ(Describe(first), "ok");
  if (first.fd >= 0) ::close(first.fd);
  StopOpener();
  ASSERT_TRUE(StartOpener({}));  // systemd starts it again on the next connection
  OpenerClient::Reply second = client.Open(OpenMode::kRead, config_);
  EXPECT_EQ(Describe(second), "ok");
  if (second.fd >= 0) ::close(second.fd);
  EXPECT_EQ(Counts(client), "ok=2 refused=0 unavailable=0 ");
}

// A peer that is neither root, nor the opener's user, nor in the socket's group is closed before
// its request is read, even where the socket's mode lets it connect.
TEST_F(OpenerTest, RefusesPeersOutsideTheSocketsGroupWhateverTheMode) {
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  const std::string other = AsUser(kNobody - 1, kNobody - 1, [&] {
    OpenerClient client(socket_, {.timeout = std::chrono::milliseconds(500),
                                  .first_timeout = std::chrono::milliseconds(500),
                                  .retry_after = std::chrono::milliseconds(0)});
    return Describe(client.Open(OpenMode::kRead, config_));
  });
  EXPECT_EQ(other, "unavailable");
  const std::string member = AsNobody([&] {
    OpenerClient client(socket_, {.timeout = std::chrono::milliseconds(500),
                                  .first_timeout = std::chrono::milliseconds(500),
                                  .retry_after = std::chrono::milliseconds(0)});
    const OpenerClient::Reply r = client.Open(OpenMode::kRead, config_);
    if (r.fd >= 0) ::close(r.fd);
    return Describe(r);
  });
  EXPECT_EQ(member, "ok");
}

TEST(OpenerPeers, RootTheOpenersUserAndTheSocketsGroupOnly) {
  EXPECT_TRUE(PeerAllowed(0, 5, 0, 9746));
  EXPECT_TRUE(PeerAllowed(1000, 1000, 1000, std::nullopt));  // the opener's own user
  EXPECT_TRUE(PeerAllowed(9746, 9746, 0, 9746));             // the daemon, in the socket's group
  EXPECT_FALSE(PeerAllowed(1000, 1000, 0, 9746));
  EXPECT_FALSE(PeerAllowed(9746, 9746, 0, std::nullopt));  // a socket whose file is unknown
}

TEST_F(OpenerTest, ExitsWhenIdleAndListensItselfWithoutSystemd) {
  StopOpener();
  ASSERT_TRUE(StartOpener({"--idle-exit=1"}));
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  const std::string own = base_ + "/own.sock";
  ASSERT_TRUE(StartOpener({"--listen=" + own}, /*socket_activated=*/false));
  OpenerClient::Reply r;
  for (int i = 0; i < 500 && r.result != Result::kOk; ++i) {  // until it has bound its socket
    OpenerClient client(own, {.timeout = std::chrono::milliseconds(100),
                              .first_timeout = std::chrono::milliseconds(100),
                              .retry_after = std::chrono::milliseconds(0)});
    r = client.Open(OpenMode::kRead, config_);
    if (r.result != Result::kOk) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Describe(r), "ok");
  if (r.fd >= 0) ::close(r.fd);
}

}  // namespace
}  // namespace we
