#include "collectors/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace we {
namespace {

// Errors that mean "this cgroup or process is gone", which is normal and not an error.
bool IsAbsentErrno(int err) {
  return err == ENOENT || err == ENODEV || err == ESRCH || err == ENXIO || err == ENOTDIR;
}

std::string ErrnoMessage(const std::string& path, int err) {
  return path + ": " + std::strerror(err);
}

}  // namespace

ReadResult RealFileSystem::ReadFile(const std::string& path) const {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    return IsAbsentErrno(err) ? ReadResult::Absent() : ReadResult::Error(ErrnoMessage(path, err));
  }
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
    return IsAbsentErrno(err) ? ReadResult::Absent() : ReadResult::Error(ErrnoMessage(path, err));
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
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0 || static_cast<long>(sfs.f_type) != kCgroup2SuperMagic) return nullptr;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return nullptr;  // read-only before 6.12
  if (::pwrite(fd, "reset\n", 6, 0) < 0) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<FdWatermark>(fd);
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

}  // namespace we
