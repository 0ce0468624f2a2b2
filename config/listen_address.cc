#include "config/listen_address.h"

#include <arpa/inet.h>

#include <algorithm>

#include "config/yaml_report.h"

namespace we {
namespace {

constexpr std::string_view kForms = "expected host:port, [ipv6]:port or :port";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Host names and IPv4 addresses; '_' because some resolvers allow it.
bool IsHostChar(char c) { return IsAlnum(c) || c == '.' || c == '-' || c == '_'; }
// The inside of [...]: an IPv6 address (possibly with an embedded IPv4 one).
bool IsIpv6Char(char c) { return IsHex(c) || c == ':' || c == '.'; }

std::nullopt_t Fail(std::string_view address, std::string_view reason, std::string* error) {
  if (error != nullptr) {
    *error = "invalid listen address " + yaml_report::Quote(address) + ": " + std::string(reason);
  }
  return std::nullopt;
}

std::string MissingPort() { return "missing port (" + std::string(kForms) + ")"; }

}  // namespace

std::optional<ListenAddress> ParseListenAddress(std::string_view address, std::string* error) {
  if (address.empty()) return Fail(address, "must not be empty (" + std::string(kForms) + ")", error);

  ListenAddress result;
  std::string_view rest;  // ":port"
  if (address.front() == '[') {
    const std::size_t close = address.find(']');
    if (close == std::string_view::npos) return Fail(address, "missing \"]\" after the IPv6 address", error);
    const std::string_view host = address.substr(1, close - 1);
    rest = address.substr(close + 1);
    if (host.empty()) return Fail(address, "empty IPv6 address in brackets", error);
    // An IPv6 address, optionally with a zone: "fe80::1%eth0".
    const std::size_t percent = host.find('%');
    const std::string_view ip = host.substr(0, percent);
    in6_addr v6{};
    if (!std::all_of(ip.begin(), ip.end(), IsIpv6Char) || ip.find(':') == std::string_view::npos ||
        ::inet_pton(AF_INET6, std::string(ip).c_str(), &v6) != 1) {
      return Fail(address, "invalid IPv6 address in brackets", error);
    }
    if (percent != std::string_view::npos) {
      const std::string_view zone = host.substr(percent + 1);
      if (zone.empty() || !std::all_of(zone.begin(), zone.end(), IsHostChar)) {
        return Fail(address, "invalid IPv6 zone in brackets", error);
      }
    }
    result.host = std::string(host);
  } else {
    const std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return Fail(address, MissingPort(), error);
    const std::string_view host = address.substr(0, colon);
    rest = address.substr(colon);
    if (host.find(':') != std::string_view::npos) {
      return Fail(address, "too many colons; put an IPv6 address in brackets, as in \"[::1]:9746\"", error);
    }
    const auto bad = std::find_if_not(host.begin(), host.end(), IsHostChar);
    if (bad != host.end()) {
      return Fail(address, "invalid character " + yaml_report::Quote(std::string_view(&*bad, 1)) + " in the host",
                  error);
    }
    // Digits and dots only is an IPv4 address, and must be a valid one ("999.0.0.1" is not a
    // host name either).
    if (!host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return IsDigit(c) || c == '.'; })) {
      in_addr v4{};
      if (::inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
        return Fail(address, "invalid IPv4 address " + yaml_report::Quote(host), error);
      }
    }
    result.host = std::string(host);
  }

  if (rest.empty() || rest.front() != ':' || rest.size() == 1) return Fail(address, MissingPort(), error);
  const std::string_view port = rest.substr(1);
  if (!std::all_of(port.begin(), port.end(), IsDigit)) {
    return Fail(address, "port " + yaml_report::Quote(port) + " is not a number", error);
  }
  // Leading zeros are harmless; compare the value without risking overflow.
  const std::string_view digits = port.substr(std::min(port.find_first_not_of('0'), port.size()));
  if (digits.size() > 5 || (digits.size() == 5 && digits > "65535")) {
    return Fail(address, "port " + std::string(port) + " is out of range 0-65535", error);
  }
  unsigned value = 0;
  for (char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
  result.port = static_cast<uint16_t>(value);
  return result;
}

std::string FormatListenAddress(const ListenAddress& address) {
  const std::string port = std::to_string(address.port);
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + port;
  return address.host + ":" + port;
}

}  // namespace we
