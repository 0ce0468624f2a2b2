// Microbenchmarks of the per-tick and per-scrape work: the idle/peak windows, the cgroup file
// parsers, and rendering /metrics. Run: build-bench/bench/micro_bench (see BENCHMARKS.md).

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <random>
#include <string>

#include "collectors/cgroup_figures.h"
#include "collectors/file_system.h"
#include "collectors/parse.h"
#include "exposition/gzip.h"
#include "exposition/renderer.h"
#include "pipeline/normaliser.h"
#include "pipeline/window.h"

namespace we {
namespace {

std::shared_ptr<const WindowLayout> DefaultLayout() {
  using std::chrono::seconds;
  return WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, std::chrono::milliseconds(1000), 0.1);
}

// One sample into one workload's default windows, in steady state (the ring already full).
void BM_WindowAdd(benchmark::State& state) {
  WorkloadWindows windows(DefaultLayout());
  QuantileScratch scratch;
  scratch.reserve(3600);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> cpu(0, 2), mem(1e8, 2e8);
  uint64_t slot = 0;
  for (; slot < 7200; ++slot) windows.Add(slot, cpu(rng), mem(rng), mem(rng), scratch);
  for (auto _ : state) {
    windows.Add(slot++, cpu(rng), mem(rng), mem(rng), scratch);
    benchmark::DoNotOptimize(windows.Get(2));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WindowAdd);

const char kMemoryStat[] =
    "anon 301989888\nfile 41943040\nkernel 7340032\nkernel_stack 638976\npagetables 1204224\n"
    "sec_pagetables 0\npercpu 76800\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped 20971520\n"
    "file_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\ninactive_anon 301989888\n"
    "active_anon 0\ninactive_file 24944640\nactive_file 16998400\nunevictable 0\nslab_reclaimable 3145728\n"
    "slab_unreclaimable 2097152\nslab 5242880\nworkingset_refault_anon 0\nworkingset_refault_file 120\n"
    "workingset_activate_anon 0\nworkingset_activate_file 40\nworkingset_restore_anon 0\n"
    "workingset_restore_file 0\nworkingset_nodereclaim 0\npgscan 1024\npgsteal 1000\npgscan_kswapd 0\n"
    "pgscan_direct 1024\npgsteal_kswapd 0\npgsteal_direct 1000\npgfault 912345\npgmajfault 12\n"
    "pgrefill 0\npgactivate 1200\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\n"
    "thp_collapse_alloc 0\n";

void BM_ParseMemoryStat(benchmark::State& state) {
  std::string error;
  for (auto _ : state) benchmark::DoNotOptimize(ParseFlatKeyed(kMemoryStat, &error));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sizeof kMemoryStat - 1));
}
BENCHMARK(BM_ParseMemoryStat);

// What the collector does with memory.stat: the three keys it needs, no table, no allocation.
void BM_ParseMemoryStatPick(benchmark::State& state) {
  static constexpr std::array<std::string_view, 3> kKeys = {"anon", "file", "inactive_file"};
  std::array<std::optional<uint64_t>, 3> out;
  std::string error;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseFlatKeyedPick(kMemoryStat, kKeys, out, &error));
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(sizeof kMemoryStat - 1));
}
BENCHMARK(BM_ParseMemoryStatPick);

// One workload's files as the cgroup collector parses them every tick (pure cgroup v2).
void BM_ParseCgroupFilesV2(benchmark::State& state) {
  const std::string cpu_stat =
      "usage_usec 32656847\nuser_usec 17079625\nsystem_usec 15577221\nnice_usec 0\ncore_sched.force_idle_usec 0\n"
      "nr_periods 10\nnr_throttled 3\nthrottled_usec 250000\nnr_bursts 0\nburst_usec 0\n";
  const std::string pressure =
      "some avg10=0.12 avg60=0.08 avg300=0.02 total=9876543\nfull avg10=0.05 avg60=0.03 avg300=0.01 total=4321987\n";
  const std::string events = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
  const std::string io =
      "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n259:0 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=0 dios=0\n";
  RawCgroupFiles raw;
  raw.cpu_stat = CgroupFile{"cpu.stat", cpu_stat};
  raw.cpu_max = CgroupFile{"cpu.max", "50000 100000\n"};
  raw.memory_current = CgroupFile{"memory.current", "104857600\n"};
  raw.memory_stat = CgroupFile{"memory.stat", kMemoryStat};
  raw.memory_swap_current = CgroupFile{"memory.swap.current", "0\n"};
  raw.memory_max = CgroupFile{"memory.max", "max\n"};
  raw.memory_peak = CgroupFile{"memory.peak", "209715200\n"};
  raw.memory_events = CgroupFile{"memory.events", events};
  raw.pids_current = CgroupFile{"pids.current", "12\n"};
  raw.cpu_pressure = CgroupFile{"cpu.pressure", pressure};
  raw.memory_pressure = CgroupFile{"memory.pressure", pressure};
  raw.io_pressure = CgroupFile{"io.pressure", pressure};
  raw.io_stat = CgroupFile{"io.stat", io};
  std::vector<std::string> errors;
  for (auto _ : state) {
    Sample sample;
    ParseCgroupFiles(raw, &sample, &errors);
    benchmark::DoNotOptimize(sample);
  }
}
BENCHMARK(BM_ParseCgroupFilesV2);

