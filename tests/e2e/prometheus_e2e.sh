#!/usr/bin/env bash
# End to end with a real Prometheus: every expression of the Grafana dashboards and of the rules
# file is evaluated against real data from the real daemon watching real containers and real VMs.
#
#   sudo bash tests/e2e/prometheus_e2e.sh path/to/workload_exporter [GUEST_DIR]
#
# 1. promtool checks and unit-tests the rules (tests/e2e/promtool_rules.sh); the dashboards are
#    linted (tests/e2e/dashboards_lint.sh). Meanwhile the test guest is built or taken from its
#    cache (tests/rigs/build_guest.sh GUEST_DIR, default a temporary one) and a libvirtd of the
#    test's own starts (tests/rigs/private_libvirtd.sh: own mount, network and cgroup namespaces,
#    own /etc/libvirt, /run/libvirt, /var/lib/libvirt; its cgroups beneath this script's).
# 2. The daemon starts on a free loopback port (--sampling.interval=1s, --libvirt.uri= that
#    libvirtd's socket, idle/peak windows [30s, 1m, 5m, 1h] so that startup times are decided within
#    the run, and the shortest is longer than the guest's boot under TCG even on a busy host), and
#    Prometheus (scrape and evaluation every 1 s, job "e2e_workloads", the rules
#    file loaded) in its own temporary directory.
# 3. Real workloads: two docker-<64 hex>.scope cgroups beneath this script's own cgroups (cgroup2,
#    v1 memory and v1 cpu, whichever exist): "busy" (CPU limit 0.2, memory limit 256 MiB; a
#    child burning CPU for 4 s then sleeping, and one holding 64 MiB) and "oom" (memory limit
#    48 MiB; a child allocating 200 MiB, which the kernel OOM-kills); a bare QEMU (TCG, no disk:
#    a VM found from /proc only, runtime "qemu"); and a libvirt domain from tests/rigs/domain.xml.in
#    running the rig's Linux guest under TCG with a virtio disk (a sparse file; the guest reads and
#    writes it every 2 s), a virtio NIC on an <interface type='ethernet'> tap in libvirtd's network
#    namespace (the guest pings the tap's host side every 2 s; type='user' has no host device,
#    so libvirt reports no counters for it) and the balloon with a 2 s stats period (the guest
#    loads virtio_balloon, so guest memory statistics are real).
# 4. After WE_E2E_WAIT seconds (default 40), and until the VM's libvirt series, its startup time
#    and its block and network rates are in Prometheus (at most WE_E2E_VM_WAIT more, default 60),
#    every panel target and template variable query of packaging/grafana/dashboards/*.json and
#    every rule Prometheus loaded goes through /api/v1/query, twice for the workload detail
#    dashboard: with every workload ("All"), then with the libvirt VM selected (instance, kind,
#    runtime and name substituted as Grafana would). Any invalid expression fails the test; so
#    does an empty result from a recording rule, a panel or a variable. The only exemptions are
#    host features a run may lack (CPU or memory limits, PSI), each printed, and, with the VM
#    selected, the figures only a limited workload has. Alert expressions may be empty; on top,
#    the alerts these workloads must raise are checked (OOM kill firing, throttling and peak
#    memory pending, nothing for the unconstrained figures or the VM's guest memory statistics),
#    and the "Containers vs VMs" ratios must each return a value.
#
# 5. `workload_exporter report --prometheus` over the range Prometheus holds (once the containers
#    have 105 s of scrapes, for krr's 100 data points) must list the test's containers and VMs with
#    the figures the daemon's /metrics serves, within the tolerances stated where it is checked.
#
# Environment: WE_E2E_WAIT (seconds, default 40), WE_E2E_VM_WAIT (default 60), WE_E2E_KEEP=1
# (keep the temporary directory).
#
# Runs as root. Exit 0 pass, 1 fail, 77 skipped (no prometheus, promtool, QEMU or libvirt binary;
# not root). Every process it starts is stopped by PID, the domain destroyed and undefined,
# libvirtd stopped, and every cgroup it (or its libvirtd) creates removed, on failure too.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
rules_file=$root/packaging/prometheus/workload_exporter.rules.yml
dashboards=("$root"/packaging/grafana/dashboards/*.json)
wait_seconds=${WE_E2E_WAIT:-40}
started_ns=$(date +%s%N)

log() { printf '%s prometheus_e2e: %s\n' "$(date +%T)" "$*"; }
fail() {
  log "FAIL: $*"
  exit 1
}
skip() {
  log "SKIP: $*"
  exit 77
}

binary=${1:-}
guest_dir=${2:-}
[[ -n $binary ]] || {
  echo "usage: $0 WORKLOAD_EXPORTER_BINARY [GUEST_DIR]" >&2
  exit 1
}
prometheus=$(command -v prometheus) || skip "no prometheus binary (apt-get install --no-install-recommends prometheus)"
command -v promtool >/dev/null || skip "no promtool binary (apt-get install --no-install-recommends prometheus)"
((EUID == 0)) || skip "must run as root: it creates cgroups"
for tool in qemu-system-x86_64 libvirtd virtlogd virsh; do
  command -v "$tool" >/dev/null ||
    skip "no $tool (apt-get install --no-install-recommends qemu-system-x86 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)"
done
[[ -x $binary ]] || fail "$binary is not an executable"
for tool in curl jq base64 unshare nsenter ip; do
  command -v "$tool" >/dev/null || fail "$tool is required (apt-get install $tool)"
done

# ------------------------------------------------------------------------------------ cleanup
work=""
pids=()    # every process started, stopped by PID
cgroups=() # every cgroup directory created, removed in reverse order
nap_pid=""
rig=""           # private libvirtd's directory (tests/rigs/private_libvirtd.sh)
lv_setup_pid=""  # the background guest build + libvirtd start
lv_uri=""
domain=""        # the libvirt domain defined

alive() { # a PID that exists and is not a zombie
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z ]]
}

# shellcheck source=tests/test_util/remove_cgroups.sh
source "$here/../test_util/remove_cgroups.sh"
cleanup() {
  local rc=$? pid i dir stray
  trap - EXIT INT TERM HUP
  set +e
  [[ -n $nap_pid ]] && kill -KILL "$nap_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # The domain, then our libvirtd (which also stops whatever QEMU it left, by PID, and removes
  # its cgroups). A setup still running is waited for first: it undoes itself if it fails.
  if [[ -n $lv_setup_pid ]]; then
    wait "$lv_setup_pid" 2>/dev/null
    lv_uri=$(bash "$root/tests/rigs/private_libvirtd.sh" uri "$rig" 2>/dev/null)
  fi
  if [[ -n $rig && -e $rig/private_libvirtd.state ]]; then
    if [[ -n $domain ]]; then
      timeout 20 virsh -c "$lv_uri" destroy "$domain" >/dev/null 2>&1
      timeout 20 virsh -c "$lv_uri" undefine "$domain" >/dev/null 2>&1
    fi
    if ((rc != 0 && rc != 77)) && [[ -n $work ]]; then
      # (libvirtd probes the host's NICs with ethtool at start: harmless errors in a new netns)
      grep -v 'ethtool ioctl error' "$rig/lv/libvirtd.log" 2>/dev/null | tail -n 40 >"$work/libvirtd.log"
    fi
    bash "$root/tests/rigs/private_libvirtd.sh" stop "$rig" >>"$work/libvirt_stop.log" 2>&1 || {
      log "stopping the private libvirtd failed: $(cat "$work/libvirt_stop.log")"
      rc=1
    }
  fi
  # Anything still inside our cgroups can only be a descendant of ours: stop it by PID as well.
  for dir in "${cgroups[@]}"; do
    for stray in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$stray" 2>/dev/null; done
  done
  remove_cgroups "${cgroups[@]}" || rc=1
  if [[ -n $work && -d $work ]]; then
    if ((rc != 0 && rc != 77)); then
      for f in "$work"/*.log; do
        [[ -s $f ]] || continue
        echo "----- last lines of $(basename "$f")"
        tail -n 25 "$f"
      done
    fi
    if [[ -n ${WE_E2E_KEEP:-} ]]; then log "kept $work"; else rm -rf "$work"; fi
  fi
  local ms=$((($(date +%s%N) - started_ns) / 1000000))
  log "finished in $((ms / 1000)).$((ms % 1000 / 100)) s, exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

nap() { # an interruptible sleep: signals are handled at once, not after the sleep
  sleep "$1" &
  nap_pid=$!
  wait "$nap_pid"
  nap_pid=""
}

work=$(mktemp -d /tmp/workload_exporter_e2e.XXXXXX) || fail "mktemp"
# The rules as shipped, but every group at this Prometheus' 1 s evaluation interval: the sizing
# group's own `interval: 5m` would leave it unevaluated (health "unknown") in a two-minute run.
e2e_rules_file=$work/workload_exporter.rules.yml
sed -E '/^    interval: [0-9]+[smh]$/d' "$rules_file" >"$e2e_rules_file" || fail "copying the rules"
grep -qE '^    interval:' "$e2e_rules_file" && fail "a group interval survived in $e2e_rules_file"

# ------------------------------------------------------------------------------------ static checks
log "promtool: check and unit-test the rules"
bash "$here/promtool_rules.sh" >"$work/promtool.log" 2>&1 || {
  cat "$work/promtool.log"
  fail "promtool_rules.sh failed"
}
sed 's/^/  /' "$work/promtool.log"

# The guest and libvirtd take a while (a first guest build ~20 s, libvirtd's QEMU probe ~8 s
# without its cache): in the background while promtool runs.
[[ -n $guest_dir ]] || guest_dir=$work/guest
rig=$work/rig
mkdir -p "$guest_dir" "$rig" || fail "mkdir $guest_dir $rig"
(
  bash "$root/tests/rigs/build_guest.sh" "$guest_dir" || exit 1
  WE_LIBVIRT_CACHE=$guest_dir/libvirt-cache bash "$root/tests/rigs/private_libvirtd.sh" start "$rig"
) </dev/null >"$work/libvirt_start.out" 2>"$work/libvirt_start.log" &
lv_setup_pid=$!

bash "$here/dashboards_lint.sh" >"$work/dashboards_lint.out" 2>&1 || {
  cat "$work/dashboards_lint.out"
  fail "dashboards_lint.sh failed"
}
sed 's/^/  /' "$work/dashboards_lint.out"

# ------------------------------------------------------------------------------------ helpers
port_in_use() { # TCP port listened on (IPv4 or IPv6)?
  local hex
  hex=$(printf ':%04X' "$1")
  awk '$4 == "0A" {print $2}' /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi -- "$hex\$"
}
pick_port() {
  local p
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  return 1
}
wait_http() { # URL seconds PID: until URL answers 200, or the PID died, or time is up
  local url=$1 deadline=$((SECONDS + $2)) pid=$3
  while ((SECONDS < deadline)); do
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    alive "$pid" || return 1
    sleep 0.2
  done
  return 1
}
prom_query() { # PROMQL -> the raw JSON answer of /api/v1/query
  curl -sS --max-time 10 --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query"
}
result_count() { # PROMQL -> number of series/samples it returns now ("error: ..." when invalid)
  prom_query "$1" | jq -r 'if .status == "success" then (.data.result | if type == "array" then length else 1 end)
                           else "error: \(.errorType // ""): \(.error // "no answer")" end' 2>/dev/null ||
    echo "error: no JSON answer"
}
random_hex() { head -c "$(($1 / 2))" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# ------------------------------------------------------------------------------------ cgroups
# cgroupfs, unified_root and own[...]: where this script may create cgroups.
# shellcheck source=tests/test_util/own_cgroups.sh
source "$here/../test_util/own_cgroups.sh"

have_cpu_limit=0 have_mem_limit=0 have_psi=0
# make_container ID DIRS [SCOPE] -> creates SCOPE (default docker-<ID>.scope) beneath our own
# cgroups in every hierarchy there is, and lists the directories in the array named DIRS.
make_container() {
  local -n dirs_ref=$2
  local id=$1 dir
  dirs_ref=()
  local scope=${3:-docker-$id.scope}
  if [[ -n $unified_root && -n ${own[unified]+x} ]]; then
    dir=$unified_root${own[unified]%/}/$scope
    mkdir "$dir" || fail "mkdir $dir"
    cgroups+=("$dir")
    dirs_ref+=("$dir")
  fi
  if [[ $unified_root != "$cgroupfs" ]]; then
    for c in memory cpu; do
      [[ -d $cgroupfs/$c && -n ${own[$c]+x} ]] || continue
      dir=$cgroupfs/$c${own[$c]%/}/$scope
      mkdir "$dir" || fail "mkdir $dir"
      cgroups+=("$dir")
      dirs_ref+=("$dir")
    done
  fi
  ((${#dirs_ref[@]})) || fail "no cgroup hierarchy to create $scope in"
}
set_memory_limit() { # BYTES DIRS...: 1 when a limit (and no swap beyond it) could be set
  local bytes=$1 dir ok=0
  shift
  for dir; do
    if [[ -e $dir/memory.limit_in_bytes ]]; then
      echo "$bytes" >"$dir/memory.limit_in_bytes" 2>/dev/null && ok=1
      [[ -e $dir/memory.memsw.limit_in_bytes ]] && echo "$bytes" >"$dir/memory.memsw.limit_in_bytes" 2>/dev/null
    elif [[ -e $dir/memory.max ]]; then
      echo "$bytes" >"$dir/memory.max" 2>/dev/null && ok=1
      [[ -e $dir/memory.swap.max ]] && echo 0 >"$dir/memory.swap.max" 2>/dev/null
    fi
  done
  echo "$ok"
}
set_cpu_limit() { # QUOTA_US DIRS... (period 100 ms)
  local quota=$1 dir ok=0
  shift
  for dir; do
    if [[ -e $dir/cpu.cfs_quota_us ]]; then
      echo 100000 >"$dir/cpu.cfs_period_us" 2>/dev/null
      echo "$quota" >"$dir/cpu.cfs_quota_us" 2>/dev/null && ok=1
    elif [[ -e $dir/cpu.max ]]; then
      echo "$quota 100000" >"$dir/cpu.max" 2>/dev/null && ok=1
    fi
  done
  echo "$ok"
}
# spawn_in LOGNAME SCRIPT DIRS...: a bash child that first moves itself into DIRS, then runs SCRIPT.
spawn_in() {
  local name=$1 script=$2
  shift 2
  bash -c 'for d in "$@"; do echo $$ >"$d/cgroup.procs" || exit 99; done; '"$script" "$name" "$@" \
    </dev/null >>"$work/$name.log" 2>&1 &
  pids+=($!)
}

# ------------------------------------------------------------------------------------ libvirt
wait "$lv_setup_pid"
lv_rc=$?
lv_setup_pid=""
((lv_rc == 0)) || {
  sed 's/^/  /' "$work/libvirt_start.log"
  fail "building the guest or starting the private libvirtd failed"
}
lv_uri=$(tail -n1 "$work/libvirt_start.out")
[[ $lv_uri == qemu+unix://* ]] || fail "no libvirt URI from private_libvirtd.sh: $lv_uri"
log "libvirtd of our own at $lv_uri (guest $(cat "$guest_dir/kernel.version"))"

# ------------------------------------------------------------------------------------ the daemon
cat >"$work/workload_exporter.yml" <<'EOF'
# Short first window: startup is decided once the shortest window has filled, from that window's
# idle level, so it must outlast the busiest start (the guest's boot under TCG, 7-25 s here).
idle_peak:
  windows: [30s, 1m, 5m, 1h]
  # The guest's disk writes and balloon polling every 2 s cost 0.065-0.076 cores under TCG on this
  # machine on a slow day, and averaged 0.054 over 20 s at rest in one run: about the default 0.05-core
  # floor. 0.1 leaves a margin and stays under the busy container's 0.2-core burn.
  startup:
    min_cores: 0.1
EOF
"$binary" --web.listen-address=127.0.0.1:0 --sampling.interval=1s --libvirt.uri="$lv_uri" \
  --config.file="$work/workload_exporter.yml" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
pids+=("$daemon_pid")
daemon_port=""
for ((i = 0; i < 50; i++)); do
  daemon_port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]\+\).*/\1/p' "$work/daemon.log" 2>/dev/null | head -n1)
  [[ -n $daemon_port ]] && break
  alive "$daemon_pid" || break
  sleep 0.1
done
[[ -n $daemon_port ]] || fail "the daemon did not report its port"
wait_http "http://127.0.0.1:$daemon_port/-/ready" 15 "$daemon_pid" || fail "the daemon is not ready"
log "daemon PID $daemon_pid ready on 127.0.0.1:$daemon_port"

# ------------------------------------------------------------------------------------ Prometheus
prom_pid=""
prom_port=""
job=e2e_workloads # not "workload_exporter": the dashboards must not assume a job name
for attempt in 1 2 3; do
  prom_port=$(pick_port) || fail "no free port for Prometheus"
  cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $e2e_rules_file
scrape_configs:
  - job_name: $job
    static_configs:
      - targets: ["127.0.0.1:$daemon_port"]
EOF
  promtool check config "$work/prometheus.yml" >"$work/promtool_config.log" 2>&1 ||
    fail "promtool check config: $(cat "$work/promtool_config.log")"
  "$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" >>"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  pids+=("$prom_pid")
  wait_http "http://127.0.0.1:$prom_port/-/ready" 30 "$prom_pid" && break
  alive "$prom_pid" && fail "Prometheus is not ready after 30 s"
  log "Prometheus exited (port $prom_port taken?), attempt $attempt"
  prom_pid=""
done
[[ -n $prom_pid ]] || fail "Prometheus did not start"
log "Prometheus PID $prom_pid ready on 127.0.0.1:$prom_port"
# Prometheus applies new targets up to 5 s after it starts: the workloads start once it scrapes.
for ((i = 0; i < 100; i++)); do
  [[ $(result_count "up{job=\"$job\"} == 1") == 1 ]] && break
  sleep 0.2
done
((i < 100)) || fail "Prometheus has not scraped the daemon after 20 s"
log "Prometheus scrapes the daemon"
prom_scraping_since=$SECONDS

# ------------------------------------------------------------------------------------ workloads
busy_id=$(random_hex 64)
oom_id=$(random_hex 64)
busy_name=${busy_id:0:12}
oom_name=${oom_id:0:12}
busy_dirs=()
oom_dirs=()
make_container "$busy_id" busy_dirs
make_container "$oom_id" oom_dirs
# An nspawn container whose machine name holds the byte 0xff, as systemd escapes it in the scope's
# name (\xff): the label value must reach Prometheus as valid UTF-8 (U+FFFD), or Prometheus
# rejects the whole scrape and every other check below fails with it.
bad_utf8_dirs=()
make_container "" bad_utf8_dirs 'machine-we\xffe2e.scope'
bad_utf8_name=we$'\xef\xbf\xbd'e2e
# 0.2 cores: low enough that even on a contended host the burner reaches it and is throttled.
have_cpu_limit=$(set_cpu_limit 20000 "${busy_dirs[@]}")
have_mem_limit=$(set_memory_limit $((256 << 20)) "${busy_dirs[@]}")
oom_limit=$(set_memory_limit $((48 << 20)) "${oom_dirs[@]}")
((have_mem_limit && oom_limit)) || have_mem_limit=0
[[ -n $unified_root && -e ${busy_dirs[0]}/cpu.pressure ]] && have_psi=1
mkfifo "$work/hold" || fail "mkfifo"
# busy: burns CPU for 4 s then sleeps; a second process holds 64 MiB.
spawn_in busy 'end=$((SECONDS + 4)); while ((SECONDS < end)); do :; done; exec sleep 3600' "${busy_dirs[@]}"
spawn_in busy_memory 'printf -v x "%*s" 67108864 ""; read -r _ <>"'"$work/hold"'"' "${busy_dirs[@]}"
# oom: a moment after the daemon has seen the empty cgroup, allocates 200 MiB against 48 MiB.
spawn_in oom 'sleep 3; printf -v x "%*s" 209715200 ""; read -r _ <>"'"$work/hold"'"' "${oom_dirs[@]}"
disown "${pids[-1]}" # its death by SIGKILL is expected: no job report (cleanup still stops it by PID)
spawn_in bad_utf8 'exec sleep 3600' "${bad_utf8_dirs[@]}"
containers_started=$SECONDS
log "containers: busy $busy_name (cpu limit: $have_cpu_limit, memory limit: $have_mem_limit), oom $oom_name, in ${busy_dirs[*]%/docker-*} (PSI: $have_psi)"

# A bare QEMU: no disk, the firmware finds nothing to boot and waits; a VM from /proc only.
qemu_name=we-e2e-qemu-$(random_hex 8)
qemu_uuid=$(cat /proc/sys/kernel/random/uuid)
qemu-system-x86_64 -name "guest=$qemu_name,debug-threads=on" -uuid "$qemu_uuid" -accel tcg -m 64 -smp 1 \
  -nodefaults -display none -no-reboot </dev/null >"$work/qemu.log" 2>&1 &
pids+=($!)
log "VM (QEMU only): PID $! name $qemu_name"

# The libvirt domain: the rig's guest with a disk, a NIC and the balloon (stats every 2 s).
vm_name=we-e2e-lv-$(random_hex 8)
vm_uuid=$(cat /proc/sys/kernel/random/uuid)
tap=we-e2e-tap0 # in libvirtd's own network namespace: no clash with the host's devices
truncate -s 8M "$rig/vm-disk.img" || fail "truncate $rig/vm-disk.img"
devices="<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='$rig/vm-disk.img'/><target dev='vda' bus='virtio'/></disk>"
devices+="<interface type='ethernet'><target dev='$tap' managed='yes'/><model type='virtio'/></interface>"
sed -e "s|@NAME@|$vm_name|g" -e "s|@UUID@|$vm_uuid|g" -e "s|@KERNEL@|$guest_dir/vmlinuz|g" \
  -e "s|@INITRD@|$guest_dir/initramfs.cpio.gz|g" -e "s|@LOG@|$work/vm.log|g" \
  -e "s|@CMDLINE@|console=ttyS0 panic=-1 quiet net=10.0.2.15/24,10.0.2.2 io=2|g" \
  -e "s|</devices>|$devices</devices>|" "$root/tests/rigs/domain.xml.in" >"$rig/$vm_name.xml" || fail "domain XML"
virsh -c "$lv_uri" define "$rig/$vm_name.xml" >"$work/virsh.log" 2>&1 || fail "virsh define: $(cat "$work/virsh.log")"
domain=$vm_name
virsh -c "$lv_uri" start "$vm_name" >>"$work/virsh.log" 2>&1 || fail "virsh start: $(cat "$work/virsh.log")"
bash "$root/tests/rigs/private_libvirtd.sh" run "$rig" ip addr add 10.0.2.2/24 dev "$tap" >>"$work/virsh.log" 2>&1 ||
  fail "host side of $tap: $(cat "$work/virsh.log")"
vm_started=$SECONDS
log "VM (libvirt): $vm_name uuid $vm_uuid, disk vda, NIC on $tap, balloon stats every 2 s"

log "waiting ${wait_seconds} s for samples, windows, startup times and rule evaluations"
nap "$wait_seconds"
alive "$daemon_pid" || fail "the daemon died"
alive "$prom_pid" || fail "Prometheus died"
grep -q WE-GUEST-READY "$work/vm.log" 2>/dev/null && log "guest ready: $(tr -d '\r' <"$work/vm.log" | grep '^WE-GUEST' | tr '\n' ' ')"
# What the VM must have shown before the expressions are worth running: its libvirt figures,
# guest memory statistics, a decided startup, and its disk and NIC moving.
vm_ready=(
  "workload_vm_vcpu_delay_seconds_total{name=\"$vm_name\"}"
  "workload_vm_guest_memory_used_bytes{name=\"$vm_name\"}"
  "workload_vm_guest_memory_stats_age_seconds{name=\"$vm_name\"}"
  "workload_vm_state{name=\"$vm_name\",state=\"running\"} == 1"
  "workload_startup_seconds{name=\"$vm_name\"}"
  "rate(workload_vm_block_read_bytes_total{name=\"$vm_name\"}[1m]) > 0"
  "rate(workload_vm_block_written_bytes_total{name=\"$vm_name\"}[1m]) > 0"
  "rate(workload_vm_network_receive_packets_total{name=\"$vm_name\"}[1m]) > 0"
  "rate(workload_vm_network_transmit_packets_total{name=\"$vm_name\"}[1m]) > 0"
  "workload:workload_cpu_seconds:rate5m{name=\"$vm_name\"}"
)
deadline=$((SECONDS + ${WE_E2E_VM_WAIT:-60}))
while :; do
  not_yet=()
  for q in "${vm_ready[@]}"; do [[ $(result_count "$q") =~ ^[1-9] ]] || not_yet+=("$q"); done
  ((${#not_yet[@]} == 0)) && break
  if ((SECONDS >= deadline)); then
    log "the VM did not show everything after $((SECONDS - vm_started)) s; missing:"
    printf '    %s\n' "${not_yet[@]}"
    # What the startup rule saw: every per-interval CPU figure of the VM since it started (the
    # daemon's own, scraped every second), and its shortest window's idle and peak.
    log "the VM's CPU per interval (cores): $(prom_query "workload_cpu_usage_cores{name=\"$vm_name\"}[$((SECONDS - vm_started + 5))s]" |
      jq -r '[.data.result[0].values[]?[1] | tonumber * 1000 | round / 1000 | tostring] | join(" ")')"
    log "its 30s window: idle $(prom_query "workload_cpu_idle_cores{name=\"$vm_name\",window=\"30s\"}" | jq -r '.data.result[0].value[1] // "none"')," \
      "peak $(prom_query "workload_cpu_peak_cores{name=\"$vm_name\",window=\"30s\"}" | jq -r '.data.result[0].value[1] // "none"') cores"
    fail "VM $vm_name incomplete (guest log: $(tr '\n' ' ' <"$work/vm.log" 2>/dev/null))"
  fi
  nap 2
done
log "VM $vm_name complete in Prometheus $((SECONDS - vm_started)) s after virsh start"

# ------------------------------------------------------------------------------------ the workloads as Prometheus sees them
[[ $(result_count "up{job=\"$job\"} == 1") == 1 ]] || fail "the daemon's target is not up in Prometheus"
for n in "$busy_name" "$oom_name"; do
  [[ $(result_count "workload_info{kind=\"container\",runtime=\"docker\",name=\"$n\"}") == 1 ]] ||
    fail "container $n not in Prometheus"
done
[[ $(result_count "workload_info{kind=\"vm\",runtime=\"qemu\",name=\"$qemu_name\"}") == 1 ]] || fail "VM $qemu_name not in Prometheus"
# Found by a pattern (RE2's "." is one code point), then compared byte for byte.
bad_utf8_seen=$(prom_query 'workload_info{kind="container",runtime="systemd-nspawn",name=~"we.e2e"}' |
  jq -r '[.data.result[].metric.name] | join(",")')
[[ $bad_utf8_seen == "$bad_utf8_name" ]] ||
  fail "the container named with byte 0xff is not in Prometheus as we\\uFFFDe2e: got '$bad_utf8_seen' ($(printf %s "$bad_utf8_seen" | od -An -tx1))"
curl -sS --max-time 10 "http://127.0.0.1:$daemon_port/metrics" >"$work/metrics.txt" || fail "GET /metrics"
grep -aq "name=\"$bad_utf8_name\"" "$work/metrics.txt" || fail "/metrics lacks name=\"$bad_utf8_name\""
promtool check metrics <"$work/metrics.txt" >"$work/promtool_metrics.log" 2>&1 ||
  fail "promtool check metrics on the live /metrics: $(head -c 2000 "$work/promtool_metrics.log")"
log "the container named with byte 0xff is in Prometheus as $bad_utf8_name, and promtool accepts /metrics"
[[ $(result_count "workload_info{kind=\"vm\",runtime=\"libvirt\",name=\"$vm_name\"}") == 1 ]] || fail "VM $vm_name not in Prometheus"
instance=127.0.0.1:$daemon_port
vm_startup=$(prom_query "workload_startup_seconds{name=\"$vm_name\"}" | jq -r '.data.result[0].value[1] // "none"')
awk -v s="$vm_startup" 'BEGIN { exit !(s + 0 < 2) }' &&
  log "WARNING: the VM's startup is $vm_startup s, less than its boot: its boot outlasted the shortest window and was taken for its idle level"
prom_value() { prom_query "$1" | jq -r '[.data.result[]?.value[1]] | if length == 0 then "none" else join(",") end'; }
log "measured: startup busy $(prom_value "workload_startup_seconds{name=\"$busy_name\"}") s," \
  "oom $(prom_value "workload_startup_seconds{name=\"$oom_name\"}") s, VM $(prom_value "workload_startup_seconds{name=\"$vm_name\"}") s;" \
  "peak memory (1h) busy $(prom_value "workload_memory_peak_bytes{name=\"$busy_name\",window=\"1h\"}") B, VM $(prom_value "workload_memory_peak_bytes{name=\"$vm_name\",window=\"1h\"}") B;" \
  "guest memory used VM $(prom_value "workload_vm_guest_memory_used_bytes{name=\"$vm_name\"}") B of $(prom_value "workload_vm_memory_assigned_bytes{name=\"$vm_name\"}") B;" \
  "peak CPU busy $(prom_value "workload_cpu_peak_cores{name=\"$busy_name\",window=\"1h\"}");" \
  "VM CPU over the last 20 s: mean $(prom_value "avg_over_time(workload_cpu_usage_cores{name=\"$vm_name\"}[20s])")," \
  "max $(prom_value "max_over_time(workload_cpu_usage_cores{name=\"$vm_name\"}[20s])") cores;" \
  "OOM kills oom $(prom_value "workload_oom_kills_total{name=\"$oom_name\"}")"

# ------------------------------------------------------------------------------------ the expressions
# Rules as Prometheus loaded them (every one must be healthy), then the dashboards.
rules_json=$(curl -sS --max-time 10 "http://127.0.0.1:$prom_port/api/v1/rules") || fail "GET /api/v1/rules"
want_records=$(grep -cE '^[[:space:]]*-[[:space:]]+record:' "$rules_file")
want_alerts=$(grep -cE '^[[:space:]]*-[[:space:]]+alert:' "$rules_file")
got_records=$(jq '[.data.groups[].rules[] | select(.type == "recording")] | length' <<<"$rules_json")
got_alerts=$(jq '[.data.groups[].rules[] | select(.type == "alerting")] | length' <<<"$rules_json")
[[ $got_records == "$want_records" && $got_alerts == "$want_alerts" ]] ||
  fail "Prometheus loaded $got_records recording and $got_alerts alerting rules; the file has $want_records and $want_alerts"
unhealthy=$(jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.health) \(.lastError // "")"' <<<"$rules_json")
[[ -z $unhealthy ]] || fail "unhealthy rules:"$'\n'"$unhealthy"

# One line per expression: pass <TAB> kind <TAB> where <TAB> expr, each field base64 (exprs span
# lines). Pass "all": every dashboard with the one instance and job of this run and every other
# variable at "All" (Grafana's allValue, .*). Pass "vm": the workload detail dashboard with the
# libvirt VM selected, as a user looking at that VM would have it.
jq -r '.data.groups[] | .name as $g | .rules[]
       | ["all", (if .type == "recording" then "record" else "alert" end), "rules \($g) \(.name)", .query]
       | map(@base64) | join("\t")' <<<"$rules_json" >"$work/exprs.tsv"
extract_dashboards() { # PASS OVERRIDES-JSON DASHBOARD...: their panel targets and variable queries
  local pass=$1 overrides=$2
  shift 2
  jq -r --arg pass "$pass" --argjson over "$overrides" '
    def value_of: if .type == "query" then ".*"
                  elif .type == "datasource" then ""
                  else (.current.value // .query // "" | if type == "array" then .[0] else . end) end;
    def substitute($vars):
      reduce ($vars | to_entries | sort_by(-(.key | length)))[] as $v (.;
        gsub("\\$\\{" + $v.key + "(:[a-z]+)?\\}"; $v.value)
        | gsub("\\[\\[" + $v.key + "\\]\\]"; $v.value)
        | gsub("\\$" + $v.key + "(?![A-Za-z0-9_])"; $v.value));
    . as $d
    | ({"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
       + ([.templating.list[] | {key: .name, value: value_of}] | from_entries)
       + ($over | with_entries(select(.key as $k | [$d.templating.list[].name] | index($k))))) as $vars
    | ( (.. | objects | select(has("targets")) | . as $p | .targets[] | select(.expr)
          | [$pass, "panel", "\($d.title) / \($p.title) [\(.refId)]", (.expr | substitute($vars))]),
        (.templating.list[] | select(.type == "query") | . as $v
          | (.query | if type == "object" then .query else . end)
          | capture("^label_values\\((?<sel>.*),\\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\\s*\\)$")
          | [$pass, "variable", "\($d.title) / variable \($v.name)", "count by (\(.label)) (\(.sel | substitute($vars)))"]) )
    | map(@base64) | join("\t")' "$@"
}
extract_dashboards all "{\"instance\": \"$instance\", \"job\": \"$job\"}" "${dashboards[@]}" \
  >>"$work/exprs.tsv" || fail "extracting the dashboards' expressions"
extract_dashboards vm "{\"instance\": \"$instance\", \"job\": \"$job\", \"kind\": \"vm\",
                        \"runtime\": \"libvirt\", \"name\": \"$vm_name\"}" \
  "$root/packaging/grafana/dashboards/workload_exporter_workload_detail.json" >>"$work/exprs.tsv" ||
  fail "extracting the dashboards' expressions"

# What an expression needs to have data beyond the daemon, the containers and the VMs: host
# features a run may lack (checked above when the containers were made). With the VM selected,
# a limit's figures are absent by design: libvirt sets no CPU or memory limit on this domain.
requirement() {
  local e=$1
  if [[ $e =~ cpu_limit|periods|throttled ]]; then
    echo cpu_limit
  elif [[ $e =~ memory_limit|ratio_limit ]]; then
    echo mem_limit
  elif [[ $e =~ pressure ]]; then
    echo psi
  elif [[ $e =~ '>= 100' ]]; then
    echo points100 # krr's rules: nothing from fewer than 100 samples
  else
    echo none
  fi
}
have_points100=0
((SECONDS - prom_scraping_since >= 105)) && have_points100=1
declare -A have=([none]=1 [cpu_limit]=$have_cpu_limit [mem_limit]=$have_mem_limit [psi]=$have_psi
  [points100]=$have_points100)
declare -A why=([cpu_limit]="no CPU limit could be set" [mem_limit]="no memory limit could be set"
  [psi]="no PSI files on this host" [points100]="fewer than 100 scrapes yet (krr's rules need 100 samples)")
# PSI is per cgroup2 directory: libvirt makes one for the domain only where the unified tree has
# controllers (a pure cgroup v2 host); on a hybrid host the QEMU stays in its parent's.
vm_qemu_pid=$(tr -dc 0-9 <"$rig/lv/run/qemu/$vm_name.pid" 2>/dev/null)
vm_unified=$(sed -n 's/^0:://p' "/proc/$vm_qemu_pid/cgroup" 2>/dev/null)
vm_psi=0
[[ $vm_unified == *.libvirt-qemu* || $vm_unified == *machine-qemu* ]] && vm_psi=$have_psi
declare -A have_vm_pass=([none]=1 [cpu_limit]=0 [mem_limit]=0 [psi]=$vm_psi [points100]=$have_points100)
declare -A why_vm_pass=([cpu_limit]="the VM has no CPU limit" [mem_limit]="the VM has no memory limit"
  [points100]="fewer than 100 scrapes yet (krr's rules need 100 samples)"
  [psi]="libvirt made the VM no cgroup2 directory of its own (QEMU is in ${vm_unified:-?}): no per-VM PSI on a hybrid host")

checked=0 with_data=0 invalid=0 missing=0 alerts_empty=0
declare -A by_kind=() data_by_kind=()
allowed=()
while IFS=$'\t' read -r p k w e; do
  pass=$(base64 -d <<<"$p")
  kind=$(base64 -d <<<"$k")
  where=$(base64 -d <<<"$w")
  expr=$(base64 -d <<<"$e")
  [[ $pass == vm ]] && where="$where (VM $vm_name selected)"
  ((checked++))
  by_kind[$kind]=$((${by_kind[$kind]:-0} + 1))
  if [[ $expr == *'$'* ]]; then
    log "INVALID: $where: unresolved variable in: $expr"
    ((invalid++))
    continue
  fi
  n=$(result_count "$expr")
  if [[ $n == error* ]]; then
    log "INVALID: $where: $n"$'\n'"    $expr"
    ((invalid++))
    continue
  fi
  if ((n > 0)); then
    ((with_data++))
    data_by_kind[$kind]=$((${data_by_kind[$kind]:-0} + 1))
    continue
  fi
  if [[ $kind == alert ]]; then
    ((alerts_empty++))
    continue
  fi
  need=$(requirement "$expr")
  if [[ $pass == vm ]] && ((!${have_vm_pass[$need]})); then
    allowed+=("$where: ${why_vm_pass[$need]}")
  elif [[ $pass == all ]] && ((!${have[$need]})); then
    allowed+=("$where: ${why[$need]}")
  else
    log "NO DATA: $where"$'\n'"    $expr"
    ((missing++))
  fi
done <"$work/exprs.tsv"

# ------------------------------------------------------------------------------------ alerts on the real workloads
alert_failures=0
expect_alert() { # STATE-REGEX ALERTNAME NAME DESCRIPTION
  local n
  n=$(result_count "ALERTS{alertname=\"$2\",alertstate=~\"$1\",name=\"$3\"}")
  if [[ $n =~ ^[1-9] ]]; then
    log "alert ok: $2 $4"
  else
    log "ALERT MISSING: $2 ($1) for $3: $4 (got $n)"
    ((alert_failures++))
  fi
}
expect_no_alert() { # ALERTNAME SELECTOR-LABELS DESCRIPTION
  local n
  n=$(result_count "ALERTS{alertname=\"$1\"$2}")
  if [[ $n == 0 ]]; then
    log "alert ok: no $1 $3"
  else
    log "UNEXPECTED ALERT: $1$2: $3 (got $n)"
    ((alert_failures++))
  fi
}
if ((have_mem_limit)); then
  expect_alert firing WorkloadOOMKilled "$oom_name" "firing for the OOM-killed container"
  expect_alert 'pending|firing' WorkloadPeakMemoryNearLimit "$oom_name" "pending for the container that hit its limit"
  expect_no_alert WorkloadMemoryNearLimit ",name=\"$busy_name\"" "for the container at 25% of its limit"
  expect_no_alert WorkloadOOMKilled ",name=\"$busy_name\"" "for the container never OOM-killed"
fi
if ((have_cpu_limit)); then
  expect_alert 'pending|firing' WorkloadCPUThrottled "$busy_name" "pending for the container that burned CPU against its 0.2-core limit"
fi
expect_no_alert WorkloadExporterDown "" "while the exporter is up"
# The VM's balloon reports fresh guest statistics: the alert for the missing ones stays quiet.
expect_no_alert VMGuestMemoryStatsMissing ",name=\"$vm_name\"" "for the VM whose guest reports balloon statistics"

# ------------------------------------------------------------------------------------ containers vs VMs
# With both kinds present, each container ÷ VM ratio of the comparison dashboard is one value
# (the table's six rows, and the six series over time); NaN (both 0) and +Inf (the VMs' figure is
# 0) are values the dashboard labels n/a and infinity, so they count, but are printed as such.
ratio_failures=0
ratios=()
while IFS=$'\t' read -r p k w e; do
  where=$(base64 -d <<<"$w")
  [[ $(base64 -d <<<"$p") == all && $where == "Containers vs VMs / "* ]] || continue
  [[ $where == *"Container ÷ VM over time"* || $where == *"VM vs container [C]"* ]] || continue
  answer=$(prom_query "$(base64 -d <<<"$e")")
  got=$(jq -r '[.data.result[]? | "\(.metric.metric // "")=\(.value[1])"] | join(" ")' <<<"$answer")
  want=1
  [[ $where == *"[C]" && $where == *"VM vs container"* ]] && want=6
  if [[ $(jq '.data.result | length' <<<"$answer") == "$want" ]]; then
    ratios+=("${where#Containers vs VMs / }: ${got#=}")
  else
    log "RATIO MISSING: $where: wanted $want value(s), got '${got}'"
    ((ratio_failures++))
  fi
done <"$work/exprs.tsv"
((${#ratios[@]} == 7)) || {
  log "RATIO MISSING: found ${#ratios[@]} of the 7 ratio queries in the comparison dashboard"
  ((ratio_failures++))
}
log "container ÷ VM ratios:"
printf '    %s\n' "${ratios[@]}"

# ------------------------------------------------------------------------------------ report --prometheus
# `workload_exporter report --prometheus` over the range this Prometheus holds gives the table of
# the test's workloads, with the figures /metrics served. Waits until the containers have 105 s
# of scrapes (krr's recommendation needs 100 data points), after the expressions and alerts, whose
# figures (a burst's rate, a pending alert) are timed for the moment they are checked at.
# Tolerances, each a difference from the last /metrics (the same snapshot as the daemon's JSON):
#   startup          equal (within 1 ms): the last recorded value of the same gauge
#   peak memory      within 1% or 1 MiB: max_over_time of the 1h window's peaks (the report's
#                    peak window, the longest), scraped every second, against the last 1h peak:
#                    they differ only by a peak in the second between the last scrape and /metrics
#   peak CPU         within 0.01 cores + 2%, for the same reason
#   idle memory      within 5% or 1 MiB for the containers: the 0.1 quantile of the scraped working
#                    set (interpolated at rank 0.1 (n - 1)) against the daemon's of every sample (rank
#                    ceil(0.1 n)), the same samples less the few scrapes missed. The VM's is compared
#                    with Prometheus' own quantile_over_time(0.1) of the range (within 1e-6), not with
#                    /metrics: its 10% lies in its boot ramp, and the daemon's 1h idle is
#                    recomputed once a block (60 s, README.md "Idle and peak"), so /metrics shows the
#                    quantile of an older set of samples (two runs: 132 MiB from Prometheus against
#                    69 MiB, then 167 against 205)
#   idle CPU         within 0.02 cores
#   sizing           VPA CPU = max(0.025, p90 * 1.15) of quantile_over_time over the same range at
#                    the same --end, asked of Prometheus directly; krr memory = the report's peak
#                    * 1.15 (both within 1e-6)
while ((SECONDS - containers_started < 105)); do nap 1; done
report_range=$((SECONDS - prom_scraping_since + 5))
report_end=$(date +%s)
report_args=(--prometheus "http://127.0.0.1:$prom_port" --range "${report_range}s" --end "$report_end"
  --select "job=$job" --select "instance=$instance")
report_ok=0
report_started_ns=$(date +%s%N)
if "$binary" report "${report_args[@]}" --format json >"$work/report_prometheus.json" 2>"$work/report_prometheus.log" &&
  "$binary" report "${report_args[@]}" --compare "vm:$vm_name" "container:$busy_name" \
    >"$work/report_prometheus.txt" 2>>"$work/report_prometheus.log"; then
  report_ok=1
fi
curl -sS --max-time 10 "http://127.0.0.1:$daemon_port/metrics" >"$work/metrics_report.txt" || fail "GET /metrics"
((report_ok)) || fail "report --prometheus failed: $(cat "$work/report_prometheus.log")"
log "report --prometheus over ${report_range}s took $((($(date +%s%N) - report_started_ns) / 1000000)) ms (two runs):"
sed '/^Workloads:/,$d' "$work/report_prometheus.txt" | sed 's/^/    /'
metric() { # FAMILY NAME [WINDOW] -> the value /metrics served for that workload, or "none"
  awk -v f="$1" -v n="name=\"$2\"" -v w="${3:+window=\"$3\"}" '
    index($0, f "{") == 1 && index($0, n) && (w == "" || index($0, w)) { v = $NF } END { print (v == "" ? "none" : v) }' \
    "$work/metrics_report.txt"
}
report_failures=0
close_enough() { # WHAT GOT WANT ABS REL: |got - want| <= max(ABS, REL * |want|)
  if awk -v g="$2" -v w="$3" -v a="$4" -v r="$5" 'BEGIN {
      if (g == "null" || g == "" || w == "none") exit 1
      d = g - w; if (d < 0) d = -d; t = r * (w < 0 ? -w : w); if (t < a) t = a; exit !(d <= t) }'; then
    log "report ok: $1: $2 (/metrics $3)"
  else
    log "REPORT MISMATCH: $1: report $2, /metrics $3 (tolerance max($4, $5 x))"
    ((report_failures++))
  fi
}
mib=1048576
for who in "container $busy_name" "vm $vm_name"; do
  read -r kind name <<<"$who"
  row=$(jq -c --arg k "$kind" --arg n "$name" '.workloads[] | select(.kind == $k and .name == $n)' "$work/report_prometheus.json")
  [[ -n $row ]] || {
    log "REPORT MISSING: $kind $name is not in the report"
    ((report_failures++))
    continue
  }
  fig() { jq -r --arg f "$1" '.[$f] // "null"' <<<"$row"; }
  want_startup=$(metric workload_startup_seconds "$name")
  if [[ $want_startup != none ]]; then
    close_enough "$kind startup (s)" "$(fig startup_seconds)" "$want_startup" 0.001 0
  fi
  close_enough "$kind peak memory (MiB)" "$(fig memory_peak_bytes)" \
    "$(awk -v v="$(metric workload_memory_peak_bytes "$name" 1h)" -v m=$mib 'BEGIN { printf "%.12g", v / m }')" 1 0.01
  want_idle=$(awk -v v="$(metric workload_memory_idle_bytes "$name" 1h)" -v m=$mib 'BEGIN { printf "%.12g", v / m }')
  if [[ $kind == vm ]]; then
    # Not compared with /metrics (see above), but with what Prometheus itself says of the range.
    sel="{instance=\"$instance\",kind=\"$kind\",name=\"$name\"}"
    idle_q=$(curl -sS --max-time 10 --data-urlencode "time=$report_end" --data-urlencode \
      "query=quantile_over_time(0.1, workload_memory_working_set_bytes${sel}[${report_range}s]) or quantile_over_time(0.1, workload_memory_usage_bytes${sel}[${report_range}s])" \
      "http://127.0.0.1:$prom_port/api/v1/query" | jq -r '.data.result[0].value[1] // "none"')
    log "report: vm idle memory (MiB) $(fig memory_idle_bytes), /metrics' 1h idle $want_idle (not compared: see above)"
    close_enough "$kind idle memory (MiB) = Prometheus' quantile_over_time(0.1)" "$(fig memory_idle_bytes)" \
      "$(awk -v v="$idle_q" -v m=$mib 'BEGIN { if (v == "none") print "none"; else printf "%.12g", v / m }')" 0 1e-6
  else
    close_enough "$kind idle memory (MiB)" "$(fig memory_idle_bytes)" "$want_idle" 1 0.05
  fi
  close_enough "$kind peak CPU (cores)" "$(fig cpu_peak_cores)" "$(metric workload_cpu_peak_cores "$name" 1h)" 0.01 0.02
  close_enough "$kind idle CPU (cores)" "$(fig cpu_idle_cores)" "$(metric workload_cpu_idle_cores "$name" 1h)" 0.02 0
  p90=$(curl -sS --max-time 10 --data-urlencode "time=$report_end" --data-urlencode \
    "query=quantile_over_time(0.9, workload_cpu_usage_cores{instance=\"$instance\",kind=\"$kind\",name=\"$name\"}[${report_range}s])" \
    "http://127.0.0.1:$prom_port/api/v1/query" | jq -r '.data.result[0].value[1] // "none"')
  close_enough "$kind VPA CPU request (cores)" "$(fig vpa_cpu_request_cores)" \
    "$(awk -v p="$p90" 'BEGIN { v = p * 1.15; printf "%.12g", (v < 0.025 ? 0.025 : v) }')" 0 1e-6
  close_enough "$kind krr memory (MiB) = peak x 1.15" "$(fig krr_memory_bytes)" \
    "$(awk -v p="$(fig memory_peak_bytes)" 'BEGIN { printf "%.12g", p * 1.15 }')" 0 1e-6
done
for who in "container $oom_name" "vm $qemu_name"; do
  read -r kind name <<<"$who"
  [[ -n $(jq -r --arg k "$kind" --arg n "$name" '.workloads[] | select(.kind == $k and .name == $n) | .name' \
    "$work/report_prometheus.json") ]] || {
    log "REPORT MISSING: $kind $name is not in the report"
    ((report_failures++))
  }
done
((report_failures == 0)) || fail "report --prometheus: $report_failures mismatch(es) with /metrics"

# ------------------------------------------------------------------------------------ summary
log "summary: $checked expressions checked, $with_data returned data" \
  "(recording rules ${data_by_kind[record]:-0}/${by_kind[record]:-0}, panel targets ${data_by_kind[panel]:-0}/${by_kind[panel]:-0}," \
  "variable queries ${data_by_kind[variable]:-0}/${by_kind[variable]:-0}, alert expressions ${data_by_kind[alert]:-0}/${by_kind[alert]:-0}" \
  "with ${alerts_empty} legitimately empty); invalid: $invalid, without data where data is expected: $missing," \
  "allowed empty: ${#allowed[@]}, alert checks failed: $alert_failures, ratios missing: $ratio_failures"
if ((${#allowed[@]})); then
  log "allowed to be empty in this run:"
  printf '    %s\n' "${allowed[@]}"
fi
((invalid == 0 && missing == 0 && alert_failures == 0 && ratio_failures == 0)) || fail "see above"
log "PASS"
exit 0
