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
//   * CPU p90 and p95 (kCpuHighQuantiles): the same rank for q = 0.90 and 0.95, of CPU only, at
//     the same moments as the idle, of the longest window only (WindowLayout::sized). They are
//     the sizing's inputs (tools/report_sizing.h: the VPA targets the p90, krr the p95), which
//     reads the longest window, served in /api/v1/workloads, not as series. Kept for every window
//     they cost 40% more per sample (the 1m window ranks 60 values at every slot); for the longest
//     alone, two partial selections once a block.
//   * Values are stored as 16-bit logarithmic codes (WindowScale): 0 is exactly zero, and any
//     other value reads back within a relative error of scale.max_relative_error() (0.02% for
//     CPU, 0.032% for bytes, then rounded to a whole byte), or below scale.min() in absolute terms.
//
// Storage (exact: every window sees every code it would see in a plain ring). Let C be the block
// of the window that holds the most slots (60 for 1h at 1 s). Windows whose block is a multiple
// of C start and end on C boundaries, so they read closed chunks of C slots, each kept as its
// codes sorted (a quantile needs the multiset, not the order; gaps left out) and packed as the
// Rice-coded differences between neighbours, or as plain 16-bit codes where that is smaller.
// The other windows, and the chunk still open, read a plain ring of the last R slots, R the
// largest of those windows (and at least C): 300 slots for 5m at 1 s. The startup search needs
// the CPU codes from the workload's first slot in order; they are kept only while the caller may
// still ask (DropStartupHistory) and never past `capacity` slots.
//
// Cost per workload with the default windows at 1 s: 2 x 2 bytes per slot of the ring (1.2 KB),
// the packed chunks (one bit per slot for a steady series, about one byte per slot for CPU that
// moves across a decade every second; never more than 2 bytes per slot plus a 3-byte header), 2 bytes per block per
// window for each of the two peak series. BENCHMARKS.md has measured totals. Per sample: O(M)
// for the peaks, O(C log C) once per chunk to pack it, and O(N) once per block for the idle
// (O(60) amortised per window). Allocation only while a workload's packed chunks grow past the
// largest size they had (its first hour, or a busier hour than any before).
//
// Thread-safety: none; each workload's windows belong to the sampler thread.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iterator>
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
  std::string label;     // as configured: "1m"
  double seconds = 0;    // the window's length
  uint32_t slots = 0;    // N
  uint32_t block = 1;    // B
  uint32_t blocks = 1;   // M
  bool chunked = false;  // its idle reads packed chunks (B is a multiple of the layout's chunk)
};

// The windows of every workload, built once from the configuration.
struct WindowLayout {
  std::vector<WindowSpec> specs;
  uint32_t capacity = 1;  // slots any window spans: the largest block * blocks
  uint32_t chunk = 1;     // C: slots per packed chunk; 1: nothing is packed
  uint32_t chunks = 0;    // packed chunks kept
  uint32_t ring = 1;      // R: slots kept plain
  double idle_quantile = 0.10;
  std::size_t sized = 0;  // the window whose CPU p90 and p95 are kept: the longest (the first of equals)

  static std::shared_ptr<const WindowLayout> Make(const std::vector<std::chrono::milliseconds>& windows,
                                                  std::chrono::milliseconds interval, double idle_quantile);
};

// One window's figures; each absent until the window holds a value.
struct WindowFigures {
  std::optional<double> cpu_idle_cores;
  std::optional<double> cpu_peak_cores;
  std::optional<double> memory_idle_bytes;
  std::optional<double> memory_peak_bytes;
  std::optional<double> cpu_p90_cores;
  std::optional<double> cpu_p95_cores;
};

// The CPU quantiles a window keeps beside its idle one, in WindowFigures' order.
inline constexpr double kCpuHighQuantiles[2] = {0.90, 0.95};

// Shared scratch space for the idle quantile, so no workload allocates for it.
using QuantileScratch = std::vector<uint16_t>;

