// The floor: the bare cost of reading, once, every file the daemon reads in one tick.
//
// Opens every file once (in batches if the descriptor limit is lower), then loops K rounds of pread(fd, buf, size, 0)
// over all of them and prints the CPU time (getrusage, user + system) per round and per file. Nothing is parsed,
// allocated or walked inside the loop: no sampler can read the same files for less.
//
// Options: --rounds K (20), --ref-rounds R (5), --min-time S (0): repeat each measurement past K
// (or R) rounds until it has run S seconds. --paced-rounds P (0) --pace-ms MS (1000): also measure
// the floor and the in-process collector P rounds each, one round every MS ms, as the daemon reads
// (once per interval): caches and TLBs have gone cold in between, which a tight loop never sees.
// Only where every file fits under the descriptor limit at once.
//
//   floor [--rounds K] [--ref-rounds R] --cgroup-root ROOT   every file the daemon reads under ROOT
//   floor [--rounds K] FILE...                               exactly these files
//   floor [--rounds K] --files-from LIST                     the files named in LIST, one a line
//
// With --cgroup-root the workloads are found by the daemon's own walk (CgroupCollector::Discover)
// and each workload's files are chosen by the same rules as CgroupCollector::Read: the cgroup2
// files first, a v1 file only where its cgroup2 counterpart is missing, cgroup.threads (v1: tasks)
// of the workload and its nested cgroups only where no pids.current exists. Only files that exist
// count toward the floor; the paths the daemon tries and finds absent are counted apart
// ("absent probes"). With --cgroup-root it also measures, for reference, R rounds of:
//   - open+read+close of the same files (what reading them without kept descriptors costs),
//   - the daemon's walk alone (CgroupCollector::Discover),
//   - open() of the absent paths (ENOENT),
//   - the daemon's whole cgroup collector in-process (CgroupCollector::Collect).
//
// The last lines are key=value pairs for bench/scale.sh. See BENCHMARKS.md, "Scale harness".

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "collectors/cgroup_collector.h"
#include "collectors/file_system.h"
#include "daemon/descriptor_budget.h"

namespace {

struct Cost {
  double user_s = 0;
  double sys_s = 0;
  double wall_s = 0;
  double cpu() const { return user_s + sys_s; }
};

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// The process's CPU times and the wall clock at one moment.
struct Stamp {
  rusage usage{};
  std::chrono::steady_clock::time_point at;
  static Stamp Now() {
    Stamp s;
    ::getrusage(RUSAGE_SELF, &s.usage);
    s.at = std::chrono::steady_clock::now();
    return s;
  }
};

// What was spent between two stamps, divided over `calls`.
Cost Between(const Stamp& a, const Stamp& b, int calls = 1) {
  Cost c;
  c.user_s = (Seconds(b.usage.ru_utime) - Seconds(a.usage.ru_utime)) / calls;
  c.sys_s = (Seconds(b.usage.ru_stime) - Seconds(a.usage.ru_stime)) / calls;
  c.wall_s = std::chrono::duration<double>(b.at - a.at).count() / calls;
  return c;
}

double g_min_seconds = 0;  // --min-time

// CPU (user, system) and wall time per call of `body`, over `rounds` calls or more: as many as
// it takes to run for --min-time seconds. The kernel accounts the CPU total precisely (the
// user/system split is sampled at the tick), so the total is good over a few ms.
Cost Measure(int rounds, const std::function<void()>& body) {
  const Stamp before = Stamp::Now();
  for (int i = 0;; ++i) {
    body();
    if (i + 1 >= rounds &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - before.at).count() >= g_min_seconds) {
      rounds = i + 1;
      break;
    }
  }
  return Between(before, Stamp::Now(), rounds);
}

