// The idle/peak windows: the code scale's error bound, the window layout, and property tests that
// check WorkloadWindows against a brute-force reference implementation of the definitions in
// pipeline/window.h over random and adversarial series.

#include "pipeline/window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace we {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(WindowScaleTest, RoundTripStaysWithinTheStatedRelativeError) {
  for (const WindowScale* scale : {&WindowScale::Cores(), &WindowScale::Bytes()}) {
    const double bound = scale->max_relative_error();
    EXPECT_LT(bound, 0.00035);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> exponent(std::log10(scale->min()), 17.0);
    for (int i = 0; i < 100000; ++i) {
      double v = std::pow(10.0, exponent(rng));
      if (scale == &WindowScale::Cores()) v = std::min(v, 1e5);
      const double back = scale->Decode(scale->Encode(v));
      ASSERT_LE(std::abs(back - v), v * bound * (1 + 1e-9) + (scale == &WindowScale::Bytes() ? 0.5 : 0)) << v;
    }
    EXPECT_EQ(scale->Encode(0), WindowScale::kZero);
    EXPECT_EQ(scale->Decode(WindowScale::kZero), 0.0);
    EXPECT_EQ(scale->Encode(-1), WindowScale::kZero);
    EXPECT_NE(scale->Encode(1e300), WindowScale::kGap);  // saturates below the gap code
  }
}

TEST(WindowScaleTest, EncodingIsMonotonic) {
  const WindowScale& s = WindowScale::Bytes();
  uint16_t previous = 0;
  for (double v = 1; v < 1e15; v *= 1.0003) {
    const uint16_t code = s.Encode(v);
    ASSERT_GE(code, previous) << v;
    previous = code;
  }
}

TEST(WindowLayoutTest, DefaultWindowsAtOneSecondAreExactSixtyBlocks) {
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, milliseconds(1000), 0.1);
  ASSERT_EQ(layout->specs.size(), 3u);
  EXPECT_EQ(layout->specs[0].label, "1m");
  EXPECT_EQ(layout->specs[0].slots, 60u);
  EXPECT_EQ(layout->specs[0].block, 1u);
  EXPECT_EQ(layout->specs[0].blocks, 60u);
  EXPECT_EQ(layout->specs[1].label, "5m");
  EXPECT_EQ(layout->specs[1].block, 5u);
  EXPECT_EQ(layout->specs[1].blocks, 60u);
  EXPECT_EQ(layout->specs[2].label, "1h");
  EXPECT_EQ(layout->specs[2].block, 60u);
  EXPECT_EQ(layout->specs[2].blocks, 60u);
  EXPECT_EQ(layout->capacity, 3600u);

  auto half = WindowLayout::Make({seconds(60)}, milliseconds(500), 0.1);
  EXPECT_EQ(half->specs[0].slots, 120u);
  EXPECT_EQ(half->specs[0].block, 2u);
  EXPECT_EQ(half->specs[0].blocks, 60u);
}

TEST(WindowLayoutTest, OnlyWindowsOnTheLongestBlockReadPackedChunks) {
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, milliseconds(1000), 0.1);
  EXPECT_EQ(layout->chunk, 60u);
  EXPECT_EQ(layout->chunks, 60u);
  EXPECT_EQ(layout->ring, 300u);  // 5m: 60 blocks of 5 slots
  EXPECT_FALSE(layout->specs[0].chunked);
  EXPECT_FALSE(layout->specs[1].chunked);
  EXPECT_TRUE(layout->specs[2].chunked);
  // 2h's block is 120 slots; 1h's 60 is not a multiple, so 1h reads the ring.
  auto two = WindowLayout::Make({seconds(3600), seconds(7200)}, milliseconds(1000), 0.1);
  EXPECT_EQ(two->chunk, 120u);
  EXPECT_FALSE(two->specs[0].chunked);
  EXPECT_TRUE(two->specs[1].chunked);
  EXPECT_EQ(two->ring, 3600u);
  // Short windows only: blocks under 8 slots are not worth packing.
  auto short_only = WindowLayout::Make({seconds(60), seconds(300)}, milliseconds(1000), 0.1);
  EXPECT_EQ(short_only->chunk, 1u);
  EXPECT_EQ(short_only->ring, 300u);
}

