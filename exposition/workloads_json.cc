#include "exposition/workloads_json.h"

#include <charconv>
#include <cmath>
#include <optional>

namespace we {
namespace {

void String(std::string* out, const std::string& s) {
  *out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
  *out += '"';
}

// Shortest text that reads back as the same double; null for absent or non-finite.
void Number(std::string* out, std::optional<double> v) {
  if (!v || !std::isfinite(*v)) {
    *out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
  out->append(buf, ec == std::errc() ? end : buf);
}

template <typename T>
std::optional<double> AsDouble(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

}  // namespace

std::string WorkloadsJson(const Snapshot& snap) {
  std::string out = "{\"time\":";
  Number(&out, snap.time_seconds);
  out += ",\"windows\":[";
  if (snap.windows) {
    for (std::size_t i = 0; i < snap.windows->specs.size(); ++i) {
      if (i) out += ',';
      String(&out, snap.windows->specs[i].label);
    }
  }
  out += "],\"workloads\":[";
  for (std::size_t w = 0; w < snap.workloads.size(); ++w) {
    const WorkloadView& v = snap.workloads[w];
    const Sample& s = v.sample;
    if (w) out += ',';
    out += "{\"kind\":";
    String(&out, s.identity.kind);
    out += ",\"runtime\":";
    String(&out, s.identity.runtime);
    out += ",\"id\":";
    String(&out, s.identity.id);
    out += ",\"name\":";
    String(&out, s.identity.name);
    out += ",\"start_time_seconds\":";
    Number(&out, s.start_time_seconds);
    out += ",\"startup_seconds\":";
    Number(&out, v.startup_seconds);
    out += ",\"cpu_usage_cores\":";
    Number(&out, v.cpu_usage_cores);
    out += ",\"memory_usage_bytes\":";
    Number(&out, AsDouble(s.memory.usage_bytes));
    out += ",\"memory_working_set_bytes\":";
    Number(&out, AsDouble(s.memory.working_set_bytes));
    out += ",\"windows\":{";
    for (std::size_t i = 0; snap.windows && i < v.windows.size() && i < snap.windows->specs.size(); ++i) {
      if (i) out += ',';
      String(&out, snap.windows->specs[i].label);
      out += ":{\"cpu_idle_cores\":";
      Number(&out, v.windows[i].cpu_idle_cores);
      out += ",\"cpu_peak_cores\":";
      Number(&out, v.windows[i].cpu_peak_cores);
      out += ",\"memory_idle_bytes\":";
      Number(&out, v.windows[i].memory_idle_bytes);
      out += ",\"memory_peak_bytes\":";
      Number(&out, v.windows[i].memory_peak_bytes);
      out += '}';
    }
    out += "}}";
  }
  out += "]}\n";
  return out;
}

}  // namespace we
