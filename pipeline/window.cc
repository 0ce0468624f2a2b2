#include "pipeline/window.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <utility>

#include "config/duration.h"

namespace we {

WindowScale::WindowScale(double min, double max, bool integral)
    : min_(min), integral_(integral), log_min_(std::log(min)), step_((std::log(max) - std::log(min)) / (kGap - 2)) {}

const WindowScale& WindowScale::Cores() {
  static const WindowScale scale(1e-6, 1e5);
  return scale;
}

const WindowScale& WindowScale::Bytes() {
  static const WindowScale scale(1.0, 1152921504606846976.0, /*integral=*/true);  // 2^60
  return scale;
}

uint16_t WindowScale::Encode(double value) const {
  if (!(value > 0)) return kZero;  // zero, negative and NaN
  const double position = std::round((std::log(value) - log_min_) / step_);
  if (position <= 0) return 1;
  if (position >= kGap - 2) return kGap - 1;
  return static_cast<uint16_t>(position) + 1;
}

double WindowScale::Decode(uint16_t code) const {
  if (code == kZero) return 0;
  const double value = std::exp(log_min_ + step_ * (code - 1));
  return integral_ ? std::round(value) : value;
}

double WindowScale::max_relative_error() const { return std::expm1(step_ / 2); }

std::shared_ptr<const WindowLayout> WindowLayout::Make(const std::vector<std::chrono::milliseconds>& windows,
                                                       std::chrono::milliseconds interval, double idle_quantile) {
  auto layout = std::make_shared<WindowLayout>();
  layout->idle_quantile = idle_quantile;
  for (const auto w : windows) {
    WindowSpec spec;
    spec.label = FormatDuration(w);
    spec.seconds = std::chrono::duration<double>(w).count();
    const long long n = std::max<long long>(
        1,
        std::llround(static_cast<double>(w.count()) / static_cast<double>(std::max<long long>(1, interval.count()))));
    spec.slots = static_cast<uint32_t>(n);
    spec.block = static_cast<uint32_t>((n + 59) / 60);
    spec.blocks = (spec.slots + spec.block - 1) / spec.block;
    if (spec.block * spec.blocks > layout->capacity) {
      layout->capacity = spec.block * spec.blocks;
      layout->chunk = spec.block;
    }
    layout->specs.push_back(std::move(spec));
  }
  // Chunks pay only when they hold more than a few slots; below that every window reads the ring.
  constexpr uint32_t kMinChunk = 8;
  if (layout->chunk < kMinChunk) layout->chunk = 1;
  layout->ring = std::max<uint32_t>(1, layout->chunk);
  for (std::size_t i = 0; i < layout->specs.size(); ++i) {
    if (layout->specs[i].seconds > layout->specs[layout->sized].seconds) layout->sized = i;
  }
  for (auto& spec : layout->specs) {
    spec.chunked = layout->chunk > 1 && spec.block % layout->chunk == 0;
    if (spec.chunked) {
      layout->chunks = std::max(layout->chunks, spec.block * spec.blocks / layout->chunk);
    } else {
      layout->ring = std::max(layout->ring, spec.block * spec.blocks);
    }
  }
  return layout;
}

namespace {

void PutVarint(uint32_t v, std::vector<uint8_t>* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

uint32_t GetVarint(const uint8_t*& p) {
  uint32_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t byte = *p++;
    v |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return v;
  }
}

// Appends the codes of slots [from, to] held in `ring` (R slots, slot % R), gaps left out.
void AppendRing(const uint16_t* ring, uint32_t size, uint64_t from, uint64_t to, std::vector<uint16_t>* out) {
  for (uint64_t s = from; s <= to; ++s) {
    const uint16_t code = ring[s % size];
    if (code != WindowScale::kGap) out->push_back(code);
  }
}

// Bits, least significant first, appended to a byte vector.
class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>* out) : out_(out) {}
  void Put(uint32_t value, int bits) {
    for (int i = 0; i < bits; ++i) PutBit((value >> i) & 1);
  }
  void PutBit(uint32_t bit) {
    if (used_ == 0) out_->push_back(0);
    out_->back() = static_cast<uint8_t>(out_->back() | (bit << used_));
    used_ = (used_ + 1) % 8;
  }

