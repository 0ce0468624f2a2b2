// Fuzzes LoadConfigFromString (config/config_loader.h) with arbitrary YAML text. Seeds are the
// example configuration and the test fixtures in tests/fixtures/config/.

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_loader.h"
#include "config/duration.h"
#include "tests/fuzz/config_errors_check.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace we;
  namespace checks = config_checks;
  const std::string file_name = "fuzz.yml";
  const LoadResult result = LoadConfigFromString(std::string(fuzz::AsText(data, size)), file_name);

  fuzz::CheckConfigErrors(result, file_name);
  if (!result.ok()) return 0;

  // What the loader accepted passes every check it documents.
  const Config& c = *result.config;
  FUZZ_CHECK(!checks::CheckListenAddress(c.web.listen_address));
  FUZZ_CHECK(!checks::CheckTelemetryPath(c.web.telemetry_path));
  FUZZ_CHECK(!checks::CheckAbsolutePath(c.paths.cgroupfs));
  FUZZ_CHECK(!checks::CheckAbsolutePath(c.paths.procfs));
  FUZZ_CHECK(!checks::CheckAbsolutePath(c.paths.rootfs));
  FUZZ_CHECK(!checks::CheckSamplingInterval(c.sampling.interval));
  FUZZ_CHECK(!checks::CheckWindows(c.idle_peak.windows));
  FUZZ_CHECK(!checks::CheckWindowsAgainstInterval(c.idle_peak.windows, c.sampling.interval));
  FUZZ_CHECK(!checks::CheckIdleQuantile(c.idle_peak.idle_quantile));
  FUZZ_CHECK(!checks::CheckNonNegative(c.idle_peak.startup.min_cores));
  FUZZ_CHECK(!checks::CheckNonNegative(c.idle_peak.startup.idle_factor));
  FUZZ_CHECK(!checks::CheckSettleFor(c.idle_peak.startup.settle_for));
  FUZZ_CHECK(!checks::CheckLibvirtUri(c.libvirt.uri));
  FUZZ_CHECK(!checks::CheckLibvirtTimeout(c.libvirt.timeout));
  FUZZ_CHECK(!checks::CheckLogLevel(c.log.level));
  FUZZ_CHECK(!checks::CheckLogFormat(c.log.format));
  for (const std::string& label : c.labels.allow) FUZZ_CHECK(!label.empty());
  // Durations print back to what they are (the daemon logs its effective config so).
  FUZZ_CHECK(ParseDuration(FormatDuration(c.sampling.interval)) == c.sampling.interval);
  return 0;
}
