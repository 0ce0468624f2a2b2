#pragma once
// The pure rules of the ready probes (README.md, "Ready probes"): which probe a workload gets,
// where it connects, whether that address may be probed, and what counts as success. Pure; any
// thread. The prober (prober.h) does the I/O.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/sample.h"
#include "config/config.h"
#include "pipeline/glob.h"

namespace we {

// Every term of the probe's match holds for the workload: name, id, runtime and kind against its
// identity, label_<x> against its container label x (only labels that labels.allow lets through
// reach a Sample; an absent label never matches).
bool ProbeMatches(const ProbeConfig& probe, const Sample& sample);

// Index of the first probe in `probes` that matches, or nullopt.
std::optional<std::size_t> FindProbe(std::span<const ProbeConfig> probes, const Sample& sample);

// The address the probe connects to for this workload: the target's host ("localhost" is
// 127.0.0.1), or for {ip} the workload's namespace address; nullopt while that is unknown.
std::optional<std::string> ProbeAddress(const ProbeTarget& target, const Sample& sample);

// Whether `address` may be probed: loopback (127.0.0.0/8, ::1), one of the host's own addresses
// (`host_addresses`, the daemon's namespace), or the workload's own namespace address, read from
// the kernel (what a bridge or veth leads to). Anything else (a LAN host, a metadata service) is
// refused, whatever the configuration says.
bool ProbeAddressAllowed(std::string_view address, std::span<const std::string> host_addresses, const Sample& sample);

// The status code of an HTTP response's first line ("HTTP/1.1 200 OK\r\n..."), once `received`
// holds that whole line; nullopt while incomplete or when it is not a status line.
std::optional<int> ParseHttpStatus(std::string_view received);

// Success: `expect_status` when set (non-zero), else any 2xx or 3xx.
bool HttpStatusSucceeds(int status, int expect_status);

// The GET request the probe sends (HTTP/1.0, Connection: close: one response and done).
std::string HttpProbeRequest(const ProbeTarget& target, std::string_view address);

// A probe's identity across reloads: a workload whose matching probe keeps this key keeps its
// schedule and figures when the configuration is reloaded.
std::string ProbeKey(const ProbeConfig& probe);

}  // namespace we
