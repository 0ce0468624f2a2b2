#include "collectors/machined_registry.h"

#include "collectors/parse.h"

namespace we {

MachinedRegistry::MachinedRegistry(const FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

std::optional<MachineRecord> MachinedRegistry::Find(const std::string& name) const {
  // A machine name is one path component ("unit:..." links are machined's own index).
  if (dir_.empty() || name.empty() || name.find('/') != std::string::npos || name[0] == '.') return std::nullopt;
  auto [it, fresh] = cache_.try_emplace(name);
  if (fresh) {
    ReadResult r = fs_.ReadFile(JoinPath(dir_, name));
    if (r.ok()) it->second = ParseMachineRecord(r.data);
  }
  return it->second;
}

}  // namespace we
