#include "exposition/text.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <span>
#include <sstream>
#include <variant>

#include <prometheus/text_serializer.h>

#include "exposition/gzip.h"

namespace we {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// One table, two outputs: EmitSnapshot walks Families() (exposition/families.h) into a sink. The
// TextSink writes the exposition text straight into one string (what /metrics serves); the
// FamilySink builds prometheus-cpp's model (SnapshotFamilies, the oracle the tests hold the text
// equal to). Labels are views into the snapshot: nothing is copied per series.

// Label values escaped as the text format (and prometheus-cpp 1.0's TextSerializer) wants:
// '\\' -> "\\\\", '"' -> "\\\"", newline -> "\\n".
void AppendEscaped(std::string* out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out->append(value.data() + start, i - start);
    out->append(c == '\n' ? "\\n" : c == '"' ? "\\\"" : "\\\\");
    start = i + 1;
  }
  out->append(value.data() + start, value.size() - start);
}

void AppendLabel(std::string* out, const LabelView& l) {
  out->append(l.name);
  out->append("=\"");
  AppendEscaped(out, l.value);
  out->push_back('"');
}

}  // namespace

void AppendSampleValue(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("Nan");
  } else if (std::isinf(value)) {
    out->append(value < 0 ? "-Inf" : "+Inf");
  } else {
    // As an ostream with precision 16 (prometheus-cpp 1.0) writes it: printf's %.16g, which
    // to_chars' general format with precision 16 is defined to match.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
    out->append(buf, r.ptr);
  }
}

namespace {

class TextSink final : public SeriesSink {
 public:
  // `drain`, when given, is handed *out (and empties it) whenever it holds kDrainAt bytes or more.
  explicit TextSink(std::string* out, std::function<void(std::string*)> drain = nullptr)
      : out_(out), drain_(std::move(drain)) {}
  static constexpr std::size_t kDrainAt = 64 << 10;
  void Begin(std::string_view name, std::string_view help, MetricType type) {
    name_ = name;
    help_ = help;
    type_ = type;
    header_ = false;
  }
  void Add(const BaseLabels* base, std::span<const LabelView> extra, double value) override {
    std::string& out = *out_;
    if (!header_) {
      header_ = true;
      if (!help_.empty()) {
        out.append("# HELP ").append(name_).append(" ").append(help_).append("\n");
      }
      out.append("# TYPE ").append(name_).append(type_ == MetricType::Counter     ? " counter\n"
                                                 : type_ == MetricType::Gauge     ? " gauge\n"
                                                 : type_ == MetricType::Histogram ? " histogram\n"
                                                                                  : " untyped\n");
    }
    out.append(name_);
    const bool has_base = base != nullptr && !base->labels.empty();
    if (has_base || !extra.empty()) {
      out.push_back('{');
      if (has_base) out.append(base->text);
      bool first = !has_base;
      for (const LabelView& l : extra) {
        if (!first) out.push_back(',');
        first = false;
        AppendLabel(&out, l);
      }
      out.push_back('}');
    }
    out.push_back(' ');
    AppendSampleValue(&out, value);
    out.push_back('\n');
    if (drain_ && out.size() >= kDrainAt) drain_(&out);
  }
  void AddHistogram(const BaseLabels* base, std::span<const double> bounds, std::span<const uint64_t> cumulative,
                    uint64_t count, double sum) override {
    const std::string_view name = name_;
    // Written by hand: the header under the family's name, then each series.
    std::string& out = *out_;
    if (!header_) {
      header_ = true;
      if (!help_.empty()) out.append("# HELP ").append(name).append(" ").append(help_).append("\n");
      out.append("# TYPE ").append(name).append(" histogram\n");
    }
    const bool has_base = base != nullptr && !base->labels.empty();
    auto head = [&](std::string_view suffix, const LabelView* le) {
      out.append(name).append(suffix);
      if (has_base || le != nullptr) {
        out.push_back('{');
        if (has_base) out.append(base->text);
        if (le != nullptr) {
          if (has_base) out.push_back(',');
          AppendLabel(&out, *le);
        }
        out.push_back('}');
      }
      out.push_back(' ');
    };
    head("_count", nullptr);
    out.append(std::to_string(count)).push_back('\n');
    head("_sum", nullptr);
    AppendSampleValue(&out, sum);
    out.push_back('\n');
    std::string bound;
    for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
      bound.clear();
      AppendSampleValue(&bound, bounds[i]);
      const LabelView le{"le", bound};
      head("_bucket", &le);
      out.append(std::to_string(cumulative[i])).push_back('\n');
    }
    const LabelView inf{"le", "+Inf"};
    head("_bucket", &inf);
    out.append(std::to_string(count)).push_back('\n');
    if (drain_ && out.size() >= kDrainAt) drain_(&out);
  }
  void End() {}

