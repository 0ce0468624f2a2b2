#!/usr/bin/env bash
# The daemon's cost on a real pure cgroup v2 host, as a ratio to the pread floor measured in the
# same guest (issue #16, item 7): bench/scale.sh run inside the Debian 12 / Linux 6.12 guest of
# tests/rigs/v2_host_test.sh, whose workloads carry every controller's files (memory.stat,
# memory.peak, io.stat, pids.current, PSI), which this hybrid machine's cgroup2 tree lacks.
#
#   sudo bench/v2_guest.sh BUILD_DIR [N] [DURATION_S]     (N 100, DURATION_S 60)
#
# BUILD_DIR: a configured build with workload_exporter, bench/floor and bench/make_fixture built
# (cmake --build BUILD_DIR --target workload_exporter floor make_fixture; Release for the figures
# of BENCHMARKS.md). Under TCG absolute times are those of an emulated CPU and mean nothing; the
# ratios to the floor, measured by the same emulated CPU in the same minute, are what to compare.
# SCRAPES (default 20) is passed on to scale.sh. The guest's report is printed and kept in
# BUILD_DIR/v2_guest_results/results/scale.txt.
set -euo pipefail
build=${1:?usage: bench/v2_guest.sh BUILD_DIR [N] [DURATION_S]}
build=$(readlink -f "$build")
n=${2:-100}
duration=${3:-60}
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
for b in workload_exporter bench/floor bench/make_fixture; do
  [[ -x $build/$b ]] || { echo "v2_guest.sh: $build/$b missing: cmake --build $build --target workload_exporter floor make_fixture" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/we-v2-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'N=%s\nDURATION=%s\nSCRAPES=%s\n' "$n" "$duration" "${SCRAPES:-20}" >"$work/scale.env"
cp "$build/workload_exporter" "$work/workload_exporter"
cp "$build/bench/floor" "$work/floor"
cp "$build/bench/make_fixture" "$work/make_fixture"
results=$build/v2_guest_results
rc=0
WE_V2HOST_CHECK=$here/v2_guest/scale_check.sh WE_V2HOST_IMAGE=0 WE_V2HOST_RESULTS=$results \
  WE_V2HOST_TIMEOUT=${WE_V2HOST_TIMEOUT:-1500} \
  WE_V2HOST_INJECT="$work/scale.env $here/scale.sh $work/workload_exporter $work/floor $work/make_fixture" \
  bash "$here/../tests/rigs/v2_host_test.sh" "$build" || rc=$?
echo "----- bench/scale.sh $n $duration real, in the guest ($results/results/scale.txt)"
cat "$results/results/scale.txt" 2>/dev/null || echo "(no report: see $results/results)"
exit "$rc"
