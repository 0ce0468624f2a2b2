#!/usr/bin/env bash
# Peers on the same tree: the daemon, collectd's cgroups plugin and netdata's cgroups.plugin, each
# run alone for the same window while a real Prometheus scrapes it every SCRAPE_INTERVAL seconds
# (default 1); then the floor of this host for the same tree.
#
#   bench/peers.sh [N] [DURATION_S]        (as root; N default 1000, DURATION_S default 60)
#
# The tree: N real cgroups docker-<64 hex>.scope in a cgroup of the script's own,
# we-peers-<tag>.slice, created beneath the script's own cgroup in the cgroup2 tree and in each v1
# hierarchy with the cpu, cpuacct or memory controller (read from /proc/self/cgroup), with a
# sleeping process in every 10th, as bench/scale.sh's "real" mode makes them. V1 (default
# "cpu cpuacct memory") names the v1 controllers; V1= puts the workloads in cgroup2 only. The
# slice puts the workloads two levels beneath a v1 root when the script's own cgroup is the root,
# where collectd's cgroups plugin looks (it reads MOUNT/X/Y/cpuacct.stat and nothing deeper).
#
# The peers are installed from Debian's archive with apt, as scripts/install-deps.sh installs
# packages (collectd-core; libmicrohttpd12 and libprotobuf-c1, which its write_prometheus needs
# and it does not depend on; netdata; prometheus for the server and promtool; jq), under a
# policy-rc.d that forbids starting services if the host has none; the script stops (exit 1) if
# installing started any peer process, which is then not its to stop.
#
# Then, for each exporter in turn (PEERS, default "daemon collectd netdata"), alone:
#  - the exporter, in a cgroup of its own created for it in the cgroup2 tree (its whole process
#    tree, forked plugins and exited children included, is that cgroup's cpu.stat usage_usec; on a
#    v1-only host the v1 cpuacct cgroup's cpuacct.usage), with its configuration in the work
#    directory (bench/peers/*.in): the daemon with --sampling.interval=1s --libvirt.uri=
#    --web.listen-address=127.0.0.1:PORT on the host's /sys/fs/cgroup; collectd -f with cgroups and
#    write_prometheus, Interval 1; netdata -D with only cgroups.plugin, update every 1;
#  - a Prometheus of its own (storage in the work directory, scrape_interval SCRAPE_INTERVAL s,
#    timeout the same up to 10 s, one job): a
#    warm-up of at least WARMUP s (20; the daemon DAEMON_WARMUP, 75: its workload_startup_seconds
#    series appear once its shortest idle window, 1 minute, has filled) that lasts until the
#    exporter's sample count (scrape_samples_scraped) is at least N and has not changed for STABLE s
#    (20; netdata finds cgroups every 10 s and shows none until cgroup-name.sh has named it, one
#    after another), at most WARMUP_MAX s (600); then DURATION_S measured seconds;
#  - measured over that window: CPU s/min of the exporter's cgroup (and of its main process alone),
#    and from Prometheus' own series for the job: scrape_duration_seconds (median, p90),
#    scrape_samples_scraped (the series count), how many scrapes and how many were up; at the end,
#    RSS: the sum of VmRSS over the processes in the exporter's cgroup, and VmHWM (peak) of its
#    main process;
#  - after the window, one body fetched with curl: `promtool check metrics` on it (the count of
#    problems it prints; the script does not fail on them) and how many of the N workloads appear
#    in it (by the first 12 hex digits of their ids); then FETCHES (5) gzip fetches with curl,
#    1.3 s apart, while Prometheus still scrapes: the median time to the body's last byte, the
#    exporter's own latency (Prometheus' scrape_duration_seconds also counts its own parsing and
#    storing of every sample, which grows with the series count whoever serves them).
#
# Then, where BUILD holds bench/floor (FLOOR=0 skips it), the floor on the same tree, still
# standing: `floor --cgroup-root /sys/fs/cgroup --paced-rounds 30`, pread of every file the
# daemon reads for every cgroup on the host, one round a second through kept descriptors, and the
# same for the files read on every tick whatever the scrape interval (cgroup2 cpu.stat and v1
# memory.usage_in_bytes, memory.stat and memory.max_usage_in_bytes of our N workloads, or their
# cgroup2 counterparts) and for collectd's N cpuacct.stat: CPU s/min of each, and of each against
# collectd's measured CPU. No exporter, however written, reads those files for less.
#
# Output: a markdown table (one row per exporter, then the daemon's CPU ratios to each peer) and
# key=value lines, in the work directory's "summary" and on stdout; RESULT (file) to append them
# to, KEEP=1 to keep the work directory. BUILD (default /tmp/build-peers) holds workload_exporter.
#
# Everything it creates goes on exit, failure or signal: the processes it started (by PID, and only
# while they are still its children), the processes left in the exporters' own cgroups, the
# cgroups it created (by the names it generated), the policy-rc.d it wrote, its work directory.
# Nothing else is touched. See BENCHMARKS.md, "Peers: collectd and netdata on the same tree".
set -Eeuo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

