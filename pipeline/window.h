#pragma once
// Sliding windows over one workload's per-interval samples, for the idle and peak series.
//
// Definitions (README.md, "Idle and peak", says the same for users):
//   * Samples fill slots 0, 1, 2, ... one per sampling interval from the workload's first sample;
//     a slot with no value (a missed tick, a counter reset) is a gap and counts for nothing.
//   * A window of N slots (window / interval) is cut into blocks of B = ceil(N / 60) slots, and
//     holds M = ceil(N / B) blocks. At slot k, in block c = floor(k / B), the window is every slot
//     from (c - M + 1) * B to k: exactly N slots at the end of a block (when B divides N, as for
//     1m, 5m and 1h at 1 s), at least N - B + 1 in between. For windows of up to 60 slots B = 1
//     and the window is exactly the last N slots.
//   * Peak = the highest value in the window at the current slot.
//   * Idle = the value of rank max(1, ceil(q * n)) among the window's n values in ascending order,
//     recomputed at each block end (and at every slot of the first block, so a young workload
//     has one at once): it is at most one block, W/60, old.
//   * Values are stored as 16-bit logarithmic codes (WindowScale): 0 is exactly zero, and any
//     other value reads back within a relative error of scale.max_relative_error() (0.02% for
//     CPU, 0.032% for bytes, then rounded to a whole byte), or below scale.min() in absolute terms.
//
// Cost per workload: 2 bytes per slot of the longest window for each of the two quantile series
// (CPU, memory), plus 2 bytes per block per window for each of the two peak series (BENCHMARKS.md
// has the measured total for the default windows). Per sample: O(M) for the peaks, and O(N) once per block for the
// idle (O(60) amortised per window). No allocation after construction.
//
// Thread-safety: none; each workload's windows belong to the sampler thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace we {

// Maps non-negative values to 16-bit codes on a logarithmic scale between min and max.
class WindowScale {
 public:
  static constexpr uint16_t kZero = 0;
  static constexpr uint16_t kGap = 0xFFFF;

  // `integral`: decoded values are rounded to whole units (bytes).
  WindowScale(double min, double max, bool integral = false);
  static const WindowScale& Cores();  // 1e-6 .. 1e5 cores
  static const WindowScale& Bytes();  // 1 .. 2^60 bytes

  uint16_t Encode(double value) const;
  double Decode(uint16_t code) const;
  double min() const { return min_; }
  // The largest |decoded - value| / value for value in [min, max].
  double max_relative_error() const;

 private:
  double min_;
  bool integral_;
  double log_min_;
  double step_;  // natural-log width of one code
};

struct WindowSpec {
  std::string label;    // as configured: "1m"
  double seconds = 0;   // the window's length
  uint32_t slots = 0;   // N
  uint32_t block = 1;   // B
  uint32_t blocks = 1;  // M
};

// The windows of every workload, built once from the configuration.
struct WindowLayout {
  std::vector<WindowSpec> specs;
  uint32_t capacity = 1;  // slots kept: the largest block * blocks
  double idle_quantile = 0.10;

  static std::shared_ptr<const WindowLayout> Make(const std::vector<std::chrono::milliseconds>& windows,
                                                  std::chrono::milliseconds interval, double idle_quantile);
};

// One window's figures; each absent until the window holds a value.
struct WindowFigures {
  std::optional<double> cpu_idle_cores;
  std::optional<double> cpu_peak_cores;
  std::optional<double> memory_idle_bytes;
  std::optional<double> memory_peak_bytes;
};

// Shared scratch space for the idle quantile, so no workload allocates for it.
using QuantileScratch = std::vector<uint16_t>;

class WorkloadWindows {
 public:
  explicit WorkloadWindows(std::shared_ptr<const WindowLayout> layout);

  // Records the sample of `slot` (strictly greater than the previous one; slots skipped become
  // gaps). `memory_bytes` feeds the idle memory, `memory_peak_bytes` the peak memory (the caller
  // passes the highest memory it knows of for the interval, kernel watermarks included).
  void Add(uint64_t slot, std::optional<double> cpu_cores, std::optional<double> memory_bytes,
           std::optional<double> memory_peak_bytes, QuantileScratch& scratch);

  // Figures of window `i` (in layout order) as of the last Add.
  WindowFigures Get(std::size_t i) const;

  // For the startup time: the first slot s whose own CPU is at or below `threshold_cores` and
  // from which slots s .. s+run_slots-1 average at or below it (a gap breaks a run). The average,
  // not every slot, so that a workload at rest with brief periodic spikes (a guest's timers, a
  // JVM's collector) settles; the quiet first slot keeps the tail of a burst out of the run. Looks
  // only at slots still held, and returns nullopt when the workload's first slot has already left
  // the ring.
  std::optional<uint64_t> FirstQuietRun(double threshold_cores, uint32_t run_slots) const;
  int64_t last_slot() const { return last_slot_; }

  const WindowLayout& layout() const { return *layout_; }
  // Heap bytes this workload's windows hold.
  std::size_t MemoryBytes() const;

 private:
  void Step(uint64_t slot, uint16_t cpu, uint16_t memory, uint16_t memory_peak, QuantileScratch& scratch);
  uint16_t Quantile(const uint16_t* ring, std::size_t window, uint64_t slot, QuantileScratch& scratch) const;
  uint16_t PeakOf(const std::vector<uint16_t>& maxima, std::size_t window) const;

  std::shared_ptr<const WindowLayout> layout_;
  std::vector<uint16_t> cpu_ring_;  // capacity codes, slot % capacity
  std::vector<uint16_t> memory_ring_;
  std::vector<uint16_t> cpu_maxima_;  // per window: `blocks` block maxima, block % blocks
  std::vector<uint16_t> peak_maxima_;
  std::vector<uint32_t> maxima_offset_;  // where each window's maxima start
  std::vector<uint16_t> cpu_idle_;       // per window
  std::vector<uint16_t> memory_idle_;
  int64_t last_slot_ = -1;
};

}  // namespace we
