#include "exposition/workloads_json.h"

#include <algorithm>
#include <cmath>

#include <boost/asio/post.hpp>

#include "collectors/json.h"
#include "exposition/families.h"

namespace we {
namespace {

using json::Figure;

template <typename T>
std::optional<double> AsDouble(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

std::string_view StartupStateName(StartupState state) {
  switch (state) {
    case StartupState::kNotComputed:
      return "not_computed";
    case StartupState::kTimed:
      return "timed";
    case StartupState::kWaiting:
      return "waiting";
    case StartupState::kSeenLate:
      return "seen_late";
    case StartupState::kNoStartTime:
      return "no_start_time";
    case StartupState::kNeverSettled:
      return "never_settled";
  }
  return "not_computed";
}

// The labels beyond kind, runtime, id and name that the workload's /metrics series carry, named as
// there: image, namespace, pod, container, and the allowed container labels as label_<x>.
json::bj::object ExportedLabels(const Sample& s) {
  json::bj::object labels;
  if (!s.metadata) return labels;
  const ContainerMetadata& m = *s.metadata;
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"image", m.image},
                                    {"namespace", m.k8s_namespace},
                                    {"pod", m.pod},
                                    {"container", m.container}}) {
    if (!value.empty()) labels[name] = value;
  }
  for (const auto& [name, value] : m.labels) {
    const std::string exported = ContainerLabelName(name);
    if (!labels.contains(exported)) labels[exported] = value;  // first of a clash wins, as on workload_info
  }
  return labels;
}

}  // namespace

std::string WorkloadsJson(const Snapshot& snap) {
  json::bj::array window_labels;
  if (snap.windows) {
    for (const auto& spec : snap.windows->specs) window_labels.emplace_back(spec.label);
  }
  json::bj::array workloads;
  workloads.reserve(snap.workloads.size());
  for (const WorkloadView& v : snap.workloads) {
    const Sample& s = v.sample;
    json::bj::object windows;
    for (std::size_t i = 0; snap.windows && i < v.windows.size() && i < snap.windows->specs.size(); ++i) {
      // The window's slots this instance has had a sample in, at most: a missed tick leaves a
      // gap that counts for nothing (window.h), and is not known here.
      const uint64_t samples = std::min<uint64_t>(v.samples, snap.windows->specs[i].slots);
      windows[snap.windows->specs[i].label] = json::bj::object{
          {"samples", samples},
          {"cpu_idle_cores", Figure(v.windows[i].cpu_idle_cores)},
          {"cpu_peak_cores", Figure(v.windows[i].cpu_peak_cores)},
          {"memory_idle_bytes", Figure(v.windows[i].memory_idle_bytes)},
          {"memory_peak_bytes", Figure(v.windows[i].memory_peak_bytes)},
          {"cpu_p90_cores", Figure(v.windows[i].cpu_p90_cores)},
          {"cpu_p95_cores", Figure(v.windows[i].cpu_p95_cores)},
      };
    }
    const uint64_t responses = v.probe_durations ? v.probe_durations->count : 0;
    const std::optional<double> response_mean =
        responses ? std::optional<double>(v.probe_durations->sum / static_cast<double>(responses)) : std::nullopt;
    workloads.emplace_back(json::bj::object{
        {"kind", s.identity.kind},
        {"runtime", s.identity.runtime},
        {"id", s.identity.id},
        {"name", s.identity.name},
        {"parent", s.identity.parent},  // "" for a top-level workload
        {"start_time_seconds", Figure(s.start_time_seconds)},
        {"startup_seconds", Figure(v.startup_seconds)},
        {"startup_state", StartupStateName(v.startup_state)},
        {"samples", v.samples},
        {"cpu_usage_cores", Figure(v.cpu_usage_cores)},
        {"memory_usage_bytes", Figure(AsDouble(s.memory.usage_bytes))},
        {"memory_working_set_bytes", Figure(AsDouble(s.memory.working_set_bytes))},
        {"listen_seconds", Figure(v.listen_seconds)},
        {"ready_seconds", Figure(v.ready_seconds)},
        {"probe_success", Figure(v.probe_success)},
        {"probe_responses", responses ? json::bj::value(responses) : json::bj::value(nullptr)},
        {"probe_response_seconds", Figure(response_mean)},
        {"windows", std::move(windows)},
        {"labels", ExportedLabels(s)},
    });
  }
  return json::Serialize(json::bj::object{
      {"time", Figure(snap.time_seconds)},
      {"windows", std::move(window_labels)},
      {"workloads", std::move(workloads)},
  });
}

