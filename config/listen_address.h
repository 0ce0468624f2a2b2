#pragma once
// ListenAddress: the value of --web.listen-address, parsed without touching the network.
//
// Accepted forms (node_exporter's, i.e. Go's net.SplitHostPort, minus service names):
//   ":9746"            every interface (HttpServer binds "::" dual-stack, else 0.0.0.0)
//   "127.0.0.1:9746"   an IPv4 address
//   "[::1]:9746"       an IPv6 address, in brackets; a zone is allowed: "[fe80::1%eth0]:9746"
//   "localhost:9746"   a host name, resolved when the server binds
//   "0.0.0.0:0"        port 0 lets the kernel pick a port (tests)
// Rejected: a missing or non-numeric port, a port above 65535, an IPv6 address without
// brackets ("::1:9746" is ambiguous), an invalid IPv4 literal, characters no host name has.
//
// Thread-safety: pure functions; safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace we {

struct ListenAddress {
  std::string host;  // empty = every interface; IPv6 literals without brackets
  uint16_t port = 0;

  bool all_interfaces() const { return host.empty(); }
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses `address`. On failure returns nullopt and, when `error` is not null, sets it to a
// message that quotes the address: `invalid listen address "::1:80": ...`.
std::optional<ListenAddress> ParseListenAddress(std::string_view address, std::string* error);

// The canonical text of a parsed address: ":9746", "127.0.0.1:9746", "[::1]:9746".
std::string FormatListenAddress(const ListenAddress& address);

}  // namespace we