TEST(PackedCodesTest, RoundTripsAnySortedCodesInAtMostTwoBytesEachPlusAHeader) {
  std::mt19937_64 rng(3);
  const std::vector<std::pair<uint16_t, uint16_t>> spreads = {
      {0, 0}, {100, 100}, {1000, 1030}, {0, 65534}, {65000, 65534}};
  for (std::size_t n : {0, 1, 2, 59, 60, 61, 1440}) {
    for (const auto& [lo, hi] : spreads) {
      std::vector<uint16_t> codes(n);
      for (auto& c : codes) c = static_cast<uint16_t>(std::uniform_int_distribution<int>(lo, hi)(rng));
      std::sort(codes.begin(), codes.end());
      std::vector<uint8_t> packed;
      PackSortedCodes(codes.data(), codes.size(), &packed);
      EXPECT_LE(packed.size(), 2 * n + 3) << n << " " << lo << ".." << hi;
      std::vector<uint16_t> back{7};  // appended to what is there
      const uint8_t* end = UnpackCodes(packed.data(), &back);
      EXPECT_EQ(end, packed.data() + packed.size());
      ASSERT_EQ(back.size(), n + 1);
      EXPECT_TRUE(std::equal(codes.begin(), codes.end(), back.begin() + 1)) << n << " " << lo << ".." << hi;
      if (lo == hi && n > 0) {
        EXPECT_LE(packed.size(), 5 + (n + 7) / 8);  // a bit per equal code
      }
    }
  }
}

TEST(PackedChunksTest, KeepsTheLastChunksAndDropsOlderOnesAcrossCompaction) {
  PackedChunks chunks;
  std::mt19937_64 rng(9);
  std::vector<std::vector<uint16_t>> pushed;
  for (uint64_t number = 0; number < 500; ++number) {
    std::vector<uint16_t> codes(number % 61);
    for (auto& c : codes) c = static_cast<uint16_t>(rng() % (number % 3 == 0 ? 65535 : 40));
    std::vector<uint16_t> copy = codes;
    std::sort(copy.begin(), copy.end());
    pushed.push_back(copy);
    chunks.Push(number, codes, 60);
    for (uint64_t j = number >= 70 ? number - 70 : 0; j <= number; ++j) {
      std::vector<uint16_t> got;
      chunks.AppendTo(j, &got);
      if (j + 60 <= number) {
        ASSERT_TRUE(got.empty()) << j << " at " << number;
      } else {
        ASSERT_EQ(got, pushed[j]) << j << " at " << number;
      }
    }
  }
  // A chunk number that does not follow the last starts over.
  std::vector<uint16_t> one{5};
  chunks.Push(1000, one, 60);
  std::vector<uint16_t> got;
  chunks.AppendTo(499, &got);
  EXPECT_TRUE(got.empty());
  chunks.AppendTo(1000, &got);
  EXPECT_EQ(got, std::vector<uint16_t>{5});
}

// Cost per workload of the default windows, for a series at rest and one that changes every
// second; BENCHMARKS.md quotes these.
TEST(WindowCostTest, DefaultWindowsCostPerWorkload) {
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, milliseconds(1000), 0.1);
  QuantileScratch scratch;
  WorkloadWindows steady(layout);
  for (uint64_t slot = 0; slot < 5000; ++slot) steady.Add(slot, 0.5, 1e8, 1.2e8, scratch);
  EXPECT_LE(steady.MemoryBytes(), 5u * 1024u);
  WorkloadWindows busy(layout);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  for (uint64_t slot = 0; slot < 5000; ++slot) {
    // CPU anywhere in 0.05..0.5 cores; memory drifting by up to 1 MB a second around 200 MB.
    busy.Add(slot, 0.05 + 0.45 * unit(rng), 2e8 + 1e6 * std::sin(slot / 30.0) + 1e5 * unit(rng), 2.5e8, scratch);
  }
  EXPECT_LE(busy.MemoryBytes(), 9u * 1024u);
  RecordProperty("bytes_per_workload_steady", std::to_string(steady.MemoryBytes()));
  RecordProperty("bytes_per_workload_busy", std::to_string(busy.MemoryBytes()));
  std::printf("window bytes per workload: steady %zu, busy %zu\n", steady.MemoryBytes(), busy.MemoryBytes());
}

