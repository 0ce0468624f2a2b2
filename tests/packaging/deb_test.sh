#!/usr/bin/env bash
# The Debian package, end to end on this machine, and what the daemon can read as its own user.
#
#   sudo bash tests/packaging/deb_test.sh BUILD_DIR
#
# 1. `cpack -G DEB` in BUILD_DIR (configured from this tree, workload_exporter built) into a
#    temporary directory; the package's control fields, conffiles and file list are checked.
# 2. lintian: every tag is printed; any error (E:) fails. Warnings and infos pass.
# 3. `dpkg -i`: the postinst must have made the system user (no login shell), given
#    /etc/workload_exporter to root:workload_exporter 0750, and enabled the unit (symlink only;
#    systemd need not be PID 1: nothing may fail without it).
# 4. Privileges: a temporary user (not the package's) runs a process with 32 MiB in its own
#    network namespace inside docker-<64 hex>.scope cgroups this test creates beneath its own
#    (cgroup2 and v1 memory), and a paused QEMU (-machine none) named "wepkgtest". What the
#    package user may read of them is probed file by file (cat / readlink under setpriv), then
#    the INSTALLED binary runs twice with the PACKAGED config on free loopback ports: as the
#    package user (setpriv --reuid/--regid --init-groups, no capabilities) and, for contrast, as
#    root. Asserted, as README.md "Privileges" documents:
#      - both see the container (workload_info, CPU, memory >= 32 MiB from the v1 memory tree,
#        tasks) and the VM (CPU, memory: smaps_rollup for root, status VmRSS for the user);
#      - root and the package user both see the container's network (its own namespace): the
#        daemon knows a namespace by stat(/proc/PID/net/dev)'s inode, which needs no ptrace
#        access, where /proc/PID/ns/net of another user's process does;
#      - CAP_SYS_PTRACE, and not CAP_DAC_READ_SEARCH, is what would grant that access;
#      - the cgroup and qemu collectors report success 1 in two scrapes; the daemon stays up;
#      - with --path.rootfs at a tree holding the container's Docker state file in Docker's modes
#        (0710 directories, a 0600 file), the package user names the container by its id and
#        counts a metadata error; with CAP_DAC_READ_SEARCH it gets the name and image.
# 5. `dpkg -r` keeps the conffile and removes the rest; `dpkg --purge` leaves nothing: no file
#    of the package, no /etc/workload_exporter, no user or group, no enablement or mask symlink.
#
# Refuses (exit 1) when the package or a workload_exporter user is already on this machine: it
# never touches an installation it did not make. Everything it makes (package, users, cgroups,
# processes, temporary files) is removed on exit, failure included; processes by PID.
# Exit: 0 pass, 1 fail, 77 skip (not root, or no dpkg/cpack).
set -uo pipefail

log() { printf '%s deb_test: %s\n' "$(date +%T)" "$*"; }
skip() {
  log "SKIP: $*"
  exit 77
}
failures=0
check() { # DESCRIPTION COMMAND...: runs the command; a non-zero exit is a failure
  local what=$1
  shift
  if "$@"; then
    log "ok: $what"
  else
    log "FAIL: $what"
    failures=$((failures + 1))
  fi
}
die() {
  log "FAIL: $*"
  exit 1
}

build_dir=${1:-}
[[ -n $build_dir && -f $build_dir/CPackConfig.cmake ]] || {
  echo "usage: $0 BUILD_DIR (a configured and built workload_exporter build directory)" >&2
  exit 1
}
((EUID == 0)) || skip "must run as root: it installs a package, adds users and creates cgroups"
for tool in dpkg dpkg-deb cpack; do command -v "$tool" >/dev/null || skip "no $tool"; done
for tool in lintian curl setpriv useradd userdel unshare perl; do
  command -v "$tool" >/dev/null || die "$tool is required (scripts/install-deps.sh test installs it)"
done

pkg=prometheus-workload-exporter
user=workload_exporter
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'installed\|config-files'; then
  die "$pkg is already installed here; this test installs and purges its own copy only"
fi
getent passwd "$user" >/dev/null && die "a user $user exists but $pkg is not installed: remove it first"

