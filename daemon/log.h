#pragma once
// Logging through spdlog's default logger, to stderr, in logfmt (default) or JSON:
//   ts=2026-11-28T17:49:02.123Z level=info msg="listening"
//   {"ts":"2026-11-28T17:49:02.123Z","level":"info","msg":"listening"}
// Under systemd (JOURNAL_STREAM set) the timestamp is left out, since journald adds its own, and
// each line starts with a "<N>" syslog priority so journald keeps the level.
//
// Thread-safety: any thread may log at any time. The first ConfigureLogging call installs the
// logger and must come before other threads start (main does it); later calls (SIGHUP, on the
// main thread) may run while the sampler logs: spdlog's stderr_sink_mt swaps its formatter under
// its own lock, and the level is atomic.

#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

namespace we {

// nullopt for an unknown name. Names: debug, info, warn, error.
std::optional<spdlog::level::level_enum> ParseLogLevel(const std::string& name);

// Formats a record as one logfmt or JSON line. Public for tests.
std::string FormatLogLine(spdlog::level::level_enum level, std::string_view message, bool json, bool journal,
                          std::chrono::system_clock::time_point time);

// Installs the default logger with the given level and format ("logfmt" or "json"). Callable
// again (SIGHUP) to change either. Returns false for an unknown level or format.
bool ConfigureLogging(const std::string& level, const std::string& format);

}  // namespace we
