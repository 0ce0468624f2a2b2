# shellcheck shell=bash
# Shell helpers for the bench scripts (bash; sourced, not run). bench/peers.sh uses them;
# bench/scale.sh has its own copies of the same steps (see the comment of each).
#
# They only create, find or stop what the calling script made: a cgroup by a name it generated, a
# process by a PID it started and that is still its child (a PID that died and was reused is
# someone else's).

# bench_free_port: a loopback TCP port nothing listens on, from 50 random tries in 20000-45000
# (as scale.sh picks its port). Fails if none.
bench_free_port() {
  local p
  for p in $(shuf -i 20000-45000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

# bench_unified_root: the cgroup2 mount: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on
# a hybrid one; nothing on a v1-only host.
bench_unified_root() {
  if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
    echo /sys/fs/cgroup
  elif [[ -e /sys/fs/cgroup/unified/cgroup.controllers ]]; then
    echo /sys/fs/cgroup/unified
  fi
}

# bench_own_cgroup_dirs CONTROLLER...: this shell's own cgroup directories, one a line: the cgroup2
# tree's first (if mounted), then that of each v1 hierarchy holding one of the CONTROLLERs (e.g.
# cpu cpuacct memory), wherever it is mounted ("cpu,cpuacct" co-mounted or each on its own).
bench_own_cgroup_dirs() {
  local uni own want
  uni=$(bench_unified_root)
  if [[ -n $uni ]]; then
    own=$(awk -F: '$1 == 0 && $2 == "" {print $3}' "/proc/$$/cgroup")
    echo "$uni${own%/}"
  fi
  want=" $* "
  # /proc/PID/cgroup: ID:CONTROLLERS:PATH; /proc/self/mounts: DEV DIR TYPE OPTIONS ...
  awk -F: -v want="$want" '
    NR == FNR {
      if ($2 == "") next
      n = split($2, c, ",")
      for (i = 1; i <= n; i++) if (index(want, " " c[i] " ")) { path[$2] = $3; break }
      next
    }
    $3 == "cgroup" {
      for (h in path) {
        n = split(h, c, ","); ok = 1
        for (i = 1; i <= n; i++) if (index("," $4 ",", "," c[i] ",") == 0) ok = 0
        if (ok && !(h in done)) { done[h] = 1; print $2 (path[h] == "/" ? "" : path[h]) }
      }
    }' "/proc/$$/cgroup" FS=' ' /proc/self/mounts
}

# bench_workload_names N: N names docker-<64 random hex>.scope, one a line (scale.sh's names).
bench_workload_names() {
  (($1 > 0)) || return 0
  od -An -v -tx1 -N $((32 * $1)) /dev/urandom | tr -d ' \n' | fold -w64 | awk '{print "docker-" $0 ".scope"}'
}

# bench_is_child PID: whether PID is alive and still a child of this script ($$).
bench_is_child() {
  [[ $(awk '{sub(/^.*\) /, ""); print $2}' "/proc/$1/stat" 2>/dev/null) == "$$" ]]
}

# bench_stop_children TIMEOUT_S PID...: SIGTERM each PID that is still this script's child, wait up
# to TIMEOUT_S seconds for them all (netdata takes 5-10 s to exit), then SIGKILL what is left, and
# reap them. PIDs that are not our children are left alone.
bench_stop_children() {
  local timeout=$1 pid mine=() t
  shift
  for pid in "$@"; do bench_is_child "$pid" && mine+=("$pid"); done
  ((${#mine[@]})) || return 0
  for pid in "${mine[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${mine[@]}"; do
    for ((t = 0; t < timeout * 10; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}

# bench_rmdir_names PARENT NAMES_FILE: rmdir each cgroup named in NAMES_FILE beneath PARENT, retrying
# for 2 s while their processes go; prints how many are left (0 when all are gone).
bench_rmdir_names() {
  local parent=$1 names=$2 left
  existing() { (cd "$parent" 2>/dev/null && while read -r n || [[ -n $n ]]; do [[ -d $n ]] && echo "$n"; done <"$names"); }
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left=$(existing)
    [[ -z $left ]] && break
    (cd "$parent" && xargs -r rmdir 2>/dev/null <<<"$left")
    sleep 0.2
  done
  left=$(existing)
  if [[ -z $left ]]; then echo 0; else wc -l <<<"$left"; fi
}
