// probes: in the configuration file: the shape the README documents, and every mistake reported
// with file:line:column and the entry's key path.

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace we {
namespace {

std::vector<std::string> Errors(const std::string& yaml) {
  LoadResult r = LoadConfigFromString(yaml, "cfg.yml");
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) out.push_back(e.ToString());
  return out;
}

TEST(ProbesConfig, TheDocumentedShape) {
  LoadResult r = LoadConfigFromString(R"(probes:
  - match: {name: "web*", runtime: docker}
    http: "http://{ip}:5000/health"
  - match: {kind: vm, name: "flask-vm"}
    tcp: "127.0.0.1:5001"
    interval: 30s
    timeout: 500ms
  - match: {label_com.example.app: "shop"}
    http: "http://127.0.0.1:8080/"
    expect_status: 401
)",
                                      "cfg.yml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const auto& p = r.config->probes;
  ASSERT_EQ(p.size(), 3u);
  ASSERT_EQ(p[0].match.size(), 2u);
  EXPECT_EQ(p[0].match[0].key, "name");
  EXPECT_EQ(p[0].match[0].glob, "web*");
  EXPECT_EQ(p[0].match[1].key, "runtime");
  EXPECT_EQ(p[0].target.kind, ProbeTarget::Kind::kHttp);
  EXPECT_TRUE(p[0].target.workload_ip);
  EXPECT_EQ(p[0].target.port, 5000);
  EXPECT_EQ(p[0].target.path, "/health");
  EXPECT_EQ(p[0].interval, std::chrono::seconds(15));  // the defaults
  EXPECT_EQ(p[0].timeout, std::chrono::seconds(1));
  EXPECT_EQ(p[0].expect_status, 0);
  EXPECT_EQ(p[1].target.kind, ProbeTarget::Kind::kTcp);
  EXPECT_EQ(p[1].target.host, "127.0.0.1");
  EXPECT_EQ(p[1].interval, std::chrono::seconds(30));
  EXPECT_EQ(p[1].timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(p[2].match[0].key, "label_com.example.app");
  EXPECT_EQ(p[2].expect_status, 401);

  // None by default, and `probes:` with nothing under it is none.
  EXPECT_TRUE(LoadConfigFromString("", "cfg.yml").config->probes.empty());
  EXPECT_TRUE(LoadConfigFromString("probes:\n", "cfg.yml").config->probes.empty());
}

TEST(ProbesConfig, ErrorsNameTheFileTheLineAndTheEntry) {
  EXPECT_EQ(Errors(R"(probes:
  - match: {name: web}
    http: "http://{ip}:5000/health"
  - match: {nmae: web}
    tcp: "{ip}:5000"
    retries: 3
)"),
            (std::vector<std::string>{
                "cfg.yml:4:13: probes[1].match.nmae: unknown key: match on name, id, runtime, kind or label_<name>",
                "cfg.yml:6:5: probes[1].retries: unknown key: a probe has match, http or tcp, expect_status, "
                "interval, timeout"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    http: \"http://{host}:5000/\"\n"),
            (std::vector<std::string>{"cfg.yml:3:11: probes[0].http: invalid target \"http://{host}:5000/\": unknown "
                                      "placeholder in \"{host}\": the only one is {ip}, standing for the whole host"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    tcp: \"example.com:80\"\n"),
            (std::vector<std::string>{"cfg.yml:3:10: probes[0].tcp: invalid target \"example.com:80\": "
                                      "\"example.com\" is not an IP address, localhost or {ip} (names are not "
                                      "resolved)"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n"),
            (std::vector<std::string>{"cfg.yml:2:5: probes[0]: missing target: http: \"http://{ip}:PORT/path\" or "
                                      "tcp: \"HOST:PORT\""}));
  EXPECT_EQ(Errors("probes:\n  - tcp: \"127.0.0.1:1\"\n"),
            (std::vector<std::string>{"cfg.yml:2:5: probes[0]: missing match: say which workloads to probe, as in "
                                      "{name: \"web*\"}"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    tcp: \"127.0.0.1:1\"\n    http: \"http://127.0.0.1/\"\n"),
            (std::vector<std::string>{"cfg.yml:4:5: probes[0].http: a probe has one target: http or tcp, not both"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    tcp: \"127.0.0.1:1\"\n    expect_status: 200\n"),
            (std::vector<std::string>{"cfg.yml:2:5: probes[0].expect_status: expect_status needs an http target"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    http: \"http://127.0.0.1/\"\n    expect_status: 42\n"),
            (std::vector<std::string>{
                "cfg.yml:4:20: probes[0].expect_status: expected an HTTP status code from 100 to 599"}));
  EXPECT_EQ(Errors("probes:\n  - match: {name: web}\n    http: \"http://127.0.0.1/\"\n    timeout: 1m\n"),
            (std::vector<std::string>{"cfg.yml:4:14: probes[0].timeout: must be between 10ms and 30s, got 1m"}));
  EXPECT_EQ(Errors("probes: {match: web}\n"),
            (std::vector<std::string>{"cfg.yml:1:9: probes: expected a sequence of probes, got a mapping"}));
  EXPECT_EQ(Errors("probes:\n  - match: web\n    tcp: \"127.0.0.1:1\"\n"),
            (std::vector<std::string>{"cfg.yml:2:12: probes[0].match: expected a mapping such as {name: \"web*\", "
                                      "runtime: docker}, got scalar \"web\""}));
  // A typo in the top-level key is caught like any other.
  EXPECT_EQ(Errors("probe:\n  - match: {name: web}\n")[0].substr(0, 25), "cfg.yml:1:1: probe: unkno");
}

}  // namespace
}  // namespace we
