#include "test_util/runc_container.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace we::test_util {
namespace {

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string Which(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    const std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

int Shell(const std::string& command) { return std::system(command.c_str()); }

bool MakeBusyboxBundle(const TempTree& bundle, const std::string& runc, std::string* error) {
  const std::string busybox = Which("busybox");
  if (busybox.empty()) {
    *error = "no busybox (busybox-static)";
    return false;
  }
  for (const char* d : {"rootfs/bin", "rootfs/tmp", "rootfs/proc", "rootfs/dev", "rootfs/sys"}) bundle.MakeDir(d);
  if (Shell("cp " + busybox + " " + bundle.Path("rootfs/bin/busybox")) != 0) {
    *error = "cp " + busybox + " into " + bundle.Path("rootfs/bin") + " failed";
    return false;
  }
  if (Shell("cd " + bundle.root() + " && " + runc + " spec") != 0) {
    *error = runc + " spec in " + bundle.root() + " failed";
    return false;
  }
  return true;
}

bool ReplaceInSpec(std::string* spec, const std::string& from, const std::string& to) {
  const auto at = spec->find(from);
  if (at == std::string::npos) return false;
  spec->replace(at, from.size(), to);
  return true;
}

RuncContainer::RuncContainer(const std::string& runc, const TempTree& bundle, const std::string& name,
                             const std::string& cgroup)
    : runc_(runc), name_(name) {
  // runc uses the same path in every hierarchy; remember which of its parents it will create.
  for (const char* h : {"unified", "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer",
                        "systemd", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"}) {
    const std::string root = std::string("/sys/fs/cgroup/") + h;
    if (!IsDir(root)) continue;
    for (std::string path = cgroup; !path.empty() && path != "/"; path = path.substr(0, path.rfind('/'))) {
      if (!IsDir(root + path)) created_.push_back(root + path);
    }
  }
  started_ =
      Shell(runc_ + " run -d --bundle " + bundle.root() + " " + name_ + " >" + bundle.Path("runc.log") + " 2>&1") == 0;
}

RuncContainer::~RuncContainer() {
  using namespace std::chrono_literals;
  Shell(runc_ + " kill " + name_ + " KILL >/dev/null 2>&1");
  for (int i = 0; i < 50 && Shell(runc_ + " delete -f " + name_ + " >/dev/null 2>&1") != 0; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  // Deepest first: the leaf (if runc left it), then the parents it made.
  std::sort(created_.begin(), created_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const std::string& dir : created_) ::rmdir(dir.c_str());
}

}  // namespace we::test_util
