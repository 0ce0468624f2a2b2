// workload_listen_seconds (Normaliser) and the probe figures' way into the views
// (AttachProbeFigures): each kept to one instance, and absent for a workload not seen from its
// start.

#include <gtest/gtest.h>

#include "pipeline/normaliser.h"
#include "pipeline/sampler.h"

namespace we {
namespace {

using Clock = Normaliser::Clock;
using namespace std::chrono_literals;

Sample Listening(const std::string& id, uint64_t instance, double start, std::optional<bool> listening) {
  Sample s;
  s.identity = {"container", "docker", id, id, "", ""};
  s.instance = instance;
  s.start_time_seconds = start;
  s.listening = listening;
  return s;
}

TEST(ListenSeconds, FromStartToTheFirstTickThatSeesAListener) {
  Normaliser n;  // 1 s interval, no windows
  const double start = 1000;
  const Clock::time_point t0{};
  auto at = [&](int s, std::optional<bool> listening, uint64_t instance = 1) {
    auto views = n.Update({Listening("a", instance, start, listening)}, t0 + std::chrono::seconds(s), start + s);
    return views.at(0).listen_seconds;
  };
  EXPECT_EQ(at(0, false), std::nullopt);
  EXPECT_EQ(at(1, std::nullopt), std::nullopt);  // cannot tell on one tick: still waiting
  EXPECT_EQ(at(2, true), 2.0);
  EXPECT_EQ(at(3, true), 2.0);  // kept, not moved
  EXPECT_EQ(at(4, true), 2.0);
  // A new instance (the container restarted) waits again.
  EXPECT_EQ(at(5, false, 2), std::nullopt);

  // Seen first long after its start: when it began listening is not known.
  Normaliser late;
  auto views = late.Update({Listening("b", 1, start, true)}, t0, start + 600);
  EXPECT_EQ(views.at(0).listen_seconds, std::nullopt);
}

TEST(AttachProbeFigures, SameIdentityAndInstanceOnly) {
  std::vector<WorkloadView> views(2);
  views[0].sample = Listening("a", 1, 0, std::nullopt);
  views[1].sample = Listening("b", 5, 0, std::nullopt);
  ProbeResultsStore store;
  AttachProbeFigures(store, &views);  // nothing published yet
  EXPECT_FALSE(views[0].probe_success);
  auto results = std::make_shared<ProbeFiguresMap>();
  auto durations = std::make_shared<ProbeDurations>();
  durations->Observe(0.01);
  (*results)[views[0].sample.identity.Key()] = ProbeFigures{1, 3.0, true, durations};
  (*results)[views[1].sample.identity.Key()] = ProbeFigures{4, 9.0, false, nullptr};  // an older instance
  store.Publish(results);
  AttachProbeFigures(store, &views);
  EXPECT_EQ(views[0].ready_seconds, 3.0);
  EXPECT_EQ(views[0].probe_success, 1.0);
  EXPECT_EQ(views[0].probe_durations, durations);
  EXPECT_FALSE(views[1].ready_seconds);
  EXPECT_FALSE(views[1].probe_success);
}

}  // namespace
}  // namespace we
