#!/usr/bin/env bash
# Scale harness: N workloads, the Release daemon at a 1 s interval, its cost, and the floor.
#
#   bench/scale.sh N [DURATION_S] [MODE]        (as root; MODE "real" (default) or "fixture")
#
# real     N real cgroups named docker-<64 hex>.scope beneath this script's own cgroup, in the
#          cgroup2 tree (/sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on a pure v2 one)
#          and, on a hybrid or v1 host, in the v1 memory tree; a sleeping process in every 10th.
#          The daemon reads the host's whole cgroupfs (/sys/fs/cgroup), so other cgroups present
#          count too; the floor reads the same tree.
# fixture  a tmpfs holding a synthetic pure cgroup v2 tree with N workloads carrying every file
#          the daemon reads on v2 (bench/make_fixture.cc); the daemon reads that tree.
#
# Then: the floor over the same tree (bench/floor.cc), the daemon for DURATION_S (default 60)
# seconds with no scrape (sampling CPU), then SCRAPES (default 50) /metrics scrapes with
# Accept-Encoding: gzip (as Prometheus asks) and SCRAPES without, each on a fresh snapshot (spaced one interval apart, as
# Prometheus' scrapes are) and each followed at once by a second scrape of the same snapshot
# (the cached body). Reports CPU seconds per minute, peak RSS, open fds, latency, bytes, the
# daemon's own cgroup collector duration and its ratio to the floor.
#
# Environment: BUILD (default /tmp/build-scale: workload_exporter, bench/floor,
# bench/make_fixture), SCRAPES (50), SCRAPE_EVERY (15: the Prometheus scrape interval assumed by
# the "in all" CPU figure), FLOOR_ROUNDS (20), FLOOR_REF_ROUNDS (5), FLOOR_MIN_TIME (2 s per
# floor measurement at least), FLOOR_PACED_ROUNDS (10: the floor and the in-process collector
# also measured one round per interval, as the daemon reads; 0: not), KEEP (1: keep the work directory), RESULT (file to append the
# summary's key=value lines to).
#
# Everything it creates goes away on exit, failure or signal: the processes it started (by PID),
# the cgroups it created, its tmpfs. See BENCHMARKS.md, "Scale harness".
#
# CG_PARENT (real mode): an existing cgroup2 directory to create the N cgroups in instead of this
# script's own cgroup. On a pure v2 systemd host the script's own cgroup has no controllers for
# children (a service's cgroup holds processes, so it cannot enable them): give a cgroup whose
# cgroup.subtree_control has cpu, memory, io and pids, as bench/v2_guest.sh does, for every file.
set -Eeuo pipefail

N=${1:?usage: bench/scale.sh N [DURATION_S] [real|fixture]}
DURATION=${2:-60}
MODE=${3:-real}
BUILD=${BUILD:-/tmp/build-scale}
SCRAPES=${SCRAPES:-50}
SCRAPE_EVERY=${SCRAPE_EVERY:-15}
FLOOR_ROUNDS=${FLOOR_ROUNDS:-20}
FLOOR_REF_ROUNDS=${FLOOR_REF_ROUNDS:-5}
FLOOR_MIN_TIME=${FLOOR_MIN_TIME:-2}
FLOOR_PACED_ROUNDS=${FLOOR_PACED_ROUNDS:-10}
INTERVAL_S=1
DAEMON=$BUILD/workload_exporter
FLOOR=${FLOOR:-$BUILD/bench/floor}
MAKE_FIXTURE=$BUILD/bench/make_fixture