 private:
  std::vector<uint8_t>* out_;
  int used_ = 0;
};

class BitReader {
 public:
  explicit BitReader(const uint8_t* p) : p_(p) {}
  uint32_t Bit() {
    const uint32_t bit = (*p_ >> used_) & 1;
    if (++used_ == 8) {
      used_ = 0;
      ++p_;
    }
    return bit;
  }
  uint32_t Get(int bits) {
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i) v |= Bit() << i;
    return v;
  }
  const uint8_t* end() const { return used_ == 0 ? p_ : p_ + 1; }

 private:
  const uint8_t* p_;
  int used_ = 0;
};

}  // namespace

// Layout: varint(n * 2 + plain), then either n little-endian 16-bit codes (plain), or a
// bit stream: the first code in 16 bits, a Rice parameter k in 4 bits, and for each next code
// its difference d from the previous as Rice(k): d >> k in unary (that many 1s, then a 0), then
// the low k bits of d. k is the one that makes the chunk smallest; sorted codes make every d
// non-negative and, for a series that moves little, small.
void PackSortedCodes(const uint16_t* sorted, std::size_t n, std::vector<uint8_t>* out) {
  const bool any = n > 0;
  std::size_t best_bits = 16 * n;  // plain
  int best_k = -1;
  for (int k = 0; any && k < 16; ++k) {
    std::size_t bits = 16 + 4;
    for (std::size_t i = 1; i < n; ++i) bits += (static_cast<uint32_t>(sorted[i] - sorted[i - 1]) >> k) + 1 + k;
    if (bits < best_bits) {
      best_bits = bits;
      best_k = k;
    }
  }
  PutVarint(static_cast<uint32_t>(n * 2 + (best_k < 0 ? 1 : 0)), out);
  if (!any) return;
  if (best_k < 0) {
    for (std::size_t i = 0; i < n; ++i) {
      out->push_back(static_cast<uint8_t>(sorted[i] & 0xFF));
      out->push_back(static_cast<uint8_t>(sorted[i] >> 8));
    }
    return;
  }
  BitWriter bits(out);
  bits.Put(sorted[0], 16);
  bits.Put(static_cast<uint32_t>(best_k), 4);
  for (std::size_t i = 1; i < n; ++i) {
    const uint32_t d = static_cast<uint32_t>(sorted[i] - sorted[i - 1]);
    for (uint32_t q = d >> best_k; q > 0; --q) bits.PutBit(1);
    bits.PutBit(0);
    bits.Put(d, best_k);
  }
}

