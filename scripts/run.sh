#!/usr/bin/env bash
# Installs what is needed, builds the release binary, and runs the daemon on this host with its
# default configuration (listening on :9746). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh run
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DWE_BUILD_TESTS=OFF >/dev/null
cmake --build build-release --target workload_exporter
echo "workload_exporter: serving on http://localhost:9746/metrics (try: curl -s localhost:9746/metrics)" >&2
exec ./build-release/workload_exporter "$@"
