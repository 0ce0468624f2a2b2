#pragma once
// Every metric family written from a Snapshot, each described once beside the figure it reads (as
// node_exporter's prometheus.NewDesc): name, type, help, the labels beyond a workload's own, where
// the figure comes from, and its getter. exposition/text.cc walks kFamilies in order to write
// /metrics; MetricsTableMarkdown writes README.md's metric tables from the same rows, and
// tests/exposition/families_test.cc holds the README equal to them.
//
// The table is immutable static data: any thread may read it.

#include <charconv>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <prometheus/metric_type.h>

#include "pipeline/snapshot.h"

namespace we {

// The label a container label is exported as: "com.example.team" -> "label_com_example_team"
// (every character but [A-Za-z0-9_] becomes '_'). Where two names map to one, the first in the
// labels' order wins, on workload_info and in /api/v1/workloads alike. Pure.
std::string ContainerLabelName(const std::string& name);

struct BuildInfo {
  std::string version;
  std::string revision;
};

// A figure, or nothing: an absent figure emits no series.
using Value = std::optional<double>;

struct LabelView {
  std::string_view name;
  std::string_view value;
};

// A workload's own labels (kind, runtime, id, name, and image / namespace / pod / container when
// known), computed once per render; `text` is them already written out as the text format wants
// them (k="v",k="v"), so a series costs a memcpy of it.
struct BaseLabels {
  std::vector<LabelView> labels;
  std::string text;
};

// An integer label value without allocating.
struct IntText {
  explicit IntText(long long v) { end = std::to_chars(buf, buf + sizeof buf, v).ptr; }
  std::string_view view() const { return {buf, static_cast<std::size_t>(end - buf)}; }
  char buf[24];
  char* end;
};

// Where a family's series go: the text writer or prometheus-cpp's model (exposition/text.cc).
// `base` may be null (the exporter's own families); label views need only live for the call.
class SeriesSink {
 public:
  virtual void Add(const BaseLabels* base, std::span<const LabelView> extra, double value) = 0;
  // One histogram: `cumulative[i]` observations at most `bounds[i]`, `count` in all (the +Inf
  // bucket), summing to `sum`. Written as prometheus-cpp 1.0 writes one: _count, _sum, then the
  // _bucket series with le.
  virtual void AddHistogram(const BaseLabels* base, std::span<const double> bounds,
                            std::span<const uint64_t> cumulative, uint64_t count, double sum) = 0;

 protected:
  ~SeriesSink() = default;
};

// What one family's series are, and the getter that reads each. A workload's base labels come
// first on every per-workload series; the label named here follows.
namespace shape {

struct PerWorkload {  // one series per workload
  Value (*get)(const WorkloadView&);
};
struct PerWorkloadLabel {  // one per workload and value of `label`; get(view, index into values)
  std::string_view label;
  std::span<const std::string_view> values;
  Value (*get)(const WorkloadView&, std::size_t);
};
struct PerVm {  // one per VM
  Value (*get)(const VmFigures&);
};
struct PerVcpu {  // one per vCPU of a VM
  static constexpr std::string_view kLabel = "vcpu";
  Value (*get)(const VcpuFigures&);
};
struct PerVmDevice {  // one per block device or interface of a VM
  static constexpr std::string_view kLabel = "device";
  const std::vector<DeviceCounters>& (*devices)(const VmFigures&);
  Value (*get)(const DeviceCounters&);
};
struct PerWindow {  // one per workload and configured idle/peak window
  static constexpr std::string_view kLabel = "window";
  Value (*get)(const WindowFigures&);
};
struct PerCollector {  // one per collector
  static constexpr std::string_view kLabel = "collector";
  double (*get)(const CollectorStatus&);
};
struct Once {  // one series of the snapshot, no labels
  Value (*get)(const Snapshot&);
};
struct Custom {  // series whose labels come from the data; `labels` names them for the README
  std::string_view labels;
  void (*emit)(const Snapshot&, std::span<const BaseLabels> labels, const BuildInfo&, SeriesSink&);
};

}  // namespace shape

using FamilyShape = std::variant<shape::PerWorkload, shape::PerWorkloadLabel, shape::PerVm, shape::PerVcpu,
                                 shape::PerVmDevice, shape::PerWindow, shape::PerCollector, shape::Once, shape::Custom>;

// Which of README.md's metric tables a family belongs to.
enum class MetricsTable { kWorkload, kVm, kIdlePeak, kExporter };

// Visits a FamilyShape with one lambda per alternative: std::visit(Overloaded{[](const shape::Once&)
// {...}, ...}, spec.shape). Used by the text writer and by the README table.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
// Aggregate deduction is C++20, but clang 14 (the sanitizer build's) lacks it.
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

struct FamilySpec {
  std::string_view name;
  prometheus::MetricType type;
  std::string_view help;
  FamilyShape shape;
  MetricsTable table;
  std::string_view doc;  // README's source/meaning column; empty: the help text
};

// Every family, in the order /metrics writes them.
std::span<const FamilySpec> Families();

// The labels a family adds to its series, as README.md writes them: `mode="user"\|"system"`,
// `vcpu`, `state,reason`; empty when none.
std::string FamilyLabelsDoc(const FamilySpec& family);

// README.md's table for `table`, header row included, each line ending in '\n'.
std::string MetricsTableMarkdown(MetricsTable table);
std::string_view MetricsTableName(MetricsTable table);  // "workload", "vm", "idle_peak", "exporter"
inline constexpr MetricsTable kMetricsTables[] = {MetricsTable::kWorkload, MetricsTable::kVm, MetricsTable::kIdlePeak,
                                                  MetricsTable::kExporter};

}  // namespace we
