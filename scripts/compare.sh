#!/bin/bash
# compare.sh: the brief's experiment as one command. The same small HTTP application
# (tests/rigs/compare_app.py: /health, a CPU-bound /cpu, a memory-bound /mem) runs once in a runc
# container and once in a QEMU VM under TCG (tests/rigs/build_app_guest.sh), while the real
# daemon, with a ready probe for each, watches both. Then: both ready, an idle phase, the same fixed
# schedule of requests to the container and then to the VM, and the daemon's report
# (`workload_exporter report --compare vm:NAME container:NAME`, as a table and as JSON).
#
# Usage: scripts/compare.sh [options]   (as root: runc, cgroups, QEMU)
#   --load S          each workload's load phase, seconds (WE_COMPARE_LOAD, default 20)
#   --idle S          the idle phase before the loads, seconds (WE_COMPARE_IDLE, default 15)
#   --port P          first of three loopback ports: daemon P, container P+1, VM P+2
#                     (WE_COMPARE_PORT; default three free ones)
#   --build-dir D     the build tree (WE_COMPARE_BUILD_DIR, default build/): its workload_exporter,
#                     and the guest images cached in D/guest and D/app_guest
#   --daemon BIN      the daemon binary (default D/workload_exporter)
#   --interval D      the daemon's sampling interval (WE_COMPARE_INTERVAL, default 500ms)
#   --rate R, --concurrency C, --cpu-n N, --mem-mb M, --hold-ms H
#                     the load: R requests/s (default 4) by at most C at a time (4), cycling
#                     /cpu?n=N (40000 steps), /cpu?n=N, /mem?mb=M (32) held H ms (250); the
#                     defaults keep the TCG guest's one vCPU below saturation on this machine
#   --report-wait S   how long to wait for every report row to have both figures (default 90)
#   --out DIR         keep the artefacts there (report.txt, report.json, measured.txt, the logs)
# Output (stdout): the plan, the measured figures (ready time from when each was started, the
# daemon's ready/listen/startup series, process CPU and memory per phase, response times), the
# report's comparison table, and the check that every row the report prints has a figure in both
# the VM and the container column (tests/rigs/compare_driver.py check). Exit 0 when every row
# does, 1 when one does not or a step failed, 77 when this machine cannot run it (not root, no
# runc or qemu-system-x86_64), 64 for a usage error.
# It starts only its own processes and stops them by PID; its cgroups are created beneath its own
# (as tests/integration/ready_probe_test.cc does) and removed; all its files are in one mktemp -d.
set -euo pipefail

HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
SRC=$(dirname "$HERE")
RIGS=$SRC/tests/rigs
PY=/usr/bin/python3

LOAD=${WE_COMPARE_LOAD:-20}
IDLE=${WE_COMPARE_IDLE:-15}
PORT=${WE_COMPARE_PORT:-}
BUILD=${WE_COMPARE_BUILD_DIR:-build}
INTERVAL=${WE_COMPARE_INTERVAL:-500ms}
DAEMON=""
RATE=4 CONCURRENCY=4 CPU_N=40000 MEM_MB=32 HOLD_MS=250
REPORT_WAIT=90
KEEP=""

usage() {  # the header comment
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
    exit "${1:-64}"
}
while [ $# -gt 0 ]; do
    [ "$1" != --help ] || usage 0
    [ $# -ge 2 ] || usage
    case "$1" in
        --load) LOAD=$2 ;;
        --idle) IDLE=$2 ;;
        --port) PORT=$2 ;;
        --build-dir) BUILD=$2 ;;
        --daemon) DAEMON=$2 ;;
        --interval) INTERVAL=$2 ;;
        --rate) RATE=$2 ;;
        --concurrency) CONCURRENCY=$2 ;;
        --cpu-n) CPU_N=$2 ;;
        --mem-mb) MEM_MB=$2 ;;
        --hold-ms) HOLD_MS=$2 ;;
        --report-wait) REPORT_WAIT=$2 ;;
        --out) KEEP=$2 ;;
        *) usage ;;
    esac
    shift 2
done
DAEMON=${DAEMON:-$BUILD/workload_exporter}

