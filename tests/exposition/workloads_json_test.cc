// /api/v1/workloads: the document is parsed back (never searched for substrings), its figures are
// the snapshot's as JSON numbers, names of any bytes stay valid JSON, and it is built once per
// snapshot however many requests ask.

#include "exposition/workloads_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <limits>
#include <thread>

#include "collectors/json.h"
#include "every_family_snapshot.h"
#include "pipeline/sampler.h"
#include "test_util/fixture_snapshot.h"

namespace we {
namespace {

namespace bj = json::bj;

bj::value ParseOrDie(const std::string& text) {
  std::string error;
  auto doc = json::Parse(text, &error);
  EXPECT_TRUE(doc) << error << "\n" << text;
  return doc ? std::move(*doc) : bj::value();
}

TEST(WorkloadsJson, EveryWorkloadWithItsWindowsAsNumbers) {
  auto snap = test_util::FixtureSnapshot();
  const std::string text = WorkloadsJson(*snap);
  ASSERT_EQ(text.back(), '\n');
  const bj::value doc = ParseOrDie(text);
  EXPECT_EQ(doc.at("time"), bj::value(1764300001));
  EXPECT_EQ(doc.at("windows"), (bj::array{"1m", "5m", "1h"}));
  const bj::array& workloads = doc.at("workloads").as_array();
  ASSERT_EQ(workloads.size(), snap->workloads.size());
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const bj::object& w = workloads[i].as_object();
    const WorkloadView& v = snap->workloads[i];
    SCOPED_TRACE(v.sample.identity.name);
    // The same fields, in the same order, as before Boost.JSON wrote them.
    std::vector<std::string> keys;
    for (const auto& member : w) keys.emplace_back(member.key());
    EXPECT_EQ(keys,
              (std::vector<std::string>{
                  "kind", "runtime", "id", "name", "parent", "start_time_seconds", "startup_seconds", "startup_state",
                  "samples", "cpu_usage_cores", "memory_usage_bytes", "memory_working_set_bytes", "listen_seconds",
                  "ready_seconds", "probe_success", "probe_responses", "probe_response_seconds", "windows", "labels"}));
    EXPECT_EQ(w.at("kind"), bj::value(v.sample.identity.kind));
    EXPECT_EQ(w.at("parent"), bj::value(v.sample.identity.parent));  // a pod's containers: the pod's UID
    EXPECT_EQ(w.at("id"), bj::value(v.sample.identity.id));
    EXPECT_EQ(w.at("name"), bj::value(v.sample.identity.name));
    EXPECT_EQ(json::Number(&w.at("cpu_usage_cores")), v.cpu_usage_cores);
    if (v.sample.memory.usage_bytes) {
      // A byte count is written as an integer.
      EXPECT_EQ(w.at("memory_usage_bytes"), bj::value(static_cast<std::int64_t>(*v.sample.memory.usage_bytes)));
    } else {
      EXPECT_TRUE(w.at("memory_usage_bytes").is_null());
    }
    const bj::object& windows = w.at("windows").as_object();
    ASSERT_EQ(windows.size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) {
      const bj::value& figures = windows.at(snap->windows->specs[k].label);
      EXPECT_EQ(json::Number(&figures.at("memory_idle_bytes")), v.windows[k].memory_idle_bytes);
      EXPECT_EQ(json::Number(&figures.at("cpu_peak_cores")), v.windows[k].cpu_peak_cores);
      EXPECT_EQ(figures.at("samples"), 2);  // two ticks, and every window holds two slots
    }
  }
  const auto vm =
      std::find_if(workloads.begin(), workloads.end(), [](const bj::value& w) { return w.at("kind") == "vm"; });
  ASSERT_NE(vm, workloads.end());
  EXPECT_EQ(vm->at("runtime"), "libvirt");
  EXPECT_EQ(vm->at("id"), "6a1f3c2e-9d4b-4e8a-b7c5-0f1e2d3c4b5a");
  EXPECT_TRUE(vm->at("startup_seconds").is_null());
  EXPECT_EQ(vm->at("samples"), 2);
  // Its start time (from the fixture's /proc btime) is no older than the fixture's wall time: seen
  // from its start, and after two ticks still waiting for its CPU to settle.
  EXPECT_EQ(vm->at("startup_state"), "waiting");
  // Named from its runtime's state file.
  EXPECT_NE(
      std::find_if(workloads.begin(), workloads.end(), [](const bj::value& w) { return w.at("name") == "web-1"; }),
      workloads.end());
}

// The brief's startup and response time, and the sizing's CPU percentiles, as the report reads them.
TEST(WorkloadsJson, ProbeFiguresAndCpuPercentiles) {
  Snapshot snap = test::EveryFamilySnapshot();
  snap.workloads[0].windows[0].cpu_p90_cores = 0.75;
  snap.workloads[0].windows[0].cpu_p95_cores = 1.25;
  const bj::value doc = ParseOrDie(WorkloadsJson(snap));
  const bj::value& c = doc.at("workloads").at(0);
  EXPECT_EQ(c.at("listen_seconds"), 2);
  EXPECT_EQ(c.at("ready_seconds"), 3.25);
  EXPECT_EQ(c.at("probe_success"), 1);
  EXPECT_EQ(c.at("probe_responses"), 2);
  EXPECT_EQ(json::Number(&c.at("probe_response_seconds")), (0.003 + 0.2) / 2);
  const bj::value& window = c.at("windows").at(snap.windows->specs[0].label);
  EXPECT_EQ(window.at("cpu_p90_cores"), 0.75);
  EXPECT_EQ(window.at("cpu_p95_cores"), 1.25);
  // A workload without a probe: every probe figure null.
  const bj::value& vm = doc.at("workloads").at(1);
  for (const char* key :
       {"listen_seconds", "ready_seconds", "probe_success", "probe_responses", "probe_response_seconds"})
    EXPECT_TRUE(vm.at(key).is_null()) << key;
}

TEST(WorkloadsJson, NamesOfAnyCharacterStayValidJson) {
  auto snap = test_util::FixtureSnapshot();
  ASSERT_FALSE(snap->workloads.empty());
  const std::string odd = "a\"b\\c\nd\te\x01/f";
  snap->workloads[0].sample.identity.name = odd;
  snap->workloads[0].cpu_usage_cores = std::numeric_limits<double>::quiet_NaN();
  const bj::value doc = ParseOrDie(WorkloadsJson(*snap));
  EXPECT_EQ(doc.at("workloads").at(0).at("name"), bj::value(odd));
  EXPECT_TRUE(doc.at("workloads").at(0).at("cpu_usage_cores").is_null());  // JSON has no NaN
}

TEST(WorkloadsJson, LabelsAreThoseOfTheMetricsSeries) {
  auto snap = test_util::FixtureSnapshot();
  ASSERT_FALSE(snap->workloads.empty());
  auto metadata = std::make_shared<ContainerMetadata>();
  metadata->name = "flask-ctr";
  metadata->image = "flask:3";
  metadata->pod = "shop-0";
  // std::map order: "app.name" comes before "app_name", so it is the one exported as label_app_name.
  metadata->labels = {{"app", "flask"}, {"app.name", "first"}, {"app_name", "second"}, {"tier", "a\"b|c\n"}};
  snap->workloads[0].sample.metadata = metadata;
  const bj::value doc = ParseOrDie(WorkloadsJson(*snap));
  EXPECT_EQ(doc.at("workloads").at(0).at("labels"), (bj::object{{"image", "flask:3"},
                                                                {"pod", "shop-0"},
                                                                {"label_app", "flask"},
                                                                {"label_app_name", "first"},
                                                                {"label_tier", "a\"b|c\n"}}));
  // A workload the runtime told nothing about has none.
  snap->workloads[0].sample.metadata = nullptr;
  EXPECT_EQ(ParseOrDie(WorkloadsJson(*snap)).at("workloads").at(0).at("labels"), bj::object());
}

TEST(WorkloadsJson, WithoutWindowsOrWorkloads) {
  Snapshot empty;
  empty.time_seconds = 1.5;
  EXPECT_EQ(WorkloadsJson(empty), "{\"time\":1.5E0,\"windows\":[],\"workloads\":[]}\n");
}

TEST(WorkloadsJsonCache, OneDocumentPerSnapshotSharedByEveryRequest) {
  SnapshotStore store;
  WorkloadsJsonCache cache(store);
  EXPECT_EQ(*cache.Current(), "{\"workloads\":[]}\n");  // before the first snapshot
  EXPECT_EQ(cache.builds(), 0u);
  std::shared_ptr<const Snapshot> first = test_util::FixtureSnapshot();
  store.Publish(first);
  const auto a = cache.Current();
  const auto b = cache.Current();
  EXPECT_EQ(a, b);  // the same document, not an equal copy
  EXPECT_EQ(*a, WorkloadsJson(*first));
  EXPECT_EQ(cache.builds(), 1u);
  // The cache holds its snapshot weakly: the sampler may reuse it once it is the only owner.
  EXPECT_EQ(first.use_count(), 2);  // `first` and the store
  auto second = std::make_shared<Snapshot>(*first);
  second->time_seconds += 1;
  store.Publish(second);
  first.reset();
  const auto c = cache.Current();
  EXPECT_NE(c, a);
  EXPECT_EQ(cache.builds(), 2u);
  EXPECT_EQ(ParseOrDie(*c).at("time"), bj::value(1764300002));
  // An earlier document stays whole for whoever still serves it.
  EXPECT_EQ(ParseOrDie(*a).at("time"), bj::value(1764300001));
}

TEST(WorkloadsJsonCache, CurrentAsyncBuildsOnItsWorkerAndAnswersAtOnceWhenBuilt) {
  SnapshotStore store;
  WorkloadsJsonCache cache(store);
  struct Answer {
    std::shared_ptr<const std::string> doc;
    std::thread::id thread;
  };
  auto ask = [&] {
    std::promise<Answer> promise;
    auto future = promise.get_future();
    cache.CurrentAsync([&promise](std::shared_ptr<const std::string> doc) {
      promise.set_value({std::move(doc), std::this_thread::get_id()});
    });
    return future.get();
  };
  // Before the first snapshot: the empty document, at once, on the caller's thread.
  Answer none = ask();
  EXPECT_EQ(*none.doc, "{\"workloads\":[]}\n");
  EXPECT_EQ(none.thread, std::this_thread::get_id());

  std::shared_ptr<const Snapshot> snap = test_util::FixtureSnapshot();
  store.Publish(snap);
  // Not built yet: built on the worker, never on the caller's thread (the event loop).
  Answer built = ask();
  EXPECT_NE(built.thread, std::this_thread::get_id());
  EXPECT_EQ(*built.doc, WorkloadsJson(*snap));
  EXPECT_EQ(cache.builds(), 1u);
  // Built: the same document, at once, on the caller's thread.
  Answer again = ask();
  EXPECT_EQ(again.doc, built.doc);
  EXPECT_EQ(again.thread, std::this_thread::get_id());
  EXPECT_EQ(cache.builds(), 1u);
}

// The fixture host after `ticks` ticks one second apart, its snapshots keeping the series.
std::shared_ptr<Snapshot> SnapshotWithSeries(int ticks) {
  static RealFileSystem fs;
  SamplerSettings settings;
  settings.cgroupfs = std::string(WE_FIXTURES_DIR) + "/cgroup/v2";
  settings.procfs = std::string(WE_FIXTURES_DIR) + "/proc";
  settings.rootfs = std::string(WE_FIXTURES_DIR) + "/rootfs";
  SamplingPipeline pipeline(fs, settings);
  pipeline.set_keep_series(true);
  std::chrono::steady_clock::time_point t0{};
  std::chrono::system_clock::time_point wall{std::chrono::seconds(1764300000)};
  std::shared_ptr<Snapshot> snap;
  for (int i = 0; i < ticks; ++i) snap = pipeline.Tick(t0 + std::chrono::seconds(i), wall + std::chrono::seconds(i));
  return snap;
}

TEST(WorkloadSeriesJson, NotKeptSaysSoAndHoldsNoWorkloads) {
  auto snap = test_util::FixtureSnapshot();  // a sampler nobody asked for series
  ASSERT_FALSE(snap->series_kept);
  for (const WorkloadView& v : snap->workloads) EXPECT_TRUE(v.series.cpu_cores.empty());
  const bj::value doc = ParseOrDie(WorkloadSeriesJson(*snap));
  EXPECT_EQ(doc.at("kept"), false);
  EXPECT_EQ(doc.at("time"), bj::value(1764300001));
  EXPECT_EQ(doc.at("interval_seconds"), 1);
  EXPECT_EQ(doc.at("slots"), 300);                       // the ring at the default windows and 1 s
  EXPECT_EQ(doc.at("covers"), (bj::array{"1m", "5m"}));  // 1h keeps per-minute chunks only
  EXPECT_TRUE(doc.at("workloads").as_array().empty());
}

TEST(WorkloadSeriesJson, EveryWorkloadsValuesOldestFirstWithNullForGaps) {
  auto snap = SnapshotWithSeries(3);
  ASSERT_TRUE(snap->series_kept);
  const bj::value doc = ParseOrDie(WorkloadSeriesJson(*snap));
  EXPECT_EQ(doc.at("kept"), true);
  EXPECT_EQ(doc.at("time"), bj::value(1764300002));
  const bj::array& workloads = doc.at("workloads").as_array();
  ASSERT_EQ(workloads.size(), snap->workloads.size());
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const WorkloadView& v = snap->workloads[i];
    const bj::object& w = workloads[i].as_object();
    SCOPED_TRACE(v.sample.identity.name);
    EXPECT_EQ(w.at("id"), bj::value(v.sample.identity.id));
    EXPECT_EQ(w.at("kind"), bj::value(v.sample.identity.kind));
    const bj::array& cpu = w.at("cpu_cores").as_array();
    const bj::array& memory = w.at("memory_bytes").as_array();
    ASSERT_EQ(cpu.size(), 3u);  // three ticks: three slots
    ASSERT_EQ(memory.size(), 3u);
    EXPECT_TRUE(cpu[0].is_null());  // the first sample of an instance has no rate
    // The last value is the snapshot's own, within the code's error and the 5 digits.
    if (v.cpu_usage_cores) {
      ASSERT_TRUE(json::Number(&cpu[2]));
      EXPECT_NEAR(*json::Number(&cpu[2]), *v.cpu_usage_cores, 1e-3 * *v.cpu_usage_cores + 1e-6);
    }
    const auto& m = v.sample.memory;
    const std::optional<uint64_t> fed = m.working_set_bytes ? m.working_set_bytes : m.usage_bytes;
    if (fed) {
      ASSERT_TRUE(json::Number(&memory[2]));
      EXPECT_NEAR(*json::Number(&memory[2]), static_cast<double>(*fed), 1e-3 * static_cast<double>(*fed) + 1);
    } else {
      EXPECT_TRUE(memory[2].is_null());
    }
  }
}

TEST(WorkloadSeriesJson, AHostileNameStaysValidJson) {
  auto snap = SnapshotWithSeries(2);
  ASSERT_FALSE(snap->workloads.empty());
  snap->workloads[0].sample.identity.name = "<script>alert(\"x\")</script>'\xc3\xa9\n";
  const bj::value doc = ParseOrDie(WorkloadSeriesJson(*snap));
  EXPECT_EQ(doc.at("workloads").as_array()[0].at("name"), bj::value("<script>alert(\"x\")</script>'\xc3\xa9\n"));
}

TEST(WorkloadSeriesJson, TheCacheBuildsTheSeriesDocumentOncePerSnapshot) {
  SnapshotStore store;
  WorkloadsJsonCache cache(store, WorkloadSeriesJson);
  std::shared_ptr<const Snapshot> snap = SnapshotWithSeries(2);
  store.Publish(snap);
  const auto first = cache.Current();
  EXPECT_EQ(*first, WorkloadSeriesJson(*snap));
  EXPECT_EQ(cache.Current(), first);
  EXPECT_EQ(cache.builds(), 1u);
}

}  // namespace
}  // namespace we