// The packed form of one chunk. `sorted` ascending, no gap codes; appends to *out. Pure.
void PackSortedCodes(const uint16_t* sorted, std::size_t n, std::vector<uint8_t>* out);
// Appends the codes of the packed chunk at `p` to *out; returns the byte after it. Pure; `p`
// must come from PackSortedCodes.
const uint8_t* UnpackCodes(const uint8_t* p, std::vector<uint16_t>* out);

// One series' closed chunks, oldest first, packed end to end in one buffer.
class PackedChunks {
 public:
  void Clear();
  // Appends chunk `number` (one more than the last, or else the older ones are dropped) from
  // `codes` (sorted here, gaps removed); keeps at most `keep` chunks.
  void Push(uint64_t number, std::vector<uint16_t>& codes, uint32_t keep);
  // Appends chunk `number`'s codes to *out when it is held (one not held was all gaps).
  void AppendTo(uint64_t number, std::vector<uint16_t>* out) const;
  std::size_t MemoryBytes() const { return bytes_.capacity() + starts_.capacity() * sizeof(uint32_t); }

 private:
  std::vector<uint8_t> bytes_;    // the held chunks at [starts_[first_ % keep], size())
  std::vector<uint32_t> starts_;  // per held chunk, ring indexed by number % keep
  uint64_t first_ = 0;            // number of the oldest held chunk
  uint32_t count_ = 0;
};

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
  // the ring (`capacity` slots) or DropStartupHistory was called.
  std::optional<uint64_t> FirstQuietRun(double threshold_cores, uint32_t run_slots) const;
  // The caller will not call FirstQuietRun again: free the CPU history it needs.
  void DropStartupHistory();
  int64_t last_slot() const { return last_slot_; }

  // The plain ring's codes (WindowScale::Cores() for CPU, Bytes() for the memory that feeds the
  // idle memory) of the last min(ring, last_slot + 1) slots, oldest first, the last one being
  // last_slot's; kGap where a slot has no value. Replaces *cpu and *memory (their buffers kept).
  // Exactly what the ring holds: the per-interval values of the last `ring` slots, no more.
  void CopyRecent(std::vector<uint16_t>* cpu, std::vector<uint16_t>* memory) const;

  const WindowLayout& layout() const { return *layout_; }
  // Heap bytes this workload's windows hold.
  std::size_t MemoryBytes() const;

 private:
  static constexpr std::size_t kCpuRanked = 1 + std::size(kCpuHighQuantiles);  // idle, p90, p95

  void Step(uint64_t slot, uint16_t cpu, uint16_t memory, uint16_t memory_peak, QuantileScratch& scratch);
  // The window's values of ranks max(1, ceil(q * n)) for each of `qs`, into `out` (kGap each
  // when the window holds none).
  void Quantiles(const uint16_t* ring, const PackedChunks& chunks, std::size_t window, uint64_t slot,
                 std::initializer_list<double> qs, uint16_t* out, QuantileScratch& scratch) const;
  void CloseChunk(uint64_t slot, QuantileScratch& scratch);
  uint16_t PeakOf(const std::vector<uint16_t>& maxima, std::size_t window) const;

  std::shared_ptr<const WindowLayout> layout_;
  std::vector<uint16_t> cpu_ring_;  // ring codes, slot % ring
  std::vector<uint16_t> memory_ring_;
  PackedChunks cpu_chunks_;
  PackedChunks memory_chunks_;
  std::vector<uint16_t> startup_cpu_;  // CPU codes of slots 0.. while startup_kept_
  bool startup_kept_ = true;
  std::vector<uint16_t> cpu_maxima_;  // per window: `blocks` block maxima, block % blocks
  std::vector<uint16_t> peak_maxima_;
  std::vector<uint32_t> maxima_offset_;  // where each window's maxima start
  std::vector<uint16_t> cpu_ranked_;     // per window: idle, p90, p95 (kCpuRanked each)
  std::vector<uint16_t> memory_idle_;    // per window
  int64_t last_slot_ = -1;
};

}  // namespace we