# ------------------------------------------------------------------------------------ cleanup
work=$(mktemp -d /tmp/we_deb_test.XXXXXX)
chmod 0755 "$work"
installed=0
other_user=""
pids=()
cgroups=()
# shellcheck source=tests/test_util/remove_cgroups.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test_util/remove_cgroups.sh"
stop_pids() {  # TERM to every PID in pids, up to 5 s for each to go, then KILL; reaps them
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  stop_pids
  remove_cgroups "${cgroups[@]}" || rc=1
  [[ -n $other_user ]] && getent passwd "$other_user" >/dev/null && userdel "$other_user"
  [[ -n $other_user ]] && getent group "$other_user" >/dev/null && groupdel "$other_user"
  if ((installed)); then
    log "cleanup: purging $pkg"
    dpkg --purge "$pkg" >/dev/null 2>&1 || rc=1
  fi
  if ((rc != 0 && rc != 77)); then
    for f in "$work"/*.log; do
      [[ -s $f ]] || continue
      echo "----- last lines of $(basename "$f")"
      tail -n 20 "$f"
    done
  fi
  rm -rf "$work"
  log "exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------------------- 1. build it
log "cpack -G DEB in $build_dir"
(cd "$build_dir" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 || die "cpack failed"
deb=$(find "$work/out" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[[ -f $deb ]] || die "cpack made no ${pkg}_*.deb"
log "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

field() { dpkg-deb -f "$deb" "$1"; }
check "package name is $pkg" test "$(field Package)" = "$pkg"
depends=$(field Depends)
log "Depends: $depends"
for lib in libc6 libyaml-cpp libprometheus-cpp-core zlib1g adduser; do
  check "Depends names $lib (shared libraries from dpkg-shlibdeps)" grep -q "\\b$lib" <<<"$depends"
done
# libvirt is loaded at run time (only with libvirt.uri set): recommended, not required.
check "Depends does not name libvirt0" bash -c "! grep -q '\\blibvirt0' <<<\"\$1\"" _ "$depends"
check "Recommends names libvirt0" grep -q "\\blibvirt0" <<<"$(field Recommends)"
check "conffiles lists /etc/workload_exporter/config.yaml" \
  bash -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx /etc/workload_exporter/config.yaml"
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$work/contents"
for path in /usr/bin/workload_exporter /lib/systemd/system/workload_exporter.service \
  /usr/libexec/workload_exporter/workload_exporter_opener \
  /lib/systemd/system/workload_exporter-opener.service /lib/systemd/system/workload_exporter-opener.socket \
  /usr/lib/sysusers.d/workload_exporter.conf /usr/lib/tmpfiles.d/workload_exporter.conf \
  /etc/workload_exporter/config.yaml /usr/share/doc/$pkg/copyright \
  /usr/share/doc/$pkg/changelog.Debian.gz \
  /usr/share/$pkg/prometheus/workload_exporter.rules.yml \
  /usr/share/$pkg/grafana/provisioning/dashboards.yml \
  /usr/share/$pkg/grafana/dashboards/workload_exporter_health.json; do
  check "package contains $path" grep -qx "$path" "$work/contents"
done
check "the unit passes the packaged config" \
  bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./lib/systemd/system/workload_exporter.service |
           grep -q -- '--config.file=/etc/workload_exporter/config.yaml'"

# ------------------------------------------------------------------------------- 2. lintian
log "lintian $(lintian --version | awk '{ print $2 }')"
lintian --tag-display-limit 0 --display-info "$deb" >"$work/lintian.out" 2>&1
lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.out" | sed 's/^/  lintian: /'
log "lintian: $(grep -c '^E:' "$work/lintian.out") error(s), $(grep -c '^W:' "$work/lintian.out") warning(s)," \
  "$(grep -c '^I:' "$work/lintian.out") info(s), exit $lintian_rc"
check "lintian reports no error" bash -c "! grep -q '^E:' '$work/lintian.out'"

# ------------------------------------------------------------------------------- 3. install
log "dpkg -i"
installed=1
dpkg -i "$deb" >"$work/dpkg-install.log" 2>&1 || die "dpkg -i failed: $(tail -n 5 "$work/dpkg-install.log")"
check "dpkg says $pkg is installed" bash -c "dpkg-query -W -f='\${Status}' $pkg | grep -q 'install ok installed'"
passwd_line=$(getent passwd "$user")
log "user: $passwd_line"
check "postinst made the system user $user with no login shell" \
  bash -c "[[ '$passwd_line' == *:/usr/sbin/nologin && \$(cut -d: -f3 <<<'$passwd_line') -lt 1000 ]]"
check "/etc/workload_exporter is 0750 root:$user" \
  test "$(stat -c '%a %U:%G' /etc/workload_exporter)" = "750 root:$user"
check "the unit is enabled (multi-user.target.wants symlink)" \
  test -L /etc/systemd/system/multi-user.target.wants/workload_exporter.service
check "the opener's socket is enabled (sockets.target.wants symlink)" \
  test -L /etc/systemd/system/sockets.target.wants/workload_exporter-opener.socket
check "the installed binary runs: $(/usr/bin/workload_exporter --version 2>&1 | head -n1)" /usr/bin/workload_exporter --version
as_user=(setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs)
check "the package user reads and accepts the packaged config (--check-config)" \
  "${as_user[@]}" /usr/bin/workload_exporter --config.file=/etc/workload_exporter/config.yaml --check-config

# ------------------------------------------------------------------------------- 4. privileges
other_user="wepkgt$$"
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$other_user" || die "useradd $other_user"
id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
scope=docker-$id.scope
# cgroupfs, unified_root and own[...]: where this script may create cgroups.
# shellcheck source=tests/test_util/own_cgroups.sh
source "$(dirname "${BASH_SOURCE[0]}")/../test_util/own_cgroups.sh"
scope_dirs=()
if [[ -n $unified_root && -n ${own[unified]+x} ]]; then
  scope_dirs+=("$unified_root${own[unified]%/}/$scope")
fi
if [[ $unified_root != "$cgroupfs" && -d $cgroupfs/memory && -n ${own[memory]+x} ]]; then
  scope_dirs+=("$cgroupfs/memory${own[memory]%/}/$scope")
fi
((${#scope_dirs[@]})) || die "no cgroup hierarchy to create $scope in"
for dir in "${scope_dirs[@]}"; do
  mkdir "$dir" || die "mkdir $dir"
  cgroups+=("$dir")
done
log "container: $scope in ${scope_dirs[*]}"

# The workload: joins the cgroups as root, gets a network namespace of its own, then becomes the
# other user and holds 32 MiB.
# shellcheck disable=SC2016 # $$, $WE_SCOPES and "$@" belong to the inner shell
WE_SCOPES="${scope_dirs[*]}" sh -c 'for d in $WE_SCOPES; do echo $$ >"$d/cgroup.procs" || exit 1; done; exec "$@"' sh \
  unshare --net -- setpriv --reuid="$other_user" --regid="$other_user" --clear-groups -- \
  perl -e '$x = "a" x (32 << 20); sleep 1 while 1' \
  </dev/null >"$work/workload.log" 2>&1 &
pids+=($!)
workload_pid=$!

vm_uuid=$(cat /proc/sys/kernel/random/uuid)
qemu=$(command -v qemu-system-x86_64 || command -v qemu-system-aarch64 || true)
if [[ -n $qemu ]]; then
  setpriv --reuid="$other_user" --regid="$other_user" --clear-groups -- \
    "$qemu" -machine none -nodefaults -display none -S -name guest=wepkgtest -uuid "$vm_uuid" \
    </dev/null >"$work/qemu.log" 2>&1 &
  pids+=($!)
  vm_pid=$!
else
  log "note: no qemu-system-* binary: the VM part is not checked"
  vm_pid=""
fi
for ((i = 0; i < 50; i++)); do
  [[ $(stat -c %U "/proc/$workload_pid" 2>/dev/null) == "$other_user" ]] &&
    grep -q "^VmRSS:.*[0-9]\{5,\} kB" "/proc/$workload_pid/status" 2>/dev/null && break
  sleep 0.1
done
[[ $(stat -c %U "/proc/$workload_pid") == "$other_user" ]] || die "the workload did not become $other_user"
for dir in "${scope_dirs[@]}"; do
  grep -qx "$workload_pid" "$dir/cgroup.procs" || die "$workload_pid is not in $dir"
done

# Ground truth: what the package user may read of another user's process, file by file.
probe() { # CAPS FILE: "readable" or the error, reading (or for links, resolving) FILE as the user
  local caps=$1 file=$2 cmd=(cat) out
  [[ -L $file ]] && cmd=(readlink -v)
  if [[ $caps == none ]]; then
    out=$("${as_user[@]}" "${cmd[@]}" "$file" 2>&1 >/dev/null) && out=readable
  else
    out=$(setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=+"$caps" --ambient-caps=+"$caps" \
      "${cmd[@]}" "$file" 2>&1 >/dev/null) && out=readable
  fi
  [[ $out == setpriv:* ]] && die "probe of $file with capabilities '$caps' failed: $out"
  [[ $out == readable ]] || out="not readable (${out##*: })"
  echo "$out"
}
declare -A expect=(
  [stat]=readable [status]=readable [cmdline]=readable [net/dev]=readable [cgroup]=readable
  [smaps_rollup]="not readable" [ns/net]="not readable" [environ]="not readable"
)
log "what $user may read of pid $workload_pid (user $other_user), no capabilities:"
for f in stat status cmdline cgroup net/dev smaps_rollup ns/net environ; do
  got=$(probe none "/proc/$workload_pid/$f")
  log "  /proc/PID/$f: $got"
  check "/proc/PID/$f of another user's process is ${expect[$f]} for $user" \
    test "${got%% (*}" = "${expect[$f]}"
done
check "/proc/1/ns/net is not readable for $user" test "$(probe none /proc/1/ns/net | cut -c1-12)" = "not readable"
for f in "task/$workload_pid/comm" "task/$workload_pid/stat"; do
  check "/proc/PID/$f of another user's process is readable for $user" test "$(probe none "/proc/$workload_pid/$f")" = readable
done
check "/proc/stat is readable for $user" test "$(probe none /proc/stat)" = readable
for dir in "${scope_dirs[@]}"; do
  for f in cgroup.procs memory.usage_in_bytes memory.stat cpu.stat; do
    [[ -e $dir/$f ]] || continue
    got=$(probe none "$dir/$f")
    check "$dir/$f is readable for $user" test "$got" = readable
  done
done
got=$(probe dac_read_search "/proc/$workload_pid/ns/net")
log "  /proc/PID/ns/net with CAP_DAC_READ_SEARCH: $got"
check "CAP_DAC_READ_SEARCH does not open /proc/PID/ns/net" test "${got%% (*}" = "not readable"
got=$(probe sys_ptrace "/proc/$workload_pid/ns/net")
log "  /proc/PID/ns/net with CAP_SYS_PTRACE: $got"
check "CAP_SYS_PTRACE opens /proc/PID/ns/net" test "$got" = readable
got=$(probe sys_ptrace "/proc/$workload_pid/smaps_rollup")
check "CAP_SYS_PTRACE opens /proc/PID/smaps_rollup" test "$got" = readable

# The installed daemon, with the packaged config, as the package user and as root.
declare -A daemon_pid=() daemon_port=()
daemon_extra=() # more flags for the next start_daemon
start_daemon() { # NAME COMMAND-PREFIX...: starts it on 127.0.0.1:0; sets daemon_{pid,port}[NAME]
  local name=$1 port="" i
  shift
  "$@" /usr/bin/workload_exporter --config.file=/etc/workload_exporter/config.yaml \
    --web.listen-address=127.0.0.1:0 "${daemon_extra[@]}" </dev/null >"$work/daemon-$name.log" 2>&1 &
  pids+=($!)
  daemon_pid[$name]=$!
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$work/daemon-$name.log" | head -n1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || die "the $name daemon did not start listening"
  daemon_port[$name]=$port
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" && return 0
    sleep 0.1
  done
  die "the $name daemon never became ready"
}
start_daemon user "${as_user[@]}"
start_daemon root env
log "daemons: as $user pid ${daemon_pid[user]} port ${daemon_port[user]};" \
  "as root pid ${daemon_pid[root]} port ${daemon_port[root]}"
check "the daemon runs as $user" test "$(stat -c %U "/proc/${daemon_pid[user]}")" = "$user"
check "the daemon as $user holds no capability" \
  test "$(awk '/^CapEff:/ { print $2 }' "/proc/${daemon_pid[user]}/status")" = 0000000000000000
sleep 3 # two more samples: rates and a filled network reading

scrape() { # NAME N -> $work/NAME.N.prom
  curl -sf "http://127.0.0.1:${daemon_port[$1]}/metrics" >"$work/$1.$2.prom" ||
    die "scrape of the $1 daemon failed"
}
scrape user 1
scrape root 1
sleep 1.5
scrape user 2
scrape root 2

has() { # FILE REGEX: a line of FILE matches
  grep -q -- "$2" "$1"
}
value() { # FILE REGEX: the value of the first series matching
  grep -e "$2" -- "$1" | head -n1 | awk '{ print $NF }'
}
sel="id=\"$id\""
for who in user root; do
  for n in 1 2; do
    f=$work/$who.$n.prom
    check "[$who scrape $n] collector_success{cgroup} is 1" \
      has "$f" '^workload_exporter_collector_success{collector="cgroup"} 1$'
    check "[$who scrape $n] collector_success{qemu} is 1" \
      has "$f" '^workload_exporter_collector_success{collector="qemu"} 1$'
  done
  f=$work/$who.2.prom
  check "[$who] workload_info for the container, named by its short id" \
    has "$f" "^workload_info{kind=\"container\",runtime=\"docker\",$sel,name=\"${id:0:12}\""
  check "[$who] the container's CPU" has "$f" "^workload_cpu_seconds_total{.*$sel.*mode=\"user\""
  mem=$(value "$f" "^workload_memory_usage_bytes{.*$sel")
  log "[$who] container memory usage: ${mem:-none} bytes"
  check "[$who] the container's memory is at least 32 MiB" \
    awk -v m="${mem:-0}" 'BEGIN { exit !(m >= 33554432) }'
  check "[$who] the container has 1 task" has "$f" "^workload_tasks{.*$sel.*} 1$"
  if [[ -n $vm_pid ]]; then
    check "[$who] the QEMU process is a VM workload" \
      has "$f" "^workload_info{kind=\"vm\",runtime=\"qemu\",id=\"$vm_uuid\",name=\"wepkgtest\""
    vm_mem=$(value "$f" "^workload_memory_usage_bytes{.*id=\"$vm_uuid\"")
    log "[$who] VM memory: ${vm_mem:-none} bytes"
    check "[$who] the VM's memory" awk -v m="${vm_mem:-0}" 'BEGIN { exit !(m > 0) }'
    check "[$who] the VM's CPU" has "$f" "^workload_cpu_seconds_total{.*id=\"$vm_uuid\""
  fi
done
check "[root] the container's network (its own namespace)" \
  has "$work/root.2.prom" "^workload_network_receive_bytes_total{.*$sel"
check "[user] the container's network too (net/dev's inode, no ptrace access needed)" \
  has "$work/user.2.prom" "^workload_network_receive_bytes_total{.*$sel"
for who in user root; do
  check "[$who] the daemon is still running" kill -0 "${daemon_pid[$who]}"
done
check "[user] the daemon logged no error" bash -c "! grep -q 'level=error' '$work/daemon-user.log'"
grep -h 'level=warn' "$work/daemon-user.log" | head -n 5 | sed 's/^/  daemon as user: /'

# Runtime state files: a tree (--path.rootfs) holding this container's Docker state file, with
# Docker's modes: /var/lib/docker and containers/ 0710 root, the container's directory 0700, the
# file 0600. The package user cannot read it; CAP_DAC_READ_SEARCH can.
rootfs=$work/rootfs
state=$rootfs/var/lib/docker/containers/$id
mkdir -p "$state"
printf '{"Name":"/wepkgtest","Config":{"Image":"busybox:latest","Labels":{}}}\n' >"$state/config.v2.json"
chmod 0755 "$rootfs" "$rootfs/var" "$rootfs/var/lib"
chmod 0710 "$rootfs/var/lib/docker" "$rootfs/var/lib/docker/containers"
chmod 0700 "$state"
chmod 0600 "$state/config.v2.json"
daemon_extra=(--path.rootfs="$rootfs" --libvirt.uri=)
start_daemon state_user "${as_user[@]}"
start_daemon state_dac setpriv --reuid="$user" --regid="$user" --init-groups \
  --inh-caps=+dac_read_search --ambient-caps=+dac_read_search --no-new-privs
# The installed opener, as root without any capability (its unit's CapabilityBoundingSet=),
# on a socket only root and the package's group may use, as the socket unit makes it.
opener_socket=$work/opener.sock
setpriv --inh-caps=-all --bounding-set=-all --no-new-privs \
  /usr/libexec/workload_exporter/workload_exporter_opener --path.rootfs="$rootfs" --listen="$opener_socket" \
  --idle-exit=0 </dev/null >"$work/opener.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do
  [[ -S $opener_socket ]] && break
  sleep 0.1
done
if ! { chgrp "$user" "$opener_socket" && chmod 0660 "$opener_socket"; }; then
  die "the opener did not make $opener_socket"
fi
daemon_extra=(--path.rootfs="$rootfs" --libvirt.uri= --opener.socket="$opener_socket")
start_daemon state_opener "${as_user[@]}"
daemon_extra=()
sleep 1.5
scrape state_user 1
scrape state_dac 1
scrape state_opener 1
check "[user, Docker state file] the container keeps its id as its name" \
  has "$work/state_user.1.prom" "^workload_info{kind=\"container\",runtime=\"docker\",$sel,name=\"${id:0:12}\""
check "[user, Docker state file] the unreadable file is counted in metadata_errors_total" \
  awk -v v="$(value "$work/state_user.1.prom" '^workload_exporter_metadata_errors_total{runtime="docker"}')" \
  'BEGIN { exit !(v >= 1) }'
check "[user + CAP_DAC_READ_SEARCH, Docker state file] name and image from the state file" \
  has "$work/state_dac.1.prom" "^workload_info{kind=\"container\",runtime=\"docker\",$sel,name=\"wepkgtest\",image=\"busybox:latest\""
check "[user + opener, Docker state file] name and image from the state file" \
  has "$work/state_opener.1.prom" "^workload_info{kind=\"container\",runtime=\"docker\",$sel,name=\"wepkgtest\",image=\"busybox:latest\""
check "[user + opener] the daemon holds no capability" \
  test "$(awk '/^CapEff:/ { print $2 }' "/proc/${daemon_pid[state_opener]}/status")" = 0000000000000000
check "[user + opener] its requests are counted, none unavailable" \
  awk -v v="$(value "$work/state_opener.1.prom" '^workload_exporter_opener_requests_total{result="unavailable"}')" \
  'BEGIN { exit !(v == 0) }'
log "  peak source as $user: $(grep '^workload_exporter_peak_source_info' "$work/state_user.1.prom" | head -n1)"
log "  peak source as $user + opener: $(grep '^workload_exporter_peak_source_info' "$work/state_opener.1.prom" | head -n1)"

# Stop everything now: userdel in the purge below refuses a user that still runs a process.
stop_pids
pids=()

# ------------------------------------------------------------------------------- 5. remove, purge
dpkg-query -L "$pkg" >"$work/files"
log "dpkg -r"
dpkg -r "$pkg" >"$work/dpkg-remove.log" 2>&1 || die "dpkg -r failed: $(tail -n 5 "$work/dpkg-remove.log")"
check "after remove: the binary is gone" test ! -e /usr/bin/workload_exporter
check "after remove: the conffile stays" test -f /etc/workload_exporter/config.yaml
log "dpkg --purge"
dpkg --purge "$pkg" >"$work/dpkg-purge.log" 2>&1 || die "dpkg --purge failed: $(tail -n 5 "$work/dpkg-purge.log")"
installed=0
check "after purge: dpkg knows nothing of $pkg" bash -c "! dpkg-query -W -f='\${Status}' $pkg 2>/dev/null | grep -q ."
left=()
while read -r path; do
  [[ -f $path || (-L $path && ! -d $path) ]] && left+=("$path")
  # Directories: only the package's own may not remain (shared ones like /usr/bin stay).
  [[ -d $path && ( $path == */workload_exporter* || $path == */$pkg* ) ]] && left+=("$path")
done <"$work/files"
check "after purge: no file or directory of the package is left (${left[*]:-none})" test "${#left[@]}" -eq 0
check "after purge: no /etc/workload_exporter" test ! -e /etc/workload_exporter
check "after purge: no user $user" bash -c "! getent passwd $user"
check "after purge: no group $user" bash -c "! getent group $user"
for link in /etc/systemd/system/multi-user.target.wants/workload_exporter.service \
  /etc/systemd/system/workload_exporter.service \
  /etc/systemd/system/sockets.target.wants/workload_exporter-opener.socket \
  /etc/systemd/system/workload_exporter-opener.socket /etc/systemd/system/workload_exporter-opener.service; do
  check "after purge: no $link" test ! -e "$link" -a ! -L "$link"
done
check "after purge: no deb-systemd-helper state" \
  test -z "$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*workload_exporter*' 2>/dev/null)"

if ((failures)); then
  log "$failures check(s) failed"
  exit 1
fi
log "PASS"
