#!/usr/bin/env bash
# The churn soak: 20 containers a second created and destroyed (real cgroups, a process each) for
# SECONDS (default 300) while /metrics is scraped every second; see tests/integration/churn_test.cc
# for what is checked. Prints the figures BENCHMARKS.md records (descriptors and RSS before, midway
# and after; scrapes and the slowest). Needs root and a build with the tests (scripts/test.sh, or
# BUILD_DIR=<dir>).
#
#   bash scripts/soak.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
build=${BUILD_DIR:-build}
cmake --build "$build" --target integration_tests workload_exporter >/dev/null
WE_CHURN_SECONDS=$seconds "$build/tests/integration_tests" --gtest_filter='Churn.*' \
  --gtest_output="xml:$build/soak-churn.xml" | grep -E '^churn:|OK|FAILED|Failure|Expected|Which is|still|re-created|scrape'
