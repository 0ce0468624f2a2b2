#pragma once
// Real cgroups for integration tests, created only beneath the test process's own cgroup in each
// hierarchy (read from /proc/self/cgroup) and removed again; and BurnerChild, a forked process
// that uses a known amount of memory and CPU inside one.
//
// Thread-safety: none; one test thread owns each object.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace we::test_util {

// 64 random hex digits: a container id as Docker, containerd and Podman make them.
std::string RandomContainerId();

class ScratchCgroup {
 public:
  // Creates `name` beneath this process's cgroup in the cgroup2 tree (when the host has one) and
  // in each listed v1 hierarchy present under `cgroupfs` (on a hybrid or v1 host). Throws
  // std::runtime_error naming the directory when a mkdir fails, or when no hierarchy was found.
  ScratchCgroup(const std::string& cgroupfs, const std::string& name, const std::vector<std::string>& v1_controllers);
  // Destroys what is left (processes in it must have exited).
  ~ScratchCgroup();
  ScratchCgroup(const ScratchCgroup&) = delete;
  ScratchCgroup& operator=(const ScratchCgroup&) = delete;

  // Moves a process into every directory of this cgroup. Throws naming the file on failure.
  void Add(pid_t pid) const;

  // Removes the directories (rmdir, retried while the kernel still counts exited tasks).
  void Destroy();

  // The cgroup2 directory, absolute, and its path relative to the cgroup2 root ("/a/b").
  const std::optional<std::string>& unified_dir() const { return unified_dir_; }
  const std::optional<std::string>& unified_rel() const { return unified_rel_; }
  // A v1 controller's directory, absolute, when created.
  std::optional<std::string> v1_dir(const std::string& controller) const;

  // The number in one of the memory controller's files, as the kernel has it now: `v1_file` in
  // the v1 memory directory when there is one (a hybrid host), else `v2_file` in the cgroup2
  // directory; nullopt when neither can be read as a number.
  std::optional<uint64_t> ReadMemoryFigure(const std::string& v1_file, const std::string& v2_file) const;

 private:
  std::optional<std::string> unified_dir_;
  std::optional<std::string> unified_rel_;
  std::map<std::string, std::string> v1_dirs_;
};

// A forked child that waits until Release(), then runs its work and sleeps until killed. Waiting
// first lets the test move it into a cgroup before it allocates, so the memory is charged there.
class ReleasedChild {
 public:
  // `work` runs in the child after Release(); it must only make system calls (the child of a
  // threaded test must not take locks), and the child sleeps when it returns.
  explicit ReleasedChild(const std::function<void()>& work);
  ~ReleasedChild();  // kills and reaps the child if still running
  ReleasedChild(const ReleasedChild&) = delete;
  ReleasedChild& operator=(const ReleasedChild&) = delete;

  pid_t pid() const { return pid_; }
  void Release();
  void Kill();

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
};

// Touches `memory_bytes` of anonymous memory, burns `cpu_ms` of CPU time, and sleeps.
class BurnerChild : public ReleasedChild {
 public:
  BurnerChild(std::size_t memory_bytes, int cpu_ms);
};

// Maps and touches `memory_bytes`, holds them for `hold_ms`, unmaps them and sleeps: a memory
// spike of known size and length.
class SpikeChild : public ReleasedChild {
 public:
  SpikeChild(std::size_t memory_bytes, int hold_ms);
};

}  // namespace we::test_util