case $MODE in real | fixture) ;; *) echo "scale.sh: MODE must be real or fixture" >&2; exit 2 ;; esac
[[ $N =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ ]] || { echo "scale.sh: N and DURATION_S are integers" >&2; exit 2; }
for b in "$DAEMON" "$FLOOR" "$MAKE_FIXTURE"; do
  [[ -x $b ]] || { echo "scale.sh: $b missing: cmake --build $BUILD --target workload_exporter floor make_fixture" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "scale.sh: needs root (cgroups, mount)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/we-scale.XXXXXX)
PIDS=()          # every background process this script started
CG_PARENTS=()    # directories under which it created cgroups
NAMES_FILE=$WORK/names
MOUNTED=""
SLEEP_PID=""     # the current pause's sleep
: >"$NAMES_FILE"

log() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM ERR
  local pid mine=()
  [[ -n $SLEEP_PID ]] && PIDS+=("$SLEEP_PID")
  # Only our own children: a PID that died and was reused is someone else's.
  for pid in "${PIDS[@]}"; do
    [[ $(awk '{sub(/^.*\) /, ""); print $2}' "/proc/$pid/stat" 2>/dev/null) == "$$" ]] && mine+=("$pid")
  done
  for pid in "${mine[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${mine[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  local parent left
  existing() { (cd "$1" && while read -r n || [[ -n $n ]]; do [[ -d $n ]] && echo "$n"; done <"$NAMES_FILE"); }
  for parent in "${CG_PARENTS[@]}"; do
    # Only the names this script generated; a cgroup is removable once its processes are gone.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      left=$(existing "$parent")
      [[ -z $left ]] && break
      (cd "$parent" && xargs -r rmdir 2>/dev/null <<<"$left")
      sleep 0.2
    done
    left=$(existing "$parent")
    if [[ -n $left ]]; then log "could not remove $(wc -l <<<"$left") cgroup(s) under $parent"; fi
  done
  if [[ -n $MOUNTED ]]; then umount "$MOUNTED" || umount -l "$MOUNTED"; fi
  if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
# A sleep the traps can interrupt (bash runs a trap only once its foreground command returns).
pause() { sleep "$1" & SLEEP_PID=$!; wait "$SLEEP_PID"; SLEEP_PID=""; }
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }  # utime + stime
CLK_TCK=$(getconf CLK_TCK)

# --- the tree ----------------------------------------------------------------------------------
t_setup=$(now)
if [[ $MODE == fixture ]]; then
  ROOT=$WORK/cgroupfs
  mkdir "$ROOT"
  mount -t tmpfs -o size=8g,mode=755 we-scale "$ROOT"
  MOUNTED=$ROOT
  "$MAKE_FIXTURE" "$ROOT" "$N"
