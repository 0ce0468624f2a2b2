#include "test_util/scratch_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "collectors/parse.h"
#include "test_util/temp_tree.h"

namespace we::test_util {

std::string RandomContainerId() {
  std::mt19937_64 gen(std::random_device{}());
  std::string id;
  for (int i = 0; i < 64; ++i) id += "0123456789abcdef"[gen() % 16];
  return id;
}
namespace {

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string Join(const std::string& a, const std::string& b) {
  if (b.empty() || b == "/") return a;
  return a + (b.front() == '/' ? "" : "/") + b;
}

void MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0) {
    throw std::runtime_error(dir + ": mkdir: " + std::strerror(errno));
  }
}

void RemoveDir(const std::string& dir) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(dir + ": rmdir: " + std::strerror(errno));
}

}  // namespace

ScratchCgroup::ScratchCgroup(const std::string& cgroupfs, const std::string& name,
                             const std::vector<std::string>& v1_controllers) {
  std::ifstream self("/proc/self/cgroup");
  if (!self) throw std::runtime_error("/proc/self/cgroup: cannot open");
  // The cgroup2 root: the cgroupfs itself on a v2 host, "unified" beneath it on a hybrid one.
  std::optional<std::string> unified_root;
  if (Exists(cgroupfs + "/cgroup.controllers")) {
    unified_root = cgroupfs;
  } else if (Exists(cgroupfs + "/unified/cgroup.controllers")) {
    unified_root = cgroupfs + "/unified";
  }
  try {
    std::string line;
    while (std::getline(self, line)) {
      // "hierarchy-id:controller-list:path"
      const std::size_t a = line.find(':');
      const std::size_t b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1);
      const std::string own = line.substr(b + 1);
      const std::string rel = (own == "/" ? "" : own) + "/" + name;
      if (controllers.empty() && line.substr(0, a) == "0") {
        if (!unified_root) continue;
        unified_dir_ = Join(*unified_root, rel);
        unified_rel_ = rel;
        MakeDir(*unified_dir_);
        continue;
      }
      std::stringstream list(controllers);
      std::string controller;
      while (std::getline(list, controller, ',')) {
        for (const std::string& wanted : v1_controllers) {
          if (controller != wanted || !IsDir(cgroupfs + "/" + wanted) || v1_dirs_.count(wanted)) continue;
          const std::string dir = Join(cgroupfs + "/" + wanted, rel);
          MakeDir(dir);
          v1_dirs_[wanted] = dir;
        }
      }
    }
  } catch (...) {
    Destroy();
    throw;
  }
  if (!unified_dir_ && v1_dirs_.empty()) {
    throw std::runtime_error(cgroupfs + ": no cgroup hierarchy to create " + name + " in");
  }
}

ScratchCgroup::~ScratchCgroup() {
  try {
    Destroy();
  } catch (const std::exception&) {
    // A leftover directory is reported by the test that made it; a destructor cannot throw.
  }
}

void ScratchCgroup::Add(pid_t pid) const {
  auto move = [pid](const std::string& dir) {
    const std::string file = dir + "/cgroup.procs";
    std::ofstream out(file);
    out << pid << '\n';
    out.flush();
    if (!out) throw std::runtime_error(file + ": cannot write pid " + std::to_string(pid));
  };
  if (unified_dir_) move(*unified_dir_);
  for (const auto& [controller, dir] : v1_dirs_) move(dir);
}

void ScratchCgroup::Destroy() {
  std::string first_error;
  auto remove = [&](const std::string& dir) {
    try {
      RemoveDir(dir);
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
    }
  };
  if (unified_dir_) remove(*unified_dir_);
  for (const auto& [controller, dir] : v1_dirs_) remove(dir);
  unified_dir_.reset();
  v1_dirs_.clear();
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

std::optional<std::string> ScratchCgroup::v1_dir(const std::string& controller) const {
  auto it = v1_dirs_.find(controller);
  if (it == v1_dirs_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> ScratchCgroup::ReadMemoryFigure(const std::string& v1_file, const std::string& v2_file) const {
  if (auto memory = v1_dir("memory")) return ParseU64(ReadFileOrEmpty(*memory + "/" + v1_file));
  if (unified_dir_) return ParseU64(ReadFileOrEmpty(*unified_dir_ + "/" + v2_file));
  return std::nullopt;
}

ReleasedChild::ReleasedChild(const std::function<void()>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::close(fds[1]);
    char go;
    if (::read(fds[0], &go, 1) != 1) ::_exit(1);
    work();
    while (true) ::pause();
  }
  ::close(fds[0]);
  release_fd_ = fds[1];
}

ReleasedChild::~ReleasedChild() {
  Kill();
  if (release_fd_ >= 0) ::close(release_fd_);
}

void ReleasedChild::Release() {
  if (release_fd_ < 0) return;
  (void)!::write(release_fd_, "g", 1);
  ::close(release_fd_);
  release_fd_ = -1;
}

void ReleasedChild::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

namespace {

// In the child: `bytes` of anonymous memory, touched so that they are resident.
void* TouchMemory(std::size_t bytes) {
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) ::_exit(2);
  std::memset(memory, 0x5a, bytes);
  return memory;
}

}  // namespace

BurnerChild::BurnerChild(std::size_t memory_bytes, int cpu_ms)
    : ReleasedChild([memory_bytes, cpu_ms] {
        TouchMemory(memory_bytes);
        timespec start{}, now{};
        ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
        volatile unsigned long spin = 0;
        do {
          for (int i = 0; i < 100000; ++i) spin = spin + 1;
          ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < cpu_ms);
      }) {}

SpikeChild::SpikeChild(std::size_t memory_bytes, int hold_ms)
    : ReleasedChild([memory_bytes, hold_ms] {
        void* memory = TouchMemory(memory_bytes);
        ::usleep(static_cast<useconds_t>(hold_ms) * 1000);
        ::munmap(memory, memory_bytes);
      }) {}

}  // namespace we::test_util
