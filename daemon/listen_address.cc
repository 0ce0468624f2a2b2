#include "daemon/listen_address.h"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include <charconv>

namespace we {
namespace {

bool Fail(std::string_view address, std::string_view why, std::string* error) {
  if (error != nullptr) {
    *error = "invalid listen address \"" + std::string(address) + "\": " + std::string(why);
  }
  return false;
}

bool ParsePort(std::string_view text, uint16_t* port) {
  // Leading zeros are harmless, as the config check says ("009746" is 9746).
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.empty() || text.size() > 5) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool IsHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

bool LooksLikeIpv4(std::string_view host) {
  for (char c : host) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

}  // namespace

std::optional<ListenAddress> ParseListenAddress(std::string_view address, std::string* error) {
  if (address.empty()) {
    Fail(address, "empty; expected host:port or :port", error);
    return std::nullopt;
  }
  ListenAddress result;
  std::string_view port_text;
  if (address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos) {
      Fail(address, "missing ']' after the IPv6 address", error);
      return std::nullopt;
    }
    const std::string_view host = address.substr(1, close - 1);
    const std::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      Fail(address, "missing port after ']' (expected [v6-address]:port)", error);
      return std::nullopt;
    }
    if (host.empty()) {
      Fail(address, "empty brackets; use :port for every interface", error);
      return std::nullopt;
    }
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) {
      Fail(address, "\"" + std::string(host) + "\" is not an IPv6 address", error);
      return std::nullopt;
    }
    result.host = std::string(host);
    port_text = rest.substr(1);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      Fail(address, "missing port (expected host:port or :port)", error);
      return std::nullopt;
    }
    const std::string_view host = address.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      Fail(address, "too many colons; put an IPv6 address in brackets, as in [::1]:9746", error);
      return std::nullopt;
    }
    if (host.find_first_of("[]") != std::string_view::npos) {
      Fail(address, "misplaced bracket", error);
      return std::nullopt;
    }
    for (char c : host) {
      if (!IsHostNameChar(c)) {
        Fail(address, "\"" + std::string(host) + "\" is not a host name or IPv4 address", error);
        return std::nullopt;
      }
    }
    if (!host.empty() && LooksLikeIpv4(host)) {
      boost::system::error_code ec;
      boost::asio::ip::make_address_v4(std::string(host), ec);
      if (ec) {
        Fail(address, "\"" + std::string(host) + "\" is not an IPv4 address", error);
        return std::nullopt;
      }
    }
    result.host = std::string(host);
    port_text = address.substr(colon + 1);
  }
  if (port_text.empty()) {
    Fail(address, "missing port (expected host:port or :port)", error);
    return std::nullopt;
  }
  if (!ParsePort(port_text, &result.port)) {
    Fail(address, "port \"" + std::string(port_text) + "\" is not a number from 0 to 65535",
         error);
    return std::nullopt;
  }
  return result;
}

std::string FormatListenAddress(const ListenAddress& address) {
  const std::string port = std::to_string(address.port);
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + port;
  return address.host + ":" + port;
}

}  // namespace we