else
  ROOT=/sys/fs/cgroup
  own() { awk -F: -v c="$1" '$2 == c {print $3}' "/proc/$$/cgroup"; }
  if [[ -n ${CG_PARENT:-} ]]; then
    CG_PARENTS+=("$CG_PARENT")                         # given (pure v2: with controllers)
  elif [[ -e $ROOT/cgroup.controllers ]]; then
    CG_PARENTS+=("$ROOT$(own '')")                     # pure cgroup v2
  else
    [[ -e $ROOT/unified/cgroup.controllers ]] && CG_PARENTS+=("$ROOT/unified$(own '')")
    [[ -d $ROOT/memory ]] && CG_PARENTS+=("$ROOT/memory$(own memory)")
  fi
  [[ ${#CG_PARENTS[@]} -gt 0 ]] || { log "no cgroup2 or v1 memory hierarchy under $ROOT"; exit 1; }
  # 64 random hex digits per cgroup, all at once.
  od -An -v -tx1 -N $((32 * N)) /dev/urandom | tr -d ' \n' | fold -w64 | awk '{print "docker-" $0 ".scope"}' >"$NAMES_FILE"
  [[ -s $NAMES_FILE || $N == 0 ]]
  for parent in "${CG_PARENTS[@]}"; do
    (cd "$parent" && xargs mkdir <"$NAMES_FILE")
  done
  i=0
  while read -r name || [[ -n $name ]]; do
    if ((i % 10 == 0)); then
      sleep 1000000 &
      pid=$!
      PIDS+=("$pid")
      for parent in "${CG_PARENTS[@]}"; do echo "$pid" >"$parent/$name/cgroup.procs"; done
    fi
    i=$((i + 1))
  done <"$NAMES_FILE"
  log "created $N cgroups under ${CG_PARENTS[*]} with ${#PIDS[@]} sleeping processes"
fi
t_tree=$(awk -v a="$t_setup" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')
log "tree ready in ${t_tree}s ($MODE, N=$N, root $ROOT)"

# --- the floor ----------------------------------------------------------------------------------
"$FLOOR" --cgroup-root "$ROOT" --rounds "$FLOOR_ROUNDS" --ref-rounds "$FLOOR_REF_ROUNDS" \
  --min-time "$FLOOR_MIN_TIME" --paced-rounds "$FLOOR_PACED_ROUNDS" --pace-ms $((INTERVAL_S * 1000)) >"$WORK/floor.txt"
sed -n '1,/^floor_workloads=/p' "$WORK/floor.txt" | sed '$d' >&2
floor_val() { awk -F= -v k="$1" '$1 == k {print $2}' "$WORK/floor.txt"; }

# --- the daemon ---------------------------------------------------------------------------------
PORT=""
for p in $(shuf -i 20000-45000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[[ -n $PORT ]] || { log "no free port"; exit 1; }
URL=http://127.0.0.1:$PORT
"$DAEMON" --path.cgroupfs="$ROOT" --sampling.interval=${INTERVAL_S}s --libvirt.uri= \
  --web.listen-address=127.0.0.1:"$PORT" >"$WORK/daemon.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
t_start=$(now)
for _ in $(seq 1200); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/-/ready" || true) == 200 ]] && break
  kill -0 "$DPID" 2>/dev/null || { log "daemon exited:"; cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 0.1
done
t_ready=$(awk -v a="$t_start" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
log "daemon $DPID ready on port $PORT after ${t_ready}s; sampling for ${DURATION}s without scrapes"
pause 2  # past the first ticks (new workloads, metadata look-ups)

# Phase 1: sampling only.
c0=$(cpu_ticks "$DPID"); w0=$(now); l0=$(wc -l <"$WORK/daemon.log")
pause "$DURATION"
c1=$(cpu_ticks "$DPID"); w1=$(now); l1=$(wc -l <"$WORK/daemon.log")
hwm1_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status")  # peak before any /metrics render
# Ticks the daemon skipped in phase 1 (it logs each catch-up): CPU per tick actually run.
skipped1=$(sed -n "$((l0 + 1)),${l1}p" "$WORK/daemon.log" | { grep -o 'skipped [0-9]* tick' || true; } | awk '{s += $2} END {print s + 0}')
load=$(cut -d' ' -f1-3 /proc/loadavg)

# Phase 2: scrapes, each on a fresh snapshot, then once more on the same snapshot.
metric() {  # metric NAME_WITH_LABELS FILE -> value
  awk -v m="$1" '$1 == m {print $2; exit}' "$2"
}
: >"$WORK/scrapes"
c2=$(cpu_ticks "$DPID"); w2=$(now)
last=0
for enc in gzip plain; do
  hdr=()
  [[ $enc == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
  for i in $(seq "$SCRAPES"); do
    # One interval (plus 50 ms) after the previous fresh scrape began: a new snapshot.
    wait_s=$(awk -v l="$last" -v n="$(now)" -v iv="$INTERVAL_S" 'BEGIN {w = l + iv + 0.05 - n; print (w > 0 ? w : 0)}')
    pause "$wait_s"
    last=$(now)
    fresh=$(curl -s "${hdr[@]}" -o "$WORK/body" -w '%{time_total} %{size_download} %{http_code}' "$URL/metrics")
    cached=$(curl -s "${hdr[@]}" -o /dev/null -w '%{time_total}' "$URL/metrics")
    # Only the exporter's own lines, by one fast grep: the harness must not compete with the
    # daemon's next tick for the CPU more than it has to.
    if [[ $enc == gzip ]]; then gzip -dc <"$WORK/body"; else cat "$WORK/body"; fi |
      { grep -E '^workload_exporter_(last_sample_timestamp_seconds|collector_duration_seconds|workloads|metrics_renders_total)[ {]' || true; } \
        >"$WORK/body.txt"
    ts=$(metric workload_exporter_last_sample_timestamp_seconds "$WORK/body.txt")
    cg=$(metric 'workload_exporter_collector_duration_seconds{collector="cgroup"}' "$WORK/body.txt")
    qe=$(metric 'workload_exporter_collector_duration_seconds{collector="qemu"}' "$WORK/body.txt")
    wl=$(awk '/^workload_exporter_workloads\{/ {s += $2} END {print s + 0}' "$WORK/body.txt")
    echo "$enc $fresh $cached $ts $cg $qe $wl" >>"$WORK/scrapes"
  done
  # Gzip first, as Prometheus asks: the peak RSS a Prometheus-scraped daemon reaches, before any
  # plain scrape makes the whole text.
  if [[ $enc == gzip ]]; then hwm_gzip_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status"); fi
done
c3=$(cpu_ticks "$DPID"); w3=$(now)
cp "$WORK/body.txt" "$WORK/final.txt"  # the last fresh scrape's own lines: render counts so far
hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status")
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status")
fds=$(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 | wc -l)
behind=$(grep -c 'fell behind' "$WORK/daemon.log" || true)
skipped=$({ grep -o 'skipped [0-9]* tick' "$WORK/daemon.log" || true; } | awk '{s += $2} END {print s + 0}')
run_s=$(awk -v a="$t_start" -v b="$(now)" 'BEGIN {printf "%.0f", b - a}')
warns=$(grep -ci 'warn' "$WORK/daemon.log" || true)
kill -0 "$DPID" 2>/dev/null || { log "daemon died"; cat "$WORK/daemon.log" >&2; exit 1; }

# --- the report ---------------------------------------------------------------------------------
q() {  # q FIELD ENC QUANTILE: nearest-rank quantile of a column of the scrape log
  awk -v f="$1" -v e="$2" '$1 == e {print $f}' "$WORK/scrapes" | sort -g |
    awk -v p="$3" '{v[NR] = $1} END {r = int(p * NR + 0.999999); if (r < 1) r = 1; print v[r] * 1000}'
}
{
  echo "mode=$MODE"
  echo "n=$N"
  echo "duration_s=$DURATION"
  echo "tree_setup_s=$t_tree"
  echo "ready_s=$t_ready"
  echo "workloads_seen=$(awk '{print $9}' "$WORK/scrapes" | sort -n | tail -1)"
  awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v c2="$c2" -v c3="$c3" -v w2="$w2" -v w3="$w3" \
    -v hz="$CLK_TCK" -v every="$SCRAPE_EVERY" -v iv="$INTERVAL_S" -v skipped="$skipped1" '
    BEGIN {
      rate = (c1 - c0) / hz / (w1 - w0)                 # CPU s per s, sampling only
      printf "cpu_s_per_min=%.3f\n", rate * 60
      printf "cpu_pct_core=%.2f\n", rate * 100
      ticks = (w1 - w0) / iv - skipped
      printf "phase1_ticks=%.0f\nphase1_skipped_ticks=%d\n", ticks, skipped
      printf "cpu_ms_per_tick=%.1f\n", (c1 - c0) / hz / ticks * 1000
      printf "scrape_phase_cpu_s=%.2f\nscrape_phase_s=%.1f\n", (c3 - c2) / hz, w3 - w2
    }'
  awk '{print $6}' "$WORK/scrapes" | sort -u | awk 'END {print "distinct_snapshots=" NR}'
  echo "peak_rss_sampling_only_mib=$(awk -v k="$hwm1_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  echo "peak_rss_after_gzip_scrapes_mib=$(awk -v k="$hwm_gzip_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  echo "peak_rss_mib=$(awk -v k="$hwm_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  echo "rss_end_mib=$(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  echo "open_fds=$fds"
  for enc in plain gzip; do
    echo "${enc}_fresh_median_ms=$(q 2 $enc 0.5)"
    echo "${enc}_fresh_p99_ms=$(q 2 $enc 0.99)"
    echo "${enc}_cached_median_ms=$(q 5 $enc 0.5)"
    echo "${enc}_cached_p99_ms=$(q 5 $enc 0.99)"
    echo "${enc}_bytes=$(awk -v e=$enc '$1 == e {print $3}' "$WORK/scrapes" | sort -n | tail -1)"
    echo "${enc}_non200=$(awk -v e=$enc '$1 == e && $4 != 200' "$WORK/scrapes" | wc -l)"
  done
  # One collector duration per snapshot seen.
  awk '!seen[$6]++ {n++; s += $7; q += $8; if ($7 > m) m = $7}
       END {printf "cgroup_collector_avg_ms=%.2f\ncgroup_collector_max_ms=%.2f\nqemu_collector_avg_ms=%.2f\n", s / n * 1000, m * 1000, q / n * 1000}' \
    "$WORK/scrapes"
  echo "fell_behind_warnings=$behind"
  echo "skipped_ticks=$skipped"
  echo "daemon_run_s=$run_s"
  echo "log_warnings=$warns"
  echo "loadavg_after_phase1=\"$load\""
  grep -E '^(floor|ref)_' "$WORK/floor.txt"
} >"$WORK/summary"
val() { awk -F= -v k="$1" '$1 == k {print $2}' "$WORK/summary"; }
{
  # Render cost per fresh scrape: phase-2 CPU beyond the sampling rate, per snapshot rendered.
  awk -v cpu="$(val scrape_phase_cpu_s)" -v t="$(val scrape_phase_s)" -v r="$(val cpu_s_per_min)" \
    -v n="$(val distinct_snapshots)" -v every="$SCRAPE_EVERY" '
    BEGIN {
      per = (cpu - r / 60 * t) / n
      printf "render_cpu_ms_per_scrape=%.1f\n", per * 1000
      printf "cpu_pct_core_in_all=%.2f\n", (r / 60 + per / every) * 100
    }'
  awk -v c="$(val cgroup_collector_avg_ms)" -v f="$(floor_val floor_cpu_us)" -v t="$(val cpu_ms_per_tick)" \
    -v r="$(floor_val ref_collect_cpu_us)" '
    BEGIN {
      printf "ratio_collector_to_floor=%.2f\n", c * 1000 / f
      printf "ratio_daemon_tick_cpu_to_floor=%.2f\n", t * 1000 / f
      printf "ratio_inprocess_collect_to_floor=%.2f\n", r / f
    }'
  if [[ -n $(floor_val floor_paced_cpu_us) ]]; then
    awk -v f="$(floor_val floor_paced_cpu_us)" -v t="$(val cpu_ms_per_tick)" -v r="$(floor_val ref_collect_paced_cpu_us)" '
      BEGIN {
        printf "ratio_daemon_tick_cpu_to_paced_floor=%.2f\n", t * 1000 / f
        if (r != "") printf "ratio_inprocess_collect_paced_to_paced_floor=%.2f\n", r / f
      }'
  fi
  echo "renders_ahead=$(metric 'workload_exporter_metrics_renders_total{when="ahead"}' "$WORK/final.txt")"
  echo "renders_on_request=$(metric 'workload_exporter_metrics_renders_total{when="on_request"}' "$WORK/final.txt")"
} >>"$WORK/summary"
cat "$WORK/summary"
if [[ -n ${RESULT:-} ]]; then { echo "---"; cat "$WORK/summary"; } >>"$RESULT"; fi
log "done: $(val cpu_s_per_min) CPU s/min, peak RSS $(val peak_rss_mib) MiB, /metrics median $(val gzip_fresh_median_ms) ms (gzip), $(val plain_fresh_median_ms) ms (plain)"
