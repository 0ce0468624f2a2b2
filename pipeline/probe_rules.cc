#include "pipeline/probe_rules.h"

#include <arpa/inet.h>

#include <algorithm>

namespace we {

bool ProbeMatches(const ProbeConfig& probe, const Sample& sample) {
  for (const ProbeMatchTerm& term : probe.match) {
    std::string_view value;
    if (term.key == "name") {
      value = sample.identity.name;
    } else if (term.key == "id") {
      value = sample.identity.id;
    } else if (term.key == "runtime") {
      value = sample.identity.runtime;
    } else if (term.key == "kind") {
      value = sample.identity.kind;
    } else if (term.key.starts_with("label_")) {
      if (!sample.metadata) return false;
      auto it = sample.metadata->labels.find(term.key.substr(6));
      if (it == sample.metadata->labels.end()) return false;
      value = it->second;
    } else {
      return false;  // the loader admits no other key
    }
    if (!GlobMatch(term.glob, value)) return false;
  }
  return true;
}

std::optional<std::size_t> FindProbe(std::span<const ProbeConfig> probes, const Sample& sample) {
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (ProbeMatches(probes[i], sample)) return i;
  }
  return std::nullopt;
}

std::optional<std::string> ProbeAddress(const ProbeTarget& target, const Sample& sample) {
  if (target.workload_ip) {
    if (sample.netns_ipv4.empty()) return std::nullopt;
    return sample.netns_ipv4;
  }
  if (target.host == "localhost") return std::string("127.0.0.1");
  return target.host;
}

bool ProbeAddressAllowed(std::string_view address, std::span<const std::string> host_addresses, const Sample& sample) {
  const std::string text(address);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) == 127) return true;
  } else if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  } else {
    return false;  // not an address at all
  }
  if (!sample.netns_ipv4.empty() && address == sample.netns_ipv4) return true;
  return std::find(host_addresses.begin(), host_addresses.end(), address) != host_addresses.end();
}

std::optional<int> ParseHttpStatus(std::string_view received) {
  const std::size_t end = received.find("\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view line = received.substr(0, end);
  // "HTTP/1.x NNN reason"
  if (!line.starts_with("HTTP/") || line.size() < 12 || line[8] != ' ') return std::nullopt;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return std::nullopt;
  if (status < 100) return std::nullopt;
  return status;
}

bool HttpStatusSucceeds(int status, int expect_status) {
  if (expect_status != 0) return status == expect_status;
  return status >= 200 && status < 400;
}

std::string HttpProbeRequest(const ProbeTarget& target, std::string_view address) {
  std::string host =
      address.find(':') != std::string_view::npos ? "[" + std::string(address) + "]" : std::string(address);
  if (target.port != 80) host += ":" + std::to_string(target.port);
  return "GET " + target.path + " HTTP/1.0\r\nHost: " + host +
         "\r\nUser-Agent: workload_exporter\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

std::string ProbeKey(const ProbeConfig& probe) {
  std::string key = probe.target.kind == ProbeTarget::Kind::kHttp ? "http " : "tcp ";
  key += probe.target.text;
  for (const ProbeMatchTerm& t : probe.match) key += "\x1f" + t.key + "=" + t.glob;
  key += "\x1f" + std::to_string(probe.expect_status) + "\x1f" + std::to_string(probe.interval.count()) + "\x1f" +
         std::to_string(probe.timeout.count());
  return key;
}

}  // namespace we