 private:
  std::string* out_;
  std::function<void(std::string*)> drain_;
  std::string_view name_, help_;
  MetricType type_ = MetricType::Untyped;
  bool header_ = false;
};

class FamilySink final : public SeriesSink {
 public:
  explicit FamilySink(std::vector<MetricFamily>* out) : out_(out) {}
  void Begin(std::string_view name, std::string_view help, MetricType type) {
    family_ = MetricFamily{};
    family_.name = std::string(name);
    family_.help = std::string(help);
    family_.type = type;
  }
  void Add(const BaseLabels* base, std::span<const LabelView> extra, double value) override {
    ClientMetric m;
    if (base != nullptr) {
      for (const LabelView& l : base->labels) m.label.push_back({std::string(l.name), std::string(l.value)});
    }
    for (const LabelView& l : extra) m.label.push_back({std::string(l.name), std::string(l.value)});
    switch (family_.type) {
      case MetricType::Counter:
        m.counter.value = value;
        break;
      case MetricType::Gauge:
        m.gauge.value = value;
        break;
      default:
        m.untyped.value = value;
        break;
    }
    family_.metric.push_back(std::move(m));
  }
  void AddHistogram(const BaseLabels* base, std::span<const double> bounds, std::span<const uint64_t> cumulative,
                    uint64_t count, double sum) override {
    ClientMetric m;
    if (base != nullptr) {
      for (const LabelView& l : base->labels) m.label.push_back({std::string(l.name), std::string(l.value)});
    }
    m.histogram.sample_count = count;
    m.histogram.sample_sum = sum;
    for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
      m.histogram.bucket.push_back({cumulative[i], bounds[i]});
    }
    family_.metric.push_back(std::move(m));
  }
  void End() {
    if (!family_.metric.empty()) out_->push_back(std::move(family_));
  }

 private:
  std::vector<MetricFamily>* out_;
  MetricFamily family_;
};

// The labels of every workload series: who it is, and for containers what their runtime says
// (stable for a container's life), each only when known.
BaseLabels WorkloadLabels(const Sample& s) {
  const WorkloadIdentity& id = s.identity;
  BaseLabels b;
  b.labels = {{"kind", id.kind}, {"runtime", id.runtime}, {"id", id.id}, {"name", id.name}};
  if (s.metadata) {
    if (!s.metadata->image.empty()) b.labels.push_back({"image", s.metadata->image});
    if (!s.metadata->k8s_namespace.empty()) b.labels.push_back({"namespace", s.metadata->k8s_namespace});
    if (!s.metadata->pod.empty()) b.labels.push_back({"pod", s.metadata->pod});
    if (!s.metadata->container.empty()) b.labels.push_back({"container", s.metadata->container});
  }
  size_t size = 0;
  for (const LabelView& l : b.labels) size += l.name.size() + l.value.size() + 4;
  b.text.reserve(size + 8);
  for (size_t i = 0; i < b.labels.size(); ++i) {
    if (i > 0) b.text.push_back(',');
    AppendLabel(&b.text, b.labels[i]);
  }
  return b;
}

