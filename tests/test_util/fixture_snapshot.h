#pragma once
// The snapshot of the fixture host (tests/fixtures/cgroup/v2, proc and rootfs: containers and one
// VM, a QEMU process joined with its libvirt cgroup) after two ticks one second apart, at a fixed
// wall time, for the tests of what is built from a snapshot (/api/v1/workloads, the report).
//
// Thread-safety: call from one thread at a time; each call ticks a pipeline of its own.

#include <memory>
#include <string>

#include "pipeline/snapshot.h"

namespace we::test_util {

// `fixtures`: tests/fixtures. Its default is the unit tests' WE_FIXTURES_DIR, resolved where this is
// called, since test_util is also built into the integration tests, which have no such macro.
#ifdef WE_FIXTURES_DIR
std::shared_ptr<Snapshot> FixtureSnapshot(const std::string& fixtures = WE_FIXTURES_DIR);
#else
std::shared_ptr<Snapshot> FixtureSnapshot(const std::string& fixtures);
#endif

}  // namespace we::test_util