N=${1:-1000}
DURATION=${2:-60}
BUILD=${BUILD:-/tmp/build-peers}
DAEMON=$BUILD/workload_exporter
PEERS=${PEERS:-daemon collectd netdata}
WARMUP=${WARMUP:-20}
DAEMON_WARMUP=${DAEMON_WARMUP:-75}
V1=${V1-cpu cpuacct memory}  # the v1 controllers whose hierarchies get the workloads too; empty: cgroup2 only
STABLE=${STABLE:-20}
WARMUP_MAX=${WARMUP_MAX:-600}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-1}
FETCHES=${FETCHES:-5}
FLOOR=${FLOOR:-1}
PACKAGES=(collectd-core libmicrohttpd12 libprotobuf-c1 netdata prometheus jq)

[[ $N =~ ^[0-9]+$ && $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] ||
  { echo "peers.sh: usage: bench/peers.sh [N] [DURATION_S] (integers)" >&2; exit 2; }
[[ $SCRAPE_INTERVAL =~ ^[0-9]+$ && $SCRAPE_INTERVAL -gt 0 ]] ||
  { echo "peers.sh: SCRAPE_INTERVAL: whole seconds above 0, not '$SCRAPE_INTERVAL'" >&2; exit 2; }
((DURATION >= 4 * SCRAPE_INTERVAL)) ||
  { echo "peers.sh: DURATION_S $DURATION holds fewer than 4 scrapes of SCRAPE_INTERVAL $SCRAPE_INTERVAL s" >&2; exit 2; }
for p in $PEERS; do
  case $p in daemon | collectd | netdata) ;; *) echo "peers.sh: PEERS: unknown exporter $p" >&2; exit 2 ;; esac
done
[[ $(id -u) == 0 ]] || { echo "peers.sh: needs root (cgroups, apt)" >&2; exit 2; }
if [[ " $PEERS " == *" daemon "* && ! -x $DAEMON ]]; then
  echo "peers.sh: $DAEMON missing: cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD --target workload_exporter" >&2
  exit 2
fi

WORK=$(mktemp -d /tmp/we-peers.XXXXXX)
TAG=we-peers-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
PIDS=()          # every background process this script started
METERS=()        # the exporters' own cgroups
PARENTS=()       # the we-peers-<tag>.slice cgroups holding the workloads, one per hierarchy
NAMES_FILE=$WORK/names
POLICY_RC_D=""   # set when this script wrote /usr/sbin/policy-rc.d
SLEEP_PID=""
: >"$NAMES_FILE"

log() { printf '[peers %s] %s\n' "$(date +%T)" "$*" >&2; }
now() { date +%s.%N; }
# A sleep the traps can interrupt (bash runs a trap only once its foreground command returns).
pause() { sleep "$1" & SLEEP_PID=$!; wait "$SLEEP_PID"; SLEEP_PID=""; }
elapsed() { awk -v a="$1" -v b="${2:-$(now)}" 'BEGIN {printf "%.1f", b - a}'; }

