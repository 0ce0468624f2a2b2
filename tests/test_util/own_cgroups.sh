# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this file
# Sourced by the shell tests that create cgroups: they may do so only beneath their own cgroup in
# each hierarchy. Sets
#   cgroupfs      /sys/fs/cgroup
#   unified_root  where cgroup2 is mounted ($cgroupfs on a pure v2 host, $cgroupfs/unified on a
#                 hybrid one), or "" without cgroup2
#   own[...]      this process's cgroup path, by "unified" or by v1 controller name
# (read from /proc/self/cgroup, so the caller's own cgroups, wherever it runs).
cgroupfs=/sys/fs/cgroup
unified_root=""
if [[ -e $cgroupfs/cgroup.controllers ]]; then
  unified_root=$cgroupfs
elif [[ -e $cgroupfs/unified/cgroup.controllers ]]; then
  unified_root=$cgroupfs/unified
fi
declare -A own=()
while IFS=: read -r hid controllers path; do
  if [[ $hid == 0 && -z $controllers ]]; then
    own[unified]=$path
  else
    IFS=, read -ra list <<<"$controllers"
    for c in "${list[@]}"; do own[$c]=$path; done
  fi
done </proc/self/cgroup
