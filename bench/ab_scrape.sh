#!/usr/bin/env bash
# Two daemons side by side on one tree, each scraped at a steady cadence as Prometheus scrapes:
# their CPU, RSS and scrape latency, in the same minutes (the machine's noise falls on both).
#
#   bench/ab_scrape.sh DAEMON_A DAEMON_B [N] [SCRAPE_EVERY_S] [DURATION_S]   (as root)
#
# The tree: a tmpfs holding bench/make_fixture's pure cgroup v2 tree of N workloads (default
# 1,000; every file the daemon reads on v2). Both daemons sample it every second
# (--sampling.interval=1s --libvirt.uri=); each is scraped with Accept-Encoding: gzip every
# SCRAPE_EVERY_S seconds (default 15), at its own offset, for DURATION_S seconds (default 180)
# after a 35 s warm-up (three scrapes: the cadence is then known). CPU is utime+stime from
# /proc/PID/stat over the measured span. MAKE_FIXTURE (default build/bench/make_fixture).
# Everything it starts is stopped by PID; its tmpfs is unmounted. See BENCHMARKS.md.
set -euo pipefail
A=${1:?usage: bench/ab_scrape.sh DAEMON_A DAEMON_B [N] [SCRAPE_EVERY_S] [DURATION_S]}
B=${2:?usage: bench/ab_scrape.sh DAEMON_A DAEMON_B [N] [SCRAPE_EVERY_S] [DURATION_S]}
N=${3:-1000}
EVERY=${4:-15}
DURATION=${5:-180}
MAKE_FIXTURE=${MAKE_FIXTURE:-build/bench/make_fixture}
[[ $(id -u) == 0 ]] || { echo "ab_scrape.sh: needs root (mount)" >&2; exit 2; }
for b in "$A" "$B" "$MAKE_FIXTURE"; do [[ -x $b ]] || { echo "ab_scrape.sh: $b is not executable" >&2; exit 2; }; done
WORK=$(mktemp -d /tmp/we-ab.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  mountpoint -q "$WORK/cg" && umount "$WORK/cg"
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir "$WORK/cg"
mount -t tmpfs -o size=4g,mode=755 we-ab "$WORK/cg"
"$MAKE_FIXTURE" "$WORK/cg" "$N" >/dev/null
free_port() {
  local p
  for p in $(shuf -i 20000-45000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
declare -A PORT PID
for side in A B; do
  bin=${!side}
  PORT[$side]=$(free_port)
  "$bin" --path.cgroupfs="$WORK/cg" --sampling.interval=1s --libvirt.uri= \
    --web.listen-address=127.0.0.1:"${PORT[$side]}" >"$WORK/$side.log" 2>&1 &
  PID[$side]=$!
  PIDS+=("${PID[$side]}")
done
for side in A B; do
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:${PORT[$side]}/-/ready" && break
    sleep 0.1
  done
done
# One scraper per daemon, at a fixed cadence (B half a cadence after A), logging curl's time_total.
scraper() { # SIDE OFFSET_S
  local side=$1 next
  next=$(awk -v n="$(date +%s.%N)" -v o="$2" 'BEGIN{printf "%.3f", n + o}')
  while :; do
    sleep "$(awk -v n="$(date +%s.%N)" -v t="$next" 'BEGIN{d = t - n; printf "%.3f", (d > 0 ? d : 0)}')"
    curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:${PORT[$side]}/metrics" >>"$WORK/$side.lat"
    next=$(awk -v t="$next" -v e="$EVERY" 'BEGIN{printf "%.3f", t + e}')
  done
}
scraper A 0.3 &
PIDS+=($!)
scraper B "$(awk -v e="$EVERY" 'BEGIN{print e / 2 + 0.3}')" &
PIDS+=($!)
cpu() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
sleep $((EVERY * 2 + 5))
declare -A C0
for side in A B; do C0[$side]=$(cpu "${PID[$side]}"); : >"$WORK/$side.lat"; done
t0=$(date +%s.%N)
sleep "$DURATION"
t1=$(date +%s.%N)
hz=$(getconf CLK_TCK)
echo "N=$N workloads, scraped every $EVERY s, $DURATION s measured ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
for side in A B; do
  c1=$(cpu "${PID[$side]}")
  lat=$(sort -n "$WORK/$side.lat" | awk '{v[NR] = $1} END {if (NR) printf "%.1f ms median of %d", v[int((NR + 1) / 2)] * 1000, NR}')
  awk -v s="$side" -v b="${!side}" -v c0="${C0[$side]}" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
      -v rss="$(awk '/^VmHWM:/ {print $2}' "/proc/${PID[$side]}/status")" -v lat="$lat" \
      'BEGIN { printf "%s %s: %.3f CPU s/min, peak RSS %.1f MiB, scrape %s\n", s, b, (c1 - c0) / hz / (t1 - t0) * 60, rss / 1024, lat }'
done
