#!/bin/bash
# The checks of issue #16, run inside the pure cgroup v2 guest (tests/rigs/build_v2_host.sh) by
# its wetest-check.service once multi-user.target and Docker are up; v2_host_test.sh puts this
# script and the package into /opt/wetest and reads /results back after the guest powers off.
#
# Every check is one line of /results/checks.txt:  PASS|FAIL NAME MEASURED EXPECTED
# Figures are checked for two daemons: "pkg", the packaged unit (its own user, no capability), and
# "root", the same binary run as root by systemd-run on port 9747 with the packaged config, so a
# failure says whether it is the code or the privileges. Figures are compared with the kernel's
# files while the containers are paused (cgroup.freeze), read in the same second as the scrapes.
# Also saved: the daemon's journal, the serial-visible log, and kernel files captured from real
# containers (/results/captured) for the fixtures.
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

R=/results
W=/opt/wetest
CG=/sys/fs/cgroup
mkdir -p "$R/captured" "$R/scrapes"
exec > >(tee -a "$R/check.log") 2>&1
T0=$(date +%s.%N)
log() { printf '%s +%ss guest_check: %s\n' "$(date +%T)" "$(awk -v t="$T0" -v n="$(date +%s.%N)" 'BEGIN{printf "%.1f", n-t}')" "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# --------------------------------------------------------------------------- result recording
record() { # VERDICT NAME MEASURED EXPECTED
  printf '%s %s %s %s\n' "$1" "$2" "${3// /_}" "${4// /_}" >>"$R/checks.txt"
  [[ $1 == PASS ]] || log "FAIL $2: measured $3, expected $4"
}
is() { # NAME MEASURED EXPECTED: string equality
  if [[ $2 == "$3" ]]; then record PASS "$1" "$2" "$3"; else record FAIL "$1" "$2" "$3"; fi
}
le() { # NAME MEASURED LIMIT: numeric MEASURED <= LIMIT
  if awk -v m="$2" -v l="$3" 'BEGIN{exit !(m != "" && m+0 == m && m+0 <= l+0)}' 2>/dev/null; then
    record PASS "$1" "$2" "<=$3"
  else
    record FAIL "$1" "${2:-absent}" "<=$3"
  fi
}
near() { # NAME MEASURED EXPECTED REL: |MEASURED-EXPECTED| <= REL*|EXPECTED| (REL 0: exact)
  local name=$1 m=${2:-absent} e=$3 rel=$4 want
  if [[ $rel == 0 ]]; then want=$e; else want="$e±$(awk -v r="$rel" 'BEGIN{print r*100}')%"; fi
  if [[ $m != absent ]] && awk -v m="$m" -v e="$e" -v r="$rel" \
      'BEGIN{d=m-e; if(d<0)d=-d; a=e<0?-e:e; exit !(d<=r*a || d<1e-9)}'; then
    record PASS "$name" "$m" "$want"
  else
    record FAIL "$name" "$m" "$want"
  fi
}

# --------------------------------------------------------------------------- scrapes and files
declare -A PORT=([pkg]=9746 [root]=9747 [image]=9748)
scrape() { # DAEMON OUTFILE
  curl -sf --max-time 10 "http://127.0.0.1:${PORT[$1]}/metrics" >"$2"
}
# The value of series NAME whose labels contain id="ID" (and FRAG, a label="value" text), or empty.
val() { # FILE NAME ID [FRAG]
  awk -v n="$2" -v id="id=\"$3\"" -v f="${4:-}" \
    'index($0, n "{") == 1 && index($0, id) && (f == "" || index($0, f)) { print $NF; exit }' "$1"
}
label() { # FILE ID LABEL: the label's value on workload_info of the workload ID
  awk -v id="id=\"$2\"" -v l="$3" 'index($0, "workload_info{") == 1 && index($0, id) {
    if (match($0, l "=\"[^\"]*\"")) { print substr($0, RSTART + length(l) + 2, RLENGTH - length(l) - 3) }; exit }' "$1"
}
kv() { # FILE KEY: the value of "KEY VALUE" lines (memory.stat, cpu.stat, memory.events)
  awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null
}
iosum() { # CGROUPDIR FIELD: a field of io.stat summed over devices (0 when io.stat is empty)
  awk -v f="$2" '{ for (i = 2; i <= NF; i++) { split($i, p, "="); if (p[1] == f) s += p[2] } } END { print s + 0 }' "$1/io.stat"
}
psi() { # FILE some|full: total in seconds
  awk -v k="$2" '$1 == k { for (i = 2; i <= NF; i++) if ($i ~ /^total=/) { sub("total=", "", $i); printf "%.6f\n", $i / 1e6 } }' "$1"
}
us() { awk -v v="$1" 'BEGIN{printf "%.6f\n", v / 1e6}'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.6f\n", a + b}'; }

# --------------------------------------------------------------------------- the containers
declare -A RT=() CID=() CGDIR=()
start_docker() { # NAME ARGS...
  local name=$1
  shift
  docker run -d --name "$name" --network none "$@" >"$R/run-$name.out" 2>&1 || log "docker run $name failed: $(cat "$R/run-$name.out")"
}
finish() {
  log "saving the journal"
  journalctl -u workload_exporter --no-pager -o short-precise >"$R/journal-workload_exporter.txt" 2>&1
  journalctl -u we-root-contrast --no-pager -o short-precise >"$R/journal-root-contrast.txt" 2>&1
  journalctl -b --no-pager -o short-precise >"$R/journal-boot.txt" 2>&1
  log "done: $(grep -c '^PASS' "$R/checks.txt") PASS, $(grep -c '^FAIL' "$R/checks.txt") FAIL"
  date +%s >"$R/done"
  sync
  # The results are on disk: power off without stopping each service (Docker and Podman stop
  # their containers one SIGTERM timeout at a time, minutes under TCG). The runtimes and their
  # containers are killed first (cgroup.kill), or systemd-shutdown would wait 90 s for them;
  # --force still unmounts, so debugfs on the host sees every file.
  local d
  for d in $CG/machine.slice/*/ $CG/system.slice/docker*/ $CG/system.slice/containerd.service/; do
    [[ -f $d/cgroup.kill ]] && echo 1 >"$d/cgroup.kill"
  done
  systemctl poweroff --force
}
trap finish EXIT
: >"$R/checks.txt"
uname -r >"$R/kernel.txt"
log "kernel $(uname -r), systemd $(systemctl --version | head -n1), cgroup $(stat -fc %T $CG)"

# The image first: the spike container must be older than the 1m window when the spike comes.
log "importing the containers' image"
docker import "$W/image.tar" weimg:latest >/dev/null 2>"$R/docker-import.err" || log "docker import: $(cat "$R/docker-import.err")"
podman import "$W/image.tar" localhost/weimg:latest >/dev/null 2>"$R/podman-import.err" &
podman_import=$!
start_docker we-spike weimg /load spike 16 200 100
SPIKE_STARTED=$(now)
log "spike container started"
# 6. The container image (packaging/Dockerfile, built by podman on the host), loaded while the
# spike container ages, and alone: `docker load` of its 140 MiB takes 77 s of this one vCPU when
# the guest is idle, and over 300 s beside the other containers' starts. It is started after the
# spike (one resetting memory.peak reader then).
IMAGE_LOADED=""
if [[ -f $W/we-image.tar ]]; then
  t=$(now)
  if docker load -i "$W/we-image.tar" >"$R/docker-load.out" 2>&1; then
    IMAGE_LOADED=$(since "$t")
    log "image loaded in $IMAGE_LOADED s: $(tail -n 1 "$R/docker-load.out")"
  else
    record FAIL image:docker_load "$(tail -n 1 "$R/docker-load.out")" loaded
  fi
else
  record FAIL image:archive absent "$W/we-image.tar"
fi
mkdir -p /var/lib/wetest-dio
# cpu.weight 1 (--cpu-shares 2) keeps the burners from starving the rest of this one-vCPU guest.
# (Every `wait` names its PIDs: a bare one would also wait for the tee above, forever.)
runs=()
start_docker we-burn --cpu-shares 2 weimg /load burn 64 &
runs+=($!)
start_docker we-oom --memory 32m --memory-swap 32m weimg sh -c '/load alloc 64; exec sleep 100000' &
runs+=($!)
start_docker we-throttle --cpus 0.2 weimg /load burn 0 &
runs+=($!)
start_docker we-dio -v /var/lib/wetest-dio:/data weimg /load dio /data/f 8 &
runs+=($!)
wait "$podman_import" || log "podman import: $(cat "$R/podman-import.err")"
podman run -d --name we-podman --network none --cpu-shares 2 localhost/weimg:latest /load burn 48 \
  >"$R/run-we-podman.out" 2>&1 || log "podman run failed: $(cat "$R/run-we-podman.out")"
wait "${runs[@]}"
# machine.slice and system.slice share the one vCPU equally: without this, the Podman burner would
# take half of it whenever the checks run.
systemctl set-property --runtime machine.slice CPUWeight=1
log "containers started: $(docker ps --format '{{.Names}}' | tr '\n' ' ') / $(podman ps --format '{{.Names}}' | tr '\n' ' ')"
for c in we-spike we-burn we-oom we-throttle we-dio; do
  RT[$c]=docker
  CID[$c]=$(docker inspect -f '{{.Id}}' "$c" 2>/dev/null)
done
RT[we-podman]=podman
CID[we-podman]=$(podman inspect -f '{{.Id}}' we-podman 2>/dev/null)
for c in "${!CID[@]}"; do
  [[ -n ${CID[$c]} ]] || { record FAIL "start:$c" "not_running" "running"; continue; }
  d=$(find $CG -maxdepth 3 -type d \( -name "docker-${CID[$c]}.scope" -o -name "libpod-${CID[$c]}.scope" \) | head -n1)
  CGDIR[$c]=$d
  log "$c ${CID[$c]:0:12} in ${d#"$CG"}"
done

# ------------------------------------------------------------------------- 1. the packaged unit
log "installing the package"
deb=$(ls "$W"/prometheus-workload-exporter_*.deb | head -n1)
t=$(now)
# dpkg -i: `apt install ./x.deb` does the same here (no network) and takes a minute under TCG.
if dpkg -i "$deb" >"$R/apt-install.log" 2>&1; then
  record PASS unit:install "$(since "$t")s" installed
else
  record FAIL unit:install "$(tail -n 1 "$R/apt-install.log")" installed
fi
t=$(now)
systemctl start workload_exporter
rc=$?
is unit:start_rc "$rc" 0
is unit:active_after_start "$(systemctl is-active workload_exporter)" active
log "unit active $(since "$t") s after systemctl start"
scrape pkg "$R/scrapes/pkg-first.prom"
# The same binary as root, for contrast: no sandbox, no user, the packaged configuration.
start_root_contrast() {
  systemd-run --unit=we-root-contrast -p Type=notify -p NotifyAccess=main \
    /usr/bin/workload_exporter --config.file=/etc/workload_exporter/config.yaml \
    --web.listen-address=:9747 >/dev/null 2>&1
  is root:active "$(systemctl is-active we-root-contrast)" active
}
start_root_contrast
scrape root "$R/scrapes/root-first.prom"

# Counters of an empty io.stat at 0 from the first scrape.
for c in "${!CGDIR[@]}"; do
  # (cgroup files have no size: read them.)
  [[ -z $(cat "${CGDIR[$c]}/io.stat") ]] || continue
  log "$c: io.stat empty at the first scrape"
  for d in pkg root; do
    for f in io_read_bytes_total io_write_bytes_total io_reads_total io_writes_total; do
      is "$d:$c:empty_io.stat:$f:first_scrape" "$(val "$R/scrapes/$d-first.prom" "workload_$f" "${CID[$c]}")" 0
    done
  done
  break  # one container with an empty io.stat is enough
done

ts_metric=workload_exporter_config_last_reload_success_timestamp_seconds
reload_ts() { curl -sf --max-time 5 "http://127.0.0.1:9746/metrics" | awk -v n="$ts_metric" '$1 == n { printf "%.3f\n", $2 }'; }
measure_reload() { # NAME: systemctl reload, then seconds until the daemon's reload timestamp moves
  local before t took acted=""
  before=$(reload_ts)
  t=$(now)
  systemctl reload workload_exporter
  is "$1:rc" "$?" 0
  took=$(since "$t")
  systemctl status --no-pager workload_exporter >"$R/$1.status.txt" 2>&1
  while (($(date +%s) - ${t%.*} < 25)); do
    r=$(reload_ts)
    if [[ -n $r && $r != "$before" ]]; then acted=$(awk -v r="$r" -v t="$t" 'BEGIN{printf "%.2f", r-t}'); break; fi
    sleep 0.2
  done
  log "$1: systemctl reload returned after $took s, daemon reloaded after ${acted:-never} s"
  # The daemon's part: from `systemctl reload` to its reload done, within 2 s (the issue's try
  # took 16 s: ExecReload's kill ran inside the sandbox, whose set-up costs seconds under TCG;
  # the unit's `+` skips it). systemctl returns after systemd has also processed READY=1, which
  # under TCG adds a second or so of systemd's own work: bounded at 3 s.
  # Bounds that tell the mechanism apart, not a speed: the guest is one TCG vCPU shared with the
  # test's burners, where a reload measured 1.97 to 2.69 s and systemctl 2.2 to 3.0 s in
  # consecutive runs of the same build; a reload by restart costs 16 s or more here.
  le "$1:systemctl_reload_seconds" "$took" 6
  le "$1:seconds_to_reload" "${acted:-absent}" 5
  is "$1:active_after" "$(systemctl is-active workload_exporter)" active
}
measure_reload unit:reload

# ------------------------------------------------------------------------- 4. the spike
age=$(since "$SPIKE_STARTED")
wait_s=$(awk -v a="$age" 'BEGIN{w=66-a; print (w > 0 ? w : 0)}')
log "spike container is $age s old; waiting $wait_s s for it to pass the 1m window"
sleep "$wait_s"
# The unit's exact peaks come through its opener (socket-activated, root): under TCG it can answer
# for the first time only a minute after the unit starts. Wait, up to 90 s, until the unit says it
# reads the interval watermark, so that the spike is read as on a real host; the check after the
# spike still fails if it never does.
for ((i = 0; i < 90; i++)); do
  src=$(curl -sf --max-time 5 "http://127.0.0.1:9746/metrics" |
    awk -F'source="' 'index($0, "workload_exporter_peak_source_info{") == 1 { split($2, s, "\""); print s[1] }')
  [[ $src == interval_watermark ]] && break
  sleep 1
done
log "pkg: peak source ${src:-absent} before the spike, after $i s"
spike_pid=$(docker inspect -f '{{.State.Pid}}' we-spike)
d=${CGDIR[we-spike]}
# One resetting reader only. Measured on this kernel (6.12 from bookworm-backports): with three
# descriptors resetting the same memory.peak (the packaged daemon, the root contrast and a
# reference tool of this script's), only the reader that came first after a 200 MiB spike saw it;
# the other two read 63 MB. So the root contrast stops for the spike, and the reference is the
# lifetime memory.peak (read, never written), which the spike sets: it is the container's largest.
systemctl stop we-root-contrast
t=$(now)
kill -USR1 "$spike_pid"
for ((i = 0; i < 150; i++)); do
  [[ -e /proc/$spike_pid/root/tmp/spiked-1 ]] && break  # written once the spike is released
  sleep 0.1
done
log "spike over $(since "$t") s after the signal"
spike_peak=$(cat "$d/memory.peak")
log "spike: the container's lifetime memory.peak after it: $spike_peak"
cp "$d/memory.peak" "$R/captured/spike-memory.peak.after" 2>/dev/null
spike_end=$(now)
dm=pkg
# The daemon's first tick after the spike's end reads the interval peak that holds it. Under TCG a
# tick can come late (one vCPU, burners beside it): wait for a snapshot taken over a second after
# the end, up to 15 s.
for ((i = 0; i < 75; i++)); do
  scrape "$dm" "$R/scrapes/$dm-spike.prom"
  ts=$(awk '$1 == "workload_exporter_last_sample_timestamp_seconds" { print $2 }' "$R/scrapes/$dm-spike.prom")
  awk -v ts="${ts:-0}" -v e="$spike_end" 'BEGIN { exit !(ts > e + 1.0) }' && break
  sleep 0.2
done
near "$dm:spike:peak_1m" "$(val "$R/scrapes/$dm-spike.prom" workload_memory_peak_bytes "${CID[we-spike]}" 'window="1m"')" "$spike_peak" 0.02
src=$(awk -F'source="' 'index($0, "workload_exporter_peak_source_info{") == 1 { split($2, s, "\""); print s[1] }' "$R/scrapes/$dm-spike.prom")
is "$dm:peak_source" "${src:-absent}" interval_watermark
start_root_contrast

# ------------------------------------------------------------------------- 6. the image, started
# The two `docker run` lines of packaging/Dockerfile's header and README.md, as documented but for
# the published port: 9746 is the packaged daemon's here, so the image's is published on 9748
# (the container still listens on 9746, which its HEALTHCHECK asks).
FIG_DAEMONS=(pkg root)
IMAGE_STARTED=""
if [[ -n $IMAGE_LOADED ]]; then
  docker volume create workload_exporter_run >/dev/null
  docker run -d --name workload_exporter_opener --user 0:9746 --cap-drop ALL \
    --security-opt no-new-privileges --read-only -v workload_exporter_run:/run/workload_exporter \
    -v /sys/fs/cgroup:/host/sys/fs/cgroup -v /:/host/root:ro \
    --entrypoint /usr/libexec/workload_exporter/workload_exporter_opener workload_exporter \
    --listen=/run/workload_exporter/opener.sock --path.cgroupfs=/host/sys/fs/cgroup \
    --path.rootfs=/host/root --idle-exit=0 >"$R/run-image-opener.out" 2>&1 ||
    log "docker run workload_exporter_opener failed: $(cat "$R/run-image-opener.out")"
  IMAGE_STARTED=$(now)
  docker run -d --name workload_exporter -p 9748:9746 \
    -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro -v /proc:/host/proc:ro -v /:/host/root:ro \
    -v /run/libvirt:/run/libvirt:ro -v workload_exporter_run:/run/workload_exporter \
    workload_exporter \
    --config.file=/etc/workload_exporter/config.yaml --path.cgroupfs=/host/sys/fs/cgroup \
    --path.procfs=/host/proc --path.rootfs=/host/root \
    --opener.socket=/run/workload_exporter/opener.sock >"$R/run-image.out" 2>&1 ||
    log "docker run workload_exporter failed: $(cat "$R/run-image.out")"
  # Ready, and naming the containers through its opener, before the figures are taken.
  named=""
  for ((i = 0; i < 120; i++)); do
    if scrape image "$R/scrapes/image-first.prom" 2>/dev/null &&
       [[ $(label "$R/scrapes/image-first.prom" "${CID[we-burn]}" name) == we-burn ]]; then
      named=$(since "$IMAGE_STARTED")
      break
    fi
    sleep 0.5
  done
  log "image: serving names ${named:-never} s after docker run"
  le image:named_s_after_run "${named:-absent}" 60
  FIG_DAEMONS+=(image)
fi

# ------------------------------------------------------------------------- 2, 3. the figures
log "pausing the containers for the figures"
runs=()
for c in "${!CID[@]}"; do
  "${RT[$c]}" pause "$c" >/dev/null 2>&1 &
  runs+=($!)
done
wait "${runs[@]}"
sleep 2.5  # two intervals after the freeze: the daemons' newest samples see frozen cgroups
for dm in "${FIG_DAEMONS[@]}"; do scrape "$dm" "$R/scrapes/$dm-paused.prom"; done
# The kernel's files, in the same second as the scrapes.
for c in "${!CGDIR[@]}"; do
  mkdir -p "$R/captured/$c"
  for f in cpu.stat memory.current memory.stat memory.events memory.swap.current memory.peak io.stat \
           pids.current cpu.pressure memory.pressure io.pressure cpu.max memory.max; do
    cp "${CGDIR[$c]}/$f" "$R/captured/$c/$f" 2>/dev/null
  done
done
cp /proc/pressure/* "$R/captured/" 2>/dev/null
# The kernel's figures of one captured cgroup, as "key expected tolerance" lines (one awk: forks
# are slow under TCG). Tolerance 0 is exact.
kernel_figures() { # DIR
  (cd "$1" && awk '
    FILENAME == "cpu.stat" || FILENAME == "memory.stat" || FILENAME == "memory.events" { f[FILENAME, $1] = $2 }
    FILENAME == "memory.current" || FILENAME == "memory.swap.current" || FILENAME == "memory.peak" ||
      FILENAME == "pids.current" { one[FILENAME] = $1 }
    FILENAME == "io.stat" { for (i = 2; i <= NF; i++) { split($i, p, "="); io[p[1]] += p[2] } }
    FILENAME ~ /\.pressure$/ { r = FILENAME; sub(/\.pressure$/, "", r)
      for (i = 2; i <= NF; i++) if ($i ~ /^total=/) psi[r "_" $1] = substr($i, 7) / 1e6 }
    END {
      usage = one["memory.current"]; inactive = f["memory.stat", "inactive_file"]
      printf "cpu_user_s %.6f 0.02\n", f["cpu.stat", "user_usec"] / 1e6
      printf "cpu_system_s %.6f 0.02\n", f["cpu.stat", "system_usec"] / 1e6
      printf "mem_usage %d 0.02\n", usage
      printf "mem_working_set %d 0.02\n", (usage > inactive ? usage - inactive : 0)
      printf "mem_rss %d 0.02\n", f["memory.stat", "anon"]
      printf "mem_cache %d 0.02\n", f["memory.stat", "file"]
      printf "mem_swap %d 0.02\n", one["memory.swap.current"]
      printf "mem_max_usage %d 0.02\n", one["memory.peak"]
      printf "oom_kills %d 0\n", f["memory.events", "oom_kill"]
      printf "cpu_periods %d 0\n", f["cpu.stat", "nr_periods"]
      printf "cpu_throttled_periods %d 0\n", f["cpu.stat", "nr_throttled"]
      printf "cpu_throttled_s %.6f 0.02\n", f["cpu.stat", "throttled_usec"] / 1e6
      printf "io_read_bytes %d 0\nio_write_bytes %d 0\n", io["rbytes"], io["wbytes"]
      printf "io_reads %d 0\nio_writes %d 0\n", io["rios"], io["wios"]
      printf "tasks %d 0\n", one["pids.current"]
      n = split("cpu memory io", rs, " ")
      for (i = 1; i <= n; i++) {
        printf "psi_%s_some_s %.6f 0.02\n", rs[i], psi[rs[i] "_some"]
        printf "psi_%s_full_s %.6f 0.02\n", rs[i], psi[rs[i] "_full"]
      }
    }' cpu.stat memory.stat memory.events memory.current memory.swap.current memory.peak pids.current \
       io.stat cpu.pressure memory.pressure io.pressure)
}
# The daemon's figures of workload ID in a scrape, under the same keys.
daemon_figures() { # SCRAPE ID
  awk -v id="id=\"$2\"" '
    BEGIN { k["workload_cpu_seconds_total/user"] = "cpu_user_s"; k["workload_cpu_seconds_total/system"] = "cpu_system_s"
      k["workload_memory_usage_bytes"] = "mem_usage"; k["workload_memory_working_set_bytes"] = "mem_working_set"
      k["workload_memory_rss_bytes"] = "mem_rss"; k["workload_memory_cache_bytes"] = "mem_cache"
      k["workload_memory_swap_bytes"] = "mem_swap"; k["workload_memory_max_usage_bytes"] = "mem_max_usage"
      k["workload_oom_kills_total"] = "oom_kills"; k["workload_cpu_periods_total"] = "cpu_periods"
      k["workload_cpu_throttled_periods_total"] = "cpu_throttled_periods"
      k["workload_cpu_throttled_seconds_total"] = "cpu_throttled_s"
      k["workload_io_read_bytes_total"] = "io_read_bytes"; k["workload_io_write_bytes_total"] = "io_write_bytes"
      k["workload_io_reads_total"] = "io_reads"; k["workload_io_writes_total"] = "io_writes"; k["workload_tasks"] = "tasks"
      split("cpu memory io", rs, " ")
      for (i = 1; i <= 3; i++) {
        k["workload_pressure_" rs[i] "_waiting_seconds_total"] = "psi_" rs[i] "_some_s"
        k["workload_pressure_" rs[i] "_stalled_seconds_total"] = "psi_" rs[i] "_full_s" } }
    index($0, id) {
      name = substr($0, 1, index($0, "{") - 1)
      if (match($0, /mode="[a-z]*"/)) name = name "/" substr($0, RSTART + 6, RLENGTH - 7)
      if (name in k) print k[name], $NF }' "$1"
}
# "PREFIX:key measured expected" verdicts into checks.txt, from the two lists above.
compare_figures() { # PREFIX MEASURED_FILE EXPECTED_FILE
  awk -v n="$1" 'NR == FNR { m[$1] = $2; next }
    { v = ($1 in m) ? m[$1] : "absent"; d = v - $2; if (d < 0) d = -d; a = $2 < 0 ? -$2 : $2
      ok = v != "absent" && (d <= $3 * a || d < 1e-9)
      printf "%s %s:%s %s %s%s\n", (ok ? "PASS" : "FAIL"), n, $1, v, $2, ($3 > 0 ? "±" $3 * 100 "%" : "") }' "$2" "$3" |
    tee -a "$R/checks.txt" | grep '^FAIL' | while read -r line; do log "$line"; done
}
for c in $(printf '%s\n' "${!CGDIR[@]}" | sort); do
  id=${CID[$c]}
  if [[ ${RT[$c]} == docker ]]; then
    want_name=$(docker ps -a --filter "id=$id" --format '{{.Names}}')
  else
    want_name=$(podman ps -a --filter "id=$id" --format '{{.Names}}')
  fi
  kernel_figures "$R/captured/$c" >"$R/captured/$c/expected.txt"
  for dm in "${FIG_DAEMONS[@]}"; do
    s=$R/scrapes/$dm-paused.prom
    n="$dm:${RT[$c]}:$c"
    is "$n:found" "$(label "$s" "$id" kind)/$(label "$s" "$id" runtime)" "container/${RT[$c]}"
    is "$n:name" "$(label "$s" "$id" name)" "$want_name"
    daemon_figures "$s" "$id" >"$R/scrapes/$dm-$c.figures"
    compare_figures "$n" "$R/scrapes/$dm-$c.figures" "$R/captured/$c/expected.txt"
  done
done
if [[ -n $IMAGE_STARTED ]]; then
  src=$(awk -F'source="' 'index($0, "workload_exporter_peak_source_info{") == 1 { split($2, s, "\""); print s[1] }' "$R/scrapes/image-paused.prom")
  is image:peak_source "${src:-absent}" interval_watermark
fi
# What each container was for: the figures above only mean something if the kernel moved them.
le "kernel:we-oom:oom_kill>=1" "$((1 - $(kv "$R/captured/we-oom/memory.events" oom_kill)))" 0
le "kernel:we-throttle:nr_throttled>=1" "$((1 - $(kv "$R/captured/we-throttle/cpu.stat" nr_throttled)))" 0
le "kernel:we-dio:wbytes>=8MiB" "$((8388608 - $(iosum "${CGDIR[we-dio]}" wbytes)))" 0
le "kernel:we-burn:usage>=64MiB" "$((67108864 - $(cat "$R/captured/we-burn/memory.current")))" 0
runs=()
for c in "${!CID[@]}"; do
  "${RT[$c]}" unpause "$c" >/dev/null 2>&1 &
  runs+=($!)
done
wait "${runs[@]}"

# Series gone at the next ticks after docker rm: within 5 s (measured 2.06 to 3.06 s under TCG on
# this one-vCPU guest; a series kept past its cgroup would stay for as long as the test looks).
gone() { # DAEMON ID: 0 when no series of ID is left
  local f=$R/scrapes/$1-gone.prom
  scrape "$1" "$f" && ! grep -q "id=\"$2\"" "$f"
}
docker rm -f we-dio >/dev/null 2>&1
t=$(now)
declare -A GONE=()
while (($(date +%s) - ${t%.*} < 10)); do
  for dm in pkg root; do
    [[ -z ${GONE[$dm]:-} ]] && gone "$dm" "${CID[we-dio]}" && GONE[$dm]=$(since "$t")
  done
  [[ -n ${GONE[pkg]:-} && -n ${GONE[root]:-} ]] && break
  sleep 0.1
done
for dm in pkg root; do le "$dm:docker_rm:series_gone_s" "${GONE[$dm]:-absent}" 5; done

# ------------------------------------------------------------------------- 5. services
log "collectors.cgroup.services: true, and a reload"
sed -i 's/^\(\s*services:\s*\)false/\1true/' /etc/workload_exporter/config.yaml
grep -q 'services: true' /etc/workload_exporter/config.yaml || record FAIL services:config_changed no yes
measure_reload services:reload
sleep 2.2
scrape pkg "$R/scrapes/pkg-services.prom"
s=$R/scrapes/pkg-services.prom
# A service is named by its unit without ".service" (README.md, "Services too").
docker_kind=$(awk 'index($0, "workload_info{") == 1 && index($0, "cgroup=\"/system.slice/docker.service\"") { match($0, /kind="[^"]*"/); print substr($0, RSTART + 6, RLENGTH - 7); exit }' "$s")
is services:docker.service_kind "${docker_kind:-absent}" service
is services:docker.service_name "$(label "$s" docker name)" docker
is services:own_service_series "$(grep -c '^workload_info{.*cgroup="/system.slice/workload_exporter.service"' "$s")" 1
is services:own_service_cpu_series "$(grep -c '^workload_cpu_seconds_total{.*id="workload_exporter"' "$s")" 2
is services:kind_count_matches "$(awk '$1 == "workload_exporter_workloads{kind=\"service\"}" { print $2 }' "$s")" \
  "$(grep -c '^workload_info{kind="service"' "$s")"

# ------------------------------------------------------------------------- 6. the image: health, user, size
if [[ -n $IMAGE_STARTED ]]; then
  # Asked at least once: under TCG this point can come more than the 120 s after docker run.
  health=$(docker inspect -f '{{.State.Health.Status}}' workload_exporter 2>/dev/null)
  while [[ $health != healthy && $health != unhealthy ]] && (($(date +%s) - ${IMAGE_STARTED%.*} < 120)); do
    sleep 1
    health=$(docker inspect -f '{{.State.Health.Status}}' workload_exporter 2>/dev/null)
  done
  log "image: Docker says ${health:-nothing} $(since "$IMAGE_STARTED") s after docker run"
  is image:docker_health "${health:-absent}" healthy
  docker inspect -f '{{json .State.Health}}' workload_exporter >"$R/image-health.json" 2>&1
  for ctr in workload_exporter workload_exporter_opener; do
    p=$(docker inspect -f '{{.State.Pid}}' "$ctr" 2>/dev/null)
    st=/proc/${p:-0}/status
    ids=$(awk '$1 == "Uid:" { u = $2 "/" $3 "/" $4 "/" $5 } $1 == "Gid:" { g = $2 } END { print u ":" g }' "$st" 2>/dev/null)
    caps=$(awk '$1 == "CapEff:" || $1 == "CapPrm:" { printf "%s%s", sep, $2; sep = "/" }' "$st" 2>/dev/null)
    if [[ $ctr == workload_exporter ]]; then want=9746/9746/9746/9746:9746; else want=0/0/0/0:9746; fi
    is "image:$ctr:uid/gid" "${ids:-absent}" "$want"
    is "image:$ctr:capabilities" "${caps:-absent}" 0000000000000000/0000000000000000
  done
  size=$(cat "$W/image-size" 2>/dev/null)
  log "image: $size bytes (podman image inspect on the host)"
  le image:size_MB "$(awk -v s="${size:-0}" 'BEGIN{printf "%.1f", s / 1e6}')" 200
  docker logs workload_exporter >"$R/image-daemon.log" 2>&1
  docker logs workload_exporter_opener >"$R/image-opener.log" 2>&1
fi

# ------------------------------------------------------------------------- 1. watchdog, security, stop
exposure=$(systemd-analyze security workload_exporter 2>/dev/null | awk '/Overall exposure level/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) v = $i } END { print v }')
le unit:security_exposure "${exposure:-absent}" 2.0
log "watchdog: WatchdogSec=5s and TimeoutAbortSec=3s by a drop-in for the test (the unit has 30s)"
mkdir -p /etc/systemd/system/workload_exporter.service.d
printf '[Service]\nWatchdogSec=5s\nTimeoutAbortSec=3s\n' >/etc/systemd/system/workload_exporter.service.d/wetest-watchdog.conf
systemctl daemon-reload
systemctl restart workload_exporter
pid=$(systemctl show -p MainPID --value workload_exporter)
restarts=$(systemctl show -p NRestarts --value workload_exporter)
kill -STOP "$pid"
t=$(now)
newpid=""
while (($(date +%s) - ${t%.*} < 40)); do
  p=$(systemctl show -p MainPID --value workload_exporter)
  if [[ $p != "$pid" && $p != 0 && $(systemctl is-active workload_exporter) == active ]]; then newpid=$p; break; fi
  sleep 0.2
done
log "watchdog: pid $pid stopped, new pid ${newpid:-none} after $(since "$t") s"
# WatchdogSec=5s, TimeoutAbortSec=3s, then a start: measured 21.8 s under TCG; without the
# watchdog there is no new PID at all.
le unit:watchdog_restart_s "$([[ -n $newpid ]] && since "$t" || echo absent)" 30
is unit:watchdog_nrestarts "$(systemctl show -p NRestarts --value workload_exporter)" "$((restarts + 1))"
systemctl stop workload_exporter
is unit:stop_rc "$?" 0
is unit:stop_result "$(systemctl show -p Result --value workload_exporter)" success
systemctl stop we-root-contrast
