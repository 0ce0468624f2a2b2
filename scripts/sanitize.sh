#!/usr/bin/env bash
# The suite under the sanitizers, from two clang builds, then every libFuzzer target for a bounded
# time (default 15 s each). The test command (scripts/test.sh) runs this after the main suite; run
# it alone to check a change for memory errors, undefined behaviour and data races:
#
#   bash scripts/sanitize.sh [FUZZ_SECONDS_PER_TARGET]
#
# 1. build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer): the unit suite, then the fuzz
#    targets on the same build. Every parser and state machine under ASan and UBSan.
# 2. build-tsan/ (ThreadSanitizer): the unit suite, the integration tests (the TSan daemon binary
#    against real cgroups, runc, QEMU and libvirtd, as root), and the hostile-client and
#    password-flood tests against the TSan daemon: the sampler, renderer, bcrypt pool and event
#    loop under real concurrent load. Any report from any process (the daemon included, written
#    to build-tsan/tsan-reports/) fails the run and is printed.
#
# Skipped under TSan, each for a reason stated where it is skipped: the spike-between-samples test
# (its premise is about memory, which TSan's shadow pages distort) and the churn test's RSS bound.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
build="build-asan"

# The test packages include clang with libFuzzer and the sanitizer runtimes.
bash scripts/install-deps.sh test

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DWE_SANITIZE=ON -DWE_FUZZ=ON -DWE_BUILD_TESTS=ON -DWE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target unit_tests

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$SECONDS
"$build/tests/unit_tests" --gtest_brief=1
echo "sanitize: unit tests passed under ASan+UBSan in $((SECONDS - start)) s"

FUZZ_BUILD_DIR=$build FUZZ_BUILD_TESTS=ON bash scripts/fuzz.sh "$seconds"

# ------------------------------------------------------------------ ThreadSanitizer
tsan="build-tsan"
cmake -S . -B "$tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DWE_TSAN=ON -DWE_BUILD_TESTS=ON -DWE_BUILD_BENCH=OFF >/dev/null
cmake --build "$tsan" --target unit_tests integration_tests workload_exporter
reports=$PWD/$tsan/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
# Every instrumented process writes its reports to $reports/report.PID; the run fails on any.
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1:halt_on_error=0:log_path=$reports/report:suppressions=$PWD/tests/sanitizers/tsan.supp}
races() { # STEP: fails, printing every report, when any process has written one
  shopt -s nullglob
  local files=("$reports"/report.*)
  shopt -u nullglob
  ((${#files[@]} == 0)) && return 0
  echo "sanitize: ThreadSanitizer reports after $1:" >&2
  cat "${files[@]}" >&2
  exit 1
}
start=$SECONDS
"$tsan/tests/unit_tests" --gtest_brief=1
races "the unit tests"
echo "sanitize: unit tests passed under TSan in $((SECONDS - start)) s"
start=$SECONDS
if [[ $(id -u) -eq 0 ]]; then
  "$tsan/tests/integration_tests" --gtest_brief=1
  races "the integration tests"
  python3 tests/integration/hostile_clients_test.py "$tsan/workload_exporter"
  races "the hostile clients test"
  python3 tests/integration/password_flood_test.py "$tsan/workload_exporter"
  races "the password flood test"
  echo "sanitize: integration, hostile-client and password-flood tests passed under TSan in $((SECONDS - start)) s"
else
  echo "sanitize: not root: the integration tests under TSan are skipped"
fi
