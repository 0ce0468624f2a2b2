// The ready probes' pure parts: selectors and globs, targets and the addresses they may reach,
// HTTP status lines, the histogram's buckets and the schedule (with the time handed in).

#include <gtest/gtest.h>

#include <algorithm>

#include "config/probe_target.h"
#include "pipeline/probe_results.h"
#include "pipeline/probe_rules.h"
#include "pipeline/probe_schedule.h"

namespace we {
namespace {

using namespace std::chrono_literals;

Sample Workload(std::string kind, std::string runtime, std::string id, std::string name,
                std::map<std::string, std::string> labels = {}) {
  Sample s;
  s.identity = {std::move(kind), std::move(runtime), std::move(id), std::move(name), "", ""};
  if (!labels.empty()) {
    auto m = std::make_shared<ContainerMetadata>();
    m->labels = std::move(labels);
    s.metadata = m;
  }
  return s;
}

ProbeConfig Probe(std::vector<ProbeMatchTerm> match, std::string tcp = "127.0.0.1:5001") {
  ProbeConfig p;
  p.match = std::move(match);
  std::string error;
  p.target = *ParseProbeTarget(ProbeTarget::Kind::kTcp, tcp, &error);
  return p;
}

TEST(ProbeRules, Globs) {
  EXPECT_TRUE(GlobMatch("web*", "web-1"));
  EXPECT_TRUE(GlobMatch("web*", "web"));
  EXPECT_FALSE(GlobMatch("web*", "api-web"));
  EXPECT_TRUE(GlobMatch("*web*", "api-web-2"));
  EXPECT_TRUE(GlobMatch("w?b", "wab"));
  EXPECT_FALSE(GlobMatch("w?b", "wb"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "x"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
}

TEST(ProbeRules, EveryTermMustHoldAndTheFirstProbeWins) {
  const Sample web = Workload("container", "docker", "abc123", "web-1", {{"app", "shop"}, {"tier", "front"}});
  EXPECT_TRUE(ProbeMatches(Probe({{"name", "web*"}, {"runtime", "docker"}}), web));
  EXPECT_FALSE(ProbeMatches(Probe({{"name", "web*"}, {"runtime", "podman"}}), web));
  EXPECT_TRUE(ProbeMatches(Probe({{"kind", "container"}, {"id", "abc*"}}), web));
  EXPECT_TRUE(ProbeMatches(Probe({{"label_app", "sh?p"}}), web));
  EXPECT_FALSE(ProbeMatches(Probe({{"label_app", "web"}}), web));
  EXPECT_FALSE(ProbeMatches(Probe({{"label_missing", "*"}}), web));  // absent label: no match
  EXPECT_TRUE(ProbeMatches(Probe({}), web));                         // no terms: every workload
  const Sample vm = Workload("vm", "libvirt", "uuid", "flask-vm");
  EXPECT_FALSE(ProbeMatches(Probe({{"label_app", "*"}}), vm));

  const std::vector<ProbeConfig> probes = {Probe({{"kind", "vm"}}), Probe({{"name", "web*"}}), Probe({})};
  EXPECT_EQ(FindProbe(probes, vm), 0u);
  EXPECT_EQ(FindProbe(probes, web), 1u);
  EXPECT_EQ(FindProbe(probes, Workload("container", "lxc", "x", "db")), 2u);
  EXPECT_EQ(FindProbe(std::span(probes).first(2), Workload("container", "lxc", "x", "db")), std::nullopt);
}

TEST(ProbeTarget, HttpAndTcpTemplates) {
  std::string error;
  auto t = ParseProbeTarget(ProbeTarget::Kind::kHttp, "http://{ip}:5000/health?deep=1", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_TRUE(t->workload_ip);
  EXPECT_EQ(t->port, 5000);
  EXPECT_EQ(t->path, "/health?deep=1");
  t = ParseProbeTarget(ProbeTarget::Kind::kHttp, "http://127.0.0.1", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->path, "/");
  t = ParseProbeTarget(ProbeTarget::Kind::kHttp, "http://[::1]:8080", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "::1");
  t = ParseProbeTarget(ProbeTarget::Kind::kTcp, "localhost:5001", &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "localhost");
  EXPECT_EQ(t->port, 5001);
  t = ParseProbeTarget(ProbeTarget::Kind::kTcp, "{ip}:22", &error);
  ASSERT_TRUE(t && t->workload_ip);
}

TEST(ProbeTarget, BadTemplatesSayWhy) {
  const std::pair<ProbeTarget::Kind, const char*> bad[] = {
      {ProbeTarget::Kind::kHttp, "{ip}:5000/health"},         // no scheme
      {ProbeTarget::Kind::kHttp, "https://{ip}:5000/"},       // TLS
      {ProbeTarget::Kind::kHttp, "http://{host}:5000/"},      // unknown placeholder
      {ProbeTarget::Kind::kHttp, "http://{ip:5000/"},         // unbalanced
      {ProbeTarget::Kind::kHttp, "http://x{ip}:5000/"},       // {ip} is the whole host
      {ProbeTarget::Kind::kHttp, "http://{ip}:5000/{path}"},  // no placeholder in the path
      {ProbeTarget::Kind::kHttp, "http://example.com/"},      // names are not resolved
      {ProbeTarget::Kind::kHttp, "http://{ip}:/"},            // empty port
      {ProbeTarget::Kind::kHttp, "http://{ip}:70000/"},       // port range
      {ProbeTarget::Kind::kHttp, "http://::1:80/"},           // IPv6 without brackets
      {ProbeTarget::Kind::kTcp, "127.0.0.1"},                 // tcp needs a port
      {ProbeTarget::Kind::kTcp, ":5001"},                     // no host
      {ProbeTarget::Kind::kTcp, "127.0.0.1:0"},               // port 0
      {ProbeTarget::Kind::kTcp, "[fe80::1:5001"},             // unclosed bracket
      {ProbeTarget::Kind::kTcp, "[10.0.0.1]:5001"},           // brackets hold IPv6 only
  };
  for (const auto& [kind, text] : bad) {
    std::string error;
    EXPECT_FALSE(ParseProbeTarget(kind, text, &error)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
  std::string error;
  ParseProbeTarget(ProbeTarget::Kind::kHttp, "http://{host}:5000/", &error);
  EXPECT_NE(error.find("the only one is {ip}"), std::string::npos) << error;
}

TEST(ProbeRules, AddressesResolvedAndChecked) {
  Sample s = Workload("container", "docker", "a", "web");
  std::string error;
  const auto ip = *ParseProbeTarget(ProbeTarget::Kind::kTcp, "{ip}:5000", &error);
  EXPECT_EQ(ProbeAddress(ip, s), std::nullopt);  // its address not known (yet)
  s.netns_ipv4 = "172.17.0.3";
  EXPECT_EQ(ProbeAddress(ip, s), "172.17.0.3");
  EXPECT_EQ(ProbeAddress(*ParseProbeTarget(ProbeTarget::Kind::kTcp, "localhost:1", &error), s), "127.0.0.1");

  const std::vector<std::string> host = {"192.168.1.10", "172.17.0.1"};
  EXPECT_TRUE(ProbeAddressAllowed("127.0.0.1", host, s));
  EXPECT_TRUE(ProbeAddressAllowed("127.3.4.5", host, s));
  EXPECT_TRUE(ProbeAddressAllowed("::1", host, s));
  EXPECT_TRUE(ProbeAddressAllowed("192.168.1.10", host, s));  // the host's own
  EXPECT_TRUE(ProbeAddressAllowed("172.17.0.3", host, s));    // the workload's own, across its bridge
  EXPECT_FALSE(ProbeAddressAllowed("172.17.0.4", host, s));   // another's
  EXPECT_FALSE(ProbeAddressAllowed("169.254.169.254", host, s));
  EXPECT_FALSE(ProbeAddressAllowed("8.8.8.8", host, s));
  EXPECT_FALSE(ProbeAddressAllowed("fe80::1", host, s));
  EXPECT_FALSE(ProbeAddressAllowed("not-an-address", host, s));
}

TEST(ProbeRules, HttpStatusAndRequest) {
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.0 503 Service Unavailable\r\nServer: x\r\n\r\n"), 503);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 204\r\n"), 204);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 200 OK"), std::nullopt);  // not the whole line yet
  EXPECT_EQ(ParseHttpStatus("SSH-2.0-OpenSSH_9.2\r\n"), std::nullopt);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 2x0 OK\r\n"), std::nullopt);
  EXPECT_EQ(ParseHttpStatus("HTTP/1.1 2000 OK\r\n"), std::nullopt);
  EXPECT_TRUE(HttpStatusSucceeds(200, 0));
  EXPECT_TRUE(HttpStatusSucceeds(302, 0));
  EXPECT_FALSE(HttpStatusSucceeds(404, 0));
  EXPECT_FALSE(HttpStatusSucceeds(500, 0));
  EXPECT_FALSE(HttpStatusSucceeds(199, 0));
  EXPECT_TRUE(HttpStatusSucceeds(401, 401));
  EXPECT_FALSE(HttpStatusSucceeds(200, 401));
  std::string error;
  const auto t = *ParseProbeTarget(ProbeTarget::Kind::kHttp, "http://{ip}:5000/health", &error);
  EXPECT_EQ(HttpProbeRequest(t, "10.0.3.2"),
            "GET /health HTTP/1.0\r\nHost: 10.0.3.2:5000\r\nUser-Agent: workload_exporter\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ProbeDurations, BucketsAreCumulativeAndBlackboxStyle) {
  EXPECT_EQ(ProbeDurations::kBounds.front(), 0.005);
  EXPECT_EQ(ProbeDurations::kBounds.back(), 10);
  EXPECT_TRUE(std::is_sorted(ProbeDurations::kBounds.begin(), ProbeDurations::kBounds.end()));
  ProbeDurations d;
  d.Observe(0.004);  // <= 0.005
  d.Observe(0.005);  // on a bound: in it
  d.Observe(0.3);    // <= 0.5
  d.Observe(20);     // only +Inf
  EXPECT_EQ(d.count, 4u);
  EXPECT_DOUBLE_EQ(d.sum, 20.309);
  EXPECT_EQ(d.buckets[0], 2u);   // 0.005
  EXPECT_EQ(d.buckets[4], 2u);   // 0.1
  EXPECT_EQ(d.buckets[5], 2u);   // 0.25
  EXPECT_EQ(d.buckets[6], 3u);   // 0.5
  EXPECT_EQ(d.buckets[10], 3u);  // 10
}

TEST(ProbeSchedule, EveryIntervalUntilReadyThenEveryProbeInterval) {
  using Clock = ProbeSchedule::Clock;
  const Clock::time_point t0{};
  ProbeSchedule s(t0, 1s, 15s);
  EXPECT_TRUE(s.Due(t0));
  s.Started(t0);
  EXPECT_FALSE(s.Due(t0 + 5s));  // one in flight at most
  EXPECT_FALSE(s.Finished(t0 + 200ms, false));
  EXPECT_FALSE(s.Due(t0 + 400ms));
  EXPECT_TRUE(s.Due(t0 + 999ms));  // a tick a little early still probes
  s.Started(t0 + 1s);
  // A probe that runs into its deadline past the next period: the next one goes at once.
  EXPECT_FALSE(s.Finished(t0 + 2500ms, false));
  EXPECT_EQ(s.next(), t0 + 2500ms);
  s.Started(t0 + 3s);
  EXPECT_TRUE(s.Finished(t0 + 3010ms, true));  // the first success
  EXPECT_TRUE(s.ready());
  EXPECT_FALSE(s.Due(t0 + 4s));
  EXPECT_FALSE(s.Due(t0 + 17s));
  EXPECT_TRUE(s.Due(t0 + 18s));
  s.Started(t0 + 18s);
  EXPECT_FALSE(s.Finished(t0 + 18s + 5ms, true));  // not the first success any more
  s.Started(t0 + 33s);
  EXPECT_FALSE(s.Finished(t0 + 34s, false));  // a failure after ready keeps the slow period
  EXPECT_FALSE(s.Due(t0 + 40s));
  EXPECT_TRUE(s.Due(t0 + 48s));
  s.Started(t0 + 48s);
  s.Cancelled();
  EXPECT_FALSE(s.in_flight());
}

}  // namespace
}  // namespace we
