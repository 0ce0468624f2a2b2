#!/usr/bin/env bash
# The unit suite under AddressSanitizer and UndefinedBehaviorSanitizer, then every libFuzzer target
# for a bounded time (default 15 s each), from one clang build in build-asan/. The test command
# (scripts/test.sh) runs this after the main suite; run it alone to check a change for memory
# errors and undefined behaviour:
#
#   bash scripts/sanitize.sh [FUZZ_SECONDS_PER_TARGET]
#
# Unit tests only: the integration tests start the release daemon, real VMs and Prometheus, which
# the main suite covers; here the point is every parser and state machine under the sanitizers.
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
