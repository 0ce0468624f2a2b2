#include "pipeline/window.h"

#include <algorithm>
#include <cmath>

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
    layout->capacity = std::max(layout->capacity, spec.block * spec.blocks);
    layout->specs.push_back(std::move(spec));
  }
  return layout;
}

WorkloadWindows::WorkloadWindows(std::shared_ptr<const WindowLayout> layout) : layout_(std::move(layout)) {
  const std::size_t n = layout_->specs.size();
  cpu_ring_.assign(layout_->capacity, WindowScale::kGap);
  memory_ring_.assign(layout_->capacity, WindowScale::kGap);
  uint32_t total = 0;
  for (const auto& spec : layout_->specs) {
    maxima_offset_.push_back(total);
    total += spec.blocks;
  }
  cpu_maxima_.assign(total, WindowScale::kGap);
  peak_maxima_.assign(total, WindowScale::kGap);
  cpu_idle_.assign(n, WindowScale::kGap);
  memory_idle_.assign(n, WindowScale::kGap);
}

std::size_t WorkloadWindows::MemoryBytes() const {
  return sizeof(*this) +
         (cpu_ring_.capacity() + memory_ring_.capacity() + cpu_maxima_.capacity() + peak_maxima_.capacity() +
          cpu_idle_.capacity() + memory_idle_.capacity()) *
             sizeof(uint16_t) +
         maxima_offset_.capacity() * sizeof(uint32_t);
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
    std::fill(cpu_idle_.begin(), cpu_idle_.end(), WindowScale::kGap);
    std::fill(memory_idle_.begin(), memory_idle_.end(), WindowScale::kGap);
  } else {
    for (uint64_t s = first; s < slot; ++s) Step(s, WindowScale::kGap, WindowScale::kGap, WindowScale::kGap, scratch);
  }
  const auto encode = [](const std::optional<double>& v, const WindowScale& scale) {
    return v ? scale.Encode(*v) : WindowScale::kGap;
  };
  Step(slot, encode(cpu_cores, WindowScale::Cores()), encode(memory_bytes, WindowScale::Bytes()),
       encode(memory_peak_bytes, WindowScale::Bytes()), scratch);
  last_slot_ = static_cast<int64_t>(slot);
}

void WorkloadWindows::Step(uint64_t slot, uint16_t cpu, uint16_t memory, uint16_t memory_peak,
                           QuantileScratch& scratch) {
  const std::size_t at = slot % layout_->capacity;
  cpu_ring_[at] = cpu;
  memory_ring_[at] = memory;
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
      cpu_idle_[w] = Quantile(cpu_ring_.data(), w, slot, scratch);
      memory_idle_[w] = Quantile(memory_ring_.data(), w, slot, scratch);
    }
  }
}

uint16_t WorkloadWindows::Quantile(const uint16_t* ring, std::size_t window, uint64_t slot,
                                   QuantileScratch& scratch) const {
  const WindowSpec& spec = layout_->specs[window];
  const uint64_t block = slot / spec.block;
  const uint64_t first = block + 1 >= spec.blocks ? (block + 1 - spec.blocks) * spec.block : 0;
  scratch.clear();
  for (uint64_t s = first; s <= slot; ++s) {
    const uint16_t code = ring[s % layout_->capacity];
    if (code != WindowScale::kGap) scratch.push_back(code);
  }
  if (scratch.empty()) return WindowScale::kGap;
  const double n = static_cast<double>(scratch.size());
  const std::size_t rank = static_cast<std::size_t>(std::max(1.0, std::ceil(layout_->idle_quantile * n - 1e-9)));
  auto nth = scratch.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(scratch.begin(), nth, scratch.end());
  return *nth;
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
  if (last_slot_ < 0 || static_cast<uint64_t>(last_slot_) >= layout_->capacity) return std::nullopt;
  const WindowScale& scale = WindowScale::Cores();
  const uint16_t limit = scale.Encode(threshold_cores);
  const uint64_t run = std::max<uint32_t>(1, run_slots);
  const uint64_t last = static_cast<uint64_t>(last_slot_);
  // Slots [from, s] hold no gap; `sum` is the CPU of the last `run` of them (or fewer).
  uint64_t from = 0;
  double sum = 0;
  for (uint64_t s = 0; s <= last; ++s) {
    const uint16_t code = cpu_ring_[s];
    if (code == WindowScale::kGap) {
      from = s + 1;
      sum = 0;
      continue;
    }
    sum += scale.Decode(code);
    if (s + 1 - from > run) sum -= scale.Decode(cpu_ring_[s - run]);
    if (s + 1 - from < run) continue;
    const uint64_t start = s + 1 - run;
    // Decoding is exact per code, so the sum's rounding is far below a code's width; compare the
    // mean on the scale the samples were stored on.
    if (cpu_ring_[start] <= limit && scale.Encode(std::max(0.0, sum) / static_cast<double>(run)) <= limit) {
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
  f.cpu_idle_cores = decode(cpu_idle_[i], WindowScale::Cores());
  f.cpu_peak_cores = decode(PeakOf(cpu_maxima_, i), WindowScale::Cores());
  f.memory_idle_bytes = decode(memory_idle_[i], WindowScale::Bytes());
  f.memory_peak_bytes = decode(PeakOf(peak_maxima_, i), WindowScale::Bytes());
  return f;
}

}  // namespace we
