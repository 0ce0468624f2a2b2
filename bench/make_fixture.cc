// Writes a synthetic pure cgroup v2 tree with N Docker workloads (systemd driver:
// system.slice/docker-<64 hex>.scope), each carrying every file the daemon reads on cgroup v2 as a
// 6.x kernel writes them. Used by bench/scale.sh in fixture mode (on a tmpfs it mounts).
//
//   make_fixture ROOT N        ROOT must exist and be empty
//
// Deterministic: workload i always gets the same id and figures. 100,000 workloads take seconds.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void Die(const std::string& what) {
  std::fprintf(stderr, "make_fixture: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

void MkDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) Die(path);
}

void Write(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) Die(path);
  if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) Die(path);
  ::close(fd);
}

std::string Fmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* fmt, ...) {
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return std::string(buf, static_cast<size_t>(n));
}

std::string Pressure(uint64_t r, bool with_full) {
  std::string s = Fmt("some avg10=0.%02" PRIu64 " avg60=0.%02" PRIu64 " avg300=0.00 total=%" PRIu64 "\n", r % 100,
                      (r >> 8) % 100, r % 100000000);
  if (with_full) s += Fmt("full avg10=0.00 avg60=0.00 avg300=0.00 total=%" PRIu64 "\n", (r >> 16) % 10000000);
  return s;
}

// A 6.x kernel's memory.stat: every key a 6.12+ kernel writes, in its order.
std::string MemoryStat(uint64_t anon, uint64_t file, uint64_t r) {
  const uint64_t inactive_file = file / 2, active_file = file - inactive_file;
  return Fmt(
      "anon %" PRIu64 "\nfile %" PRIu64 "\nkernel %" PRIu64 "\nkernel_stack %" PRIu64 "\npagetables %" PRIu64
      "\nsec_pagetables 0\npercpu %" PRIu64 "\nsock 0\nvmalloc 8192\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped %" PRIu64
      "\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\ninactive_anon %" PRIu64
      "\nactive_anon 4096\ninactive_file %" PRIu64 "\nactive_file %" PRIu64 "\nunevictable 0\nslab_reclaimable %" PRIu64
      "\nslab_unreclaimable %" PRIu64 "\nslab %" PRIu64 "\nworkingset_refault_anon 0\nworkingset_refault_file %" PRIu64
      "\nworkingset_activate_anon 0\nworkingset_activate_file %" PRIu64
      "\nworkingset_restore_anon 0\nworkingset_restore_file 0\nworkingset_nodereclaim 0\npswpin 0\npswpout 0"
      "\npgscan %" PRIu64 "\npgsteal %" PRIu64
      "\npgscan_kswapd 0\npgscan_direct 0\npgscan_khugepaged 0\npgscan_proactive 0\npgsteal_kswapd 0"
      "\npgsteal_direct 0\npgsteal_khugepaged 0\npgsteal_proactive 0\npgfault %" PRIu64 "\npgmajfault %" PRIu64
      "\npgrefill 0\npgactivate %" PRIu64
      "\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\nswpin_zero 0\nswpout_zero 0\nzswpin 0\nzswpout 0\nzswpwb 0"
      "\nthp_fault_alloc 0\nthp_collapse_alloc 0\nthp_swpout 0\nthp_swpout_fallback 0\nnuma_pages_migrated 0"
      "\nnuma_pte_updates 0\nnuma_hint_faults 0\npgdemote_kswapd 0\npgdemote_direct 0\npgdemote_khugepaged 0"
      "\npgdemote_proactive 0\nhugetlb 0\n",
      anon, file, r % 8000000, (r % 64) * 16384, (r % 300) * 4096, (r % 40) * 1024, file / 3, anon - 4096,
      inactive_file, active_file, (r % 2000) * 4096, (r % 1000) * 4096, (r % 2000 + r % 1000) * 4096, r % 500, r % 200,
      r % 10000, r % 9000, r % 10000000, r % 300, r % 5000);
}