const uint8_t* UnpackCodes(const uint8_t* p, std::vector<uint16_t>* out) {
  const uint32_t header = GetVarint(p);
  const uint32_t n = header >> 1;
  if (n == 0) return p;
  if (header & 1) {
    for (uint32_t i = 0; i < n; ++i, p += 2) out->push_back(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    return p;
  }
  BitReader bits(p);
  uint32_t code = bits.Get(16);
  const int k = static_cast<int>(bits.Get(4));
  out->push_back(static_cast<uint16_t>(code));
  for (uint32_t i = 1; i < n; ++i) {
    uint32_t q = 0;
    while (bits.Bit()) ++q;
    code += (q << k) | bits.Get(k);
    out->push_back(static_cast<uint16_t>(code));
  }
  return bits.end();
}

void PackedChunks::Clear() {
  count_ = 0;
  bytes_.clear();
}

void PackedChunks::Push(uint64_t number, std::vector<uint16_t>& codes, uint32_t keep) {
  if (keep == 0) return;
  if (starts_.size() != keep) starts_.assign(keep, 0);
  if (count_ > 0 && number != first_ + count_) Clear();
  if (count_ == keep) {
    ++first_;
    --count_;
  }
  if (count_ == 0) {
    first_ = number;
    bytes_.clear();
  }
  std::sort(codes.begin(), codes.end());
  // Room for the largest packed form (header + plain codes) past the held chunks; else drop the
  // bytes of chunks gone, and grow (exactly: push_back would double) only when that is not enough.
  const std::size_t need = 5 + 2 * codes.size();
  if (bytes_.size() + need > bytes_.capacity()) {
    const uint32_t base = count_ > 0 ? starts_[first_ % keep] : static_cast<uint32_t>(bytes_.size());
    bytes_.erase(bytes_.begin(), bytes_.begin() + base);
    for (uint32_t i = 0; i < count_; ++i) starts_[(first_ + i) % keep] -= base;
    if (bytes_.size() + need > bytes_.capacity()) {
      bytes_.reserve(std::max(bytes_.size() + need, bytes_.capacity() + bytes_.capacity() / 4));
    }
  }
  starts_[number % keep] = static_cast<uint32_t>(bytes_.size());
  PackSortedCodes(codes.data(), codes.size(), &bytes_);  // within the capacity reserved
  ++count_;
}

void PackedChunks::AppendTo(uint64_t number, std::vector<uint16_t>* out) const {
  if (count_ == 0 || number < first_ || number >= first_ + count_) return;
  UnpackCodes(bytes_.data() + starts_[number % starts_.size()], out);
}

WorkloadWindows::WorkloadWindows(std::shared_ptr<const WindowLayout> layout) : layout_(std::move(layout)) {
  const std::size_t n = layout_->specs.size();
  cpu_ring_.assign(layout_->ring, WindowScale::kGap);
  memory_ring_.assign(layout_->ring, WindowScale::kGap);
  uint32_t total = 0;
  for (const auto& spec : layout_->specs) {
    maxima_offset_.push_back(total);
    total += spec.blocks;
  }
  cpu_maxima_.assign(total, WindowScale::kGap);
  peak_maxima_.assign(total, WindowScale::kGap);
  cpu_ranked_.assign(n * kCpuRanked, WindowScale::kGap);
  memory_idle_.assign(n, WindowScale::kGap);
}

std::size_t WorkloadWindows::MemoryBytes() const {
  return sizeof(*this) +
         (cpu_ring_.capacity() + memory_ring_.capacity() + cpu_maxima_.capacity() + peak_maxima_.capacity() +
          cpu_ranked_.capacity() + memory_idle_.capacity() + startup_cpu_.capacity()) *
             sizeof(uint16_t) +
         maxima_offset_.capacity() * sizeof(uint32_t) + cpu_chunks_.MemoryBytes() + memory_chunks_.MemoryBytes();
}

void WorkloadWindows::CopyRecent(std::vector<uint16_t>* cpu, std::vector<uint16_t>* memory) const {
  cpu->clear();
  memory->clear();
  if (last_slot_ < 0) return;
  const uint64_t last = static_cast<uint64_t>(last_slot_);
  const uint64_t count = std::min<uint64_t>(layout_->ring, last + 1);
  for (uint64_t s = last + 1 - count; s <= last; ++s) {
    cpu->push_back(cpu_ring_[s % layout_->ring]);
    memory->push_back(memory_ring_[s % layout_->ring]);
  }
}

void WorkloadWindows::DropStartupHistory() {
  if (!startup_kept_) return;
  startup_kept_ = false;
  std::vector<uint16_t>().swap(startup_cpu_);
}

void WorkloadWindows::Add(uint64_t slot, std::optional<double> cpu_cores, std::optional<double> memory_bytes,
                          std::optional<double> memory_peak_bytes, QuantileScratch& scratch) {
  if (static_cast<int64_t>(slot) <= last_slot_) return;  // slots only move forward
  const uint64_t first = static_cast<uint64_t>(last_slot_ + 1);
  // Skipped slots become gaps. Past a whole ring of them nothing older survives, so start over
  // from a clean state rather than walking every skipped slot.
  // (3 x capacity: by then even the oldest block-end window that could be reported is all gaps.)
  if (slot - first > 3ull * layout_->capacity) {
    std::fill(cpu_ring_.begin(), cpu_ring_.end(), WindowScale::kGap);
    std::fill(memory_ring_.begin(), memory_ring_.end(), WindowScale::kGap);
    std::fill(cpu_maxima_.begin(), cpu_maxima_.end(), WindowScale::kGap);
    std::fill(peak_maxima_.begin(), peak_maxima_.end(), WindowScale::kGap);
    std::fill(cpu_ranked_.begin(), cpu_ranked_.end(), WindowScale::kGap);
    std::fill(memory_idle_.begin(), memory_idle_.end(), WindowScale::kGap);
    cpu_chunks_.Clear();
    memory_chunks_.Clear();
  } else {
    for (uint64_t s = first; s < slot; ++s) Step(s, WindowScale::kGap, WindowScale::kGap, WindowScale::kGap, scratch);
  }
  const auto encode = [](const std::optional<double>& v, const WindowScale& scale) {
    return v ? scale.Encode(*v) : WindowScale::kGap;
  };
  Step(slot, encode(cpu_cores, WindowScale::Cores()), encode(memory_bytes, WindowScale::Bytes()),
       encode(memory_peak_bytes, WindowScale::Bytes()), scratch);
  last_slot_ = static_cast<int64_t>(slot);
  if (slot >= layout_->capacity) DropStartupHistory();  // FirstQuietRun can no longer answer
}

void WorkloadWindows::Step(uint64_t slot, uint16_t cpu, uint16_t memory, uint16_t memory_peak,
                           QuantileScratch& scratch) {
  const std::size_t at = slot % layout_->ring;
  cpu_ring_[at] = cpu;
  memory_ring_[at] = memory;
  if (startup_kept_ && slot < layout_->capacity) {
    if (startup_cpu_.size() <= slot) startup_cpu_.resize(slot + 1, WindowScale::kGap);
    startup_cpu_[slot] = cpu;
  }
  if (layout_->chunk > 1 && (slot + 1) % layout_->chunk == 0) CloseChunk(slot, scratch);
  for (std::size_t w = 0; w < layout_->specs.size(); ++w) {
    const WindowSpec& spec = layout_->specs[w];
    const std::size_t entry = maxima_offset_[w] + (slot / spec.block) % spec.blocks;
    if (slot % spec.block == 0) {  // a new block replaces the one leaving the window
      cpu_maxima_[entry] = WindowScale::kGap;
      peak_maxima_[entry] = WindowScale::kGap;
    }
    auto raise = [](uint16_t& current, uint16_t code) {
      if (code != WindowScale::kGap && (current == WindowScale::kGap || code > current)) current = code;
    };
    raise(cpu_maxima_[entry], cpu);
    raise(peak_maxima_[entry], memory_peak);
    if (slot < spec.block || (slot + 1) % spec.block == 0) {
      const double idle = layout_->idle_quantile;
      if (w == layout_->sized) {
        Quantiles(cpu_ring_.data(), cpu_chunks_, w, slot, {idle, kCpuHighQuantiles[0], kCpuHighQuantiles[1]},
                  &cpu_ranked_[w * kCpuRanked], scratch);
      } else {
        Quantiles(cpu_ring_.data(), cpu_chunks_, w, slot, {idle}, &cpu_ranked_[w * kCpuRanked], scratch);
      }
      Quantiles(memory_ring_.data(), memory_chunks_, w, slot, {idle}, &memory_idle_[w], scratch);
    }
  }
}

void WorkloadWindows::CloseChunk(uint64_t slot, QuantileScratch& scratch) {
  const uint64_t number = slot / layout_->chunk;
  for (auto [ring, chunks] : {std::pair{&cpu_ring_, &cpu_chunks_}, std::pair{&memory_ring_, &memory_chunks_}}) {
    scratch.clear();
    AppendRing(ring->data(), layout_->ring, number * layout_->chunk, slot, &scratch);
    chunks->Push(number, scratch, layout_->chunks);
  }
}

void WorkloadWindows::Quantiles(const uint16_t* ring, const PackedChunks& chunks, std::size_t window, uint64_t slot,
                                std::initializer_list<double> qs, uint16_t* out, QuantileScratch& scratch) const {
  const WindowSpec& spec = layout_->specs[window];
  const uint64_t block = slot / spec.block;
  uint64_t first = block + 1 >= spec.blocks ? (block + 1 - spec.blocks) * spec.block : 0;
  scratch.clear();
  if (spec.chunked) {  // `first` is on a chunk boundary; closed chunks up to the open one
    const uint64_t c = layout_->chunk;
    const uint64_t open = (slot + 1) / c * c;
    for (uint64_t j = first / c; j < open / c; ++j) chunks.AppendTo(j, &scratch);
    first = std::max(first, open);
  }
  AppendRing(ring, layout_->ring, first, slot, &scratch);
  if (scratch.empty()) {
    std::fill(out, out + qs.size(), WindowScale::kGap);
    return;
  }
  // Ranks in ascending order, each found in what lies above the one before: after nth_element
  // at p, every value past p is at least *p, so the next rank only reads [p, end).
  assert(qs.size() <= kCpuRanked);
  const double n = static_cast<double>(scratch.size());
  std::array<std::pair<std::size_t, std::size_t>, kCpuRanked> ranks{};  // (rank - 1, index in qs)
  std::size_t count = 0;
  for (double q : qs) {
    const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(q * n - 1e-9)));
    ranks[count] = {std::min(rank, scratch.size()) - 1, count};
    ++count;
  }
  std::sort(ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(count));
  auto lo = scratch.begin();
  for (std::size_t i = 0; i < count; ++i) {
    auto nth = scratch.begin() + static_cast<std::ptrdiff_t>(ranks[i].first);
    std::nth_element(lo, nth, scratch.end());
    out[ranks[i].second] = *nth;
    lo = nth;
  }
}

