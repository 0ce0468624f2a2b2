#!/bin/bash
# Run by the pure cgroup v2 guest's wetest-check.service (see bench/v2_guest.sh): bench/scale.sh in
# real mode, its N cgroups beneath /sys/fs/cgroup/we-bench, a cgroup of the root with the cpu,
# memory, io and pids controllers enabled for its children, so each workload has every file a
# container has on such a host. Writes /results/scale.txt, one PASS line to checks.txt when
# scale.sh succeeded (FAIL otherwise), and /results/done; then powers the guest off.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
R=/results
W=/opt/wetest
mkdir -p "$R"
: >"$R/checks.txt"
finish() {
  date +%s >"$R/done"
  sync
  systemctl poweroff --force
}
trap finish EXIT
# shellcheck source=/dev/null
. "$W/scale.env"
mkdir -p "$W/build/bench"
chmod 0755 "$W/scale.sh" "$W/workload_exporter" "$W/floor" "$W/make_fixture"
ln -sf "$W/workload_exporter" "$W/build/workload_exporter"
ln -sf "$W/floor" "$W/build/bench/floor"
ln -sf "$W/make_fixture" "$W/build/bench/make_fixture"
P=/sys/fs/cgroup/we-bench
mkdir -p "$P"
echo "+cpu +memory +io +pids" >"$P/cgroup.subtree_control"
{
  echo "kernel $(uname -r), $(nproc) vCPU, $(systemctl --version | head -n1)"
  echo "we-bench subtree_control: $(cat "$P/cgroup.subtree_control")"
} >"$R/scale.txt"
if BUILD=$W/build CG_PARENT=$P SCRAPES=$SCRAPES RESULT=$R/scale.kv \
   bash "$W/scale.sh" "$N" "$DURATION" real >>"$R/scale.txt" 2>&1; then
  echo "PASS scale.sh:N=$N ran ok" >>"$R/checks.txt"
else
  echo "FAIL scale.sh:N=$N rc=$? ok" >>"$R/checks.txt"
fi
cat "$R/scale.kv" >>"$R/scale.txt" 2>/dev/null
rmdir "$P" 2>/dev/null