// ---------------------------------------------------------------------------------------------
// The reference: the definitions, evaluated from the full history by brute force.

struct Point {
  uint16_t cpu = WindowScale::kGap, memory = WindowScale::kGap, peak = WindowScale::kGap;
};

class Reference {
 public:
  explicit Reference(std::shared_ptr<const WindowLayout> layout) : layout_(std::move(layout)) {}

  void Add(uint64_t slot, std::optional<double> cpu, std::optional<double> memory, std::optional<double> peak) {
    Point p;
    if (cpu) p.cpu = WindowScale::Cores().Encode(*cpu);
    if (memory) p.memory = WindowScale::Bytes().Encode(*memory);
    if (peak) p.peak = WindowScale::Bytes().Encode(*peak);
    if (history_.size() <= slot) history_.resize(slot + 1);
    history_[slot] = p;
    last_ = slot;
  }

  WindowFigures Get(std::size_t w) const {
    const WindowSpec& spec = layout_->specs[w];
    WindowFigures f;
    // Peak: the window at the current slot.
    const uint64_t start = Start(last_, spec);
    std::optional<uint16_t> cpu_max, peak_max;
    for (uint64_t s = start; s <= last_; ++s) {
      const Point p = At(s);
      if (p.cpu != WindowScale::kGap) cpu_max = std::max(cpu_max.value_or(0), p.cpu);
      if (p.peak != WindowScale::kGap) peak_max = std::max(peak_max.value_or(0), p.peak);
    }
    if (cpu_max) f.cpu_peak_cores = WindowScale::Cores().Decode(*cpu_max);
    if (peak_max) f.memory_peak_bytes = WindowScale::Bytes().Decode(*peak_max);
    // Idle: the window at the last block end (or now, within the first block).
    const uint64_t e = last_ < spec.block ? last_ : ((last_ + 1) / spec.block) * spec.block - 1;
    std::vector<uint16_t> cpu, memory;
    for (uint64_t s = Start(e, spec); s <= e; ++s) {
      const Point p = At(s);
      if (p.cpu != WindowScale::kGap) cpu.push_back(p.cpu);
      if (p.memory != WindowScale::kGap) memory.push_back(p.memory);
    }
    const double idle = layout_->idle_quantile;
    if (auto q = Quantile(cpu, idle)) f.cpu_idle_cores = WindowScale::Cores().Decode(*q);
    if (w == layout_->sized) {  // the longest window alone keeps them
      if (auto q = Quantile(cpu, 0.90)) f.cpu_p90_cores = WindowScale::Cores().Decode(*q);
      if (auto q = Quantile(cpu, 0.95)) f.cpu_p95_cores = WindowScale::Cores().Decode(*q);
    }
    if (auto q = Quantile(memory, idle)) f.memory_idle_bytes = WindowScale::Bytes().Decode(*q);
    return f;
  }

 private:
  static uint64_t Start(uint64_t k, const WindowSpec& spec) {
    const uint64_t block = k / spec.block;
    return block + 1 >= spec.blocks ? (block + 1 - spec.blocks) * spec.block : 0;
  }
  Point At(uint64_t s) const { return s < history_.size() ? history_[s] : Point{}; }
  static std::optional<uint16_t> Quantile(std::vector<uint16_t> values, double q) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    const double n = static_cast<double>(values.size());
    const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n - 1e-9)));
    return values[rank - 1];
  }

  std::shared_ptr<const WindowLayout> layout_;
  std::vector<Point> history_;  // by slot; never-written slots are gaps
  uint64_t last_ = 0;
};

// A series generator: value at step i, or nullopt for a gap.
using Series = std::function<std::optional<double>(int i, std::mt19937_64& rng)>;

