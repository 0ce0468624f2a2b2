#include "config/probe_target.h"

#include <arpa/inet.h>

#include <charconv>

namespace we {
namespace {

bool IsIpv4(const std::string& text) {
  in_addr a{};
  return ::inet_pton(AF_INET, text.c_str(), &a) == 1;
}
bool IsIpv6(const std::string& text) {
  in6_addr a{};
  return ::inet_pton(AF_INET6, text.c_str(), &a) == 1;
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<ProbeTarget> ParseProbeTarget(ProbeTarget::Kind kind, std::string_view text, std::string* error) {
  ProbeTarget t;
  t.kind = kind;
  t.text = std::string(text);
  std::string_view rest = text;
  if (kind == ProbeTarget::Kind::kHttp) {
    if (rest.starts_with("https://")) {
      *error = "https is not supported: probe the plain HTTP port, or use tcp:";
      return std::nullopt;
    }
    if (!rest.starts_with("http://")) {
      *error = "expected \"http://HOST[:PORT]/path\", as in \"http://{ip}:5000/health\"";
      return std::nullopt;
    }
    rest.remove_prefix(7);
  }
  std::string_view authority = rest;
  if (kind == ProbeTarget::Kind::kHttp) {
    const std::size_t slash = rest.find_first_of("/?");
    authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) {
      t.path = std::string(rest.substr(slash));
      if (t.path.front() == '?') t.path.insert(0, "/");
    }
    for (char c : t.path) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#' || c == '{' || c == '}') {
        *error = "the path may not hold spaces, control characters, '#' or braces ({ip} stands only for the host)";
        return std::nullopt;
      }
    }
  }
  // HOST[:PORT], HOST in brackets when it is IPv6.
  std::string_view host, port;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unclosed '[' in the address";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      *error = "expected ':PORT' after ']'";
      return std::nullopt;
    }
    if (!after.empty()) port = after.substr(1);
    if (!IsIpv6(std::string(host))) {
      *error = "\"" + std::string(host) + "\" in brackets is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      *error = "an IPv6 address must be in brackets, as in \"[::1]:5000\"";
      return std::nullopt;
    }
  }
  if (host == "{ip}") {
    t.workload_ip = true;
  } else if (host.find_first_of("{}") != std::string_view::npos) {
    *error = "unknown placeholder in \"" + std::string(host) + "\": the only one is {ip}, standing for the whole host";
    return std::nullopt;
  } else if (host == "localhost" || IsIpv4(std::string(host)) || IsIpv6(std::string(host))) {
    t.host = std::string(host);
  } else if (host.empty()) {
    *error = "no host: expected an IP address, localhost or {ip}";
    return std::nullopt;
  } else {
    *error = "\"" + std::string(host) + "\" is not an IP address, localhost or {ip} (names are not resolved)";
    return std::nullopt;
  }
  if (port.empty()) {
    if (kind == ProbeTarget::Kind::kTcp || authority.ends_with(":")) {
      *error = "no port: expected HOST:PORT, as in \"127.0.0.1:5001\"";
      return std::nullopt;
    }
    t.port = 80;
  } else if (auto p = ParsePort(port)) {
    t.port = *p;
  } else {
    *error = "port \"" + std::string(port) + "\" is not a number from 1 to 65535";
    return std::nullopt;
  }
  return t;
}

}  // namespace we