void Workload(const std::string& dir, uint64_t i) {
  MkDir(dir);
  const uint64_t r = SplitMix(i * 7 + 3);
  const uint64_t anon = (r % 500 + 10) * 1024 * 1024, file = ((r >> 20) % 300 + 1) * 1024 * 1024;
  const uint64_t pids = 1 + (r >> 40) % 12;
  std::string procs;
  for (uint64_t p = 0; p < pids; ++p) procs += Fmt("%" PRIu64 "\n", 1000 + i * 16 + p);
  const uint64_t usage = r % 100000000000ull, user = usage * 2 / 3;
  Write(dir + "/cgroup.procs", procs);
  Write(dir + "/cgroup.threads", procs);
  Write(dir + "/cgroup.type", "domain\n");
  Write(dir + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  Write(dir + "/cgroup.subtree_control", "");
  Write(dir + "/cgroup.events", "populated 1\nfrozen 0\n");
  Write(dir + "/cpu.stat", Fmt("usage_usec %" PRIu64 "\nuser_usec %" PRIu64 "\nsystem_usec %" PRIu64
                               "\ncore_sched.force_idle_usec 0\nnr_periods %" PRIu64 "\nnr_throttled %" PRIu64
                               "\nthrottled_usec %" PRIu64 "\nnr_bursts 0\nburst_usec 0\n",
                               usage, user, usage - user, (i % 5 == 0) ? r % 100000 : 0, (i % 5 == 0) ? r % 1000 : 0,
                               (i % 5 == 0) ? r % 10000000 : 0));
  Write(dir + "/cpu.max", i % 5 == 0 ? "200000 100000\n" : "max 100000\n");
  Write(dir + "/cpu.weight", "100\n");
  Write(dir + "/memory.current", Fmt("%" PRIu64 "\n", anon + file));
  Write(dir + "/memory.stat", MemoryStat(anon, file, r));
  Write(dir + "/memory.swap.current", "0\n");
  Write(dir + "/memory.swap.max", "max\n");
  Write(dir + "/memory.max", i % 3 == 0 ? Fmt("%" PRIu64 "\n", (anon + file) * 2) : std::string("max\n"));
  Write(dir + "/memory.high", "max\n");
  Write(dir + "/memory.low", "0\n");
  Write(dir + "/memory.min", "0\n");
  Write(dir + "/memory.peak", Fmt("%" PRIu64 "\n", (anon + file) * 5 / 4));
  Write(dir + "/memory.events",
        Fmt("low 0\nhigh 0\nmax %" PRIu64 "\noom %" PRIu64 "\noom_kill %" PRIu64 "\noom_group_kill 0\n",
            i % 50 == 0 ? r % 30 : 0, uint64_t{i % 50 == 0}, uint64_t{i % 50 == 0}));
  Write(dir + "/pids.current", Fmt("%" PRIu64 "\n", pids));
  Write(dir + "/pids.max", "max\n");
  Write(dir + "/io.stat", i % 2 == 0 ? Fmt("8:0 rbytes=%" PRIu64 " wbytes=%" PRIu64 " rios=%" PRIu64 " wios=%" PRIu64
                                           " dbytes=0 dios=0\n253:0 rbytes=%" PRIu64 " wbytes=%" PRIu64 " rios=%" PRIu64
                                           " wios=%" PRIu64 " dbytes=0 dios=0\n",
                                           r % 1000000000, (r >> 8) % 1000000000, r % 100000, (r >> 8) % 100000,
                                           r % 1000000000, (r >> 8) % 1000000000, r % 100000, (r >> 8) % 100000)
                                     : std::string());
  Write(dir + "/cpu.pressure", Pressure(r, true));
  Write(dir + "/memory.pressure", Pressure(r >> 3, true));
  Write(dir + "/io.pressure", Pressure(r >> 5, true));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_fixture ROOT N\n");
    return 2;
  }
  const std::string root = argv[1];
  const long n = std::atol(argv[2]);
  if (n < 0) return 2;
  Write(root + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  Write(root + "/cgroup.subtree_control", "cpuset cpu io memory pids\n");
  Write(root + "/cgroup.procs", "");
  Write(root + "/cgroup.threads", "");
  Write(root + "/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
  Write(root + "/cpu.pressure", Pressure(1, true));
  Write(root + "/memory.pressure", Pressure(2, true));
  Write(root + "/io.pressure", Pressure(3, true));
  // A few cgroups that are not workloads, as on any systemd host.
  for (const char* d :
       {"/init.scope", "/user.slice", "/user.slice/user-0.slice", "/system.slice", "/system.slice/ssh.service",
        "/system.slice/containerd.service", "/system.slice/docker.service", "/system.slice/cron.service"}) {
    MkDir(root + d);
    Write(root + d + "/cgroup.procs", "");
    Write(root + d + "/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
  }
  for (long i = 0; i < n; ++i) {
    const uint64_t a = SplitMix(static_cast<uint64_t>(i) * 4), b = SplitMix(static_cast<uint64_t>(i) * 4 + 1),
                   c = SplitMix(static_cast<uint64_t>(i) * 4 + 2), d = SplitMix(static_cast<uint64_t>(i) * 4 + 3);
    Workload(Fmt("%s/system.slice/docker-%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 ".scope", root.c_str(),
                 a, b, c, d),
             static_cast<uint64_t>(i));
  }
  return 0;
}