# The processes in one of our exporters' cgroups (only what we placed there and its descendants).
meter_procs() { cat "$1/cgroup.procs" 2>/dev/null || true; }
# Stop what is left in an exporter's cgroup once its main process is gone (forked helpers), then
# remove the cgroup.
drop_meter() {
  local m=$1 p
  [[ -d $m ]] || return 0
  for p in $(meter_procs "$m"); do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do [[ -z $(meter_procs "$m") ]] && break; sleep 0.1; done
  for p in $(meter_procs "$m"); do kill -KILL "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do rmdir "$m" 2>/dev/null && return 0; sleep 0.1; done
  log "could not remove $m"
}

cleanup() {
  local rc=$? m parent left
  set +e
  trap - EXIT INT TERM
  [[ -n $SLEEP_PID ]] && PIDS+=("$SLEEP_PID")
  ((${#PIDS[@]})) && bench_stop_children 30 "${PIDS[@]}"
  for m in "${METERS[@]}"; do drop_meter "$m"; done
  for parent in "${PARENTS[@]}"; do
    left=$(bench_rmdir_names "$parent" "$NAMES_FILE")
    [[ $left == 0 ]] || log "could not remove $left cgroup(s) under $parent"
    rmdir "$parent" 2>/dev/null || log "could not remove $parent"
  done
  [[ -n $POLICY_RC_D ]] && rm -f "$POLICY_RC_D"
  if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the packages -------------------------------------------------------------------------------
peer_pids() { ps -eo pid=,comm= | awk '$2 ~ /^(collectd|netdata|prometheus)$/ {print $1}' | sort -n; }
t_install=$(now)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian's archive"
  before=$(peer_pids)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # No service starts from a postinst: without systemd, invoke-rc.d would run the init scripts.
    printf '#!/bin/sh\n# bench/peers.sh: no service starts while it installs\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_D=/usr/sbin/policy-rc.d
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$WORK/apt.log" 2>&1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1 ||
    { cat "$WORK/apt.log" >&2; exit 1; }
  if [[ -n $POLICY_RC_D ]]; then rm -f "$POLICY_RC_D"; POLICY_RC_D=""; fi
  started=$(comm -13 <(echo "$before") <(peer_pids) | tr '\n' ' ')
  if [[ -n ${started// /} ]]; then
    log "installing started peer processes (PIDs $started): not ours to stop; stop them, then run again"
    exit 1
  fi
fi
t_install=$(elapsed "$t_install")
for so in cgroups write_prometheus; do
  if ldd "/usr/lib/collectd/$so.so" | grep -q 'not found'; then
    log "collectd's $so plugin lacks a library: $(ldd "/usr/lib/collectd/$so.so" | grep 'not found' | tr -s '\t\n' ' ')"
    exit 1
  fi
done
others=$(peer_pids | tr '\n' ' ')
[[ -n ${others// /} ]] && log "note: other collectd/netdata/prometheus processes run here (PIDs $others): not ours, left alone; they compete for the CPU"

# --- the tree -----------------------------------------------------------------------------------
t_tree=$(now)
# shellcheck disable=SC2086 # V1 is a list of words
mapfile -t OWN < <(bench_own_cgroup_dirs $V1)
((${#OWN[@]})) || { log "no cgroup2 tree and no v1 cpu, cpuacct or memory hierarchy"; exit 1; }
UNIFIED=$(bench_unified_root)
bench_workload_names "$N" >"$NAMES_FILE"
for own in "${OWN[@]}"; do
  mkdir "$own/$TAG.slice"
  PARENTS+=("$own/$TAG.slice")
  (cd "$own/$TAG.slice" && xargs -r mkdir <"$NAMES_FILE")
done
i=0
sleepers=0
while read -r name || [[ -n $name ]]; do
  if ((i % 10 == 0)); then
    sleep 1000000 &
    PIDS+=("$!")
    for parent in "${PARENTS[@]}"; do echo "$!" >"$parent/$name/cgroup.procs"; done
    sleepers=$((sleepers + 1))
  fi
  i=$((i + 1))
done <"$NAMES_FILE"
# The first 12 hex digits of each id: how a workload is found in a body (netdata may name it so).
sed 's/^docker-\(.\{12\}\).*/\1/' "$NAMES_FILE" >"$WORK/prefixes"
t_tree=$(elapsed "$t_tree")
# collectd's cgroups plugin reads only MOUNT/X/Y/cpuacct.stat of the first cpuacct mount: it sees
# our workloads if our slice is a child of that mount's root.
COLLECTD_SEES=0
for parent in "${PARENTS[@]}"; do
  mnt=$(awk '$3 == "cgroup" && ("," $4 ",") ~ /,cpuacct,/ {print $2; exit}' /proc/self/mounts)
  [[ -n $mnt && $parent == "$mnt/$TAG.slice" ]] && COLLECTD_SEES=1
done
((COLLECTD_SEES)) || log "note: our slice is not a child of the cpuacct root: collectd's cgroups plugin will not see the workloads"
log "created $N cgroups (${sleepers} with a sleeping process) in ${t_tree}s under ${PARENTS[*]}"

# --- one exporter -------------------------------------------------------------------------------
PROM_URL=""
prom_query() {  # EXPR [TIME] -> the first result's value, or nothing
  local args=(--data-urlencode "query=$1")
  [[ -n ${2:-} ]] && args+=(--data-urlencode "time=$2")
  curl -s --max-time 20 "${args[@]}" "$PROM_URL/api/v1/query" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null || true
}
meter_usec() {
  if [[ -e $1/cpu.stat ]]; then awk '$1 == "usage_usec" {print $2}' "$1/cpu.stat"
  else awk '{printf "%d\n", $1 / 1000}' "$1/cpuacct.usage"; fi
}
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }  # utime + stime
CLK_TCK=$(getconf CLK_TCK)
fill() { sed -e "s|@DIR@|$2|g" -e "s|@PORT@|$3|g" -e "s|@MAX_CGROUPS@|$((N + 1000))|g" \
  -e "s|@INTERVAL@|${SCRAPE_INTERVAL}s|g" -e "s|@TIMEOUT@|$((SCRAPE_INTERVAL < 10 ? SCRAPE_INTERVAL : 10))s|g" \
  -e "s|@PATH@|${4:-}|g" -e "s|@PARAMS@|${5:-}|g" "$here/peers/$1"; }
# --compressed: as Prometheus asks; a plain render it never asks for would count in the peak RSS.
http_code() { curl -s --compressed --max-time 10 -o /dev/null -w '%{http_code}' "$1" || true; }

: >"$WORK/summary"
put() { echo "$1=$2" >>"$WORK/summary"; }

run_one() {
  local name=$1 dir=$WORK/$1 port pport url path params="{}" meter epid ppid cmd=() env=()
  mkdir -p "$dir"
  port=$(bench_free_port) || { log "no free port"; exit 1; }
  url=http://127.0.0.1:$port
  case $name in
    daemon)
      cmd=("$DAEMON" --sampling.interval=1s --libvirt.uri= --web.listen-address=127.0.0.1:"$port")
      path=/metrics ;;
    collectd)
      fill collectd.conf.in "$dir" "$port" >"$dir/collectd.conf"
      cmd=(collectd -f -C "$dir/collectd.conf")
      path=/metrics ;;
    netdata)
      mkdir -p "$dir"/{etc,cache,lib,log,run}
      : >"$dir/etc/.opt-out-from-anonymous-statistics"
      fill netdata.conf.in "$dir" "$port" >"$dir/etc/netdata.conf"
      cmd=(netdata -D -c "$dir/etc/netdata.conf")
      env=(DO_NOT_TRACK=1)
      path=/api/v1/allmetrics
      params="{format: [prometheus], source: [as-collected]}" ;;
  esac
  local body_url=$url$path
  # netdata sends a Prometheus server only what changed since that server's previous fetch, and
  # tells servers apart by the "server" parameter, else by address: the lint fetch is its own.
  [[ $name == netdata ]] && body_url="$url$path?format=prometheus&source=as-collected&server=we-peers-lint"

  # The exporter, in a cgroup of its own: all it forks is counted, exited children too.
  if [[ -n $UNIFIED ]]; then meter=${OWN[0]}/$TAG-$name.service
  else meter=$(bench_own_cgroup_dirs cpuacct | head -n1)/$TAG-$name.service; fi
  mkdir "$meter"
  METERS+=("$meter")
  (echo "$BASHPID" >"$meter/cgroup.procs" && exec env "${env[@]}" "${cmd[@]}") >"$dir/out.log" 2>&1 </dev/null &
  epid=$!
  PIDS+=("$epid")
  local t_start
  t_start=$(now)
  for _ in $(seq 600); do
    [[ $(http_code "$body_url") == 200 ]] && break
    kill -0 "$epid" 2>/dev/null || { log "$name exited:"; tail -20 "$dir/out.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ $(http_code "$body_url") == 200 ]] || { log "$name does not answer on $body_url"; exit 1; }
  log "$name: PID $epid answers on port $port after $(elapsed "$t_start")s"

  # Its Prometheus.
  pport=$(bench_free_port) || { log "no free port"; exit 1; }
  PROM_URL=http://127.0.0.1:$pport
  fill prometheus.yml.in "$dir" "$port" "$path" "$params" >"$dir/prometheus.yml"
  promtool check config "$dir/prometheus.yml" >"$dir/promtool_config.log" 2>&1 ||
    { cat "$dir/promtool_config.log" >&2; exit 1; }
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address=127.0.0.1:"$pport" >"$dir/prometheus.log" 2>&1 </dev/null &
  ppid=$!
  PIDS+=("$ppid")
  for _ in $(seq 300); do
    [[ $(http_code "$PROM_URL/-/ready") == 200 ]] && break
    kill -0 "$ppid" 2>/dev/null || { log "Prometheus exited:"; tail -20 "$dir/prometheus.log" >&2; exit 1; }
    sleep 0.1
  done
  for _ in $(seq 150); do
    [[ $(prom_query 'up{job="peer"}') == 1 ]] && break
    sleep 0.2
  done
  [[ $(prom_query 'up{job="peer"}') == 1 ]] || { log "Prometheus does not scrape $name"; tail -5 "$dir/prometheus.log" >&2; exit 1; }

  # Warm-up: until the sample count has held still for STABLE s (at least WARMUP s in all) and
  # reached one per workload, where the exporter can see the workloads (netdata shows nothing of a
  # cgroup until cgroup-name.sh has named it, one cgroup after another).
  local t_w0 last="" since s el expect=$N warm_min=$WARMUP
  [[ $name == collectd && $COLLECTD_SEES == 0 ]] && expect=0
  [[ $name == daemon ]] && warm_min=$DAEMON_WARMUP
  t_w0=$(now)
  since=$t_w0
  while :; do
    pause 5
    kill -0 "$epid" 2>/dev/null || { log "$name exited during the warm-up"; tail -20 "$dir/out.log" >&2; exit 1; }
    s=$(prom_query 'scrape_samples_scraped{job="peer"}')
    if [[ $s != "$last" ]]; then last=$s; since=$(now); fi
    el=$(elapsed "$t_w0")
    if awk -v e="$el" -v w="$warm_min" -v st="$(elapsed "$since")" -v want="$STABLE" -v s="${s:-0}" \
      -v x="$expect" 'BEGIN {exit !(e >= w && st >= want && s > 0 && s >= x)}'; then break; fi
    if awk -v e="$el" -v m="$WARMUP_MAX" 'BEGIN {exit !(e >= m)}'; then
      log "$name: sample count still moving after ${el}s (now $s): measuring anyway"
      break
    fi
  done
  local warm_s
  warm_s=$(elapsed "$t_w0")
  log "$name: warm after ${warm_s}s, $last samples per scrape; measuring ${DURATION}s"

  # The window.
  local u0 u1 m0 m1 t0 t1 load0 load1
  load0=$(cut -d' ' -f1 /proc/loadavg)
  u0=$(meter_usec "$meter"); m0=$(cpu_ticks "$epid"); t0=$(now)
  pause "$DURATION"
  u1=$(meter_usec "$meter"); m1=$(cpu_ticks "$epid"); t1=$(now)
  load1=$(cut -d' ' -f1 /proc/loadavg)
  local rss_kib=0 nprocs=0 p r hwm_kib
  for p in $(meter_procs "$meter"); do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    rss_kib=$((rss_kib + ${r:-0}))
    nprocs=$((nprocs + 1))
  done
  hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$epid/status")
  kill -0 "$epid" 2>/dev/null || { log "$name died during the window"; exit 1; }

  # Prometheus' own view of the window: its last scrape is in by now.
  pause 2
  local range="[${DURATION}s]" sel='{job="peer"}' at
  at=$(awk -v t="$t1" 'BEGIN {printf "%.3f", t}')
  local med p90 smax smin scrapes ups
  med=$(prom_query "quantile_over_time(0.5, scrape_duration_seconds$sel$range)" "$at")
  p90=$(prom_query "quantile_over_time(0.9, scrape_duration_seconds$sel$range)" "$at")
  smax=$(prom_query "max_over_time(scrape_samples_scraped$sel$range)" "$at")
  smin=$(prom_query "min_over_time(scrape_samples_scraped$sel$range)" "$at")
  scrapes=$(prom_query "count_over_time(up$sel$range)" "$at")
  ups=$(prom_query "sum_over_time(up$sel$range)" "$at")

  # One body: promtool's lint, and which of our workloads it shows.
  local fetch problems seen
  fetch=$(curl -s --max-time 30 -o "$dir/body" -w '%{time_total} %{size_download}' "$body_url" || true)
  promtool check metrics <"$dir/body" >"$dir/promtool.txt" 2>&1 || true
  problems=$(grep -c . "$dir/promtool.txt" || true)
  seen=$({ grep -oF -f "$WORK/prefixes" "$dir/body" || true; } | sort -u | wc -l)
  # What a client waits for a gzip body, Prometheus' parsing left out.
  local f fetch_ms=() fetch_med
  for f in $(seq "$FETCHES"); do
    pause 1.3
    fetch_ms+=("$(curl -s --compressed --max-time 30 -o /dev/null -w '%{time_total}' "$body_url" || echo nan)")
  done
  fetch_med=$(printf '%s\n' "${fetch_ms[@]}" | sort -g | awk '{v[NR] = $1} END {printf "%.1f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) * 1000}')
  # The daemon counts what it exports: all the host's workloads, ours and any other.
  [[ $name == daemon ]] && put daemon_workloads_reported "$(awk '/^workload_exporter_workloads\{/ {s += $2} END {print s + 0}' "$dir/body")"

  bench_stop_children 30 "$epid"
  drop_meter "$meter"
  bench_stop_children 30 "$ppid"

  awk -v n="$name" -v u0="$u0" -v u1="$u1" -v m0="$m0" -v m1="$m1" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
    'BEGIN {
       printf "%s_cpu_s_per_min=%.3f\n", n, (u1 - u0) / 1e6 / (t1 - t0) * 60
       printf "%s_main_process_cpu_s_per_min=%.3f\n", n, (m1 - m0) / hz / (t1 - t0) * 60
       printf "%s_window_s=%.1f\n", n, t1 - t0
     }' >>"$WORK/summary"
  put "${name}_rss_tree_end_mib" "$(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  put "${name}_processes_end" "$nprocs"
  put "${name}_peak_rss_main_mib" "$(awk -v k="$hwm_kib" 'BEGIN {printf "%.1f", k / 1024}')"
  put "${name}_scrape_median_ms" "$(awk -v v="${med:-nan}" 'BEGIN {printf "%.1f", v * 1000}')"
  put "${name}_scrape_p90_ms" "$(awk -v v="${p90:-nan}" 'BEGIN {printf "%.1f", v * 1000}')"
  put "${name}_series_max" "${smax:-}"
  put "${name}_series_min" "${smin:-}"
  put "${name}_scrapes" "${scrapes:-0}"
  put "${name}_scrapes_up" "${ups:-0}"
  put "${name}_workloads_seen" "$seen"
  put "${name}_body_bytes" "${fetch#* }"
  put "${name}_gzip_fetch_median_ms" "$fetch_med"
  put "${name}_promtool_problems" "$problems"
  put "${name}_warmup_s" "$warm_s"
  put "${name}_loadavg_1m_start_end" "\"$load0 $load1\""
  # The three commonest kinds of problem, the metric's name left out.
  if ((problems > 0)); then
    put "${name}_promtool_kinds" "\"$(sed 's/^[^ ]* //' "$dir/promtool.txt" | sort | uniq -c | sort -rn | head -3 |
      awk '{c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s (%d)", (NR > 1 ? "; " : ""), $0, c}' | tr -d '"')\""
  fi
  log "$name: $(awk -F= -v n="${name}_cpu_s_per_min" '$1 == n {print $2}' "$WORK/summary") CPU s/min, ${smax:-?} series, $seen/$N workloads, promtool: $problems problem(s)"
}

# --- the runs -----------------------------------------------------------------------------------
t_all=$(now)
{
  put n "$N"
  put duration_s "$DURATION"
  put tree_setup_s "$t_tree"
  put install_s "$t_install"
  put cgroup_dirs "\"${PARENTS[*]}\""
  [[ " $PEERS " == *" daemon "* ]] && put daemon_version "\"$("$DAEMON" --version 2>&1 | head -n1)\""
  put collectd_version "\"$(collectd -h 2>&1 | grep -oE 'collectd [0-9]+(\.[0-9]+)*' | head -n1)\""
  put netdata_version "\"$(netdata -v 2>&1 | head -n1)\""
  put prometheus_version "\"$(prometheus --version 2>&1 | head -n1 | awk '{print $3}')\""
} 2>/dev/null
for p in $PEERS; do run_one "$p"; done

# --- the floor ----------------------------------------------------------------------------------
# pread through kept descriptors, one round a second, of: every file the daemon reads (the whole
# host's tree, as it reads it), the files it reads on every tick (our workloads), collectd's files.
FLOOR_BIN=$BUILD/bench/floor
FLOOR_ROUNDS=${FLOOR_ROUNDS:-30}
floor_key() { awk -F= -v k="$1" '$1 == k {print $2}' "$2"; }
floor_put() {  # NAME OUTPUT: CPU s/min of a paced round a second
  put "floor_${1}_files" "$(floor_key floor_files "$2")"
  put "floor_${1}_cpu_s_per_min" "$(awk -v us="$(floor_key floor_paced_cpu_us "$2")" 'BEGIN {printf "%.3f", us * 60 / 1e6}')"
}
if [[ $FLOOR == 1 && -x $FLOOR_BIN ]]; then
  log "floor: $FLOOR_ROUNDS paced rounds of each file set"
  (ulimit -n 1048576 2>/dev/null || true
    "$FLOOR_BIN" --cgroup-root /sys/fs/cgroup --rounds 20 --ref-rounds 3 --paced-rounds "$FLOOR_ROUNDS") \
    >"$WORK/floor_all.txt" 2>&1 || { cat "$WORK/floor_all.txt" >&2; exit 1; }
  floor_put all "$WORK/floor_all.txt"
  put floor_all_workloads "$(floor_key floor_workloads "$WORK/floor_all.txt")"
  put floor_collect_paced_cpu_s_per_min "$(awk -v us="$(floor_key ref_collect_paced_cpu_us "$WORK/floor_all.txt")" \
    'BEGIN {printf "%.3f", us * 60 / 1e6}')"
  : >"$WORK/files_tick"
  : >"$WORK/files_collectd"
  for parent in "${PARENTS[@]}"; do
    if [[ $parent == "$UNIFIED"/* ]]; then ticked=(cpu.stat memory.current memory.stat memory.peak)
    else ticked=(memory.usage_in_bytes memory.stat memory.max_usage_in_bytes); fi
    while read -r name; do
      for f in "${ticked[@]}"; do [[ -e $parent/$name/$f ]] && echo "$parent/$name/$f" >>"$WORK/files_tick"; done
      [[ -e $parent/$name/cpuacct.stat ]] && echo "$parent/$name/cpuacct.stat" >>"$WORK/files_collectd"
    done <"$NAMES_FILE"
  done
  for set in tick collectd; do
    [[ -s $WORK/files_$set ]] || continue
    (ulimit -n 1048576 2>/dev/null || true
      "$FLOOR_BIN" --rounds 20 --paced-rounds "$FLOOR_ROUNDS" --files-from "$WORK/files_$set") \
      >"$WORK/floor_$set.txt" 2>&1 || { cat "$WORK/floor_$set.txt" >&2; exit 1; }
    floor_put "$set" "$WORK/floor_$set.txt"
  done
elif [[ $FLOOR == 1 ]]; then
  log "floor: $FLOOR_BIN missing (cmake --build $BUILD --target floor): skipped"
fi
put total_run_s "$(elapsed "$t_all")"

# --- the report ---------------------------------------------------------------------------------
val() { awk -F= -v k="$1" '$1 == k {v = $2; gsub(/"/, "", v); print v}' "$WORK/summary"; }
for p in collectd netdata; do
  if [[ -n $(val daemon_cpu_s_per_min) && -n $(val "${p}_cpu_s_per_min") ]]; then
    put "ratio_cpu_daemon_to_$p" "$(awk -v a="$(val daemon_cpu_s_per_min)" -v b="$(val "${p}_cpu_s_per_min")" \
      'BEGIN {if (b > 0) printf "%.2f", a / b; else print "inf"}')"
  fi
done
label() {
  case $1 in
    daemon) echo "workload_exporter $(val daemon_version | sed -n 's/.*revision: \([0-9a-f]\{7\}\).*/\1/p')" ;;
    collectd) echo "$(val collectd_version), cgroups + write_prometheus" ;;
    netdata) echo "netdata $(val netdata_version | sed 's/^netdata //'), cgroups.plugin" ;;
  esac
}
series() {  # the series count, or its range where it moved within the window
  local lo hi
  lo=$(val "${1}_series_min"); hi=$(val "${1}_series_max")
  if [[ $lo == "$hi" ]]; then echo "$hi"; else echo "$lo–$hi"; fi
}
{
  echo "N = $N workloads, ${DURATION} s each, Prometheus scraping every ${SCRAPE_INTERVAL} s ($(date -u +%F))"
  echo
  echo "| | CPU s/min (whole tree) | RSS: tree at end / main peak | scrape_duration median (p90) | gzip fetch median | series | workloads in body | promtool problems |"
  echo "|---|---|---|---|---|---|---|---|"
  for p in $PEERS; do
    printf '| %s | %s | %s / %s MiB | %s (%s) ms | %s ms | %s | %s / %s | %s |\n' "$(label "$p")" \
      "$(val "${p}_cpu_s_per_min")" "$(val "${p}_rss_tree_end_mib")" "$(val "${p}_peak_rss_main_mib")" \
      "$(val "${p}_scrape_median_ms")" "$(val "${p}_scrape_p90_ms")" "$(val "${p}_gzip_fetch_median_ms")" \
      "$(series "$p")" "$(val "${p}_workloads_seen")" "$N" "$(val "${p}_promtool_problems")"
  done
  echo
  for p in collectd netdata; do
    [[ -n $(val "ratio_cpu_daemon_to_$p") ]] && echo "CPU daemon / $p: $(val "ratio_cpu_daemon_to_$p")"
  done
  if [[ -n $(val floor_all_cpu_s_per_min) ]]; then
    echo
    echo "| floor: pread, kept descriptors, one round a second | files | CPU s/min | / collectd's CPU |"
    echo "|---|---|---|---|"
    for set in all tick collectd; do
      [[ -n $(val "floor_${set}_cpu_s_per_min") ]] || continue
      case $set in
        all) what="every file the daemon reads ($(val floor_all_workloads) cgroups on the host)" ;;
        tick) what="the files it reads every tick ($N workloads)" ;;
        collectd) what="collectd's cpuacct.stat ($N workloads)" ;;
      esac
      printf '| %s | %s | %s | %s |\n' "$what" "$(val "floor_${set}_files")" "$(val "floor_${set}_cpu_s_per_min")" \
        "$(awk -v a="$(val "floor_${set}_cpu_s_per_min")" -v b="$(val collectd_cpu_s_per_min)" \
          'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}')"
    done
    echo
    echo "The daemon's cgroup collector in-process, same pace: $(val floor_collect_paced_cpu_s_per_min) CPU s/min"
  fi
  true
} >"$WORK/table.md"
cat "$WORK/table.md"
echo
cat "$WORK/summary"
if [[ -n ${RESULT:-} ]]; then { echo "---"; cat "$WORK/table.md" "$WORK/summary"; } >>"$RESULT"; fi
log "done in $(val total_run_s)s"
