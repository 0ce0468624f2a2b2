#include "config/duration.h"

#include <cstdint>
#include <limits>

namespace we {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t millis;
  bool only_exact;  // FormatDuration uses it only when it divides the value exactly
};

// Largest first: ParseDuration requires this order, FormatDuration emits it.
constexpr Unit kUnits[] = {
    {"y", 365LL * 24 * 60 * 60 * 1000, true},
    {"w", 7LL * 24 * 60 * 60 * 1000, true},
    {"d", 24LL * 60 * 60 * 1000, false},
    {"h", 60LL * 60 * 1000, false},
    {"m", 60LL * 1000, false},
    {"s", 1000, false},
    {"ms", 1, false},
};
constexpr std::size_t kUnitCount = std::size(kUnits);

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds{0};
  if (text.empty()) return std::nullopt;

  constexpr std::int64_t kMax = std::numeric_limits<std::chrono::milliseconds::rep>::max();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units before this index were used already or are out of order
  std::size_t pos = 0;
  while (pos < text.size()) {
    // <integer>
    if (!IsDigit(text[pos])) return std::nullopt;
    std::int64_t amount = 0;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
      const int digit = text[pos] - '0';
      if (amount > (kMax - digit) / 10) return std::nullopt;
      amount = amount * 10 + digit;
    }
    // <unit>: the whole run of letters, so "5ms" is milliseconds, not minutes followed by junk.
    const std::size_t unit_start = pos;
    while (pos < text.size() && IsLetter(text[pos])) ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    std::size_t unit = next_unit;
    while (unit < kUnitCount && kUnits[unit].name != unit_name) ++unit;
    if (unit == kUnitCount) return std::nullopt;  // unknown, missing, repeated or out of order
    next_unit = unit + 1;

    if (amount > kMax / kUnits[unit].millis) return std::nullopt;
    const std::int64_t term = amount * kUnits[unit].millis;
    if (total > kMax - term) return std::nullopt;
    total += term;
  }
  return std::chrono::milliseconds{total};
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  const std::int64_t count = duration.count();
  if (count == 0) return "0s";
  std::string out = count < 0 ? "-" : "";
  // The magnitude in unsigned arithmetic, so that even the most negative value has one.
  std::uint64_t left = count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  for (const Unit& unit : kUnits) {
    const auto millis = static_cast<std::uint64_t>(unit.millis);
    if (unit.only_exact && left % millis != 0) continue;
    const std::uint64_t amount = left / millis;
    if (amount == 0) continue;
    out += std::to_string(amount);
    out += unit.name;
    left -= amount * millis;
  }
  return out;
}

}  // namespace we
