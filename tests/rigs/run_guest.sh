#!/bin/bash
# run_guest.sh OUTDIR NAME UUID RIGDIR [extra kernel args...]
# Starts the guest built by build_guest.sh under QEMU/TCG in the background, prints the QEMU PID
# on stdout, and returns once the guest printed WE-GUEST-READY on its serial port
# (RIGDIR/NAME.log). On failure or timeout (WE_GUEST_TIMEOUT, default 60 s) it kills the QEMU it
# started, by the PID in RIGDIR/NAME.pid only, and exits 1 with the log tail on stderr.
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 OUTDIR NAME UUID RIGDIR [extra kernel args...]" >&2
    exit 64
fi
OUT=$1 NAME=$2 UUID=$3 RIG=$4
shift 4
EXTRA="$*"
TIMEOUT=${WE_GUEST_TIMEOUT:-60}

for f in "$OUT/vmlinuz" "$OUT/initramfs.cpio.gz"; do
    [ -f "$f" ] || { echo "run_guest.sh: $f missing (run build_guest.sh first)" >&2; exit 1; }
done
mkdir -p "$RIG"
LOG=$RIG/$NAME.log
PIDFILE=$RIG/$NAME.pid
ERR=$RIG/$NAME.qemu.err
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "run_guest.sh: $NAME already runs as PID $(cat "$PIDFILE")" >&2
    exit 1
fi
rm -f "$LOG" "$PIDFILE" "$ERR"

# -nographic cannot be combined with -daemonize; -display none with -nodefaults and an explicit
# -serial gives the same headless machine.
if ! qemu-system-x86_64 \
        -accel tcg,tb-size=64 -m 192 -smp 1 \
        -no-reboot -nodefaults -display none \
        -serial "file:$LOG" \
        -name "guest=$NAME,debug-threads=on" -uuid "$UUID" \
        -kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.cpio.gz" \
        -append "console=ttyS0 panic=-1 quiet${EXTRA:+ $EXTRA}" \
        -daemonize -pidfile "$PIDFILE" \
        </dev/null >"$ERR" 2>&1; then
    echo "run_guest.sh: qemu-system-x86_64 failed to start:" >&2
    cat "$ERR" >&2
    exit 1
fi
PID=$(cat "$PIDFILE")
echo "$PID"

fail() {
    echo "run_guest.sh: $1" >&2
    if [ -f "$PIDFILE" ] && [ "$(cat "$PIDFILE" 2>/dev/null)" = "$PID" ] &&
       [ -d "/proc/$PID" ]; then
        kill "$PID" 2>/dev/null || true
        for _ in $(seq 50); do [ -d "/proc/$PID" ] || break; sleep 0.1; done
        [ ! -d "/proc/$PID" ] || kill -9 "$PID" 2>/dev/null || true
    fi
    echo "--- $LOG (tail) ---" >&2
    tail -n 30 "$LOG" >&2 2>/dev/null || true
    [ ! -s "$ERR" ] || { echo "--- $ERR ---" >&2; cat "$ERR" >&2; }
    exit 1
}

deadline=$((SECONDS + TIMEOUT))
while ! grep -q WE-GUEST-READY "$LOG" 2>/dev/null; do
    [ -d "/proc/$PID" ] || fail "QEMU (PID $PID) exited before the guest was ready"
    [ "$SECONDS" -lt "$deadline" ] || fail "guest $NAME not ready after ${TIMEOUT}s"
    sleep 0.2
done
exit 0
