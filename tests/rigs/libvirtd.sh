#!/bin/bash
# libvirtd.sh start RIGDIR | stop RIGDIR
# start: refuses (exit 2) if a libvirtd already runs. Otherwise creates the libvirt-qemu user if
#        missing, writes /etc/libvirt/qemu.conf (user/group root, no security driver; any existing
#        file is backed up into RIGDIR), starts virtlogd -d (unless one already runs) and
#        libvirtd -d, records their PIDs in RIGDIR/libvirtd.state and waits until
#        `virsh -c qemu:///system version` answers (WE_LIBVIRTD_TIMEOUT, default 60 s).
# stop:  kills only the PIDs recorded by start, restores qemu.conf, deletes the user only if start
#        created it, removes the empty /machine cgroups libvirt left behind (if start saw none).
set -euo pipefail

usage() { echo "usage: $0 start|stop RIGDIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
CMD=$1
RIG=$2
STATE=$RIG/libvirtd.state
CONF=/etc/libvirt/qemu.conf
USER_NAME=libvirt-qemu
TIMEOUT=${WE_LIBVIRTD_TIMEOUT:-60}

[ "$(id -u)" -eq 0 ] || { echo "libvirtd.sh: must run as root" >&2; exit 1; }

# PID of a running daemon named COMM, from its pidfile; empty if none.
pid_from_pidfile() {  # COMM
    local f p
    for f in "/run/$1.pid" "/var/run/$1.pid"; do
        [ -f "$f" ] || continue
        p=$(tr -dc 0-9 <"$f")
        if [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ]; then
            echo "$p"
            return 0
        fi
    done
    return 0
}
# Any running process whose comm is exactly COMM (pidfile or not).
running() {  # COMM
    pgrep -x -o "$1"
}
# alive_as PID COMM, kill_pid PID COMM: signal only a PID that still runs COMM.
# shellcheck source=tests/test_util/kill_pid.sh
. "$(dirname "${BASH_SOURCE[0]}")/../test_util/kill_pid.sh"
wait_pidfile() {  # COMM -> pid
    local p
    for _ in $(seq 100); do
        p=$(pid_from_pidfile "$1")
        [ -z "$p" ] || { echo "$p"; return 0; }
        sleep 0.1
    done
    return 1
}

restore() {  # undo what STATE says start did (used by stop and by a failed start)
    local VIRTLOGD_PID="" LIBVIRTD_PID="" CREATED_USER=0 CONF_BACKUP="" NEW_CGROUPS="" rc=0 d
    # shellcheck disable=SC1090
    . "$STATE"
    [ -z "$LIBVIRTD_PID" ] || kill_pid "$LIBVIRTD_PID" libvirtd || rc=1
    [ -z "$VIRTLOGD_PID" ] || kill_pid "$VIRTLOGD_PID" virtlogd || rc=1
    if [ "$CONF_BACKUP" = none ]; then
        rm -f "$CONF"
    elif [ -n "$CONF_BACKUP" ] && [ -f "$CONF_BACKUP" ]; then
        cp -p "$CONF_BACKUP" "$CONF"
    fi
    if [ "$CREATED_USER" = 1 ] && getent passwd "$USER_NAME" >/dev/null; then
        userdel "$USER_NAME" || rc=1
    fi
    # libvirt leaves an empty /machine cgroup behind; remove the ones start did not find
    # (rmdir only succeeds on a cgroup with no children and no tasks).
    for d in $NEW_CGROUPS; do
        [ ! -d "$d" ] || rmdir "$d" 2>/dev/null ||
            echo "libvirtd.sh: warning: cannot remove $d (not empty?)" >&2
    done
    rm -f "$STATE"
    return $rc
}

case "$CMD" in
start)
    mkdir -p "$RIG"
    RIG=$(readlink -f "$RIG")
    STATE=$RIG/libvirtd.state
    if [ -f "$STATE" ]; then
        echo "libvirtd.sh: $STATE exists (already started from this rig?); run stop first" >&2
        exit 2
    fi
    if p=$(running libvirtd); then
        echo "libvirtd.sh: a libvirtd already runs (PID $p); not touching it" >&2
        exit 2
    fi
    if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients >&2
    fi

    echo "# written by libvirtd.sh start" >"$STATE"
    trap 'echo "libvirtd.sh: start failed, undoing" >&2; restore || true' ERR

    # 1. The libvirt-qemu user: its default is resolved before qemu.conf is read.
    if ! getent passwd "$USER_NAME" >/dev/null; then
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$USER_NAME"
        echo "CREATED_USER=1" >>"$STATE"
    fi
    # 2. qemu.conf: QEMU runs as root with no security driver.
    mkdir -p /etc/libvirt
    if [ -e "$CONF" ]; then
        cp -p "$CONF" "$RIG/qemu.conf.orig"
        echo "CONF_BACKUP='$RIG/qemu.conf.orig'" >>"$STATE"
    else
        echo "CONF_BACKUP=none" >>"$STATE"
    fi
    cat >"$CONF" <<'CONFEOF'
