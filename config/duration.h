#pragma once
// Durations in Prometheus syntax ("500ms", "1m30s", "1h"), as used by sampling.interval.
// Both functions are pure and thread-safe.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace we {

// Parses a Prometheus duration: one or more <integer><unit> terms, units in decreasing order
// and each at most once, from y (365d), w (7d), d, h, m, s, ms; or the bare "0". No sign, no
// fractions, no spaces. Returns nullopt for anything else, including the empty string and values
// that do not fit in std::chrono::milliseconds.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest Prometheus form of `duration`, the inverse of ParseDuration for every value >= 0:
// 1500ms -> "1s500ms", 90s -> "1m30s", 0 -> "0s". Years and weeks are used only for exact
// multiples (as Prometheus does), so 8d prints as "8d" rather than "1w1d". A negative value
// prints with a leading '-' (ParseDuration rejects it).
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace we
