#!/usr/bin/env bash
# End to end with a real Prometheus: every expression of the Grafana dashboards and of the rules
# file is evaluated against real data from the real daemon watching real workloads.
#
#   sudo bash tests/e2e/prometheus_e2e.sh path/to/workload_exporter
#
# 1. promtool checks and unit-tests the rules (tests/e2e/promtool_rules.sh); the dashboards are
#    linted (datasource variable, ids, targets).
# 2. The daemon starts on a free loopback port (--sampling.interval=1s --libvirt.uri=, idle/peak
#    windows [10s, 1m, 5m, 1h] so that startup times are decided within the run), and Prometheus
#    (scrape and evaluation every 1 s, the rules file loaded) in its own temporary directory.
# 3. Real workloads: two docker-<64 hex>.scope cgroups beneath this script's own cgroups (cgroup2,
#    v1 memory and v1 cpu, whichever exist): "busy" (CPU limit 0.5, memory limit 256 MiB; a
#    child burning CPU for 4 s then sleeping, and one holding 64 MiB) and "oom" (memory limit
#    48 MiB; a child allocating 200 MiB, which the kernel OOM-kills); and a QEMU VM (TCG, no disk)
#    when qemu-system-x86_64 is installed.
# 4. After WE_E2E_WAIT seconds (default 40), every panel target and template variable query of
#    packaging/grafana/dashboards/*.json (variables substituted) and every rule Prometheus loaded
#    goes through /api/v1/query. Any invalid expression fails the test; so does an empty result
#    from a recording rule, a panel or a variable, unless it needs something this run cannot have
#    (libvirt-only VM figures with --libvirt.uri=; anything VM-only without a VM; limits or PSI a
#    host does not offer), each such one printed. Alert expressions may be empty; on top, the
#    alerts these workloads must raise are checked (OOM kill firing, throttling and peak memory
#    pending, nothing for the unconstrained figures).
#
# Environment: WE_E2E_WAIT (seconds, default 40), WE_E2E_VM=0 (no QEMU VM), WE_E2E_LIBVIRT_URI
# (default empty: libvirt disabled), WE_E2E_KEEP=1 (keep the temporary directory).
#
# Runs as root. Exit 0 pass, 1 fail, 77 skipped (no prometheus or promtool binary, not root).
# Every process it starts is stopped by PID and every cgroup it creates is removed, on failure too.
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
[[ -n $binary ]] || {
  echo "usage: $0 WORKLOAD_EXPORTER_BINARY" >&2
  exit 1
}
prometheus=$(command -v prometheus) || skip "no prometheus binary (apt-get install --no-install-recommends prometheus)"
command -v promtool >/dev/null || skip "no promtool binary (apt-get install --no-install-recommends prometheus)"
((EUID == 0)) || skip "must run as root: it creates cgroups"
[[ -x $binary ]] || fail "$binary is not an executable"
for tool in curl jq base64; do
  command -v "$tool" >/dev/null || fail "$tool is required (apt-get install $tool)"
done

# ------------------------------------------------------------------------------------ cleanup
work=""
pids=()    # every process started, stopped by PID
cgroups=() # every cgroup directory created, removed in reverse order
nap_pid=""

