#pragma once
// The figures `workload_exporter report` prints, computed from one /api/v1/workloads document:
// the workloads --select keeps, put into groups (--group-by, --group-pattern, --compare), and per
// group and kind the mean of each figure over the workloads that have it, with how many those are
// and, for the others, why they have none. Formatting is report_format.h's; nothing here prints.
//
// Figures are the daemon's longest window (startup is per workload, not windowed): idle is the
// window's low quantile of per-interval usage, peak its maximum (README.md, "Idle and peak").
// A workload younger than the window has its figures from its life so far: `covered_seconds`
// says how much of the window that is, and `samples` how many samples the window holds for it
// (the document's count: at most window / interval, fewer when the daemon missed ticks).
// Why a figure is absent comes from the document: its startup_state for startup (a daemon too
// old to send one leaves the report to guess from the workload's age), and for windowed figures
// whether the workload has a CPU rate or a memory reading at all.
//
// Startup to the first listening socket, to the first successful response (the brief's startup)
// and the mean response time of the successful probes are the document's listen_seconds,
// ready_seconds and probe_response_seconds (exposition/workloads_json.h), per workload; a workload
// without a probe configured has none of the last two, and says so.
//
// Sizing (report_sizing.h) is four more figures per workload, computed from the same window:
// the VPA's CPU and memory request and krr simple's CPU request and memory request (= limit).
// Their inputs are the window's cpu_p90_cores, cpu_p95_cores, memory_daily_peak_p90_bytes and
// memory_peak_bytes, with samples as krr's data points; a window of up to a day has one daily
// peak, its peak. The daemon's windows keep the CPU p90 and p95 (nearest rank, as the idle) beside
// the idle quantile (pipeline/window.h); a daemon older than that sends none, and its CPU
// recommendations are absent and say so.
// A document may say itself why a figure is absent ("why_missing": {"<key>": "why"} on a
// workload) and what its figures are ("source": "Prometheus ... over 24h ending ..."): the
// documents built from Prometheus do.
//
// Thread-safety: every function is pure.

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "collectors/json.h"
#include "tools/report_select.h"

namespace we {

// The figures of the table, in its order.
struct FigureDef {
  const char* label;  // "Idle memory (MiB)"
  const char* key;    // in the document's window object, or top level when not windowed
  double scale;       // document unit -> the table's (bytes -> MiB)
  bool windowed;
  bool sizing;         // computed by report_sizing.h from the window's figures
  const char* column;  // the per-workload tables' header: "IDLE MEM (MiB)"
  // Only some workloads can have it (a listening socket, a configured probe): the text tables
  // leave the row out when no selected workload has it. JSON and CSV always hold it.
  bool where_present;
};
constexpr std::size_t kFigureCount = 12;
constexpr std::size_t kMeasuredFigures = 8;  // the first eight; then the sizing ones
extern const FigureDef kFigures[kFigureCount];

// The kinds compared side by side, in column order.
extern const char* const kComparedKinds[2];  // "vm", "container"

// --compare vm:NAME container:NAME: one group of the VM(s) and container(s) so named (exact, or
// globs as in Selector).
struct ComparePair {
  std::string vm;
  std::string container;
};

struct Grouping {
  // Empty: no grouping (one group of every selected workload).
  std::string key{};
  // With `key`: the group is the regex's first capture group of the key's value (a full match);
  // a value that does not match, or whose group 1 did not take part, is in no group.
  std::optional<std::regex> pattern{};
  std::string pattern_text{};
  // Non-empty: groups are these pairs, and `key` is unused.
  std::vector<ComparePair> pairs{};
};

// "vm:NAME" and "container:NAME" (in either order) as one pair; nullopt with `error` naming them.
std::optional<ComparePair> ParseComparePair(const std::string& first, const std::string& second, std::string* error);
// --group-pattern: a regex with at least one capture group.
std::optional<std::regex> ParseGroupPattern(const std::string& text, std::string* error);

// One figure over one kind's workloads of one group.
struct Cell {
  std::optional<double> mean;
  int workloads = 0;                   // of this kind in the group
  int with_figure = 0;                 // the mean is over these
  std::map<std::string, int> missing;  // why the others have none -> how many
  // Windowed figures: the fewest and the most samples the window held for a workload of the mean.
  std::optional<double> samples_min, samples_max;
};

struct Group {
  std::string name;                                // "" when not grouped
  std::map<std::string, std::vector<Cell>> kinds;  // kind -> one Cell per kFigures row
  // (container - VM) / VM of each figure's means, when both exist and the VM's is not 0.
  std::optional<double> Difference(std::size_t figure) const;
};

struct RuntimeLine {
  std::string kind;
  std::string runtime;
  std::vector<Cell> cells;  // one per kFigures row
};

struct WorkloadLine {
  std::string kind, runtime, id, name;
  std::vector<std::string> groups;             // the groups it is in (none, one, or pairs)
  std::optional<double> age_seconds;           // from its start time to the document's time
  std::optional<double> covered_seconds;       // of the window: min(age, window)
  std::optional<double> samples;               // the window holds for it, when the document says
  std::vector<std::optional<double>> figures;  // per kFigures row, in the table's unit
  std::vector<std::string> missing;            // per kFigures row: why absent, "" when present
};

struct ReportModel {
  std::string source;  // what the figures are, when the document says ("" for a daemon's)
  std::string window;  // the longest window's label, "" when the document has none
  double window_seconds = 0;
  std::optional<double> time;  // of the snapshot, Unix seconds
  std::size_t total = 0;       // workloads in the document
  std::vector<std::string> selectors;
  std::string grouping;                 // how groups were made, in words ("" when not grouped)
  std::vector<Group> groups;            // one unnamed group when not grouped
  std::size_t ungrouped = 0;            // selected workloads in no group
  std::vector<RuntimeLine> runtimes;    // by (kind, runtime)
  std::vector<WorkloadLine> workloads;  // the selected ones, in the document's order
};

// Whether figure i is a row of the text tables: always, or where_present and some selected
// workload has it.
bool FigureShown(const ReportModel& model, std::size_t i);

// Builds the model. nullopt with `error` when the text is not JSON.
std::optional<ReportModel> BuildReportModel(const std::string& workloads_json, const std::vector<Selector>& selectors,
                                            const Grouping& grouping, std::string* error);

}  // namespace we
