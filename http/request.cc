#include "http/request.h"

namespace we {
namespace serving {

namespace http = boost::beast::http;

namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int> ParseQValue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  int value = (text[0] - '0') * 1000;
  if (text.size() == 1) return value;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int scale = 100;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    value += (c - '0') * scale;
    scale /= 10;
  }
  if (value > 1000) return std::nullopt;
  return value;
}

std::optional<std::string_view> TargetPath(std::string_view target) {
  if (target.empty()) return std::nullopt;
  if (target == "*") return target;
  if (target.front() != '/') {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = target.substr(0, scheme_end);
    if (!IEquals(scheme, "http") && !IEquals(scheme, "https")) return std::nullopt;
    const auto path_start = target.find_first_of("/?#", scheme_end + 3);
    if (path_start == std::string_view::npos || target[path_start] != '/') return "/";
    target = target.substr(path_start);
  }
  return target.substr(0, target.find_first_of("?#"));
}

std::string JoinedField(const Request& req, http::field name) {
  std::string joined;
  for (auto [it, end] = req.equal_range(name); it != end; ++it) {
    if (!joined.empty()) joined += ',';
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  unsigned int bits = 0;
  int count = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return std::nullopt;
    bits = (bits << 6) | static_cast<unsigned int>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  if (count >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

std::optional<std::pair<std::string, std::string>> ParseBasicCredentials(std::string_view value) {
  value = TrimOws(value);
  constexpr std::string_view kScheme = "basic";
  if (value.size() <= kScheme.size() || !IEquals(value.substr(0, kScheme.size()), kScheme) ||
      (value[kScheme.size()] != ' ' && value[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  const std::optional<std::string> decoded = DecodeBase64(TrimOws(value.substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace serving

bool RequestHeaderTooLarge(std::size_t consumed, std::size_t body_bytes, std::size_t max_header_bytes) {
  return consumed > body_bytes && consumed - body_bytes > max_header_bytes;
}

bool AcceptEncodingAllowsGzip(std::string_view accept_encoding) {
  std::optional<int> gzip_q;  // thousandths
  std::optional<int> star_q;
  std::optional<int> identity_q;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    const auto semicolon = element.find(';');
    const std::string_view coding = serving::TrimOws(element.substr(0, semicolon));
    if (coding.empty()) continue;
    std::optional<int> q = 1000;
    std::string_view params = semicolon == std::string_view::npos ? std::string_view() : element.substr(semicolon + 1);
    while (!params.empty() && q) {
      const auto next = params.find(';');
      const std::string_view param = serving::TrimOws(params.substr(0, next));
      params.remove_prefix(next == std::string_view::npos ? params.size() : next + 1);
      const auto equals = param.find('=');
      if (equals == std::string_view::npos) continue;
      if (serving::IEquals(serving::TrimOws(param.substr(0, equals)), "q")) {
        q = serving::ParseQValue(serving::TrimOws(param.substr(equals + 1)));
      }
    }
    if (!q) continue;  // malformed q-value: ignore the element
    std::optional<int>* slot = nullptr;
    if (serving::IEquals(coding, "gzip") || serving::IEquals(coding, "x-gzip")) {
      slot = &gzip_q;
    } else if (coding == "*") {
      slot = &star_q;
    } else if (serving::IEquals(coding, "identity")) {
      slot = &identity_q;
    }
    if (slot != nullptr && !slot->has_value()) *slot = q;  // the first mention counts
  }
  const int gzip = gzip_q ? *gzip_q : star_q.value_or(0);
  if (gzip <= 0) return false;
  return !(identity_q && *identity_q > gzip);
}

}  // namespace we
