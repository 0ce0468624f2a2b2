# shellcheck shell=bash
# Sourced by the shell tests that create cgroups (beneath their own, own_cgroups.sh), for their
# cleanup. Defines
#   remove_cgroups DIR...  removes the directories, the last first (a child is listed after its
#                          parent), retrying each for up to 5 s while the kernel still counts
#                          exited tasks in it; says which it could not remove through the
#                          caller's log function, and then returns 1.
remove_cgroups() {
  local dirs=("$@") i dir attempt rc=0
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    dir=${dirs[i]}
    for ((attempt = 0; attempt < 50; attempt++)); do
      rmdir "$dir" 2>/dev/null || [[ ! -d $dir ]] && break
      sleep 0.1
    done
    [[ -d $dir ]] && {
      log "could not remove cgroup $dir"
      rc=1
    }
  done
  return "$rc"
}
