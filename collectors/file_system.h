#pragma once
// FileSystem: the only code that touches the filesystem. Collectors receive one, plus the root
// paths they read under (--path.cgroupfs, --path.procfs); nothing else opens files.
//
// Thread-safety: implementations are safe to call from several threads at once; they hold no
// mutable state. Tests inject faults by wrapping a FileSystem (see tests/test_util/).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace we {

// A read either succeeds, finds nothing (the file or its directory vanished: ENOENT, ENODEV,
// ESRCH, ENXIO; a missing value is not an error), or fails with a message that names the path.
struct ReadResult {
  enum class Status { kOk, kAbsent, kError };
  Status status = Status::kAbsent;
  std::string data;      // the whole content when kOk
  std::string error;     // "path: reason" when kError
  int error_number = 0;  // the errno behind kError, when a system call said it (0 otherwise)

  bool ok() const { return status == Status::kOk; }
  static ReadResult Ok(std::string d) { return {Status::kOk, std::move(d), {}}; }
  static ReadResult Absent() { return {Status::kAbsent, {}, {}}; }
  static ReadResult Error(std::string e, int err = 0) { return {Status::kError, {}, std::move(e), err}; }
};

struct DirEntry {
  std::string name;
  bool is_dir = false;  // a real directory (symbolic links are never directories here)
  bool is_symlink = false;
};

// Identity of a file or directory: a cgroup directory recreated under the same path gets a new
// inode, which is how rates are kept to one instance.
struct FileStat {
  uint64_t device = 0;
  uint64_t inode = 0;
  double ctime_seconds = 0;  // status change time, Unix seconds
  // Hard links. A directory on cgroupfs, tmpfs or ext4 has 2 + its number of subdirectories; 0
  // or 1 means the filesystem does not count them (btrfs, overlayfs) or the caller did not say.
  uint64_t links = 0;
};

// A file opened once and re-read from its start as often as needed: what the cgroup collector
// keeps for the files it reads every tick, so that a tick costs a pread per file instead of an
// open, a path lookup, a read and a close.
//
// Thread-safety: one thread at a time per object.
class OpenFile {
 public:
  virtual ~OpenFile() = default;
  // Replaces *into with the whole current content (reusing its capacity). kAbsent when the file
  // or its cgroup is gone (a removed cgroup's open files read ENODEV); kError with "path: reason"
  // in *error otherwise.
  virtual ReadResult::Status ReadAll(std::string* into, std::string* error) = 0;
  virtual const std::string& path() const = 0;
  // True when this object holds an open descriptor (counts against RLIMIT_NOFILE).
  virtual bool holds_descriptor() const { return false; }
};

// A kernel high-water mark that can be reset through its own open descriptor: cgroup v2's
// memory.peak on Linux 6.12 and later ("a write of any non-empty string resets it to the current
// usage for reads through the same descriptor"). The lifetime value read by a plain open is not
// changed. Two descriptors that both reset do take each other's peaks, as measured on 6.12
// (README.md, "Peak memory"): one resetting reader per cgroup.
class ResettableWatermark {
 public:
  virtual ~ResettableWatermark() = default;
  // The highest value since the last reset (or since opening), then resets. nullopt when the
  // file vanished or did not hold a number.
  virtual std::optional<uint64_t> ReadAndReset() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Reads the whole file at an absolute path.
  virtual ReadResult ReadFile(const std::string& path) const = 0;

  // Lists a directory's entries (without "." and ".."). nullopt when the directory is absent.
  virtual std::optional<std::vector<DirEntry>> ListDir(const std::string& path) const = 0;

  // Stats a path without following a final symbolic link. nullopt when absent.
  virtual std::optional<FileStat> Stat(const std::string& path) const = 0;

  // Resolves a symbolic link; nullopt when absent or not a link.
  virtual std::optional<std::string> ReadLink(const std::string& path) const = 0;

  // Opens `path` as a resettable watermark, already reset once; nullptr when the file is absent
  // or cannot be reset (not on cgroup2, or a kernel older than 6.12). Default: never resettable.
  virtual std::unique_ptr<ResettableWatermark> OpenResettableWatermark(const std::string& path) const {
    (void)path;
    return nullptr;
  }

  // Number of entries in a directory (without "." and ".."); nullopt when absent. Default: ListDir.
  virtual std::optional<uint64_t> CountEntries(const std::string& path) const {
    auto entries = ListDir(path);
    if (!entries) return std::nullopt;
    return entries->size();
  }

  // True when a descriptor that Open keeps for a file under `path` fails to read (ENODEV) once
  // the file's directory is removed, as on cgroupfs (kernfs): a read through it that succeeds then
  // proves that the directory was neither removed nor re-created since the file was opened.
  // Default, and on file systems where an open file outlives its removal (tmpfs): false.
  virtual bool KeptReadsProveLiveness(const std::string& path) const {
    (void)path;
    return false;
  }

  // Opens `path` for repeated reads. With `keep_descriptor` the descriptor stays open and each
  // read is a pread; without (the caller is short of descriptors) each read opens, reads and
  // closes by path. nullptr when the file cannot be opened, with *failure saying whether it is
  // absent or an error. The default reads through ReadFile every time, so that wrappers which
  // override only ReadFile (fault injection in tests) see every read.
  virtual std::unique_ptr<OpenFile> Open(const std::string& path, bool keep_descriptor, ReadResult* failure) const;
};

// The real filesystem, through POSIX calls. Stateless.
class RealFileSystem final : public FileSystem {
 public:
  ReadResult ReadFile(const std::string& path) const override;
  std::optional<std::vector<DirEntry>> ListDir(const std::string& path) const override;
  std::optional<FileStat> Stat(const std::string& path) const override;
  std::optional<std::string> ReadLink(const std::string& path) const override;
  std::unique_ptr<ResettableWatermark> OpenResettableWatermark(const std::string& path) const override;
  // The same, saying in *open_errno why open() failed (0 when it succeeded, or was not tried
  // because `path` is not on cgroup2): BrokeredFileSystem asks the opener on EACCES and EROFS.
  std::unique_ptr<ResettableWatermark> OpenResettableWatermark(const std::string& path, int* open_errno) const;
  // On procfs, /proc/PID/fd reports its number of descriptors as its size (Linux 6.2+): one
  // statfs and one stat instead of listing thousands of descriptors (the cgroup collector keeps
  // one per file it reads), each of which procfs builds a dentry for. Elsewhere: ListDir.
  std::optional<uint64_t> CountEntries(const std::string& path) const override;
  // Falls back to reading by path when open() says EMFILE or ENFILE.
  std::unique_ptr<OpenFile> Open(const std::string& path, bool keep_descriptor, ReadResult* failure) const override;
  // `path` is on cgroup2 or a cgroup v1 hierarchy (statfs).
  bool KeptReadsProveLiveness(const std::string& path) const override;
};

// Reads all of `fd` from its current offset as the content of `path` (for errors), and closes
// it: ReadFile's tail, for a descriptor that the opener passed (collectors/opener_client.h).
ReadResult ReadAndCloseDescriptor(int fd, const std::string& path);

// Takes `fd`, a memory.peak opened read-write elsewhere (by the opener), and resets it once as
// OpenResettableWatermark does; nullptr (and `fd` closed) when the reset fails.
std::unique_ptr<ResettableWatermark> AdoptResettableWatermark(int fd);

// Joins a root and a relative path with exactly one '/' between them.
std::string JoinPath(const std::string& root, const std::string& rel);

}  // namespace we