struct Shape {
  std::string name;
  Series cpu, memory;
  double gap_probability = 0;   // a slot with no value
  double jump_probability = 0;  // skip ahead several slots (a stalled sampler)
  int max_jump = 0;
};

std::vector<Shape> Shapes() {
  auto uniform = [](double lo, double hi) {
    return [=](int, std::mt19937_64& rng) -> std::optional<double> {
      return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
  };
  return {
      {"Random", uniform(0, 4), uniform(1e6, 1e9)},
      {"Steps", [](int i, std::mt19937_64&) -> std::optional<double> { return (i / 97) % 2 ? 2.0 : 0.01; },
       [](int i, std::mt19937_64&) -> std::optional<double> { return 1e8 * (1 + (i / 211) % 4); }},
      {"Spikes", [](int i, std::mt19937_64&) -> std::optional<double> { return i % 53 == 0 ? 8.0 : 0.002; },
       [](int i, std::mt19937_64&) -> std::optional<double> { return i % 71 == 0 ? 4e9 : 2e8; }},
      {"Sawtooth", [](int i, std::mt19937_64&) -> std::optional<double> { return (i % 131) * 0.01; },
       [](int i, std::mt19937_64&) -> std::optional<double> { return 1e7 + (i % 617) * 1e6; }},
      {"Decreasing",  // worst case for a monotonic deque
       [](int i, std::mt19937_64&) -> std::optional<double> { return 1e4 / (1 + i); },
       [](int i, std::mt19937_64&) -> std::optional<double> { return 1e12 / (1 + i); }},
      {"ZerosAndGaps", [](int, std::mt19937_64& rng) -> std::optional<double> { return rng() % 3 == 0 ? 0.0 : 0.5; },
       [](int, std::mt19937_64&) -> std::optional<double> { return 0.0; }, 0.3},
      {"StalledSampler", uniform(0, 2), uniform(1e6, 1e7), 0.05, 0.02, 40},
      {"LongStalls", uniform(0, 2), uniform(1e6, 1e7), 0.0, 0.004, 3000},
  };
}

void PrintTo(const Shape& shape, std::ostream* os) { *os << shape.name; }

class WindowPropertyTest : public ::testing::TestWithParam<Shape> {};

TEST_P(WindowPropertyTest, MatchesTheBruteForceReference) {
  const Shape& shape = GetParam();
  // Windows exercising B = 1, a block size that does not divide the window (130 s: B = 3,
  // M = 44, 132 slots), and B = 10.
  for (double q : {0.0, 0.1, 0.5, 0.99}) {
    auto layout = WindowLayout::Make({seconds(7), seconds(130), seconds(600)}, milliseconds(1000), q);
    ASSERT_EQ(layout->specs[1].block, 3u);
    ASSERT_EQ(layout->specs[1].blocks, 44u);
    ASSERT_EQ(layout->sized, 2u);
    WorkloadWindows windows(layout);
    Reference reference(layout);
    QuantileScratch scratch;
    std::mt19937_64 rng(12345);
    uint64_t slot = 0;
    for (int i = 0; i < 2500; ++i) {
      std::uniform_real_distribution<double> unit(0, 1);
      if (shape.max_jump > 0 && unit(rng) < shape.jump_probability) {
        slot += 1 + rng() % static_cast<uint64_t>(shape.max_jump);
      }
      const bool gap = unit(rng) < shape.gap_probability;
      std::optional<double> cpu = gap ? std::nullopt : shape.cpu(i, rng);
      std::optional<double> memory = gap ? std::nullopt : shape.memory(i, rng);
      // The peak series sits above the sampled memory, as a kernel watermark does.
      std::optional<double> peak = memory ? std::optional<double>(*memory * 1.25) : std::nullopt;
      windows.Add(slot, cpu, memory, peak, scratch);
      reference.Add(slot, cpu, memory, peak);
      for (std::size_t w = 0; w < layout->specs.size(); ++w) {
        const WindowFigures got = windows.Get(w);
        const WindowFigures want = reference.Get(w);
        ASSERT_EQ(got.cpu_peak_cores, want.cpu_peak_cores) << "slot " << slot << " window " << w << " q " << q;
        ASSERT_EQ(got.memory_peak_bytes, want.memory_peak_bytes) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.cpu_idle_cores, want.cpu_idle_cores) << "slot " << slot << " window " << w << " q " << q;
        ASSERT_EQ(got.cpu_p90_cores, want.cpu_p90_cores) << "slot " << slot << " window " << w << " q " << q;
        ASSERT_EQ(got.cpu_p95_cores, want.cpu_p95_cores) << "slot " << slot << " window " << w << " q " << q;
        ASSERT_EQ(got.memory_idle_bytes, want.memory_idle_bytes) << "slot " << slot << " window " << w;
      }
      ++slot;
    }
  }
}

