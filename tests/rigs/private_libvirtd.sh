#!/bin/bash
# private_libvirtd.sh start RIGDIR | stop RIGDIR | uri RIGDIR | run RIGDIR COMMAND...
# A libvirtd (and virtlogd) of the caller's own that shares nothing with the host's libvirt: it
# runs in its own mount, network and cgroup namespaces, so that it can run beside another libvirtd
# (the host's, or tests/rigs/libvirtd.sh's) and leaves nothing behind.
#
# start: 1. creates RIGDIR/lv/{etc,run,lib,cache,log} and writes qemu.conf there (user and group
#           root, no security driver, no per-domain mount namespace), passwd/group copies with a
#           libvirt-qemu user when the host has none (libvirt resolves that user before it reads
#           qemu.conf);
#        2. creates the cgroup we-libvirt-<random> beneath the caller's own cgroup in every
#           hierarchy (from /proc/self/cgroup; cpuset gets its parent's cpus and mems);
#        3. moves a shell into those cgroups and unshares mount, network and cgroup namespaces:
#           the cgroup namespace's root is we-libvirt-<random>, and the cgroup hierarchies are
#           mounted again inside it, so libvirt's /machine/qemu-<id>-<name>.libvirt-qemu lands
#           beneath the caller's cgroup; RIGDIR/lv/* are bind-mounted over /etc/libvirt,
#           /run/libvirt, /var/lib/libvirt, /var/cache/libvirt (or WE_LIBVIRT_CACHE, to keep the
#           ~8 s QEMU capability probe across runs) and /var/log/libvirt; the network namespace
#           has only lo (up), so tap devices libvirt creates for <interface type='ethernet'>
#           vanish with it;
#        4. starts virtlogd -d and libvirtd -d there with pidfiles in RIGDIR/lv, and waits
#           (WE_LIBVIRTD_TIMEOUT, default 60 s) until virsh answers on the private socket.
#        It prints the connection URI (qemu+unix:///system?socket=RIGDIR/lv/run/libvirt-sock),
#        which `uri RIGDIR` prints again. A failed start undoes itself.
# run:   runs COMMAND in libvirtd's network and mount namespaces (for example `ip addr add
#        10.0.2.2/24 dev TAP` on the host side of a domain's <interface type='ethernet'>).
# stop:  destroys the domains still running there, TERMs (then KILLs) only the two recorded PIDs
#        (checked by comm), waits for the namespaces' QEMU processes to go, removes the cgroups it
#        created (and what libvirt made beneath them) bottom-up, and RIGDIR/lv.
# Time: start 0.5 s with a valid capability cache, ~8 s without; stop ~2 s.
set -euo pipefail

