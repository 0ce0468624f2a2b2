#pragma once
// systemd-machined's record of each machine, read from its state files
// (<rootfs>/run/systemd/machines/<name>, src/machine/machine.c machine_save), so that a
// machine-<name>.scope is named by what machined says it holds (CLASS=container or vm, ID= the
// UUID) rather than guessed from its name (container_identity.h).
//
// Each name is read once and kept until Forget(): the cgroup collector forgets at every walk of
// the tree, and the QEMU scan, which asks between walks, shares the same registry, so that both
// name a scope alike in every tick and the VM's process joins its cgroup. A missing file (no
// machined, a scope not registered yet, /run not visible) is no record and not an error; nor is an
// unreadable one, which machined makes 0644 anyway.
//
// Thread-safety: not thread-safe (Find fills a cache); used by the sampler thread only.

#include <map>
#include <optional>
#include <string>

#include "collectors/container_identity.h"
#include "collectors/file_system.h"

namespace we {

class MachinedRegistry final : public MachineLookup {
 public:
  // `fs` must outlive the registry. `dir` is <rootfs>/run/systemd/machines; empty: no records.
  MachinedRegistry(const FileSystem& fs, std::string dir);

  std::optional<MachineRecord> Find(const std::string& name) const override;
  void Forget() const { cache_.clear(); }

 private:
  const FileSystem& fs_;
  std::string dir_;
  mutable std::map<std::string, std::optional<MachineRecord>> cache_;
};

}  // namespace we
