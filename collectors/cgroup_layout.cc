#include "collectors/cgroup_layout.h"

#include "collectors/parse.h"

namespace we {

std::string LayoutName(CgroupLayout::Kind kind) {
  switch (kind) {
    case CgroupLayout::Kind::kV2:
      return "v2";
    case CgroupLayout::Kind::kV1:
      return "v1";
    case CgroupLayout::Kind::kHybrid:
      return "hybrid";
    case CgroupLayout::Kind::kNone:
      break;
  }
  return "none";
}

CgroupLayout DetectCgroupLayout(const FileSystem& fs, const std::string& root) {
  CgroupLayout layout;
  // A cgroup2 mount has cgroup.controllers at its root; a v1 hierarchy never does.
  if (fs.ReadFile(JoinPath(root, "cgroup.controllers")).ok()) {
    layout.kind = CgroupLayout::Kind::kV2;
    layout.unified = root;
    return layout;
  }
  auto entries = fs.ListDir(root);
  if (!entries) return layout;
  for (const DirEntry& e : *entries) {
    if (!e.is_dir) continue;  // "cpu -> cpu,cpuacct" links name a hierarchy listed under its own name
    std::string path = JoinPath(root, e.name);
    if (e.name == "unified") {
      if (fs.ReadFile(JoinPath(path, "cgroup.controllers")).ok()) layout.unified = path;
      continue;
    }
    if (!fs.Stat(JoinPath(path, "cgroup.procs"))) continue;
    for (std::string_view controller : SplitNonEmpty(e.name, ',')) {
      if (controller.substr(0, 5) == "name=" || controller == "systemd") continue;
      layout.v1.emplace(std::string(controller), path);
    }
  }
  if (!layout.v1.empty()) {
    layout.kind = layout.unified ? CgroupLayout::Kind::kHybrid : CgroupLayout::Kind::kV1;
  } else if (layout.unified) {
    layout.kind = CgroupLayout::Kind::kV2;
  }
  return layout;
}

}  // namespace we