usage() { echo "usage: $0 start|stop|uri RIGDIR, or $0 run RIGDIR COMMAND..." >&2; exit 64; }
[ $# -ge 2 ] || usage
CMD=$1
RIG=$2
shift 2
[ $# -eq 0 ] || [ "$CMD" = run ] || usage
TIMEOUT=${WE_LIBVIRTD_TIMEOUT:-60}
[ "$(id -u)" -eq 0 ] || { echo "private_libvirtd.sh: must run as root" >&2; exit 1; }
for tool in libvirtd virtlogd virsh unshare nsenter ip; do
    command -v "$tool" >/dev/null || {
        echo "private_libvirtd.sh: $tool missing (apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients util-linux iproute2)" >&2
        exit 1
    }
done

mkdir -p "$RIG"
RIG=$(readlink -f "$RIG")
LV=$RIG/lv
STATE=$RIG/private_libvirtd.state
URI="qemu+unix:///system?socket=$LV/run/libvirt-sock"

# alive_as PID COMM, kill_pid PID COMM: signal only a PID that still runs COMM.
# shellcheck source=tests/test_util/kill_pid.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test_util/kill_pid.sh"
pid_of() { if [ -s "$1" ]; then tr -dc 0-9 <"$1"; fi; }

undo() {  # everything start recorded in STATE, in reverse
    local CGROUPS="" rc=0 d pid i procs
    # shellcheck disable=SC1090
    [ -f "$STATE" ] && . "$STATE"
    if [ -S "$LV/run/libvirt-sock" ]; then
        for d in $(timeout 10 virsh -c "$URI" list --name 2>/dev/null); do
            timeout 10 virsh -c "$URI" destroy "$d" >/dev/null 2>&1 || true
        done
    fi
    kill_pid "$(pid_of "$LV/libvirtd.pid")" libvirtd || rc=1
    kill_pid "$(pid_of "$LV/virtlogd.pid")" virtlogd || rc=1
    # Whatever still runs in our cgroups was started in the namespaces (a QEMU libvirtd left):
    # ours to stop, by PID.
    for i in 1 2; do
        procs=""
        for d in $CGROUPS; do
            [ -d "$d" ] && procs="$procs $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')"
        done
        procs=$(echo "$procs" | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -u | tr '\n' ' ' || true)
        [ -n "${procs// /}" ] || break
        for pid in $procs; do kill "-$([ "$i" = 1 ] && echo TERM || echo KILL)" "$pid" 2>/dev/null || true; done
        for _ in $(seq 50); do
            local left=0
            for pid in $procs; do [ -d "/proc/$pid" ] && left=1; done
            [ "$left" = 1 ] || break
            sleep 0.1
        done
    done
    for d in $CGROUPS; do
        [ -d "$d" ] || continue
        for _ in $(seq 50); do
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
            [ -d "$d" ] || break
            sleep 0.1
        done
        [ ! -d "$d" ] || { echo "private_libvirtd.sh: cannot remove cgroup $d" >&2; rc=1; }
    done
    rm -rf "$LV" "$STATE"
    return $rc
}

case "$CMD" in
uri)
    echo "$URI"
    ;;
run)
    [ $# -gt 0 ] || usage
    p=$(pid_of "$LV/libvirtd.pid")
    alive_as "$p" libvirtd || { echo "private_libvirtd.sh: no libvirtd of ours runs" >&2; exit 1; }
    exec nsenter -t "$p" -n -m "$@"
    ;;
start)
    [ ! -e "$STATE" ] || { echo "private_libvirtd.sh: $STATE exists; run stop first" >&2; exit 2; }
    mkdir -p "$LV"/{etc,run,lib,cache,log}
    : >"$STATE"
    trap 'echo "private_libvirtd.sh: start failed, undoing" >&2; undo || true' ERR

    # 1. Configuration, private state directories, and the libvirt-qemu user in a passwd copy.
    cat >"$LV/etc/qemu.conf" <<'EOF'
# written by workload_exporter tests/rigs/private_libvirtd.sh
user = "root"
group = "root"
security_driver = "none"
namespaces = []
EOF
    cat >"$LV/etc/libvirtd.conf" <<'EOF'
# written by workload_exporter tests/rigs/private_libvirtd.sh: local socket only
listen_tls = 0
listen_tcp = 0
EOF
    : >"$LV/etc/virtlogd.conf"
    cp /etc/passwd "$LV/passwd"
    cp /etc/group "$LV/group"
    getent passwd libvirt-qemu >/dev/null ||
        echo "libvirt-qemu:x:64055:64055:libvirt-qemu:/nonexistent:/usr/sbin/nologin" >>"$LV/passwd"
    getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >>"$LV/group"
    CACHE=${WE_LIBVIRT_CACHE:-$LV/cache}
    mkdir -p "$CACHE"

    # 2. Our cgroups, beneath the caller's own in every hierarchy.
    name=we-libvirt-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
    cgroups=""
    while read -r _ mnt fstype opts _; do
        case $fstype in
        cgroup2) own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup) ;;
        cgroup)
            own=""
            for o in ${opts//,/ }; do
                case $o in rw | ro | relatime | noexec | nosuid | nodev | clone_children | noprefix | xattr) continue ;; esac
                own=$(awk -F: -v c="$o" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
                [ -n "$own" ] && break
            done
            ;;
        *) continue ;;
        esac
        [ -n "$own" ] || continue
        d=$mnt${own%/}/$name
        mkdir "$d"
        cgroups="$cgroups $d"
        echo "CGROUPS='${cgroups# }'" >>"$STATE"
        if [ -e "$d/cpuset.cpus" ]; then
            cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
            cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
        fi
    done </proc/self/mounts
    [ -n "$cgroups" ] || { echo "private_libvirtd.sh: no cgroup hierarchy found" >&2; false; }

    # 3 and 4. Into the cgroups, then the namespaces; there, mounts, then the two daemons.
    cat >"$LV/inside.sh" <<'INSIDE'
