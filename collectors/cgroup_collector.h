#pragma once
// CgroupCollector finds the workloads in the cgroup filesystem and reads their figures.
//
// Each tick it walks every hierarchy it reads from (the cgroup2 tree and the v1 cpu, cpuacct,
// memory and pids trees), names each directory with the runtimes' rules (container_identity.h),
// and joins a workload's directories across hierarchies by identity, not by path: on hybrid hosts
// a container's v1 memory cgroup can sit under another parent than its cgroup2 one.
//
// Thread-safety: not thread-safe; owned and called by the sampler.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectors/cgroup_figures.h"
#include "collectors/cgroup_layout.h"
#include "collectors/collector.h"
#include "collectors/file_system.h"

namespace we {

// Where one workload lives: its directory in each hierarchy that has it.
struct WorkloadLocation {
  WorkloadIdentity identity;
  std::optional<std::string> unified_dir;           // absolute
  std::optional<std::string> unified_rel;           // relative to the cgroup2 root, "/system.slice/..."
  std::map<std::string, std::string> v1_dirs;       // controller -> absolute directory
  std::map<std::string, std::string> v1_rels;       // controller -> path relative to its hierarchy
};

class CgroupCollector final : public Collector {
 public:
  // `fs` must outlive the collector. `root` is --path.cgroupfs.
  // `services`: also report systemd services (system.slice/*.service) as kind="service".
  // `procfs` (empty: none) is where each container's network namespace is read from
  // (/proc/PID/net/dev of one of its processes).
  CgroupCollector(const FileSystem& fs, std::string root, bool services = false, std::string procfs = "");

  std::string name() const override { return "cgroup"; }
  CollectResult Collect() override;

  const CgroupLayout& layout() const { return layout_; }

  // Walks the hierarchies and returns every workload found, keyed by identity. Public for tests.
  std::map<std::string, WorkloadLocation> Discover(std::vector<std::string>* errors) const;

  // Reads one workload's files into a sample. Public for tests.
  Sample Read(const WorkloadLocation& location, std::vector<std::string>* errors) const;

 private:
  void Walk(const std::string& hierarchy_root, const std::string& rel, int depth,
            const std::vector<std::string>& controllers, std::map<std::string, WorkloadLocation>* found) const;
  MaybeFile ReadOptional(const std::string& dir, const char* file, std::vector<std::string>* errors) const;
  std::optional<uint64_t> CountThreads(const std::string& dir, const char* file, int depth) const;

  // Fills each container's network figures, once per network namespace: containers sharing one
  // (a Kubernetes pod) show it on the first of them by identity, and a namespace shared with the
  // host (as /proc/1 sees it) is not a container's traffic. A process that exits mid-read leaves
  // the figures absent for this tick; a net/dev that does not parse is an error naming the file.
  void ReadNetwork(const std::map<std::string, WorkloadLocation>& locations, std::vector<Sample>* samples,
                   std::vector<std::string>* errors) const;
  // Reads and resets each workload's memory.peak descriptor (see ResettableWatermark), opening
  // it on a workload's first tick; drops the descriptors of workloads that are gone.
  void ReadIntervalPeaks(const std::map<std::string, WorkloadLocation>& locations, std::vector<Sample>* samples);

  const FileSystem& fs_;
  std::string root_;
  CgroupLayout layout_;
  bool services_ = false;
  std::string procfs_;
  struct Watermark {
    uint64_t instance = 0;
    std::unique_ptr<ResettableWatermark> file;  // null: this instance's file cannot be reset
  };
  std::map<std::string, Watermark> watermarks_;  // by identity key
};

}  // namespace we
