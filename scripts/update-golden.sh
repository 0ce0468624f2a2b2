#!/usr/bin/env bash
# Regenerates tests/fixtures/expected/*.prom from the fixture hosts. Read the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake --build "$build" --target unit_tests
WE_UPDATE_GOLDEN=1 "$build/tests/unit_tests" --gtest_filter='Hosts/GoldenMetrics.*'
git --no-pager diff --stat -- tests/fixtures/expected || true
