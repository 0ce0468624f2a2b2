# shellcheck shell=bash
# Sourced by the rigs that start daemons (tests/rigs/libvirtd.sh, private_libvirtd.sh), to stop
# only what they started: a PID is signalled only while it still runs the command it was
# recorded for, never a process that inherited the number. Defines
#   alive_as PID COMM   whether PID runs and its comm is exactly COMM
#   kill_pid PID COMM   TERM, up to 10 s, then KILL and up to 5 s more; only while PID still is
#                       COMM. Returns 1, saying so on stderr (named after the calling script),
#                       when it outlives that.
alive_as() {  # PID COMM
    [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
kill_pid() {  # PID COMM
    local pid=$1 comm=$2
    alive_as "$pid" "$comm" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive_as "$pid" "$comm" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive_as "$pid" "$comm" || return 0; sleep 0.1; done
    echo "${0##*/}: $comm (PID $pid) did not exit" >&2
    return 1
}