// Every family of one snapshot, in the table's order. Absent figures emit no series. Sink is a
// final class, so the per-series calls below are direct; only Custom families call it virtually.
template <typename Sink>
void EmitSnapshot(const Snapshot& snap, const BuildInfo& build, Sink& sink) {
  const auto& views = snap.workloads;
  std::vector<BaseLabels> labels;
  labels.reserve(views.size());
  for (const auto& v : views) labels.push_back(WorkloadLabels(v.sample));
  auto add = [&sink](const BaseLabels* base, std::span<const LabelView> extra, const Value& value) {
    if (value) sink.Add(base, extra, *value);
  };

  for (const FamilySpec& family : Families()) {
    sink.Begin(family.name, family.help, family.type);
    std::visit(Overloaded{
                   [&](const shape::PerWorkload& s) {
                     for (size_t i = 0; i < views.size(); ++i) add(&labels[i], {}, s.get(views[i]));
                   },
                   [&](const shape::PerWorkloadLabel& s) {
                     for (size_t i = 0; i < views.size(); ++i) {
                       for (size_t j = 0; j < s.values.size(); ++j) {
                         const LabelView extra[] = {{s.label, s.values[j]}};
                         add(&labels[i], extra, s.get(views[i], j));
                       }
                     }
                   },
                   [&](const shape::PerVm& s) {
                     for (size_t i = 0; i < views.size(); ++i) {
                       if (views[i].sample.vm) add(&labels[i], {}, s.get(*views[i].sample.vm));
                     }
                   },
                   [&](const shape::PerVcpu& s) {
                     for (size_t i = 0; i < views.size(); ++i) {
                       if (!views[i].sample.vm) continue;
                       for (const VcpuFigures& vcpu : views[i].sample.vm->vcpu) {
                         const IntText index(vcpu.index);
                         const LabelView extra[] = {{s.kLabel, index.view()}};
                         add(&labels[i], extra, s.get(vcpu));
                       }
                     }
                   },
                   [&](const shape::PerVmDevice& s) {
                     for (size_t i = 0; i < views.size(); ++i) {
                       if (!views[i].sample.vm) continue;
                       for (const DeviceCounters& d : s.devices(*views[i].sample.vm)) {
                         const LabelView extra[] = {{s.kLabel, d.device}};
                         add(&labels[i], extra, s.get(d));
                       }
                     }
                   },
                   [&](const shape::PerWindow& s) {
                     if (!snap.windows) return;
                     const auto& specs = snap.windows->specs;
                     for (size_t i = 0; i < views.size(); ++i) {
                       for (size_t w = 0; w < views[i].windows.size() && w < specs.size(); ++w) {
                         const LabelView extra[] = {{s.kLabel, specs[w].label}};
                         add(&labels[i], extra, s.get(views[i].windows[w]));
                       }
                     }
                   },
                   [&](const shape::PerCollector& s) {
                     for (const CollectorStatus& c : snap.collectors) {
                       const LabelView extra[] = {{s.kLabel, c.name}};
                       sink.Add(nullptr, extra, s.get(c));
                     }
                   },
                   [&](const shape::Once& s) { add(nullptr, {}, s.get(snap)); },
                   [&](const shape::Custom& s) { s.emit(snap, labels, build, sink); },
               },
               family.shape);
    sink.End();
  }
}

}  // namespace

std::vector<MetricFamily> SnapshotFamilies(const Snapshot& snap, const BuildInfo& build) {
  std::vector<MetricFamily> out;
  FamilySink sink(&out);
  EmitSnapshot(snap, build, sink);
  return out;
}

void AppendText(const Snapshot& snap, const BuildInfo& build, std::string* out) {
  TextSink sink(out);
  EmitSnapshot(snap, build, sink);
}

bool AppendTextGzip(const Snapshot& snap, const BuildInfo& build, std::string_view tail, GzipMethod method,
                    std::string* gzip) {
  GzipStream gz(gzip, method);
  std::string piece;
  piece.reserve(TextSink::kDrainAt + 4096);
  bool ok = true;
  TextSink sink(&piece, [&](std::string* text) {
    ok = gz.Write(*text) && ok;
    text->clear();
  });
  EmitSnapshot(snap, build, sink);
  ok = gz.Write(piece) && ok;
  ok = gz.Write(tail) && ok;
  return gz.Finish() && ok;
}

std::string RenderText(const Snapshot& snap, const BuildInfo& build) {
  std::string out;
  AppendText(snap, build, &out);
  return out;
}

std::string SerializeText(const std::vector<MetricFamily>& families) {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, families);
  return std::move(os).str();
}

}  // namespace we
