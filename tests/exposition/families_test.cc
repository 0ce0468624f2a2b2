// The family table (exposition/families.h) against README.md: each of the README's metric tables
// is what MetricsTableMarkdown writes, and every family /metrics writes is in one of them, so a
// family added to the code and not to the README fails here.
//
// To rewrite the README's tables after an intended change, run
//   WE_UPDATE_README=1 build/tests/unit_tests --gtest_filter='MetricsTable.*'
// and read the diff.

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "every_family_snapshot.h"
#include "exposition/families.h"
#include "exposition/text.h"
#include "test_util/temp_tree.h"

namespace we {
namespace {

const std::string kReadme = std::string(WE_SOURCE_DIR) + "/README.md";
constexpr std::string_view kEnd = "<!-- end of generated table -->\n";

std::string BeginMarker(MetricsTable table) {
  return "<!-- generated from exposition/families.cc: metrics table " + std::string(MetricsTableName(table)) + " -->\n";
}

// Where the generated block of `table` sits in `readme`: [begin, end) of the text between its
// markers, or npos when a marker is missing.
std::pair<size_t, size_t> BlockOf(const std::string& readme, MetricsTable table) {
  const std::string begin = BeginMarker(table);
  const size_t at = readme.find(begin);
  if (at == std::string::npos) return {std::string::npos, std::string::npos};
  const size_t from = at + begin.size();
  const size_t to = readme.find(kEnd, from);
  return {from, to};
}

// The names of the families a render writes, from its "# TYPE" lines.
std::set<std::string> WrittenFamilies(const std::string& text) {
  std::set<std::string> names;
  for (size_t at = text.find("# TYPE "); at != std::string::npos; at = text.find("# TYPE ", at + 1)) {
    const size_t from = at + 7;
    names.insert(text.substr(from, text.find(' ', from) - from));
  }
  return names;
}

TEST(MetricsTable, ReadmeTablesAreTheFamilyTable) {
  std::string readme = test_util::ReadFileOrDie(kReadme);
  const bool update = std::getenv("WE_UPDATE_README") != nullptr;
  for (MetricsTable table : kMetricsTables) {
    const auto [from, to] = BlockOf(readme, table);
    ASSERT_NE(from, std::string::npos) << "README.md has no line " << BeginMarker(table);
    ASSERT_NE(to, std::string::npos) << "README.md: no " << kEnd << " after " << BeginMarker(table);
    const std::string generated = MetricsTableMarkdown(table);
    if (update) {
      readme.replace(from, to - from, generated);
      continue;
    }
    EXPECT_EQ(readme.substr(from, to - from), generated)
        << "README.md's metrics table '" << MetricsTableName(table)
        << "' is not what exposition/families.cc describes; if the table changed on purpose, run "
           "WE_UPDATE_README=1 build/tests/unit_tests --gtest_filter='MetricsTable.*' and read the diff";
  }
  if (update) {
    std::ofstream(kReadme, std::ios::binary | std::ios::trunc) << readme;
    GTEST_SKIP() << "rewrote the metric tables of " << kReadme;
  }
}

// Every family written is a row of the table and of the README, and every row is written: a
// family emitted outside the table, or one the test snapshot leaves out, fails here.
TEST(MetricsTable, EveryFamilyWrittenIsInTheReadme) {
  const std::string readme = test_util::ReadFileOrDie(kReadme);
  std::string tables;
  for (MetricsTable table : kMetricsTables) {
    const auto [from, to] = BlockOf(readme, table);
    if (from != std::string::npos && to != std::string::npos) tables += readme.substr(from, to - from);
  }
  std::set<std::string> in_table;
  for (const FamilySpec& f : Families()) in_table.insert(std::string(f.name));

  const std::set<std::string> written = WrittenFamilies(RenderText(test::EveryFamilySnapshot(), BuildInfo{"v", "r"}));
  for (const std::string& name : in_table) {
    EXPECT_TRUE(written.contains(name)) << name << " has no series in EveryFamilySnapshot";
  }
  for (const std::string& name : written)
    EXPECT_TRUE(in_table.contains(name)) << name << " is written but not in Families()";
  for (const std::string& name : written) {
    const bool row =
        tables.find("| `" + name + "`") != std::string::npos || tables.find("| `" + name + "{") != std::string::npos;
    EXPECT_TRUE(row) << name << " is not in README.md's metric tables";
  }
}

TEST(MetricsTable, NamesAreUniqueAndFollowTheConventions) {
  std::set<std::string_view> seen;
  for (const FamilySpec& f : Families()) {
    EXPECT_TRUE(seen.insert(f.name).second) << f.name << " twice";
    EXPECT_FALSE(f.help.empty()) << f.name;
    const bool total = f.name.ends_with("_total");
    EXPECT_EQ(total, f.type == prometheus::MetricType::Counter) << f.name << ": counters, and only they, end in _total";
    EXPECT_EQ(f.help.find('\n'), std::string_view::npos) << f.name;
  }
}

TEST(MetricsTable, LabelsAreDocumentedAsWritten) {
  std::string markdown;
  for (MetricsTable table : kMetricsTables) markdown += MetricsTableMarkdown(table);
  EXPECT_NE(markdown.find("| `workload_cpu_seconds_total{mode=\"user\"\\|\"system\"}` | counter |"), std::string::npos);
  EXPECT_NE(markdown.find("| `workload_vm_vcpu_seconds_total{vcpu}` | counter |"), std::string::npos);
  EXPECT_NE(markdown.find("| `workload_cpu_idle_cores{window}` | gauge |"), std::string::npos);
  EXPECT_NE(markdown.find("| `workload_exporter_collector_success{collector}` | gauge |"), std::string::npos);
  EXPECT_NE(markdown.find("| `workload_tasks` | gauge |"), std::string::npos);
}

}  // namespace
}  // namespace we
