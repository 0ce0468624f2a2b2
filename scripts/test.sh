#!/usr/bin/env bash
# Installs what is needed, builds with warnings as errors, and runs every test: unit tests, the
# golden /metrics files under promtool, and the integration tests on this machine's real cgroups
# with the real daemon binary (those need root); then the unit suite again under ASan and UBSan
# (a clang build in build-asan/) and every libFuzzer target for 15 s (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWE_WERROR=ON -DWE_BUILD_BENCH=ON >/dev/null
cmake --build build
ctest --test-dir build --output-on-failure --timeout 300 -j "$(nproc)"
bash scripts/sanitize.sh 15
