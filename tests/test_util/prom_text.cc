#include "test_util/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "test_util/http_get.h"

namespace we::test_util {
namespace {

[[noreturn]] void Fail(int line, const std::string& what, const std::string& text) {
  throw std::runtime_error("line " + std::to_string(line) + ": " + what + ": \"" + text + "\"");
}

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

double ParseValue(const std::string& s, int line, const std::string& text) {
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) Fail(line, "bad value", text);
  return v;
}

}  // namespace

std::vector<PromSeries> ParsePromText(const std::string& text) {
  std::vector<PromSeries> out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;

    PromSeries s;
    std::size_t i = 0;
    while (i < line.size() && IsNameChar(line[i], i == 0)) ++i;
    if (i == 0) Fail(line_no, "no metric name", line);
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        std::size_t start = i;
        while (i < line.size() && IsNameChar(line[i], i == start)) ++i;
        if (i == start || i >= line.size() || line[i] != '=') Fail(line_no, "bad label name", line);
        std::string key = line.substr(start, i - start);
        ++i;
        if (i >= line.size() || line[i] != '"') Fail(line_no, "label value not quoted", line);
        ++i;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char e = line[++i];
            value += e == 'n' ? '\n' : e;
          } else {
            value += line[i];
          }
          ++i;
        }
        if (i >= line.size()) Fail(line_no, "unterminated label value", line);
        ++i;
        if (!s.labels.emplace(key, value).second) Fail(line_no, "duplicate label " + key, line);
        if (i < line.size() && line[i] == ',') ++i;
      }
    }
    if (i >= line.size() || line[i] != ' ') Fail(line_no, "no value", line);
    ++i;
    std::size_t end = line.find(' ', i);  // an optional timestamp follows
    s.value = ParseValue(line.substr(i, end == std::string::npos ? std::string::npos : end - i), line_no, line);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<PromSeries> Find(const std::vector<PromSeries>& series, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
  std::vector<PromSeries> out;
  for (const PromSeries& s : series) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(s);
  }
  return out;
}

std::optional<double> FindValue(const std::vector<PromSeries>& series, const std::string& name,
                                const std::map<std::string, std::string>& labels) {
  auto found = Find(series, name, labels);
  if (found.size() != 1) return std::nullopt;
  return found.front().value;
}

std::vector<PromSeries> ScrapeMetrics(uint16_t port) {
  auto r = HttpGet("127.0.0.1", port, "/metrics");
  if (!r || r->status != 200) return {};
  return ParsePromText(r->body);
}

}  // namespace we::test_util