// Reading one small file every tick: by path (open, read, close) against a kept descriptor
// (pread), on the filesystem that holds TMPDIR (the scale harness measures cgroupfs itself).
std::string SmallFile() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/we_micro_bench_XXXXXX";
  const int fd = ::mkstemp(path.data());
  const std::string content(kMemoryStat);
  if (fd < 0 || ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) std::abort();
  ::close(fd);
  return path;
}

void BM_ReadFileByPath(benchmark::State& state) {
  const std::string path = SmallFile();
  RealFileSystem fs;
  for (auto _ : state) benchmark::DoNotOptimize(fs.ReadFile(path));
  ::unlink(path.c_str());
}
BENCHMARK(BM_ReadFileByPath);

void BM_ReadFileKeptDescriptor(benchmark::State& state) {
  const std::string path = SmallFile();
  RealFileSystem fs;
  ReadResult failure;
  auto file = fs.Open(path, true, &failure);
  std::string buffer, error;
  for (auto _ : state) benchmark::DoNotOptimize(file->ReadAll(&buffer, &error));
  file.reset();
  ::unlink(path.c_str());
}
BENCHMARK(BM_ReadFileKeptDescriptor);

void BM_ParsePressure(benchmark::State& state) {
  const std::string text =
      "some avg10=0.12 avg60=0.08 avg300=0.02 total=9876543\nfull avg10=0.05 avg60=0.03 avg300=0.01 total=4321987\n";
  std::string error;
  for (auto _ : state) benchmark::DoNotOptimize(ParsePressure(text, &error));
}
BENCHMARK(BM_ParsePressure);

// A snapshot of `n` workloads with every figure and the default windows.
Snapshot MakeSnapshot(int n) {
  Snapshot snap;
  snap.windows = DefaultLayout();
  snap.cgroup_layout = "v2";
  snap.peak_source = "interval_watermark";
  std::mt19937_64 rng(2);
  for (int i = 0; i < n; ++i) {
    WorkloadView v;
    char id[65];
    std::snprintf(id, sizeof id, "%064llx", static_cast<unsigned long long>(rng()));
    v.sample.identity = {"container", "docker", id, std::string(id, 12), "", ""};
    v.sample.cgroup = "/system.slice/docker-" + std::string(id) + ".scope";
    v.sample.start_time_seconds = 1.7e9 + i;
    v.sample.cpu = {123.456 + i, 100.0 + i, 23.456, 1000, 10, 0.5, 2.0};
    v.sample.memory = {123456789, 100000000, 90000000, 30000000, 0, 536870912, 200000000, 0, std::nullopt};
    v.sample.tasks = 12;
    v.sample.cpu_pressure = {1.5, 0.5};
    v.sample.memory_pressure = {0.1, 0.05};
    v.sample.io_pressure = {0.2, 0.1};
    v.cpu_usage_cores = 0.25;
    v.windows.assign(3, WindowFigures{0.01, 1.5, 9e7, 2e8, 0.5, 0.75});
    snap.workloads.push_back(std::move(v));
  }
  return snap;
}

// Through prometheus-cpp's model and TextSerializer (how /metrics rendered before the direct
// writer; kept as the reference the writer is tested against).
void BM_RenderMetricsPrometheusCpp(benchmark::State& state) {
  const Snapshot snap = MakeSnapshot(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = SerializeText(SnapshotFamilies(snap, BuildInfo{"bench", "bench"}));
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderMetricsPrometheusCpp)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// What /metrics does: the direct writer into a buffer reused from the previous render.
void BM_RenderMetrics(benchmark::State& state) {
  const Snapshot snap = MakeSnapshot(static_cast<int>(state.range(0)));
  std::string text;
  for (auto _ : state) {
    text.clear();
    AppendText(snap, BuildInfo{"bench", "bench"}, &text);
    benchmark::DoNotOptimize(text);
  }
  state.counters["body_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_RenderMetrics)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// gzip of the 1,000-workload body: encoder 0 zlib, 1 ISA-L igzip (what the renderer uses where
// built with it); then the level (zlib 1 and 6, its default; igzip 1).
void BM_GzipMetrics(benchmark::State& state) {
  const Snapshot snap = MakeSnapshot(1000);
  const std::string text = RenderText(snap, BuildInfo{"bench", "bench"});
  const GzipMethod method{state.range(0) == 0 ? GzipMethod::Encoder::kZlib : GzipMethod::Encoder::kIgzip,
                          static_cast<int>(state.range(1))};
  if (method.encoder == GzipMethod::Encoder::kIgzip && !HaveIgzip()) {
    state.SkipWithError("built without ISA-L");
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::string gz = GzipCompress(text, method);
    bytes = gz.size();
    benchmark::DoNotOptimize(gz);
  }
  state.counters["gzip_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_GzipMetrics)->Args({0, 1})->Args({0, 6})->Args({1, 1})->Unit(benchmark::kMillisecond);

// What a gzip scrape runs: the text compressed 64 KiB at a time as it is written (AppendTextGzip),
// into a buffer reused from the previous render; compare with BM_RenderMetrics + BM_GzipMetrics/1.
void BM_RenderMetricsGzipStreamed(benchmark::State& state) {
  const Snapshot snap = MakeSnapshot(static_cast<int>(state.range(0)));
  std::string gz;
  for (auto _ : state) {
    gz.clear();
    AppendTextGzip(snap, BuildInfo{"bench", "bench"}, "", MetricsGzipMethod(), &gz);
    benchmark::DoNotOptimize(gz);
  }
  state.counters["gzip_bytes"] = static_cast<double>(gz.size());
}
BENCHMARK(BM_RenderMetricsGzipStreamed)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace we

BENCHMARK_MAIN();
