#pragma once
// A snapshot that gives every family of exposition/families.cc at least one series, with awkward
// label values (quotes, backslashes, newlines, clashing container labels) and awkward numbers.
// Shared by text_test.cc (the writer against prometheus-cpp), families_test.cc and
// http/server_test.cc (its container, 10,000 times over, for a long render).

#include <chrono>
#include <memory>
#include <string>

#include "pipeline/snapshot.h"

namespace we::test {

inline Snapshot EveryFamilySnapshot() {
  Snapshot snap;
  snap.time_seconds = 1764300001.25;
  snap.windows =
      WindowLayout::Make({std::chrono::seconds(60), std::chrono::seconds(300)}, std::chrono::milliseconds(1000), 0.1);
  snap.cgroup_layout = "v2";
  snap.peak_source = "interval_watermark";
  snap.metadata_errors = {{"docker", 2}};
  snap.opener_requests = {{"ok", 3}, {"refused", 1}, {"unavailable", 0}};
  snap.collectors = {{"cgroup", 0.0123, true, {}}, {"qemu", 0.001, false, {"boom"}}};
  snap.process.cpu_seconds = 12.5;
  snap.process.open_fds = 17;
  snap.process.max_fds = 20000;
  snap.process.resident_memory_bytes = 25 << 20;
  snap.process.virtual_memory_bytes = 300 << 20;
  snap.process.start_time_seconds = 1764000000.5;

  WorkloadView c;
  c.sample.identity = {"container", "docker", std::string(64, 'a'), "web \"1\"\\\nx", "pod-uid-1", ""};
  c.sample.cgroup = "/system.slice/docker-a.scope";
  c.sample.start_time_seconds = 1764000000;
  c.sample.cpu = {3.0, 2.0, 1.0, 50, 5, 0.4, 0.5};
  c.sample.memory = {104857600, 83886080, 62914560, 41943040, 4096, std::nullopt, 209715200, 1000, 1};
  c.sample.tasks = 2;
  c.sample.io = {1, 2, 3, 4};
  c.sample.network = {10, 20, 30, 40, 0, 1};
  c.sample.cpu_pressure = {1.0, 0.5};
  c.sample.memory_pressure = {2e-5, std::nullopt};
  c.sample.io_pressure = {0.25, 0.125};
  c.sample.metadata = std::make_shared<const ContainerMetadata>(
      ContainerMetadata{"web-1",
                        "nginx:1.25",
                        "default",
                        "web",
                        "nginx",
                        {{"com.example.team", "store\"front"}, {"com_example_team", "clash"}, {"a-b", "c"}},
                        false,
                        ""});
  c.cpu_usage_cores = 0.25;
  c.windows = {WindowFigures{0.01, 1.5, 9e7, 2e8, 0.5, 0.75},
               WindowFigures{std::nullopt, 1.5, std::nullopt, 2e8, std::nullopt, std::nullopt}};
  c.startup_seconds = 3.5;
  c.listen_seconds = 2.0;
  c.ready_seconds = 3.25;
  c.probe_success = 1;
  auto durations = std::make_shared<ProbeDurations>();
  durations->Observe(0.003);
  durations->Observe(0.2);
  c.probe_durations = durations;
  snap.workloads.push_back(c);

  WorkloadView vm;
  vm.sample.identity = {"vm", "libvirt", "6a1f3c2e", "ubuntu22", "", ""};
  vm.sample.cgroup = "/machine.slice/machine-qemu\\x2d1.scope";
  vm.sample.cpu.usage_seconds = 100;
  vm.sample.memory.limit_bytes = 4294967296;  // the container has none: absent there
  vm.sample.memory_pressure = {std::nullopt, 0.75};
  vm.sample.vm = VmFigures{};
  vm.sample.vm->vcpus = 2;
  vm.sample.vm->vcpu = {{0, 10.5, 0.1}, {1, 11.5, std::nullopt}};
  vm.sample.vm->memory_assigned_bytes = 1073741824;
  vm.sample.vm->memory_max_bytes = 2147483648;
  vm.sample.vm->guest_memory_used_bytes = 536870912;
  vm.sample.vm->guest_memory_stats_age_seconds = 4.0;
  vm.sample.vm->state = 1;
  vm.sample.vm->state_reason = 5;
  vm.sample.vm->block = {{"vda", 1, 2, 3, 4}};
  vm.sample.vm->net = {{"vnet0", 5, 6, 7, std::nullopt}, {"vnet1", 8, 9, 10, 11}};
  vm.windows = {WindowFigures{}, WindowFigures{}};
  snap.workloads.push_back(vm);
  return snap;
}

}  // namespace we::test
