#include "test_util/fixture_snapshot.h"

#include <chrono>
#include <string>

#include "pipeline/sampler.h"

namespace we::test_util {

std::shared_ptr<Snapshot> FixtureSnapshot(const std::string& fixtures) {
  static RealFileSystem fs;  // outlives every pipeline, as the sampler requires
  SamplerSettings settings;
  settings.cgroupfs = fixtures + "/cgroup/v2";
  settings.procfs = fixtures + "/proc";
  settings.rootfs = fixtures + "/rootfs";
  SamplingPipeline pipeline(fs, settings);
  std::chrono::steady_clock::time_point t0{};
  std::chrono::system_clock::time_point wall{std::chrono::seconds(1764300000)};
  pipeline.Tick(t0, wall);
  return pipeline.Tick(t0 + std::chrono::seconds(1), wall + std::chrono::seconds(1));
}

}  // namespace we::test_util
