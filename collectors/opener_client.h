#pragma once
// The daemon's side of the opener (opener/, README.md "Privileges"): a root process without
// capabilities that opens the few root-only files the daemon needs (memory.peak read-write,
// the runtimes' state files read-only; collectors/opener_protocol.h) and passes the descriptor
// back. BrokeredFileSystem asks it only for what the daemon's own user was refused.
//
// A missing, dead or slow opener is not an error: the daemon gets what its own user may open,
// as without one (the container keeps its id as its name; peaks follow the lifetime rule). The
// first such failure is logged at warning; every request is counted by result.
//
// Thread-safety: OpenerClient and BrokeredFileSystem are safe to call from several threads at
// once (FileSystem's contract). Requests are serialised on one connection by a mutex; each waits
// at most `timeout` for its reply (`first_timeout` on a new connection, which may start the
// opener), and after a failure none is sent for `retry_after`, so a tick
// never waits on a missing opener more than once per `retry_after`.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "collectors/file_system.h"
#include "collectors/opener_protocol.h"

namespace we {

class OpenerClient {
 public:
  struct Options {
    std::chrono::milliseconds timeout{100};  // connect, send and reply, each request
    // The same for the first request on a new connection: systemd starts the opener on it
    // (socket activation), which took ~0.7 s under TCG; until then the request waits queued.
    std::chrono::milliseconds first_timeout{2'000};
    std::chrono::milliseconds retry_after{10'000};  // no request after a failure, for this long
  };
  // `socket_path`: --opener.socket. Connects lazily, on the first request.
  OpenerClient(std::string socket_path, Options options);
  explicit OpenerClient(std::string socket_path) : OpenerClient(std::move(socket_path), Options{}) {}
  ~OpenerClient();
  OpenerClient(const OpenerClient&) = delete;
  OpenerClient& operator=(const OpenerClient&) = delete;

  // What one request came to.
  struct Reply {
    enum class Result { kOk, kRefused, kUnavailable };
    Result result = Result::kUnavailable;
    int fd = -1;    // kOk: the descriptor, the caller's to close
    int error = 0;  // kRefused: the opener's errno (EACCES: not allowlisted; ENOENT: absent...)
  };
  Reply Open(OpenMode mode, const std::string& path) const;

  // Requests so far by result: "ok", "refused" (the opener answered with an errno) and
  // "unavailable" (no answer in time, no opener, or none asked in the pause after a failure).
  std::map<std::string, uint64_t> Counts() const;
  const std::string& socket_path() const { return socket_path_; }

 private:
  Reply Exchange(OpenMode mode, const std::string& path, bool* retry) const;
  void CloseLocked() const;

  const std::string socket_path_;
  const Options options_;
  mutable std::mutex mu_;
  mutable int fd_ = -1;  // the connection, -1 when none
  mutable std::chrono::steady_clock::time_point paused_until_{};
  mutable bool warned_ = false;  // logged this outage
  mutable std::atomic<uint64_t> ok_{0}, refused_{0}, unavailable_{0};
};

// RealFileSystem, and the opener for what it refuses: ReadFile of a runtime state file and
// OpenResettableWatermark of a memory.peak, when the daemon's user was refused (EACCES, EPERM,
// and EROFS for the watermark: the main unit mounts cgroupfs read-only) and the path has the
// shape the opener allows. Everything else is RealFileSystem's. Stateless but for the client.
class BrokeredFileSystem final : public FileSystem {
 public:
  // `opener` must outlive this.
  explicit BrokeredFileSystem(const OpenerClient& opener) : opener_(opener) {}

  ReadResult ReadFile(const std::string& path) const override;
  std::unique_ptr<ResettableWatermark> OpenResettableWatermark(const std::string& path) const override;
  std::optional<std::vector<DirEntry>> ListDir(const std::string& path) const override { return real_.ListDir(path); }
  std::optional<FileStat> Stat(const std::string& path) const override { return real_.Stat(path); }
  std::optional<std::string> ReadLink(const std::string& path) const override { return real_.ReadLink(path); }
  std::optional<uint64_t> CountEntries(const std::string& path) const override { return real_.CountEntries(path); }
  std::unique_ptr<OpenFile> Open(const std::string& path, bool keep_descriptor, ReadResult* failure) const override {
    return real_.Open(path, keep_descriptor, failure);
  }
  bool KeptReadsProveLiveness(const std::string& path) const override { return real_.KeptReadsProveLiveness(path); }

 private:
  RealFileSystem real_;
  const OpenerClient& opener_;
};

}  // namespace we