# written by workload_exporter tests/rigs/libvirtd.sh; restored by `libvirtd.sh stop`
user = "root"
group = "root"
security_driver = "none"
CONFEOF

    # The /machine cgroups libvirt will create (and leave behind), to remove them in stop.
    new_cgroups=""
    # shellcheck disable=SC2013  # mount points have no spaces
    for d in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | sort -u); do
        [ -e "$d/machine" ] || new_cgroups="$new_cgroups $d/machine"
    done
    echo "NEW_CGROUPS='${new_cgroups# }'" >>"$STATE"

    # 3. virtlogd, unless one already runs (then it is not ours to stop).
    if p=$(running virtlogd); then
        echo "libvirtd.sh: using the virtlogd already running (PID $p)" >&2
    else
        LIBVIRT_LOG_OUTPUTS="3:file:$RIG/virtlogd.log" virtlogd -d \
            </dev/null >>"$RIG/virtlogd.out" 2>&1
        p=$(wait_pidfile virtlogd) || { echo "libvirtd.sh: virtlogd did not start" >&2; false; }
        echo "VIRTLOGD_PID=$p" >>"$STATE"
    fi

    # 4. libvirtd.
    LIBVIRT_LOG_OUTPUTS="3:file:$RIG/libvirtd.log" libvirtd -d \
        </dev/null >>"$RIG/libvirtd.out" 2>&1
    p=$(wait_pidfile libvirtd) || { echo "libvirtd.sh: libvirtd did not start" >&2; false; }
    echo "LIBVIRTD_PID=$p" >>"$STATE"

    # 5. Wait for the QEMU driver to answer (the first call probes QEMU's capabilities, ~8 s).
    deadline=$((SECONDS + TIMEOUT))
    until virsh -c qemu:///system version >"$RIG/virsh-version.out" 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ] || ! alive_as "$p" libvirtd; then
            echo "libvirtd.sh: libvirtd not answering:" >&2
            cat "$RIG/virsh-version.out" >&2
            tail -n 20 "$RIG/libvirtd.log" >&2 2>/dev/null || true
            false
        fi
        sleep 0.5
    done
    trap - ERR
    echo "libvirtd.sh: libvirtd PID $p ready" >&2
    ;;
stop)
    if [ ! -f "$STATE" ]; then
        echo "libvirtd.sh: no $STATE; nothing to stop" >&2
        exit 0
    fi
    # Domains left running would outlive libvirtd; say so (they are the caller's to destroy).
    for f in /run/libvirt/qemu/*.pid; do
        [ -f "$f" ] || continue
        q=$(tr -dc 0-9 <"$f")
        if [ -n "$q" ] && grep -q '^qemu-system' "/proc/$q/comm" 2>/dev/null; then
            echo "libvirtd.sh: warning: domain $(basename "$f" .pid) (QEMU PID $q) still runs" >&2
        fi
    done
    restore
    ;;
*) usage ;;
esac
