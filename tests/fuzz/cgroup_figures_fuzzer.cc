// Fuzzes ParseCgroupFiles (collectors/cgroup_figures.h): one workload's cgroup files, v2 and v1
// mixed as on a hybrid host, turned into figures.
//
// Input format, readable so that seeds can be written from the fixture trees (make_corpus.sh):
//   @@ cpu.stat
//   usage_usec 123
//   ...
//   @@ memory.current
//   4096
// Each "@@ <file name>" line starts one file; its content runs to the next such line. A name that
// is not a field of RawCgroupFiles is ignored; "counted_threads" sets the thread count.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/cgroup_figures.h"
#include "collectors/parse.h"
#include "tests/fuzz/fuzz_check.h"

namespace we {
namespace {

struct Field {
  std::string_view name;
  MaybeFile RawCgroupFiles::*file;
};

constexpr Field kFields[] = {
    {"cpu.stat", &RawCgroupFiles::cpu_stat},
    {"cpu.max", &RawCgroupFiles::cpu_max},
    {"memory.current", &RawCgroupFiles::memory_current},
    {"memory.stat", &RawCgroupFiles::memory_stat},
    {"memory.swap.current", &RawCgroupFiles::memory_swap_current},
    {"memory.max", &RawCgroupFiles::memory_max},
    {"memory.peak", &RawCgroupFiles::memory_peak},
    {"memory.events", &RawCgroupFiles::memory_events},
    {"pids.current", &RawCgroupFiles::pids_current},
    {"cpu.pressure", &RawCgroupFiles::cpu_pressure},
    {"memory.pressure", &RawCgroupFiles::memory_pressure},
    {"io.pressure", &RawCgroupFiles::io_pressure},
    {"io.stat", &RawCgroupFiles::io_stat},
    {"cpuacct.usage", &RawCgroupFiles::cpuacct_usage},
    {"cpuacct.usage_user", &RawCgroupFiles::cpuacct_usage_user},
    {"cpuacct.usage_sys", &RawCgroupFiles::cpuacct_usage_sys},
    {"cpuacct.stat", &RawCgroupFiles::cpuacct_stat},
    // v1 files whose names collide with v2 ones carry a "v1/" prefix in the fuzz input.
    {"v1/cpu.stat", &RawCgroupFiles::cpu_stat_v1},
    {"cpu.cfs_quota_us", &RawCgroupFiles::cpu_cfs_quota_us},
    {"cpu.cfs_period_us", &RawCgroupFiles::cpu_cfs_period_us},
    {"memory.usage_in_bytes", &RawCgroupFiles::memory_usage_in_bytes},
    {"v1/memory.stat", &RawCgroupFiles::memory_stat_v1},
    {"memory.limit_in_bytes", &RawCgroupFiles::memory_limit_in_bytes},
    {"memory.max_usage_in_bytes", &RawCgroupFiles::memory_max_usage_in_bytes},
    {"memory.oom_control", &RawCgroupFiles::memory_oom_control},
    {"v1/pids.current", &RawCgroupFiles::pids_current_v1},
    {"blkio.throttle.io_service_bytes", &RawCgroupFiles::blkio_service_bytes},
    {"blkio.throttle.io_serviced", &RawCgroupFiles::blkio_serviced},
};

constexpr std::string_view kMarker = "@@ ";

// Splits the input into files; returns the names of the files set.
std::set<std::string> Split(std::string_view input, RawCgroupFiles* raw) {
  std::vector<std::size_t> starts;  // of the marker lines
  if (input.substr(0, kMarker.size()) == kMarker) starts.push_back(0);
  for (std::size_t p = input.find("\n@@ "); p != std::string_view::npos; p = input.find("\n@@ ", p + 1)) {
    starts.push_back(p + 1);
  }
  std::set<std::string> present;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : input.size();
    const std::string_view record = input.substr(starts[i], end - starts[i]);
    const std::size_t newline = record.find('\n');
    const std::string_view name = record.substr(kMarker.size(), newline - std::min(newline, kMarker.size()));
    const std::string_view content = newline == std::string_view::npos ? "" : record.substr(newline + 1);
    if (name == "counted_threads") {
      raw->counted_threads = ParseU64(content);
      continue;
    }
    for (const Field& f : kFields) {
      if (f.name == name) {
        raw->*f.file = CgroupFile{name, content};  // views into the input, alive for the run
        present.insert(std::string(name));
      }
    }
  }
  return present;
}

void CheckSeconds(const std::optional<double>& v) {
  if (v) FUZZ_CHECK(std::isfinite(*v) && *v >= 0);
}

}  // namespace
}  // namespace we

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  RawCgroupFiles raw;
  const std::set<std::string> present = Split(fuzz::AsText(data, size), &raw);

  Sample sample;
  std::vector<std::string> errors;
  ParseCgroupFiles(raw, &sample, &errors);

  // Errors name the file: "path: what was wrong", and only files that were given can be wrong.
  for (const std::string& e : errors) {
    const std::size_t colon = e.find(": ");
    FUZZ_CHECK(colon != std::string::npos);
    FUZZ_CHECK(present.count(e.substr(0, colon)) == 1);
  }
  if (present.empty()) FUZZ_CHECK(errors.empty());

  const CpuFigures& cpu = sample.cpu;
  CheckSeconds(cpu.usage_seconds);
  CheckSeconds(cpu.user_seconds);
  CheckSeconds(cpu.system_seconds);
  CheckSeconds(cpu.throttled_seconds);
  CheckSeconds(cpu.limit_cores);

  // Working set is usage minus inactive file pages: present with usage, and never above it.
  const MemoryFigures& mem = sample.memory;
  FUZZ_CHECK(mem.working_set_bytes.has_value() == mem.usage_bytes.has_value());
  if (mem.usage_bytes) FUZZ_CHECK(*mem.working_set_bytes <= *mem.usage_bytes);
  // A v1 limit at or above 2^62 bytes means "unlimited" and is left out.
  if (mem.limit_bytes && !raw.memory_max) FUZZ_CHECK(*mem.limit_bytes < kV1UnlimitedBytes);

  for (const PressureFigures* p : {&sample.cpu_pressure, &sample.memory_pressure, &sample.io_pressure}) {
    CheckSeconds(p->some_seconds);
    CheckSeconds(p->full_seconds);
  }
  return 0;
}