// The default windows, where 1h reads packed chunks and 1m and 5m the ring: compared at every
// 7th slot and at every 1h block end, for long enough that chunks leave the window.
TEST_P(WindowPropertyTest, DefaultWindowsMatchTheReference) {
  const Shape& shape = GetParam();
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, milliseconds(1000), 0.1);
  ASSERT_TRUE(layout->specs[2].chunked);
  ASSERT_EQ(layout->sized, 2u);  // the 1h window keeps the CPU p90 and p95
  WorkloadWindows windows(layout);
  Reference reference(layout);
  QuantileScratch scratch;
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> unit(0, 1);
  uint64_t slot = 0;
  for (int i = 0; i < 9000; ++i) {
    if (shape.max_jump > 0 && unit(rng) < shape.jump_probability)
      slot += 1 + rng() % static_cast<uint64_t>(shape.max_jump);
    const bool gap = unit(rng) < shape.gap_probability;
    std::optional<double> cpu = gap ? std::nullopt : shape.cpu(i, rng);
    std::optional<double> memory = gap ? std::nullopt : shape.memory(i, rng);
    windows.Add(slot, cpu, memory, memory, scratch);
    reference.Add(slot, cpu, memory, memory);
    if (i % 7 == 0 || (slot + 1) % 60 == 0) {
      for (std::size_t w = 0; w < layout->specs.size(); ++w) {
        const WindowFigures got = windows.Get(w);
        const WindowFigures want = reference.Get(w);
        ASSERT_EQ(got.cpu_idle_cores, want.cpu_idle_cores) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.cpu_p90_cores, want.cpu_p90_cores) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.cpu_p95_cores, want.cpu_p95_cores) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.memory_idle_bytes, want.memory_idle_bytes) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.cpu_peak_cores, want.cpu_peak_cores) << "slot " << slot << " window " << w;
        ASSERT_EQ(got.memory_peak_bytes, want.memory_peak_bytes) << "slot " << slot << " window " << w;
      }
    }
    ++slot;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, WindowPropertyTest, ::testing::ValuesIn(Shapes()),
                         [](const auto& info) { return info.param.name; });

TEST(WorkloadWindowsTest, AYoungWorkloadReportsOverTheSamplesItHas) {
  auto layout = WindowLayout::Make({seconds(60), seconds(3600)}, milliseconds(1000), 0.1);
  WorkloadWindows windows(layout);
  QuantileScratch scratch;
  EXPECT_FALSE(windows.Get(1).cpu_peak_cores);
  windows.Add(0, std::nullopt, 1000, 1000, scratch);  // first sample: no rate yet
  EXPECT_FALSE(windows.Get(1).cpu_idle_cores);
  EXPECT_NEAR(*windows.Get(1).memory_idle_bytes, 1000, 1);
  windows.Add(1, 0.25, 2000, 3000, scratch);
  windows.Add(2, 0.75, 1500, 1500, scratch);
  const WindowFigures f = windows.Get(1);  // the 1h window, 3 samples in
  EXPECT_NEAR(*f.cpu_idle_cores, 0.25, 0.25 * 0.001);
  EXPECT_NEAR(*f.cpu_peak_cores, 0.75, 0.75 * 0.001);
  EXPECT_NEAR(*f.memory_idle_bytes, 1000, 1);
  EXPECT_NEAR(*f.memory_peak_bytes, 3000, 3);
}