set -euo pipefail
LV=$1 CACHE=$2
mounts=$(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3, $4 }' /proc/self/mounts)
# The hierarchies again, each rooted at our cgroup (the cgroup namespace's root).
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
while read -r mnt fstype opts; do
    mkdir -p "$mnt"
    if [ "$fstype" = cgroup2 ]; then
        mount -t cgroup2 cgroup2 "$mnt"
    else
        keep=""
        for o in ${opts//,/ }; do
            case $o in rw | ro | relatime | noexec | nosuid | nodev) ;; *) keep="$keep,$o" ;; esac
        done
        mount -t cgroup -o "${keep#,}" cgroup "$mnt"
    fi
done <<<"$mounts"
for pair in etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt; do
    mkdir -p "${pair#*:}"
    mount --bind "$LV/${pair%%:*}" "${pair#*:}"
done
mkdir -p /var/cache/libvirt
mount --bind "$CACHE" /var/cache/libvirt
mount --bind "$LV/passwd" /etc/passwd
mount --bind "$LV/group" /etc/group
ip link set lo up
LIBVIRT_LOG_OUTPUTS="3:file:$LV/virtlogd.log" virtlogd -d -p "$LV/virtlogd.pid" </dev/null >>"$LV/virtlogd.out" 2>&1
for _ in $(seq 100); do [ -S /run/libvirt/virtlogd-sock ] && break; sleep 0.05; done
LIBVIRT_LOG_OUTPUTS="3:file:$LV/libvirtd.log" libvirtd -d -p "$LV/libvirtd.pid" </dev/null >>"$LV/libvirtd.out" 2>&1
INSIDE
    # shellcheck disable=SC2016  # expanded by the inner shell
    bash -c 'for d in $1; do echo $$ >"$d/cgroup.procs"; done
             exec unshare --mount --net --cgroup --propagation private bash "$2/inside.sh" "$2" "$3"' \
        inside "$cgroups" "$LV" "$CACHE" </dev/null >>"$LV/inside.out" 2>&1 ||
        { echo "private_libvirtd.sh: setting up the namespaces failed:" >&2; cat "$LV/inside.out" >&2; false; }

    deadline=$((SECONDS + TIMEOUT))
    until virsh -c "$URI" version >"$LV/virsh-version.out" 2>&1; do
        p=$(pid_of "$LV/libvirtd.pid")
        if [ "$SECONDS" -ge "$deadline" ] || { [ -n "$p" ] && ! alive_as "$p" libvirtd; }; then
            echo "private_libvirtd.sh: libvirtd not answering:" >&2
            cat "$LV/virsh-version.out" >&2
            tail -n 20 "$LV/libvirtd.log" >&2 2>/dev/null || true
            false
        fi
        sleep 0.2
    done
    trap - ERR
    echo "private_libvirtd.sh: libvirtd PID $(pid_of "$LV/libvirtd.pid") ready at $URI" >&2
    echo "$URI"
    ;;
stop)
    [ -f "$STATE" ] || { echo "private_libvirtd.sh: no $STATE; nothing to stop" >&2; exit 0; }
    undo
    ;;
*) usage ;;
esac
