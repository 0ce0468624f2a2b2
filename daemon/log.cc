#include "daemon/log.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace we {
namespace {

const char* LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "debug";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "error";
    default:
      return "info";
  }
}

int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    case spdlog::level::critical:
      return 2;
    default:
      return 6;
  }
}

void AppendTimestamp(std::string& out, std::chrono::system_clock::time_point time) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(time);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  out += buf;
}

// Escapes for a double-quoted logfmt or JSON string (the two agree on what matters here).
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(bool json, bool journal) : json_(json), journal_(journal) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line =
        FormatLogLine(msg.level, std::string_view(msg.payload.data(), msg.payload.size()), json_, journal_, msg.time);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(json_, journal_); }

 private:
  bool json_;
  bool journal_;
};

}  // namespace

std::optional<spdlog::level::level_enum> ParseLogLevel(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return std::nullopt;
}

namespace {

// The two line formats differ only in their punctuation around the same three fields.
struct LineStyle {
  std::string_view open, ts_open, ts_close, level_open, msg_open, close;
};
constexpr LineStyle kJson{"{", "\"ts\":\"", "\",", "\"level\":\"", "\",\"msg\":", "}"};
constexpr LineStyle kLogfmt{"", "ts=", " ", "level=", " msg=", ""};

}  // namespace

std::string FormatLogLine(spdlog::level::level_enum level, std::string_view message, bool json, bool journal,
                          std::chrono::system_clock::time_point time) {
  const LineStyle& style = json ? kJson : kLogfmt;
  std::string out;
  if (journal) out += "<" + std::to_string(SyslogPriority(level)) + ">";
  out += style.open;
  if (!journal) {  // journald stamps each line itself
    out += style.ts_open;
    AppendTimestamp(out, time);
    out += style.ts_close;
  }
  out += style.level_open;
  out += LevelName(level);
  out += style.msg_open;
  AppendQuoted(out, message);
  out += style.close;
  return out;
}

bool ConfigureLogging(const std::string& level, const std::string& format) {
  auto parsed = ParseLogLevel(level);
  if (!parsed || (format != "logfmt" && format != "json")) return false;
  bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  auto logger = spdlog::default_logger();
  if (!logger || logger->name() != "workload_exporter") {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>("workload_exporter", sink);
    spdlog::set_default_logger(logger);
  }
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json", journal));
  logger->set_level(*parsed);
  logger->flush_on(spdlog::level::trace);
  return true;
}

}  // namespace we