uint16_t WorkloadWindows::PeakOf(const std::vector<uint16_t>& maxima, std::size_t window) const {
  const WindowSpec& spec = layout_->specs[window];
  uint16_t best = WindowScale::kGap;
  for (uint32_t i = 0; i < spec.blocks; ++i) {
    const uint16_t code = maxima[maxima_offset_[window] + i];
    if (code != WindowScale::kGap && (best == WindowScale::kGap || code > best)) best = code;
  }
  return best;
}

std::optional<uint64_t> WorkloadWindows::FirstQuietRun(double threshold_cores, uint32_t run_slots) const {
  if (!startup_kept_ || last_slot_ < 0 || static_cast<uint64_t>(last_slot_) >= layout_->capacity) return std::nullopt;
  const WindowScale& scale = WindowScale::Cores();
  const uint16_t limit = scale.Encode(threshold_cores);
  const uint64_t run = std::max<uint32_t>(1, run_slots);
  const uint64_t last = static_cast<uint64_t>(last_slot_);
  // Slots [from, s] hold no gap; `sum` is the CPU of the last `run` of them (or fewer).
  uint64_t from = 0;
  double sum = 0;
  for (uint64_t s = 0; s <= last; ++s) {
    const uint16_t code = startup_cpu_[s];
    if (code == WindowScale::kGap) {
      from = s + 1;
      sum = 0;
      continue;
    }
    sum += scale.Decode(code);
    if (s + 1 - from > run) sum -= scale.Decode(startup_cpu_[s - run]);
    if (s + 1 - from < run) continue;
    const uint64_t start = s + 1 - run;
    // Decoding is exact per code, so the sum's rounding is far below a code's width; compare the
    // mean on the scale the samples were stored on.
    if (startup_cpu_[start] <= limit && scale.Encode(std::max(0.0, sum) / static_cast<double>(run)) <= limit) {
      return start;
    }
  }
  return std::nullopt;
}

WindowFigures WorkloadWindows::Get(std::size_t i) const {
  WindowFigures f;
  auto decode = [](uint16_t code, const WindowScale& scale) -> std::optional<double> {
    if (code == WindowScale::kGap) return std::nullopt;
    return scale.Decode(code);
  };
  const uint16_t* cpu = &cpu_ranked_[i * kCpuRanked];
  f.cpu_idle_cores = decode(cpu[0], WindowScale::Cores());
  f.cpu_p90_cores = decode(cpu[1], WindowScale::Cores());
  f.cpu_p95_cores = decode(cpu[2], WindowScale::Cores());
  f.cpu_peak_cores = decode(PeakOf(cpu_maxima_, i), WindowScale::Cores());
  f.memory_idle_bytes = decode(memory_idle_[i], WindowScale::Bytes());
  f.memory_peak_bytes = decode(PeakOf(peak_maxima_, i), WindowScale::Bytes());
  return f;
}

}  // namespace we