alive() { # a PID that exists and is not a zombie
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z ]]
}

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
  # Anything still inside our cgroups can only be a descendant of ours: stop it by PID as well.
  for dir in "${cgroups[@]}"; do
    for stray in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -KILL "$stray" 2>/dev/null; done
  done
  for ((i = ${#cgroups[@]} - 1; i >= 0; i--)); do
    dir=${cgroups[i]}
    for ((attempt = 0; attempt < 50; attempt++)); do
      rmdir "$dir" 2>/dev/null || [[ ! -d $dir ]] && break
      sleep 0.1
    done
    [[ -d $dir ]] && {
      log "could not remove cgroup $dir"
      rc=1
    }
  done
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

# ------------------------------------------------------------------------------------ static checks
log "promtool: check and unit-test the rules"
bash "$here/promtool_rules.sh" >"$work/promtool.log" 2>&1 || {
  cat "$work/promtool.log"
  fail "promtool_rules.sh failed"
}
sed 's/^/  /' "$work/promtool.log"

((${#dashboards[@]} == 3)) && [[ -f ${dashboards[0]} ]] || fail "expected 3 dashboards under packaging/grafana/dashboards, found ${#dashboards[@]}"
lint=$(jq -r '
  . as $d
  | ([.templating.list[] | select(.type == "datasource" and .name == "datasource" and .query == "prometheus")] | length) as $dsvar
  | [ (if ($d.schemaVersion | type) != "number" or $d.schemaVersion < 36 then "schemaVersion \($d.schemaVersion)" else empty end),
      (if $dsvar != 1 then "no ${datasource} variable of type datasource/prometheus" else empty end),
      (if ([.. | objects | select(has("gridPos")) | .id] | (length != (unique | length))) then "duplicate panel ids" else empty end),
      (.. | objects | select(has("gridPos") and .type != "row" and .type != "text")
         | (if (.datasource.uid // "") != "${datasource}" then "panel \(.title): datasource is not ${datasource}" else empty end),
           (if ([.targets[]? | select(.expr)] | length) == 0 then "panel \(.title): no PromQL target" else empty end),
           (.targets[]? | select((.datasource.uid // "") != "${datasource}") | "panel target \(.refId): datasource is not ${datasource}")),
      (.templating.list[] | select(.type == "query" and (.datasource.uid // "") != "${datasource}") | "variable \(.name): datasource is not ${datasource}")
    ] | .[] | "\($d.title): \(.)"' "${dashboards[@]}") || fail "a dashboard is not valid JSON"
[[ -z $lint ]] || fail "dashboard lint:"$'\n'"$lint"
uids=$(jq -r '.uid' "${dashboards[@]}" | sort | uniq -d)
[[ -z $uids ]] || fail "duplicate dashboard uid: $uids"
log "dashboards: ${#dashboards[@]} files, valid JSON, datasource variable, ids and targets in order"

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
cgroupfs=/sys/fs/cgroup
unified_root=""
if [[ -e $cgroupfs/cgroup.controllers ]]; then
  unified_root=$cgroupfs
elif [[ -e $cgroupfs/unified/cgroup.controllers ]]; then
  unified_root=$cgroupfs/unified
fi
declare -A own=() # "unified" or a v1 controller -> this script's cgroup path in that hierarchy
while IFS=: read -r hid controllers path; do
  if [[ $hid == 0 && -z $controllers ]]; then
    own[unified]=$path
  else
    IFS=, read -ra list <<<"$controllers"
    for c in "${list[@]}"; do own[$c]=$path; done
  fi
done </proc/self/cgroup

have_cpu_limit=0 have_mem_limit=0 have_psi=0
# make_container NAME -> creates docker-<64 hex>.scope beneath our own cgroups; sets ${NAME}_id,
# ${NAME}_dirs (array name via nameref) and ${NAME}_unified/${NAME}_memory/${NAME}_cpu.
make_container() {
  local -n dirs_ref=$2
  local id=$1 dir
  dirs_ref=()
  local scope=docker-$id.scope
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

# ------------------------------------------------------------------------------------ the daemon
cat >"$work/workload_exporter.yml" <<'EOF'
# Short first window: startup is decided once the shortest window has filled.
idle_peak:
  windows: [10s, 1m, 5m, 1h]
EOF
"$binary" --web.listen-address=127.0.0.1:0 --sampling.interval=1s --libvirt.uri="${WE_E2E_LIBVIRT_URI:-}" \
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
for attempt in 1 2 3; do
  prom_port=$(pick_port) || fail "no free port for Prometheus"
  cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $rules_file
scrape_configs:
  - job_name: workload_exporter
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
  [[ $(result_count 'up{job="workload_exporter"} == 1') == 1 ]] && break
  sleep 0.2
done
((i < 100)) || fail "Prometheus has not scraped the daemon after 20 s"
log "Prometheus scrapes the daemon"

# ------------------------------------------------------------------------------------ workloads
busy_id=$(random_hex 64)
oom_id=$(random_hex 64)
busy_name=${busy_id:0:12}
oom_name=${oom_id:0:12}
busy_dirs=()
oom_dirs=()
make_container "$busy_id" busy_dirs
make_container "$oom_id" oom_dirs
have_cpu_limit=$(set_cpu_limit 50000 "${busy_dirs[@]}")
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
log "containers: busy $busy_name (cpu limit: $have_cpu_limit, memory limit: $have_mem_limit), oom $oom_name, in ${busy_dirs[*]%/docker-*} (PSI: $have_psi)"

have_vm=0
vm_name=""
if [[ ${WE_E2E_VM:-1} != 0 ]] && qemu=$(command -v qemu-system-x86_64); then
  vm_name=we-e2e-$(random_hex 8)
  vm_uuid=$(cat /proc/sys/kernel/random/uuid)
  # No disk: the firmware finds nothing to boot and waits; debug-threads names the vCPU threads.
  "$qemu" -name "guest=$vm_name,debug-threads=on" -uuid "$vm_uuid" -accel tcg -m 64 -smp 1 \
    -nodefaults -display none -no-reboot </dev/null >"$work/qemu.log" 2>&1 &
  pids+=($!)
  have_vm=1
  log "VM: qemu PID $! name $vm_name uuid $vm_uuid"
else
  log "VM: none (no qemu-system-x86_64, or WE_E2E_VM=0): VM-only expressions may be empty"
fi

log "waiting ${wait_seconds} s for samples, windows, startup times and rule evaluations"
nap "$wait_seconds"
alive "$daemon_pid" || fail "the daemon died"
alive "$prom_pid" || fail "Prometheus died"

# ------------------------------------------------------------------------------------ the workloads as Prometheus sees them
[[ $(result_count 'up{job="workload_exporter"} == 1') == 1 ]] || fail "the daemon's target is not up in Prometheus"
for n in "$busy_name" "$oom_name"; do
  [[ $(result_count "workload_info{kind=\"container\",runtime=\"docker\",name=\"$n\"}") == 1 ]] ||
    fail "container $n not in Prometheus"
done
if ((have_vm)); then
  [[ $(result_count "workload_info{kind=\"vm\",name=\"$vm_name\"}") == 1 ]] || fail "VM $vm_name not in Prometheus"
fi
have_libvirt=0
[[ $(result_count 'workload_info{kind="vm",runtime="libvirt"}') =~ ^[1-9] ]] && have_libvirt=1
prom_value() { prom_query "$1" | jq -r '[.data.result[]?.value[1]] | if length == 0 then "none" else join(",") end'; }
log "measured: startup busy $(prom_value "workload_startup_seconds{name=\"$busy_name\"}") s," \
  "oom $(prom_value "workload_startup_seconds{name=\"$oom_name\"}") s${vm_name:+, VM $(prom_value "workload_startup_seconds{name=\"$vm_name\"}") s};" \
  "peak memory (1h) busy $(prom_value "workload_memory_peak_bytes{name=\"$busy_name\",window=\"1h\"}") B${vm_name:+, VM $(prom_value "workload_memory_peak_bytes{name=\"$vm_name\",window=\"1h\"}") B};" \
  "peak CPU busy $(prom_value "workload_cpu_peak_cores{name=\"$busy_name\",window=\"1h\"}");" \
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

# One line per expression: kind <TAB> where <TAB> expr, each field base64 (exprs span lines).
jq -r '.data.groups[] | .name as $g | .rules[]
       | [(if .type == "recording" then "record" else "alert" end), "rules \($g) \(.name)", .query]
       | map(@base64) | join("\t")' <<<"$rules_json" >"$work/exprs.tsv"
jq -r '
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
     + ([.templating.list[] | {key: .name, value: value_of}] | from_entries)) as $vars
  | ( (.. | objects | select(has("targets")) | . as $p | .targets[] | select(.expr)
        | ["panel", "\($d.title) / \($p.title) [\(.refId)]", (.expr | substitute($vars))]),
      (.templating.list[] | select(.type == "query") | . as $v
        | (.query | if type == "object" then .query else . end)
        | capture("^label_values\\((?<sel>.*),\\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\\s*\\)$")
        | ["variable", "\($d.title) / variable \($v.name)", "count by (\(.label)) (\(.sel | substitute($vars)))"]) )
  | map(@base64) | join("\t")' "${dashboards[@]}" >>"$work/exprs.tsv" || fail "extracting the dashboards' expressions"

# What an expression needs to have data, beyond the daemon and a container.
requirement() {
  local e=$1
  if [[ $e =~ workload_vm_(vcpu_delay|memory_assigned|memory_max|guest_memory|state|block_|network_) ]]; then
    echo libvirt
  elif [[ $e =~ workload_vm_|kind=\"vm\" ]]; then
    echo vm
  elif [[ $e =~ cpu_limit|periods|throttled ]]; then
    echo cpu_limit
  elif [[ $e =~ memory_limit|ratio_limit ]]; then
    echo mem_limit
  elif [[ $e =~ pressure ]]; then
    echo psi
  else
    echo none
  fi
}
declare -A have=([none]=1 [vm]=$have_vm [libvirt]=$have_libvirt [cpu_limit]=$have_cpu_limit
  [mem_limit]=$have_mem_limit [psi]=$have_psi)
declare -A why=([vm]="no VM runs" [libvirt]="no libvirt VM (--libvirt.uri=${WE_E2E_LIBVIRT_URI:-})"
  [cpu_limit]="no CPU limit could be set" [mem_limit]="no memory limit could be set"
  [psi]="no PSI files on this host")

checked=0 with_data=0 invalid=0 missing=0 alerts_empty=0
declare -A by_kind=() data_by_kind=()
allowed=()
while IFS=$'\t' read -r k w e; do
  kind=$(base64 -d <<<"$k")
  where=$(base64 -d <<<"$w")
  expr=$(base64 -d <<<"$e")
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
  if ((${have[$need]})); then
    log "NO DATA: $where"$'\n'"    $expr"
    ((missing++))
  else
    allowed+=("$where (${why[$need]})")
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
  expect_alert 'pending|firing' WorkloadCPUThrottled "$busy_name" "pending for the container that burned CPU against its 0.5-core limit"
fi
expect_no_alert WorkloadExporterDown "" "while the exporter is up"

# ------------------------------------------------------------------------------------ summary
log "summary: $checked expressions checked, $with_data returned data" \
  "(recording rules ${data_by_kind[record]:-0}/${by_kind[record]:-0}, panel targets ${data_by_kind[panel]:-0}/${by_kind[panel]:-0}," \
  "variable queries ${data_by_kind[variable]:-0}/${by_kind[variable]:-0}, alert expressions ${data_by_kind[alert]:-0}/${by_kind[alert]:-0}" \
  "with ${alerts_empty} legitimately empty); invalid: $invalid, without data where data is expected: $missing," \
  "allowed empty: ${#allowed[@]}, alert checks failed: $alert_failures"
if ((${#allowed[@]})); then
  log "allowed to be empty in this run:"
  printf '    %s\n' "${allowed[@]}"
fi
((invalid == 0 && missing == 0 && alert_failures == 0)) || fail "see above"
log "PASS"
exit 0