// CPU per call of `body`, called `rounds` times with `pace` of sleep before each call (not counted).
Cost MeasurePaced(int rounds, std::chrono::milliseconds pace, const std::function<void()>& body) {
  Cost sum;
  for (int i = 0; i < rounds; ++i) {
    ::usleep(static_cast<useconds_t>(pace.count() * 1000));
    const Stamp before = Stamp::Now();
    body();
    const Cost c = Between(before, Stamp::Now());
    sum.user_s += c.user_s;
    sum.sys_s += c.sys_s;
    sum.wall_s += c.wall_s;
  }
  sum.user_s /= rounds;
  sum.sys_s /= rounds;
  sum.wall_s /= rounds;
  return sum;
}

void Print(const char* what, const Cost& c, size_t files) {
  std::printf("%-44s %10.1f us CPU/round (user %.1f, sys %.1f), wall %10.1f us/round", what, c.cpu() * 1e6,
              c.user_s * 1e6, c.sys_s * 1e6, c.wall_s * 1e6);
  if (files > 0) std::printf(", %.2f us CPU/file", c.cpu() * 1e6 / static_cast<double>(files));
  std::printf("\n");
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The files CgroupCollector::Read reads for one workload, split into present and absent paths.
void WorkloadFiles(const we::WorkloadLocation& loc, std::vector<std::string>* present,
                   std::vector<std::string>* absent) {
  auto probe = [&](const std::string& dir, const char* name) {
    std::string path = we::JoinPath(dir, name);
    bool ok = Exists(path);
    (ok ? present : absent)->push_back(std::move(path));
    return ok;
  };
  bool cpu_stat = false, cpu_max = false, memory_current = false, io_stat = false, pids_current = false;
  if (loc.unified_dir) {
    const std::string& d = *loc.unified_dir;
    cpu_stat = probe(d, "cpu.stat");
    cpu_max = probe(d, "cpu.max");
    memory_current = probe(d, "memory.current");
    for (const char* f : {"memory.stat", "memory.swap.current", "memory.max", "memory.peak", "memory.events"}) {
      probe(d, f);
    }
    pids_current = probe(d, "pids.current");
    for (const char* f : {"cpu.pressure", "memory.pressure", "io.pressure"}) probe(d, f);
    io_stat = probe(d, "io.stat");
  }
  auto v1 = [&](const char* controller) -> const std::string* {
    auto it = loc.v1_dirs.find(controller);
    return it == loc.v1_dirs.end() ? nullptr : &it->second;
  };
  if (const std::string* d = v1("cpuacct"); d && !cpu_stat) {
    probe(*d, "cpuacct.usage");
    bool user = probe(*d, "cpuacct.usage_user");
    bool sys = probe(*d, "cpuacct.usage_sys");
    if (!user || !sys) probe(*d, "cpuacct.stat");
  }
  if (const std::string* d = v1("cpu")) {
    probe(*d, "cpu.stat");
    if (!cpu_max) {
      probe(*d, "cpu.cfs_quota_us");
      probe(*d, "cpu.cfs_period_us");
    }
  }
  if (const std::string* d = v1("memory"); d && !memory_current) {
    for (const char* f : {"memory.usage_in_bytes", "memory.stat", "memory.limit_in_bytes", "memory.max_usage_in_bytes",
                          "memory.oom_control"}) {
      probe(*d, f);
    }
  }
  if (const std::string* d = v1("blkio"); d && !io_stat) {
    probe(*d, "blkio.throttle.io_service_bytes");
    probe(*d, "blkio.throttle.io_serviced");
  }
  bool pids_v1 = false;
  if (const std::string* d = v1("pids"); d && !pids_current) pids_v1 = probe(*d, "pids.current");
  if (!pids_current && !pids_v1) {
    // Thread counting: the workload's cgroup.threads (v1: tasks) and its nested cgroups' (depth < 8).
    std::function<void(const std::string&, const char*, int)> threads = [&](const std::string& dir, const char* f,
                                                                            int depth) {
      if (!probe(dir, f)) return;
      if (depth >= 8) return;
      auto entries = we::RealFileSystem().ListDir(dir);
      if (!entries) return;
      for (const we::DirEntry& e : *entries) {
        if (e.is_dir) threads(we::JoinPath(dir, e.name), f, depth + 1);
      }
    };
    if (loc.unified_dir) {
      threads(*loc.unified_dir, "cgroup.threads", 0);
    } else if (const std::string* d = v1("memory")) {
      threads(*d, "tasks", 0);
    }
  }
}

// Raises the descriptor limit toward `needed` (plus a margin) as far as it may; returns how many
// files can be open at once. Without CAP_SYS_RESOURCE the hard limit caps it.
size_t RaiseFdLimit(size_t needed) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t want = static_cast<rlim_t>(needed + 64);
  if (lim.rlim_cur < want) {
    rlimit raised = lim;
    raised.rlim_cur = want;
    if (raised.rlim_max < want) raised.rlim_max = want;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      lim = raised;
    } else {
      lim.rlim_cur = lim.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
  }
  return lim.rlim_cur > 64 ? static_cast<size_t>(lim.rlim_cur - 64) : 1;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: floor [--rounds K] [--ref-rounds R] [--min-time S] (--cgroup-root ROOT | --files-from LIST | FILE...)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  int ref_rounds = 5;
  int paced_rounds = 0;
  std::chrono::milliseconds pace{1000};
  std::string root;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(Usage());
      return argv[++i];
    };
    if (a == "--rounds") {
      rounds = std::atoi(value().c_str());
    } else if (a == "--ref-rounds") {
      ref_rounds = std::atoi(value().c_str());
    } else if (a == "--paced-rounds") {
      paced_rounds = std::atoi(value().c_str());
    } else if (a == "--pace-ms") {
      pace = std::chrono::milliseconds(std::atoi(value().c_str()));
    } else if (a == "--min-time") {
      g_min_seconds = std::atof(value().c_str());
    } else if (a == "--cgroup-root") {
      root = value();
    } else if (a == "--files-from") {
      std::ifstream in(value());
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) files.push_back(line);
      }
    } else if (a == "-h" || a == "--help") {
      return Usage();
    } else if (!a.empty() && a[0] == '-') {
      return Usage();
    } else {
      files.push_back(a);
    }
  }
  if (rounds < 1 || ref_rounds < 0 || (root.empty() == files.empty())) return Usage();

  we::RealFileSystem fs;
  std::vector<std::string> absent;
  size_t workloads = 0;
  std::optional<we::CgroupCollector> collector;
  if (!root.empty()) {
    collector.emplace(fs, root);
    std::vector<std::string> errors;
    auto locations = collector->Discover(&errors);
    for (const auto& e : errors) std::fprintf(stderr, "floor: %s\n", e.c_str());
    workloads = locations.size();
    for (const auto& [key, loc] : locations) WorkloadFiles(loc, &files, &absent);
    std::printf("tree %s: layout %s, %zu workloads, %zu files read, %zu absent probes per tick\n", root.c_str(),
                we::LayoutName(collector->layout().kind).c_str(), workloads, files.size(), absent.size());
  }

  // All files open at once where the descriptor limit allows; otherwise in batches of as many
  // as it allows, each batch measured on its own and the per-round costs added up.
  const size_t batch = std::min(files.size(), RaiseFdLimit(files.size()));
  const size_t batches = (files.size() + batch - 1) / batch;
  static char buf[1 << 16];
  size_t bytes = 0;
  Cost floor, paced_floor;
  std::vector<int> fds;
  fds.reserve(batch);
  for (size_t first = 0; first < files.size(); first += batch) {
    const size_t last = std::min(files.size(), first + batch);
    for (size_t i = first; i < last; ++i) {
      int fd = ::open(files[i].c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::fprintf(stderr, "floor: %s: %s\n", files[i].c_str(), std::strerror(errno));
        return 1;
      }
      fds.push_back(fd);
    }
    size_t batch_bytes = 0;
    auto pread_all = [&] {
      size_t total = 0;
      for (int fd : fds) {
        off_t off = 0;
        for (;;) {
          ssize_t n = ::pread(fd, buf, sizeof buf, off);
          if (n <= 0) break;
          total += static_cast<size_t>(n);
          if (static_cast<size_t>(n) < sizeof buf) break;
          off += n;
        }
      }
      batch_bytes = total;
    };
    pread_all();  // warm up: first reads may fault in pages and dentries
    const double min_seconds = g_min_seconds;
    g_min_seconds = min_seconds * static_cast<double>(last - first) / static_cast<double>(files.size());
    const Cost c = Measure(rounds, pread_all);
    g_min_seconds = min_seconds;
    floor.user_s += c.user_s;
    floor.sys_s += c.sys_s;
    floor.wall_s += c.wall_s;
    bytes += batch_bytes;
    if (batches == 1 && paced_rounds > 0) paced_floor = MeasurePaced(paced_rounds, pace, pread_all);
    for (int fd : fds) ::close(fd);
    fds.clear();
  }
  std::printf("%zu files, %zu bytes per round", files.size(), bytes);
  if (batches > 1) std::printf(" (descriptor limit: measured in %zu batches of up to %zu)", batches, batch);
  std::printf("\n");
  Print("floor: pread on open descriptors", floor, files.size());
  if (paced_floor.wall_s > 0) Print("floor, paced: one round per interval", paced_floor, files.size());

  Cost naive, walk, probes, collect, paced_collect;
  if (collector && ref_rounds > 0) {
    auto open_read_close = [&] {
      for (const std::string& f : files) {
        int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::close(fd);
      }
    };
    naive = Measure(ref_rounds, open_read_close);
    Print("reference: open+read+close, same files", naive, files.size());
    walk = Measure(ref_rounds, [&] {
      std::vector<std::string> errors;
      auto l = collector->Discover(&errors);
      if (l.size() != workloads) std::fprintf(stderr, "floor: workload count changed: %zu\n", l.size());
    });
    Print("reference: the daemon's walk (Discover)", walk, 0);
    probes = Measure(ref_rounds, [&] {
      for (const std::string& f : absent) {
        int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
      }
    });
    Print("reference: open() of the absent paths", probes, absent.size());
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);  // as RaiseFdLimit left it, planned as the daemon plans it
    collector->set_descriptor_budget(we::PlanDescriptors(lim.rlim_cur, 1024).cgroup_files);
    collector->Collect();  // first run opens its descriptors and memory.peak watermarks
    collect = Measure(ref_rounds, [&] { collector->Collect(); });
    Print("reference: CgroupCollector::Collect() in-process", collect, files.size());
    if (paced_floor.wall_s > 0) {
      paced_collect = MeasurePaced(paced_rounds, pace, [&] { collector->Collect(); });
      Print("reference: Collect() in-process, paced", paced_collect, files.size());
    }
  }

  std::printf("floor_workloads=%zu\nfloor_files=%zu\nfloor_absent=%zu\nfloor_bytes=%zu\n", workloads, files.size(),
              absent.size(), bytes);
  std::printf("floor_cpu_us=%.1f\nfloor_wall_us=%.1f\nfloor_us_per_file=%.3f\n", floor.cpu() * 1e6, floor.wall_s * 1e6,
              floor.cpu() * 1e6 / static_cast<double>(files.size()));
  if (collector && ref_rounds > 0) {
    std::printf("ref_open_read_close_cpu_us=%.1f\nref_walk_cpu_us=%.1f\nref_absent_cpu_us=%.1f\n", naive.cpu() * 1e6,
                walk.cpu() * 1e6, probes.cpu() * 1e6);
    std::printf("ref_collect_cpu_us=%.1f\nref_collect_wall_us=%.1f\n", collect.cpu() * 1e6, collect.wall_s * 1e6);
  }
  if (paced_floor.wall_s > 0) {
    std::printf("floor_paced_cpu_us=%.1f\nfloor_paced_pace_ms=%lld\n", paced_floor.cpu() * 1e6,
                static_cast<long long>(pace.count()));
    if (paced_collect.wall_s > 0) std::printf("ref_collect_paced_cpu_us=%.1f\n", paced_collect.cpu() * 1e6);
  }
  return 0;
}