TEST(WorkloadWindowsTest, ASpikeLeavesThePeakWhenItLeavesTheWindow) {
  auto layout = WindowLayout::Make({seconds(10)}, milliseconds(1000), 0.1);
  WorkloadWindows windows(layout);
  QuantileScratch scratch;
  windows.Add(0, 5.0, 1e9, 1e9, scratch);
  for (uint64_t s = 1; s < 10; ++s) windows.Add(s, 0.1, 1e6, 1e6, scratch);
  EXPECT_NEAR(*windows.Get(0).cpu_peak_cores, 5.0, 0.005);
  windows.Add(10, 0.1, 1e6, 1e6, scratch);
  EXPECT_NEAR(*windows.Get(0).cpu_peak_cores, 0.1, 0.0001);
  EXPECT_NEAR(*windows.Get(0).memory_peak_bytes, 1e6, 1e3);
}

TEST(WorkloadWindowsTest, FirstQuietRunFindsTheStartOfTheFirstLongEnoughRun) {
  auto layout = WindowLayout::Make({seconds(60)}, milliseconds(1000), 0.1);
  WorkloadWindows windows(layout);
  QuantileScratch scratch;
  windows.Add(0, std::nullopt, 1, 1, scratch);
  for (uint64_t s = 1; s <= 4; ++s) windows.Add(s, 1.0, 1, 1, scratch);   // busy
  for (uint64_t s = 5; s <= 7; ++s) windows.Add(s, 0.01, 1, 1, scratch);  // quiet, too short
  windows.Add(8, 0.9, 1, 1, scratch);                                     // busy again
  for (uint64_t s = 9; s <= 30; ++s) windows.Add(s, 0.02, 1, 1, scratch);
  EXPECT_EQ(windows.FirstQuietRun(0.05, 10), std::optional<uint64_t>(9));
  EXPECT_EQ(windows.FirstQuietRun(0.05, 3), std::optional<uint64_t>(5));
  EXPECT_EQ(windows.FirstQuietRun(2.0, 10), std::optional<uint64_t>(1));
  EXPECT_EQ(windows.FirstQuietRun(0.001, 10), std::nullopt);
}

// The run's CPU is averaged: brief periodic spikes above the threshold at rest (a guest's disk and
// balloon timers every 2 s) do not keep it from settling, but its first slot must itself be
// quiet, so the tail of a burst does not start the run, and a gap still breaks it.
TEST(WorkloadWindowsTest, FirstQuietRunAveragesSpikesButStartsQuietAndBreaksAtGaps) {
  auto layout = WindowLayout::Make({seconds(120)}, milliseconds(1000), 0.1);
  QuantileScratch scratch;
  auto spiky = [&](double spike, std::optional<uint64_t> gap_at) {
    auto w = std::make_unique<WorkloadWindows>(layout);
    w->Add(0, std::nullopt, 1, 1, scratch);
    for (uint64_t s = 1; s <= 4; ++s) w->Add(s, 1.0, 1, 1, scratch);  // busy
    w->Add(5, 0.3, 1, 1, scratch);                                    // the burst's tail
    for (uint64_t s = 6; s <= 40; ++s) {
      std::optional<double> cpu = s % 2 == 0 ? 0.02 : spike;
      if (gap_at && s == *gap_at) cpu = std::nullopt;
      w->Add(s, cpu, 1, 1, scratch);
    }
    return w;
  };
  // Every other slot at 0.075 (over 0.05), the others at 0.02: a mean of 0.0475 from slot 6.
  EXPECT_EQ(spiky(0.075, std::nullopt)->FirstQuietRun(0.05, 10), std::optional<uint64_t>(6));
  // Spikes of 0.2 average 0.11: not at rest.
  EXPECT_EQ(spiky(0.2, std::nullopt)->FirstQuietRun(0.05, 10), std::nullopt);
  // A gap at slot 10 breaks the runs through it: the first whole run starts at slot 12.
  EXPECT_EQ(spiky(0.075, 10)->FirstQuietRun(0.05, 10), std::optional<uint64_t>(12));
  // Slot 5's 0.3 would average 0.039 with the nine slots after it at 0.01, but a run starts quiet.
  WorkloadWindows tail(layout);
  tail.Add(0, std::nullopt, 1, 1, scratch);
  for (uint64_t s = 1; s <= 4; ++s) tail.Add(s, 1.0, 1, 1, scratch);
  tail.Add(5, 0.3, 1, 1, scratch);
  for (uint64_t s = 6; s <= 20; ++s) tail.Add(s, 0.01, 1, 1, scratch);
  EXPECT_EQ(tail.FirstQuietRun(0.05, 10), std::optional<uint64_t>(6));
}

