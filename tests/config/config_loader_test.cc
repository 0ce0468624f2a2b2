#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_error.h"
#include "config/duration.h"

namespace we {
namespace {

using std::chrono::milliseconds;

const std::string kFixtures = std::string(WE_FIXTURES_DIR) + "/config/";
// The annotated example shipped in config/, reached from the fixtures so that only
// WE_FIXTURES_DIR is needed.
const std::string kExampleFile = std::string(WE_FIXTURES_DIR) + "/../../config/workload_exporter.yml";

// Every field of a Config, one per line, so that a mismatch shows which field differs.
// Keep in step with config.h.
std::string Dump(const Config& c) {
  return "web.listen_address=" + c.web.listen_address + "\n" + "web.telemetry_path=" + c.web.telemetry_path + "\n" +
         "paths.cgroupfs=" + c.paths.cgroupfs + "\n" + "paths.procfs=" + c.paths.procfs + "\n" +
         "sampling.interval=" + FormatDuration(c.sampling.interval) + "\n" + "idle_peak.windows=" +
         [&] {
           std::string out;
           for (auto w : c.idle_peak.windows) out += (out.empty() ? "" : ",") + FormatDuration(w);
           return out;
         }() +
         "\n" + "idle_peak.idle_quantile=" + std::to_string(c.idle_peak.idle_quantile) + "\n" +
         "idle_peak.startup=" + std::to_string(c.idle_peak.startup.min_cores) + "," +
         std::to_string(c.idle_peak.startup.idle_factor) + "," + FormatDuration(c.idle_peak.startup.settle_for) + "\n" +
         "log.level=" + c.log.level + "\n" + "log.format=" + c.log.format + "\n";
}

// The errors of a load, one per line, or "" when it succeeded.
std::string Errors(const LoadResult& result) { return FormatErrors(result.errors); }

LoadResult Load(const std::string& yaml) { return LoadConfigFromString(yaml, "cfg.yml"); }

// ---------------------------------------------------------------------------------------------
// ConfigError formatting

TEST(ConfigErrorTest, ToStringWithEveryPart) {
  const ConfigError error{"cfg.yml", 3, 5, "web.telemetry_path", "must start with \"/\""};
  EXPECT_EQ(error.ToString(), "cfg.yml:3:5: web.telemetry_path: must start with \"/\"");
}

TEST(ConfigErrorTest, ToStringLeavesOutWhatIsUnknown) {
  EXPECT_EQ((ConfigError{"cfg.yml", 0, 0, "", "cannot open: No such file or directory"}.ToString()),
            "cfg.yml: cannot open: No such file or directory");
  EXPECT_EQ((ConfigError{"<flags>", 0, 0, "web.listen_address", "bad"}.ToString()), "<flags>: web.listen_address: bad");
  EXPECT_EQ((ConfigError{"cfg.yml", 2, 0, "", "bad"}.ToString()), "cfg.yml:2: bad");
  EXPECT_EQ((ConfigError{"cfg.yml", 2, 7, "", "invalid YAML"}.ToString()), "cfg.yml:2:7: invalid YAML");
}

TEST(ConfigErrorTest, FormatErrorsPutsOneErrorPerLine) {
  EXPECT_EQ(FormatErrors({}), "");
  EXPECT_EQ(FormatErrors({{"a.yml", 1, 2, "log", "x"}, {"a.yml", 0, 0, "", "y"}}), "a.yml:1:2: log: x\na.yml: y\n");
}

// ---------------------------------------------------------------------------------------------
// Defaults and successful loads

TEST(ConfigLoaderTest, DefaultsAreTheDocumentedOnes) {
  const Config defaults;
  EXPECT_EQ(Dump(defaults),
            "web.listen_address=:9746\n"
            "web.telemetry_path=/metrics\n"
            "paths.cgroupfs=/sys/fs/cgroup\n"
            "paths.procfs=/proc\n"
            "sampling.interval=1s\n"
            "idle_peak.windows=1m,5m,1h\n"
            "idle_peak.idle_quantile=0.100000\n"
            "idle_peak.startup=0.050000,2.000000,10s\n"
            "log.level=info\n"
            "log.format=logfmt\n");
}

TEST(ConfigLoaderTest, DocumentsWithoutSettingsMeanEveryDefault) {
  const std::vector<std::string> documents = {
      "",
      "\n\n",
      "# only a comment\n",
      "~\n",
      "null\n",
      "---\n",
      "--- ~\n...\n",
      "{}\n",
      "web:\npaths:\nsampling: ~\nlog: {}\n",  // present but empty sections
  };
  for (const std::string& yaml : documents) {
    SCOPED_TRACE(yaml);
    const LoadResult result = Load(yaml);
    ASSERT_TRUE(result.ok()) << Errors(result);
    EXPECT_TRUE(result.errors.empty());
    EXPECT_EQ(Dump(*result.config), Dump(Config{}));
  }
}

TEST(ConfigLoaderTest, EmptyFileMeansEveryDefault) {
  for (const char* name : {"empty.yml", "comments_only.yml"}) {
    SCOPED_TRACE(name);
    const LoadResult result = LoadConfigFromFile(kFixtures + name);
    ASSERT_TRUE(result.ok()) << Errors(result);
    EXPECT_EQ(Dump(*result.config), Dump(Config{}));
  }
}

TEST(ConfigLoaderTest, ExampleFileLoadsAndEqualsTheDefaults) {
  const LoadResult result = LoadConfigFromFile(kExampleFile);
  ASSERT_TRUE(result.ok()) << Errors(result);
  EXPECT_EQ(Dump(*result.config), Dump(Config{}));
}

TEST(ConfigLoaderTest, EveryKeySet) {
  const LoadResult result = LoadConfigFromFile(kFixtures + "all_keys.yml");
  ASSERT_TRUE(result.ok()) << Errors(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.web.listen_address, "[::1]:9100");
  EXPECT_EQ(c.web.telemetry_path, "/custom/metrics");
  EXPECT_EQ(c.paths.cgroupfs, "/host/sys/fs/cgroup");
  EXPECT_EQ(c.paths.procfs, "/host/proc");
  EXPECT_EQ(c.sampling.interval, milliseconds{90'000});
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
}

TEST(ConfigLoaderTest, KeysNotGivenKeepTheirDefaults) {
  const LoadResult result = Load("log:\n  level: warn\n");
  ASSERT_TRUE(result.ok()) << Errors(result);
  Config expected;
  expected.log.level = "warn";
  EXPECT_EQ(Dump(*result.config), Dump(expected));
}

TEST(ConfigLoaderTest, FlowStyleQuotingAndAliasesWork) {
  const LoadResult result = Load(
      "web: {listen_address: '127.0.0.1:9746', telemetry_path: \"/m\"}\n"
      "paths:\n"
      "  cgroupfs: &root /host\n"
      "  procfs: *root\n");
  ASSERT_TRUE(result.ok()) << Errors(result);
  EXPECT_EQ(result.config->web.listen_address, "127.0.0.1:9746");
  EXPECT_EQ(result.config->web.telemetry_path, "/m");
  EXPECT_EQ(result.config->paths.cgroupfs, "/host");
  EXPECT_EQ(result.config->paths.procfs, "/host");
}

TEST(ConfigLoaderTest, SamplingIntervalBoundsAreInclusive) {
  for (const auto& [text, millis] : std::vector<std::pair<std::string, int>>{
           {"100ms", 100}, {"1s", 1000}, {"1m30s", 90'000}, {"60m", 3'600'000}, {"1h", 3'600'000}}) {
    SCOPED_TRACE(text);
    const LoadResult result = Load("sampling:\n  interval: " + text + "\n");
    ASSERT_TRUE(result.ok()) << Errors(result);
    EXPECT_EQ(result.config->sampling.interval, milliseconds{millis});
  }
}

TEST(ConfigLoaderTest, AcceptsEveryListenAddressForm) {
  for (const char* address : {":9746", ":0", "0.0.0.0:65535", "localhost:9746", "my-host.example:80", "[::]:9746",
                              "[::1]:9746", "[fe80::1%eth0]:9746", "[::ffff:127.0.0.1]:9746", "host:009746"}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(config_checks::CheckListenAddress(address), std::nullopt);
    const LoadResult result = Load(std::string("web:\n  listen_address: \"") + address + "\"\n");
    ASSERT_TRUE(result.ok()) << Errors(result);
    EXPECT_EQ(result.config->web.listen_address, address);
  }
}

// ---------------------------------------------------------------------------------------------
// One error per document: the exact message, with its position

struct ErrorCase {
  std::string name;      // the test's name
  std::string yaml;      // loaded as "cfg.yml"
  std::string expected;  // the one error, as ConfigError::ToString prints it
};

class ConfigSingleErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigSingleErrorTest, ReportsExactlyThisError) {
  const LoadResult result = Load(GetParam().yaml);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(Errors(result), GetParam().expected + "\n");
}

std::string CaseName(const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; }

const std::string kForms = "(expected host:port, [ipv6]:port or :port)";

INSTANTIATE_TEST_SUITE_P(
    Validation, ConfigSingleErrorTest,
    testing::Values(
        // web.listen_address
        ErrorCase{"ListenAddressWithoutPort", "web:\n  listen_address: localhost\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"localhost\": "
                  "missing port " +
                      kForms},
        ErrorCase{"ListenAddressEmpty", "web:\n  listen_address: \"\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"\": must not be empty " + kForms},
        ErrorCase{"ListenAddressPortOutOfRange", "web:\n  listen_address: \":65536\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \":65536\": "
                  "port 65536 is out of range 0-65535"},
        ErrorCase{"ListenAddressHugePort", "web:\n  listen_address: \":99999999999999999999\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address "
                  "\":99999999999999999999\": port 99999999999999999999 is out of range 0-65535"},
        ErrorCase{"ListenAddressPortNotANumber", "web:\n  listen_address: host:http\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"host:http\": "
                  "port \"http\" is not a number"},
        ErrorCase{"ListenAddressNegativePort", "web:\n  listen_address: host:-1\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"host:-1\": "
                  "port \"-1\" is not a number"},
        ErrorCase{"ListenAddressEmptyPort", "web:\n  listen_address: \"host:\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"host:\": "
                  "missing port " +
                      kForms},
        ErrorCase{"ListenAddressBareIpv6", "web:\n  listen_address: \"::1:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"::1:9746\": too "
                  "many colons; put an IPv6 address in brackets, as in \"[::1]:9746\""},
        ErrorCase{"ListenAddressIpv6WithoutPort", "web:\n  listen_address: \"[::1]\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[::1]\": "
                  "missing port " +
                      kForms},
        ErrorCase{"ListenAddressUnclosedBracket", "web:\n  listen_address: \"[::1:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[::1:9746\": "
                  "missing \"]\" after the IPv6 address"},
        ErrorCase{"ListenAddressEmptyBrackets", "web:\n  listen_address: \"[]:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[]:9746\": "
                  "empty IPv6 address in brackets"},
        ErrorCase{"ListenAddressNotIpv6InBrackets", "web:\n  listen_address: \"[localhost]:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[localhost]:9746\": "
                  "invalid IPv6 address in brackets"},
        ErrorCase{"ListenAddressEmptyZone", "web:\n  listen_address: \"[fe80::1%]:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[fe80::1%]:9746\": "
                  "invalid IPv6 zone in brackets"},
        ErrorCase{"ListenAddressJunkAfterBracket", "web:\n  listen_address: \"[::1]x:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"[::1]x:9746\": "
                  "missing port " +
                      kForms},
        ErrorCase{"ListenAddressSpaceInHost", "web:\n  listen_address: \"my host:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address \"my host:9746\": "
                  "invalid character \" \" in the host"},
        ErrorCase{"ListenAddressUrl", "web:\n  listen_address: \"http://localhost:9746\"\n",
                  "cfg.yml:2:19: web.listen_address: invalid listen address "
                  "\"http://localhost:9746\": too many colons; put an IPv6 address in brackets, "
                  "as in \"[::1]:9746\""},
        // web.telemetry_path
        ErrorCase{"TelemetryPathRelative", "web:\n  telemetry_path: metrics\n",
                  "cfg.yml:2:19: web.telemetry_path: must start with \"/\", got \"metrics\""},
        ErrorCase{"TelemetryPathEmpty", "web:\n  telemetry_path: ''\n",
                  "cfg.yml:2:19: web.telemetry_path: must start with \"/\", got \"\""},
        ErrorCase{"TelemetryPathRoot", "web:\n  telemetry_path: /\n",
                  "cfg.yml:2:19: web.telemetry_path: must not be \"/\": the landing page is "
                  "served there"},
        ErrorCase{"TelemetryPathWithQuery", "web:\n  telemetry_path: /metrics?x=1\n",
                  "cfg.yml:2:19: web.telemetry_path: must be a plain URL path without spaces, "
                  "control characters, \"?\" or \"#\", got \"/metrics?x=1\""},
        // paths.*
        ErrorCase{"CgroupfsRelative", "paths:\n  cgroupfs: sys/fs/cgroup\n",
                  "cfg.yml:2:13: paths.cgroupfs: must be an absolute path, got \"sys/fs/cgroup\""},
        ErrorCase{"CgroupfsEmpty", "paths:\n  cgroupfs: \"\"\n", "cfg.yml:2:13: paths.cgroupfs: must not be empty"},
        ErrorCase{"ProcfsRelative", "paths:\n  procfs: ./proc\n",
                  "cfg.yml:2:11: paths.procfs: must be an absolute path, got \"./proc\""},
        // sampling.interval
        ErrorCase{"IntervalTooShort", "sampling:\n  interval: 99ms\n",
                  "cfg.yml:2:13: sampling.interval: must be between 100ms and 1h, got 99ms"},
        ErrorCase{"IntervalTooLong", "sampling:\n  interval: 1h1ms\n",
                  "cfg.yml:2:13: sampling.interval: must be between 100ms and 1h, got 1h1ms"},
        ErrorCase{"IntervalZero", "sampling:\n  interval: 0s\n",
                  "cfg.yml:2:13: sampling.interval: must be between 100ms and 1h, got 0s"},
        ErrorCase{"IntervalWithoutUnit", "sampling:\n  interval: 5\n",
                  "cfg.yml:2:13: sampling.interval: invalid duration \"5\": expected a number "
                  "and a unit (ms, s, m, h, d, w, y), as in \"500ms\", \"1s\" or \"1m30s\""},
        ErrorCase{"IntervalNegative", "sampling:\n  interval: -1s\n",
                  "cfg.yml:2:13: sampling.interval: invalid duration \"-1s\": expected a number "
                  "and a unit (ms, s, m, h, d, w, y), as in \"500ms\", \"1s\" or \"1m30s\""},
        ErrorCase{"IntervalEmpty", "sampling:\n  interval: \"\"\n",
                  "cfg.yml:2:13: sampling.interval: invalid duration \"\": expected a number "
                  "and a unit (ms, s, m, h, d, w, y), as in \"500ms\", \"1s\" or \"1m30s\""},
        ErrorCase{"IntervalGarbage", "sampling:\n  interval: soon\n",
                  "cfg.yml:2:13: sampling.interval: invalid duration \"soon\": expected a number "
                  "and a unit (ms, s, m, h, d, w, y), as in \"500ms\", \"1s\" or \"1m30s\""},
        ErrorCase{"IntervalOverflow", "sampling:\n  interval: 99999999999999999999h\n",
                  "cfg.yml:2:13: sampling.interval: invalid duration \"99999999999999999999h\": "
                  "expected a number and a unit (ms, s, m, h, d, w, y), as in \"500ms\", \"1s\" "
                  "or \"1m30s\""},
        // log.*
        ErrorCase{"LogLevelUnknown", "log:\n  level: verbose\n",
                  "cfg.yml:2:10: log.level: invalid value \"verbose\": must be one of debug, "
                  "info, warn, error"},
        ErrorCase{"LogLevelIsCaseSensitive", "log:\n  level: INFO\n",
                  "cfg.yml:2:10: log.level: invalid value \"INFO\": must be one of debug, info, "
                  "warn, error"},
        ErrorCase{"LogLevelWithNewlineIsEscaped", "log:\n  level: \"in\\nfo\"\n",
                  "cfg.yml:2:10: log.level: invalid value \"in\\nfo\": must be one of debug, "
                  "info, warn, error"},
        ErrorCase{"LogFormatUnknown", "log:\n  format: text\n",
                  "cfg.yml:2:11: log.format: invalid value \"text\": must be one of logfmt, json"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    WrongType, ConfigSingleErrorTest,
    testing::Values(
        ErrorCase{"TopLevelSequence", "- web\n- log\n",
                  "cfg.yml:1:1: expected a mapping at the top level, got a sequence"},
        ErrorCase{"TopLevelScalar", "hello\n",
                  "cfg.yml:1:1: expected a mapping at the top level, got scalar \"hello\""},
        ErrorCase{"SectionIsScalar", "web: 9746\n", "cfg.yml:1:6: web: expected a mapping, got scalar \"9746\""},
        ErrorCase{"SectionIsSequence", "log:\n  - level: info\n",
                  "cfg.yml:2:3: log: expected a mapping, got a sequence"},
        ErrorCase{"LeafIsMapping", "log:\n  level: {name: info}\n",
                  "cfg.yml:2:10: log.level: expected a string, got a mapping"},
        ErrorCase{"LeafIsSequence", "paths:\n  procfs: [/proc]\n",
                  "cfg.yml:2:11: paths.procfs: expected a string, got a sequence"},
        ErrorCase{"LeafIsMissing", "log:\n  level:\n  format: json\n",
                  "cfg.yml:2:3: log.level: expected a string, got null"},
        ErrorCase{"LeafIsNull", "log:\n  level: ~\n", "cfg.yml:2:3: log.level: expected a string, got null"},
        ErrorCase{"DurationIsSequence", "sampling:\n  interval: [1s]\n",
                  "cfg.yml:2:13: sampling.interval: expected a duration such as \"1s\", got a "
                  "sequence"},
        ErrorCase{"KeyIsSequence", "? [web]\n: {}\n", "cfg.yml:1:3: expected a string key, got a sequence"},
        ErrorCase{"NestedKeyIsMapping", "web:\n  ? {a: 1}\n  : x\n",
                  "cfg.yml:2:5: web: expected a string key, got a mapping"},
        ErrorCase{"TwoDocuments", "log: {level: info}\n---\nlog: {level: debug}\n",
                  "cfg.yml:2:1: a second YAML document; the configuration must be a single "
                  "document"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    UnknownKey, ConfigSingleErrorTest,
    testing::Values(ErrorCase{"TopLevel", "metrics: {}\n", "cfg.yml:1:1: metrics: unknown key"},
                    ErrorCase{"TopLevelTypo", "wbe:\n  listen_address: \":9746\"\n",
                              "cfg.yml:1:1: wbe: unknown key (did you mean \"web\"?)"},
                    ErrorCase{"TopLevelCase", "Log: {}\n", "cfg.yml:1:1: Log: unknown key (did you mean \"log\"?)"},
                    ErrorCase{"TopLevelLeafOfASection", "listen_address: \":9746\"\n",
                              "cfg.yml:1:1: listen_address: unknown key (did you mean "
                              "\"web.listen_address\"?)"},
                    ErrorCase{"Nested", "web:\n  tls: true\n", "cfg.yml:2:3: web.tls: unknown key"},
                    ErrorCase{"NestedTypo", "web:\n  lsten_address: \":9746\"\n",
                              "cfg.yml:2:3: web.lsten_address: unknown key (did you mean "
                              "\"web.listen_address\"?)"},
                    ErrorCase{"NestedDashInsteadOfUnderscore", "web:\n  telemetry-path: /m\n",
                              "cfg.yml:2:3: web.telemetry-path: unknown key (did you mean "
                              "\"web.telemetry_path\"?)"},
                    ErrorCase{"NestedInTheWrongSection", "web:\n  level: debug\n",
                              "cfg.yml:2:3: web.level: unknown key (did you mean \"log.level\"?)"},
                    ErrorCase{"FlowMapping", "sampling: {interval: 1s, jitter: 1s}\n",
                              "cfg.yml:1:26: sampling.jitter: unknown key"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    DuplicateKey, ConfigSingleErrorTest,
    testing::Values(ErrorCase{"TopLevel", "web: {}\nweb: {}\n",
                              "cfg.yml:2:1: web: duplicate key (first set at line 1, column 1)"},
                    ErrorCase{"Nested", "log:\n  level: info\n  level: debug\n",
                              "cfg.yml:3:3: log.level: duplicate key (first set at line 2, column 3)"},
                    ErrorCase{"SameValueTwice", "log:\n  level: info\n  format: json\n  level: info\n",
                              "cfg.yml:4:3: log.level: duplicate key (first set at line 2, column 3)"},
                    ErrorCase{"FlowMapping", "log: {level: info, level: warn}\n",
                              "cfg.yml:1:20: log.level: duplicate key (first set at line 1, column 7)"},
                    ErrorCase{"QuotedAndPlain", "log:\n  level: info\n  \"level\": warn\n",
                              "cfg.yml:3:3: log.level: duplicate key (first set at line 2, column 3)"}),
    CaseName);

// ---------------------------------------------------------------------------------------------
// Several errors, syntax errors, files

TEST(ConfigLoaderTest, ReportsEveryErrorInDocumentOrder) {
  const std::string file = kFixtures + "several_errors.yml";
  const LoadResult result = LoadConfigFromFile(file);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(Errors(result), file + ":3:19: web.listen_address: invalid listen address \"localhost\": missing port " +
                                kForms + "\n" + file +
                                ":4:19: web.telemetry_path: must not be \"/\": the landing page is served "
                                "there\n" +
                                file + ":5:3: web.listen_adress: unknown key (did you mean \"web.listen_address\"?)\n" +
                                file + ":7:13: paths.cgroupfs: must be an absolute path, got \"sys/fs/cgroup\"\n" +
                                file + ":8:11: paths.procfs: expected a string, got a sequence\n" + file +
                                ":10:13: sampling.interval: must be between 100ms and 1h, got 50ms\n" + file +
                                ":12:10: log.level: invalid value \"verbose\": must be one of debug, info, "
                                "warn, error\n" +
                                file + ":13:11: log.format: invalid value \"text\": must be one of logfmt, json\n" +
                                file + ":14:3: log.level: duplicate key (first set at line 12, column 3)\n" + file +
                                ":15:1: metrics: unknown key\n");
}

TEST(ConfigLoaderTest, ErrorsAreAlsoCollectedWithinOneSection) {
  const LoadResult result = Load("web: {listen_address: nope, telemetry_path: nope}\n");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].key_path, "web.listen_address");
  EXPECT_EQ(result.errors[0].column, 23);
  EXPECT_EQ(result.errors[1].key_path, "web.telemetry_path");
  EXPECT_EQ(result.errors[1].column, 45);
}

TEST(ConfigLoaderTest, SyntaxErrorHasItsPosition) {
  const std::string file = kFixtures + "syntax_error.yml";
  const LoadResult result = LoadConfigFromFile(file);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].ToString(),
            file + ":3:27: invalid YAML: illegal map value");  // the second ':' on line 3
}

TEST(ConfigLoaderTest, SyntaxErrorPositionIsWhereYamlCppNoticesIt) {
  // A key indented by one space ends the mapping above it; yaml-cpp notices at the key
  // (its mark is line 2, column 1, 0-based; its own message says "line 3, column 2").
  const LoadResult result = Load("log:\n  level: info\n format: json\n");
  EXPECT_EQ(Errors(result), "cfg.yml:3:2: invalid YAML: end of map not found\n");
}

TEST(ConfigLoaderTest, TabIndentationIsASyntaxError) {
  const LoadResult result = Load("log:\n\tlevel: info\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 2);
  EXPECT_EQ(result.errors[0].key_path, "");
  EXPECT_EQ(result.errors[0].message.rfind("invalid YAML: ", 0), 0u) << result.errors[0].message;
}

TEST(ConfigLoaderTest, DeepNestingIsAnErrorNotACrash) {
  const LoadResult result = Load("web: " + std::string(100'000, '[') + "\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message.rfind("invalid YAML: ", 0), 0u) << result.errors[0].message;
}

TEST(ConfigLoaderTest, MissingFileNamesTheFile) {
  const std::string file = kFixtures + "does_not_exist.yml";
  const LoadResult result = LoadConfigFromFile(file);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_EQ(result.errors[0].ToString(), file + ": cannot open: No such file or directory");
}

TEST(ConfigLoaderTest, DirectoryIsNotAFile) {
  const std::string dir = std::string(WE_FIXTURES_DIR) + "/config";
  const LoadResult result = LoadConfigFromFile(dir);
  EXPECT_EQ(Errors(result), dir + ": cannot read: Is a directory\n");
}

TEST(ConfigLoaderTest, EndlessFileIsRefused) {
  const LoadResult result = LoadConfigFromFile("/dev/zero");
  EXPECT_EQ(Errors(result), "/dev/zero: file is larger than 1 MiB; is it really the configuration file?\n");
}

// ---------------------------------------------------------------------------------------------
// The checks shared with flags

TEST(ConfigChecksTest, AcceptDefaultsAndRejectWithTheLoadersMessages) {
  const Config defaults;
  EXPECT_EQ(config_checks::CheckListenAddress(defaults.web.listen_address), std::nullopt);
  EXPECT_EQ(config_checks::CheckTelemetryPath(defaults.web.telemetry_path), std::nullopt);
  EXPECT_EQ(config_checks::CheckAbsolutePath(defaults.paths.cgroupfs), std::nullopt);
  EXPECT_EQ(config_checks::CheckAbsolutePath(defaults.paths.procfs), std::nullopt);
  EXPECT_EQ(config_checks::CheckSamplingInterval(defaults.sampling.interval), std::nullopt);
  EXPECT_EQ(config_checks::CheckLogLevel(defaults.log.level), std::nullopt);
  EXPECT_EQ(config_checks::CheckLogFormat(defaults.log.format), std::nullopt);

  EXPECT_EQ(config_checks::CheckLogFormat("xml"), "invalid value \"xml\": must be one of logfmt, json");
  EXPECT_EQ(config_checks::CheckSamplingInterval(milliseconds{7'200'000}), "must be between 100ms and 1h, got 2h");
}

// ---------------------------------------------------------------------------------------------
// idle_peak

TEST(ConfigLoaderTest, IdlePeakSection) {
  const LoadResult result = Load(
      "idle_peak:\n"
      "  windows: [30s, 2h]\n"
      "  idle_quantile: 0.05\n"
      "  startup:\n"
      "    min_cores: 0.1\n"
      "    idle_factor: 3\n"
      "    settle_for: 20s\n");
  ASSERT_TRUE(result.ok()) << Errors(result);
  const IdlePeakConfig& c = result.config->idle_peak;
  EXPECT_EQ(c.windows, (std::vector<milliseconds>{milliseconds(30'000), milliseconds(7'200'000)}));
  EXPECT_DOUBLE_EQ(c.idle_quantile, 0.05);
  EXPECT_DOUBLE_EQ(c.startup.min_cores, 0.1);
  EXPECT_DOUBLE_EQ(c.startup.idle_factor, 3);
  EXPECT_EQ(c.startup.settle_for, milliseconds(20'000));
}

// idle_peak's errors name the key and, in a list, the element.
INSTANTIATE_TEST_SUITE_P(
    IdlePeak, ConfigSingleErrorTest,
    testing::Values(
        ErrorCase{"WindowNotADuration", "idle_peak:\n  windows: [1m, soon, 1h]\n",
                  "cfg.yml:2:17: idle_peak.windows: expected a duration such as \"5m\", got scalar \"soon\""},
        ErrorCase{"WindowListedTwice", "idle_peak:\n  windows: [1m, 1m]\n",
                  "cfg.yml:2:12: idle_peak.windows: window 1m is listed twice"},
        ErrorCase{"NoWindows", "idle_peak:\n  windows: []\n",
                  "cfg.yml:2:12: idle_peak.windows: must list at least one window, as in [1m, 5m, 1h]"},
        ErrorCase{"WindowsNotASequence", "idle_peak:\n  windows: 5m\n",
                  "cfg.yml:2:12: idle_peak.windows: expected a sequence of durations such as [1m, 5m, 1h], got "
                  "scalar \"5m\""},
        ErrorCase{"WindowTooLong", "idle_peak:\n  windows: [2d]\n",
                  "cfg.yml:2:12: idle_peak.windows: each window must be between 1s and 1d, got 2d"},
        ErrorCase{"IdleQuantileOne", "idle_peak:\n  idle_quantile: 1\n",
                  "cfg.yml:2:18: idle_peak.idle_quantile: must be at least 0 and less than 1, got 1.000000"},
        ErrorCase{"IdleQuantileNotANumber", "idle_peak:\n  idle_quantile: low\n",
                  "cfg.yml:2:18: idle_peak.idle_quantile: expected a number, got \"low\""},
        // Windows and the interval together: at most 86400 samples per window.
        ErrorCase{"WindowHoldsTooManySamples", "sampling:\n  interval: 100ms\nidle_peak:\n  windows: [1d]\n",
                  "cfg.yml: idle_peak.windows: window 1d holds more than 86400 samples at sampling.interval "
                  "100ms"}),
    CaseName);

TEST(ConfigLoaderTest, IdlePeakErrorsNameTheKeyAndElement) {
  EXPECT_EQ(Errors(Load("idle_peak:\n  startup:\n    settle_for: 2h\n    bogus: 1\n")),
            "cfg.yml:3:17: idle_peak.startup.settle_for: must be between 1s and 1h, got 2h\n"
            "cfg.yml:4:5: idle_peak.startup.bogus: unknown key\n");
}

}  // namespace
}  // namespace we
