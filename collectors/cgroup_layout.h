#pragma once
// Which cgroup hierarchies a host has under its cgroupfs root: pure cgroup v2 (the root is a
// cgroup2 mount), v1 (one directory per controller set), or hybrid (v1 controllers beside a
// cgroup2 mount at "unified/", as systemd's hybrid mode and this project's CI machines have).

#include <map>
#include <optional>
#include <string>

#include "collectors/file_system.h"

namespace we {

struct CgroupLayout {
  enum class Kind { kNone, kV2, kV1, kHybrid };
  Kind kind = Kind::kNone;
  std::optional<std::string> unified;  // absolute path of the cgroup2 hierarchy, if any
  // v1 controller -> absolute path of its hierarchy. Co-mounted controllers ("cpu,cpuacct") share
  // one path; the named "systemd" hierarchy has no controllers and is not listed.
  std::map<std::string, std::string> v1;

  const std::string* V1Path(const std::string& controller) const {
    auto it = v1.find(controller);
    return it == v1.end() ? nullptr : &it->second;
  }
};

std::string LayoutName(CgroupLayout::Kind kind);  // "none", "v2", "v1", "hybrid"

// Looks at the root's entries; reads nothing but directory listings and cgroup.controllers.
CgroupLayout DetectCgroupLayout(const FileSystem& fs, const std::string& root);

}  // namespace we