namespace {

// A decoded window code to 5 significant digits: the codes are good to 0.04%, and the plots need
// less; full doubles would triple the document.
json::bj::value SeriesValue(uint16_t code, const WindowScale& scale) {
  if (code == WindowScale::kGap) return nullptr;
  const double v = scale.Decode(code);
  if (v == 0) return 0;
  const double digits = std::pow(10.0, 4 - std::floor(std::log10(std::fabs(v))));
  return std::round(v * digits) / digits;
}

json::bj::array SeriesArray(const std::vector<uint16_t>& codes, const WindowScale& scale) {
  json::bj::array out;
  out.reserve(codes.size());
  for (uint16_t code : codes) out.push_back(SeriesValue(code, scale));
  return out;
}

}  // namespace

std::string WorkloadSeriesJson(const Snapshot& snap) {
  json::bj::array covers;
  uint32_t slots = 0;
  if (snap.windows) {
    slots = snap.windows->ring;
    for (const auto& spec : snap.windows->specs) {
      if (spec.slots <= slots) covers.emplace_back(spec.label);
    }
  }
  json::bj::array workloads;
  if (snap.series_kept) {
    workloads.reserve(snap.workloads.size());
    for (const WorkloadView& v : snap.workloads) {
      const WorkloadIdentity& id = v.sample.identity;
      workloads.emplace_back(json::bj::object{
          {"kind", id.kind},
          {"runtime", id.runtime},
          {"id", id.id},
          {"name", id.name},
          {"cpu_cores", SeriesArray(v.series.cpu_cores, WindowScale::Cores())},
          {"memory_bytes", SeriesArray(v.series.memory_bytes, WindowScale::Bytes())},
      });
    }
  }
  return json::Serialize(json::bj::object{
      {"time", Figure(snap.time_seconds)},
      {"interval_seconds", Figure(snap.interval_seconds)},
      {"kept", snap.series_kept},
      {"slots", slots},
      {"covers", std::move(covers)},
      {"workloads", std::move(workloads)},
  });
}

namespace {

const std::shared_ptr<const std::string>& EmptyDocument() {
  static const auto kEmpty = std::make_shared<const std::string>("{\"workloads\":[]}\n");
  return kEmpty;
}

bool SameSnapshot(const std::weak_ptr<const Snapshot>& of, const std::shared_ptr<const Snapshot>& snap) {
  return !of.owner_before(snap) && !snap.owner_before(of);
}

}  // namespace

WorkloadsJsonCache::WorkloadsJsonCache(const SnapshotStore& store, Builder build)
    : store_(store), build_(std::move(build)), worker_(std::make_unique<boost::asio::thread_pool>(1)) {}

WorkloadsJsonCache::~WorkloadsJsonCache() {
  worker_->stop();  // queued builds are dropped; a running one finishes
  worker_->join();
}

void WorkloadsJsonCache::CurrentAsync(Done done) {
  std::shared_ptr<const Snapshot> snap = store_.Get();
  if (!snap) return done(EmptyDocument());
  std::shared_ptr<const std::string> ready;
  {
    std::lock_guard lock(mu_);
    if (document_ && SameSnapshot(of_, snap)) ready = document_;
  }
  if (ready) return done(std::move(ready));
  boost::asio::post(*worker_, [this, done = std::move(done)] { done(Current()); });
}

std::shared_ptr<const std::string> WorkloadsJsonCache::Current() {
  std::shared_ptr<const Snapshot> snap = store_.Get();
  if (!snap) return EmptyDocument();
  std::lock_guard lock(mu_);
  const bool same = document_ && SameSnapshot(of_, snap);
  if (!same) {
    document_ = std::make_shared<const std::string>(build_(*snap));
    of_ = snap;
    ++builds_;
  }
  return document_;
}

uint64_t WorkloadsJsonCache::builds() const {
  std::lock_guard lock(mu_);
  return builds_;
}

}  // namespace we
