#pragma once
// A reader of the Prometheus text exposition format, for tests that scrape the daemon and look up
// series by name and labels. Strict about what it accepts: a line it cannot read is reported, not
// skipped, so a malformed /metrics fails the test that scraped it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace we::test_util {

struct PromSeries {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the sample lines of an exposition (comments and blank lines skipped). Throws
// std::runtime_error("line N: ...") on a line that is not a valid sample.
std::vector<PromSeries> ParsePromText(const std::string& text);

// Every series named `name` whose labels include all of `labels`.
std::vector<PromSeries> Find(const std::vector<PromSeries>& series, const std::string& name,
                             const std::map<std::string, std::string>& labels = {});

// The value of the one series that matches, or nullopt when none or more than one does.
std::optional<double> FindValue(const std::vector<PromSeries>& series, const std::string& name,
                                const std::map<std::string, std::string>& labels = {});

// GET http://127.0.0.1:<port>/metrics, parsed; empty when it does not answer 200.
std::vector<PromSeries> ScrapeMetrics(uint16_t port);

}  // namespace we::test_util
