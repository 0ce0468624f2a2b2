#include "opener/open_beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace we {
namespace {

// Owns one descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

int Openat(int dir, const std::string& name, int flags) {
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

int OpenAllowlisted(const OpenerRoots& roots, const OpenRequest& request) {
  const std::optional<AllowedOpen> allowed = OpenerAllowed(roots, request.mode, request.path);
  if (!allowed) return -EACCES;
  // The root itself is the administrator's (a flag of the unit): it may be a symbolic link.
  // O_PATH: a directory on the way needs only search permission, as in the kernel's own lookup.
  Fd dir(Openat(AT_FDCWD, std::string(allowed->root), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return -errno;
  const auto& components = allowed->components;
  for (std::size_t i = 0; i + 1 < components.size(); ++i) {
    const int next = Openat(dir.get(), std::string(components[i]), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -errno;  // ENOTDIR for a symbolic link (O_PATH | O_NOFOLLOW opens the link itself)
    dir = next;
  }
  const std::string last(components.back());
  // Look before opening: opening a device could act on it, and a FIFO would block. O_NONBLOCK
  // covers a FIFO swapped in between; the fstat below catches any swap.
  struct stat before;
  if (::fstatat(dir.get(), last.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  if (S_ISLNK(before.st_mode)) return -ELOOP;
  if (!S_ISREG(before.st_mode)) return -EACCES;
  const int access = request.mode == OpenMode::kReadWrite ? O_RDWR : O_RDONLY;
  Fd file(Openat(dir.get(), last, access | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) return -errno;
  struct stat after;
  if (::fstat(file.get(), &after) != 0) return -errno;
  if (!S_ISREG(after.st_mode) || after.st_dev != before.st_dev || after.st_ino != before.st_ino) return -EACCES;
  // The status flags travel with the descriptor: the daemon gets an ordinary blocking one.
  const int flags = ::fcntl(file.get(), F_GETFL);
  if (flags < 0 || ::fcntl(file.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return -errno;
  return file.release();
}

}  // namespace we
