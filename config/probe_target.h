#pragma once
// The target of a ready probe, as the configuration writes it:
//   http: "http://HOST[:PORT]/path"   (GET; PORT defaults to 80)
//   tcp:  "HOST:PORT"                 (connect only)
// HOST is a literal IPv4 address, an IPv6 address in brackets, "localhost", or the template
// "{ip}": the workload's own address. No other placeholder exists and no name is resolved (a
// resolver would block the event loop, and a name could point anywhere). Pure; any thread.

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace we {

// The parsed target, or nullopt with *error saying what is wrong (without the key).
std::optional<ProbeTarget> ParseProbeTarget(ProbeTarget::Kind kind, std::string_view text, std::string* error);

}  // namespace we