log() { echo "compare.sh: $*" >&2; }
skip() { log "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (runc, cgroups)"
command -v runc >/dev/null || skip "no runc"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
[ -x /usr/bin/python3.11 ] || skip "no /usr/bin/python3.11"
[ -x "$DAEMON" ] || { log "$DAEMON: no daemon binary (build first: cmake --build $BUILD)"; exit 1; }
DAEMON=$(readlink -f "$DAEMON")
BUILD=$(readlink -f "$BUILD")

# shellcheck source=tests/test_util/kill_pid.sh
. "$SRC/tests/test_util/kill_pid.sh"
# shellcheck source=tests/test_util/remove_cgroups.sh
. "$SRC/tests/test_util/remove_cgroups.sh"

RIG=$(mktemp -d "${TMPDIR:-/tmp}/we-compare.XXXXXX")
DAEMON_PID="" VM_PID="" CTR="" CHILD=""
CREATED_CGROUPS=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local rc=$?
    set +e
    [ -z "$CHILD" ] || kill "$CHILD" 2>/dev/null
    [ -z "$DAEMON_PID" ] || kill_pid "$DAEMON_PID" "$(basename "$DAEMON" | cut -c1-15)"
    [ -z "$VM_PID" ] || kill_pid "$VM_PID" qemu-system-x86
    if [ -n "$CTR" ]; then
        runc kill "$CTR" KILL >/dev/null 2>&1
        for _ in $(seq 50); do runc delete -f "$CTR" >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    [ ${#CREATED_CGROUPS[@]} -eq 0 ] || remove_cgroups "${CREATED_CGROUPS[@]}"
    if [ -n "$KEEP" ]; then
        mkdir -p "$KEEP"
        find "$RIG" -maxdepth 1 -type f -exec cp {} "$KEEP"/ \;
    fi
    rm -rf "$RIG"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DRIVER=("$PY" "$RIGS/compare_driver.py")
driver() { "${DRIVER[@]}" "$@"; }
# The long steps run in the background while the script waits, so that INT or TERM stop it at
# once (bash runs a trap only after a foreground command ends); the cleanup stops that child.
waited() {
    "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}
now() { date +%s.%N; }

if [ -z "$PORT" ]; then
    mapfile -t PORTS < <(driver free-ports 3)
else
    PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))
fi
PD=${PORTS[0]} PC=${PORTS[1]} PV=${PORTS[2]}
SUF=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
ID=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
NAME_C=we-cmp-ctr-$SUF NAME_V=we-cmp-vm-$SUF
CTR=we-cmp-$SUF
DURL=http://127.0.0.1:$PD

echo "== workload_exporter: VM vs container, the same app (tests/rigs/compare_app.py)"
echo "The VM runs under QEMU's TCG (software emulation; this host's /dev/kvm cannot boot a Linux"
echo "guest, see RIGS.md): its CPU and response-time figures are TCG's, not those of KVM."
echo "container $NAME_C: runc, the host's /usr read-only, the host's network, app on 127.0.0.1:$PC;"
echo "          in a Docker-style cgroup with a Docker state file for its name, so runtime=docker"
echo "vm        $NAME_V: qemu-system-x86_64 -accel tcg -m 256 -smp 1, app in its initramfs, hostfwd 127.0.0.1:$PV"
echo "daemon    $DURL, sampling every $INTERVAL; idle ${IDLE}s, then ${LOAD}s of load for each in turn:"
echo "          $RATE requests/s, at most $CONCURRENCY at a time, cycling /cpu?n=$CPU_N, /cpu?n=$CPU_N, /mem?mb=$MEM_MB&hold_ms=$HOLD_MS"
echo

# --- the VM image (cached), the daemon ---------------------------------------------------------
bash "$RIGS/build_app_guest.sh" "$BUILD/app_guest" "$BUILD/guest" >"$RIG/build_app_guest.log" 2>&1 ||
    { cat "$RIG/build_app_guest.log" >&2; exit 1; }

mkdir -p "$RIG/root/var/lib/docker/containers/$ID"
# The container is runc's, in a Docker-style cgroup (docker-<id>.scope, as the integration tests
# make theirs); this state file gives it its name, as Docker's would.
cat >"$RIG/root/var/lib/docker/containers/$ID/config.v2.json" <<EOF
{"ID":"$ID","Name":"/$NAME_C","Config":{"Image":"we-compare-app","Labels":{}}}
EOF
cat >"$RIG/we.yml" <<EOF
web:
  listen_address: "127.0.0.1:$PD"
sampling:
  interval: $INTERVAL
paths:
  rootfs: $RIG/root
libvirt:
  uri: ""
probes:
  - match: {kind: container, name: "$NAME_C"}
    http: "http://127.0.0.1:$PC/health"
    interval: 2s
  - match: {kind: vm, name: "$NAME_V"}
    http: "http://127.0.0.1:$PV/health"
    interval: 2s
EOF
"$DAEMON" --config.file="$RIG/we.yml" >"$RIG/daemon.log" 2>&1 &
DAEMON_PID=$!
driver ready "$DURL/-/ready" --since "$(now)" --timeout 20 >/dev/null ||
    { log "daemon not ready"; cat "$RIG/daemon.log" >&2; exit 1; }

# --- the container ------------------------------------------------------------------------------
OWN_MEMORY=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
[ "$OWN_MEMORY" != "/" ] || OWN_MEMORY=""
CGROUP=$OWN_MEMORY/docker-$ID.scope
# runc makes that path in every hierarchy, parents included: where this process's own cgroup is
# elsewhere (on this hybrid host only the memory one is not the root), the parents are new too.
# Each directory that does not exist yet is recorded, parent before child, for the cleanup.
for h in /sys/fs/cgroup/*/; do
    [ -e "${h}cgroup.procs" ] || continue
    path=""
    IFS=/ read -ra parts <<<"${CGROUP#/}"
    for part in "${parts[@]}"; do
        path=$path/$part
        [ -d "${h%/}$path" ] || CREATED_CGROUPS+=("${h%/}$path")
    done
done
B=$RIG/bundle
mkdir -p "$B/rootfs"/{usr,app,tmp,proc,dev,sys,etc}
for l in bin sbin lib lib64; do ln -s "usr/$l" "$B/rootfs/$l"; done
(cd "$B" && runc spec)
"$PY" - "$B/config.json" "$CGROUP" "$RIGS" "$PC" <<'PY'
import json, sys
path, cgroup, rigs, port = sys.argv[1:]
spec = json.load(open(path))
p = spec["process"]
p["terminal"] = False
p["args"] = ["/usr/bin/python3.11", "-I", "-S", "-u", "/app/compare_app.py", "--bind", "127.0.0.1", "--port", port]
spec["linux"]["cgroupsPath"] = cgroup
# The host's network namespace: the app is reached on loopback only, as the VM's hostfwd is.
spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "network"]
spec["mounts"] += [
    {"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
    {"destination": "/app", "type": "bind", "source": rigs, "options": ["rbind", "ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=16m"]},
]
json.dump(spec, open(path, "w"), indent=1)
PY
T_C=$(now)
runc run -d --bundle "$B" "$CTR" >"$RIG/runc.log" 2>&1 </dev/null || { cat "$RIG/runc.log" >&2; exit 1; }
waited "${DRIVER[@]}" ready "http://127.0.0.1:$PC/health" --since "$T_C" --timeout 30 >"$RIG/ready_container" ||
    { cat "$RIG/runc.log" >&2; exit 1; }
READY_C=$(cat "$RIG/ready_container")
PID_C=$(runc state "$CTR" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
echo "container started $(date -u -d "@$T_C" +%T.%3N), first 200 from /health after ${READY_C}s (PID $PID_C)"

# --- the VM -------------------------------------------------------------------------------------
G=$BUILD/app_guest
T_V=$(now)
qemu-system-x86_64 -accel tcg,tb-size=64 -m 256 -smp 1 \
    -no-reboot -nodefaults -display none -serial "file:$RIG/vm.log" \
    -name "guest=$NAME_V,debug-threads=on" -uuid "$(cat /proc/sys/kernel/random/uuid)" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$PV-:8080" -device virtio-net-pci,netdev=n0 \
    -kernel "$G/vmlinuz" -initrd "$G/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 quiet" \
    -daemonize -pidfile "$RIG/vm.pid" </dev/null >"$RIG/qemu.err" 2>&1 || { cat "$RIG/qemu.err" >&2; exit 1; }
VM_PID=$(cat "$RIG/vm.pid")
waited "${DRIVER[@]}" ready "http://127.0.0.1:$PV/health" --since "$T_V" --timeout 120 >"$RIG/ready_vm" ||
    { tail -n 20 "$RIG/vm.log" >&2; exit 1; }
READY_V=$(cat "$RIG/ready_vm")
echo "vm        started $(date -u -d "@$T_V" +%T.%3N), first 200 from /health after ${READY_V}s (PID $VM_PID; $(grep -o 'WE-APP-BOOTED [0-9.]*' "$RIG/vm.log" | sed 's/WE-APP-BOOTED/guest userspace at/')s guest uptime)"

cat >"$RIG/state.json" <<EOF
{"vm": {"name": "$NAME_V", "pid": $VM_PID, "started": $T_V, "ready_measured": $READY_V},
 "container": {"name": "$NAME_C", "pid": $PID_C, "started": $T_C, "ready_measured": $READY_C}}
EOF
snap() { driver proc "$VM_PID" "$PID_C" >"$RIG/proc_$1.json"; }

# --- idle, then the same load to each in turn ---------------------------------------------------
echo "idle ${IDLE}s ..."
snap idle_start
waited sleep "$IDLE"
snap idle_end
for side in container vm; do
    port=$PC
    [ "$side" = container ] || port=$PV
    echo "load on the $side ${LOAD}s ..."
    snap "load_${side}_start"
    waited "${DRIVER[@]}" load "http://127.0.0.1:$port" --seconds "$LOAD" --rate "$RATE" --concurrency "$CONCURRENCY" \
        --cpu-n "$CPU_N" --mem-mb "$MEM_MB" --hold-ms "$HOLD_MS" >"$RIG/load_$side.json"
    snap "load_${side}_end"
done

# --- the report: wait until every row has its figures (the startup rows need the shortest window
# to have filled), then print it ------------------------------------------------------------------
REPORT=("$DAEMON" report --url "$DURL" --select "name=we-cmp-*-$SUF" --compare "vm:$NAME_V" "container:$NAME_C")
deadline=$((SECONDS + REPORT_WAIT))
while :; do
    "${REPORT[@]}" --format json >"$RIG/report.json"
    if driver check "$RIG/report.json" >"$RIG/check.txt"; then CHECK=0; else CHECK=1; fi
    if [ "$CHECK" -eq 0 ] || [ "$SECONDS" -ge "$deadline" ]; then break; fi
    waited sleep 2
done
snap end
driver metrics "$DURL" "$NAME_V" "$NAME_C" >"$RIG/metrics.json"
"${REPORT[@]}" >"$RIG/report.txt"
driver summary "$RIG" >"$RIG/measured.txt"

echo
echo "== Measured by compare.sh (ready: from the moment it started each; process figures from /proc)"
cat "$RIG/measured.txt"
cat <<'NOTE'
(compare.sh's first 200 counts from its own runc/qemu command; the daemon's ready time from the
workload's start, the container's cgroup or the QEMU process, to its first successful probe, one
probe per sampling interval until then. The daemon looks for listening sockets of cgroup
workloads only: a VM seen as its QEMU process alone has no listen time, and the hostfwd socket is
QEMU's, not the guest's. Process figures: the container's python and the QEMU process, all
threads; QEMU's RSS holds the guest RAM it has touched and TCG's 64 MiB translation cache.)
NOTE
echo
echo "== \$ workload_exporter report --url $DURL --select 'name=we-cmp-*-$SUF' \\"
echo "       --compare vm:$NAME_V container:$NAME_C"
cat "$RIG/report.txt"
echo
echo "== Every row of the report (--format json) has a figure for both kinds:"
cat "$RIG/check.txt"
[ -z "$KEEP" ] || echo "artefacts in $KEEP"
exit "$CHECK"