// The startup search reads from the workload's first slot, further back than the ring of the
// short windows (300 slots here), until the caller drops that history.
TEST(WorkloadWindowsTest, FirstQuietRunLooksPastTheRingUntilTheHistoryIsDropped) {
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, milliseconds(1000), 0.1);
  ASSERT_EQ(layout->ring, 300u);
  WorkloadWindows windows(layout);
  QuantileScratch scratch;
  // Busy until slot 400, then quiet; at slot 999 the ring holds only slots 700 on.
  for (uint64_t s = 0; s < 1000; ++s) windows.Add(s, s < 400 ? 1.0 : 0.01, 1, 1, scratch);
  EXPECT_EQ(windows.FirstQuietRun(0.05, 10), std::optional<uint64_t>(400));
  EXPECT_EQ(windows.FirstQuietRun(2.0, 10), std::optional<uint64_t>(0));
  const std::size_t with_history = windows.MemoryBytes();
  windows.DropStartupHistory();
  EXPECT_EQ(windows.FirstQuietRun(0.05, 10), std::nullopt);
  EXPECT_LE(windows.MemoryBytes() + 1900, with_history);
}

// The page's plots: the ring's values in slot order, oldest first, gaps kept, at most the ring.
TEST(WorkloadWindowsTest, CopyRecentGivesTheRingOldestFirstWithItsGaps) {
  auto layout = WindowLayout::Make({seconds(60), seconds(300), seconds(3600)}, seconds(1), 0.1);
  ASSERT_EQ(layout->ring, 300u);
  WorkloadWindows windows(layout);
  QuantileScratch scratch;
  std::vector<uint16_t> cpu, memory;
  windows.CopyRecent(&cpu, &memory);
  EXPECT_TRUE(cpu.empty());  // no slot yet
  for (uint64_t slot = 0; slot < 10; ++slot) {
    if (slot == 4) continue;  // a missed tick
    windows.Add(slot, slot == 0 ? std::nullopt : std::optional<double>(0.5 * static_cast<double>(slot)),
                1000.0 * static_cast<double>(slot + 1), std::nullopt, scratch);
  }
  windows.CopyRecent(&cpu, &memory);
  ASSERT_EQ(cpu.size(), 10u);  // a young workload: its life so far
  ASSERT_EQ(memory.size(), 10u);
  EXPECT_EQ(cpu[0], WindowScale::kGap);  // no rate on the first sample
  EXPECT_EQ(cpu[4], WindowScale::kGap);
  EXPECT_EQ(memory[4], WindowScale::kGap);
  EXPECT_NEAR(WindowScale::Cores().Decode(cpu[9]), 4.5, 4.5 * 1e-3);
  EXPECT_NEAR(WindowScale::Bytes().Decode(memory[0]), 1000, 1);
  EXPECT_NEAR(WindowScale::Bytes().Decode(memory[9]), 10000, 5);

  for (uint64_t slot = 10; slot < 1000; ++slot) windows.Add(slot, 0.25, 2048, std::nullopt, scratch);
  windows.CopyRecent(&cpu, &memory);
  ASSERT_EQ(cpu.size(), 300u);  // the ring, no more
  for (uint16_t code : cpu) EXPECT_NEAR(WindowScale::Cores().Decode(code), 0.25, 1e-3);
}

}  // namespace
}  // namespace we
