#include "collectors/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace we {
namespace {

// Errors that mean "this cgroup or process is gone", which is normal and not an error.
bool IsAbsentErrno(int err) { return err == ENOENT || err == ENODEV || err == ESRCH || err == ENXIO || err == ENOTDIR; }

std::string ErrnoMessage(const std::string& path, int err) { return path + ": " + std::strerror(err); }

}  // namespace

ReadResult RealFileSystem::ReadFile(const std::string& path) const {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    return IsAbsentErrno(err) ? ReadResult::Absent() : ReadResult::Error(ErrnoMessage(path, err), err);
  }
  return ReadAndCloseDescriptor(fd, path);
}

ReadResult ReadAndCloseDescriptor(int fd, const std::string& path) {
  std::string data;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      data.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return IsAbsentErrno(err) ? ReadResult::Absent() : ReadResult::Error(ErrnoMessage(path, err), err);
  }
  ::close(fd);
  return ReadResult::Ok(std::move(data));
}

std::optional<std::vector<DirEntry>> RealFileSystem::ListDir(const std::string& path) const {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return std::nullopt;
  std::vector<DirEntry> entries;
  while (const dirent* ent = ::readdir(dir)) {
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    DirEntry e;
    e.name = std::string(name);
    unsigned char type = ent->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(dir), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
      }
    }
    e.is_dir = type == DT_DIR;
    e.is_symlink = type == DT_LNK;
    entries.push_back(std::move(e));
  }
  ::closedir(dir);
  return entries;
}

std::optional<FileStat> RealFileSystem::Stat(const std::string& path) const {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  FileStat fs;
  fs.device = st.st_dev;
  fs.inode = st.st_ino;
  fs.ctime_seconds = static_cast<double>(st.st_ctim.tv_sec) + st.st_ctim.tv_nsec / 1e9;
  fs.links = st.st_nlink;
  return fs;
}

std::optional<std::string> RealFileSystem::ReadLink(const std::string& path) const {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

namespace {

constexpr long kCgroup2SuperMagic = 0x63677270;
constexpr long kCgroupSuperMagic = 0x27e0eb;  // a cgroup v1 hierarchy

// memory.peak through one descriptor: pread the mark, pwrite to reset it.
class FdWatermark final : public ResettableWatermark {
 public:
  explicit FdWatermark(int fd) : fd_(fd) {}
  ~FdWatermark() override { ::close(fd_); }
  std::optional<uint64_t> ReadAndReset() override {
    char buf[64];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    char* end = nullptr;
    const unsigned long long value = std::strtoull(buf, &end, 10);
    if (end == buf) return std::nullopt;
    if (::pwrite(fd_, "reset\n", 6, 0) < 0) return std::nullopt;
    return value;
  }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<ResettableWatermark> RealFileSystem::OpenResettableWatermark(const std::string& path) const {
  int open_errno = 0;
  return OpenResettableWatermark(path, &open_errno);
}

std::unique_ptr<ResettableWatermark> RealFileSystem::OpenResettableWatermark(const std::string& path,
                                                                             int* open_errno) const {
  *open_errno = 0;
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0 || static_cast<long>(sfs.f_type) != kCgroup2SuperMagic) return nullptr;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {  // read-only before 6.12; root's file; a read-only mount
    *open_errno = errno;
    return nullptr;
  }
  return AdoptResettableWatermark(fd);
}

std::unique_ptr<ResettableWatermark> AdoptResettableWatermark(int fd) {
  if (::pwrite(fd, "reset\n", 6, 0) < 0) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<FdWatermark>(fd);
}

namespace {

// Reads through FileSystem::ReadFile every time: the default for wrappers, and what the real
// filesystem falls back to when descriptors are scarce.
class PathFile final : public OpenFile {
 public:
  PathFile(const FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  ReadResult::Status ReadAll(std::string* into, std::string* error) override {
    ReadResult r = fs_.ReadFile(path_);
    if (r.status == ReadResult::Status::kOk) into->assign(r.data);
    if (r.status == ReadResult::Status::kError) *error = std::move(r.error);
    return r.status;
  }
  const std::string& path() const override { return path_; }

 private:
  const FileSystem& fs_;
  std::string path_;
};

// One descriptor, re-read with pread from offset 0: cgroupfs and procfs regenerate the content
// on every read at offset 0.
// See DescriptorFile::ReadAll.
constexpr ssize_t kWholeFileBelow = 2048;

class DescriptorFile final : public OpenFile {
 public:
  DescriptorFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~DescriptorFile() override { ::close(fd_); }
  ReadResult::Status ReadAll(std::string* into, std::string* error) override {
    // Into a scratch buffer, then one copy: no allocation once *into has grown to the file's size,
    // and no zero-filling of a resized string.
    thread_local char buf[16384];
    into->clear();
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(fd_, buf, sizeof buf, offset);
      if (n > 0) {
        into->append(buf, static_cast<size_t>(n));
        offset += n;
        // A first read well short of a page is the whole file: a regular file reads to its end,
        // and a cgroupfs, procfs or sysfs file (seq_file) fills one page before it returns short.
        // This saves the read that would return 0, half the system calls of a tick.
        if (offset == n && n < kWholeFileBelow) return ReadResult::Status::kOk;
        continue;
      }
      if (n == 0) return ReadResult::Status::kOk;
      if (errno == EINTR) continue;
      const int err = errno;
      if (IsAbsentErrno(err)) return ReadResult::Status::kAbsent;
      *error = ErrnoMessage(path_, err);
      return ReadResult::Status::kError;
    }
  }
  const std::string& path() const override { return path_; }
  bool holds_descriptor() const override { return true; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

std::unique_ptr<OpenFile> FileSystem::Open(const std::string& path, bool keep_descriptor, ReadResult* failure) const {
  (void)keep_descriptor;
  ReadResult r = ReadFile(path);
  if (!r.ok()) {
    *failure = std::move(r);
    return nullptr;
  }
  return std::make_unique<PathFile>(*this, path);
}

std::unique_ptr<OpenFile> RealFileSystem::Open(const std::string& path, bool keep_descriptor,
                                               ReadResult* failure) const {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    if (err == EMFILE || err == ENFILE) return std::make_unique<PathFile>(*this, path);
    *failure = IsAbsentErrno(err) ? ReadResult::Absent() : ReadResult::Error(ErrnoMessage(path, err));
    return nullptr;
  }
  if (!keep_descriptor) {
    ::close(fd);
    return std::make_unique<PathFile>(*this, path);
  }
  return std::make_unique<DescriptorFile>(fd, path);
}

std::optional<uint64_t> RealFileSystem::CountEntries(const std::string& path) const {
  constexpr long kProcSuperMagic = 0x9fa0;
  struct statfs sfs;
  struct stat st;
  if (::statfs(path.c_str(), &sfs) == 0 && static_cast<long>(sfs.f_type) == kProcSuperMagic &&
      ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_size > 0) {
    return static_cast<uint64_t>(st.st_size);
  }
  return FileSystem::CountEntries(path);
}

std::string JoinPath(const std::string& root, const std::string& rel) {
  if (rel.empty()) return root;
  if (root.empty()) return rel;
  bool root_slash = root.back() == '/';
  bool rel_slash = rel.front() == '/';
  if (root_slash && rel_slash) return root + rel.substr(1);
  if (root_slash || rel_slash) return root + rel;
  return root + "/" + rel;
}

bool RealFileSystem::KeptReadsProveLiveness(const std::string& path) const {
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0) return false;
  const long type = static_cast<long>(sfs.f_type);
  return type == kCgroup2SuperMagic || type == kCgroupSuperMagic;
}

}  // namespace we
