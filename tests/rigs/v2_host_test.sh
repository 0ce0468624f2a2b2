#!/usr/bin/env bash
# Issue #16's acceptance test: the Debian package on a real pure cgroup v2 Debian 12 host (systemd
# 252, Docker 20.10, Podman 4.3 with crun, Linux 6.12) booted under QEMU/TCG.
#
#   sudo bash tests/rigs/v2_host_test.sh BUILD_DIR
#
# 1. The guest image: tests/rigs/build_v2_host.sh BUILD_DIR/v2host (cached by its hash).
# 2. `cpack -G DEB` in BUILD_DIR, as tests/packaging/deb_test.sh does; then packaging/Dockerfile
#    built with that package by podman on this machine, saved as a docker-archive.
# 3. A copy of the image gets the .deb, the container image and v2_host/guest_check.sh in
#    /opt/wetest (debugfs -w);
#    QEMU boots it once (no network, no 9p: the -cloud kernel boots from NVMe without an
#    initramfs); the guest's wetest-check.service runs the checks and powers off.
# 4. /results is read back from the image (debugfs rdump) into BUILD_DIR/v2_host_results: the
#    table of checks is printed, and on any failure the daemon's journal and the serial log too.
# Exit: 0 every check passed, 1 a check failed (or the guest never finished), 77 skip (not root,
# no qemu-system-x86_64, cpack or debugfs). WE_V2HOST_TIMEOUT (default 660 s) bounds the boot.
# For other runs in the same guest (bench/v2_guest.sh): WE_V2HOST_CHECK, the script the guest
# runs instead of v2_host/guest_check.sh; WE_V2HOST_INJECT, more files for /opt/wetest
# (space-separated paths); WE_V2HOST_IMAGE=0, no container image; WE_V2HOST_RESULTS, where the
# results go (default BUILD_DIR/v2_host_results).
set -uo pipefail

log() { printf '%s v2_host_test: %s\n' "$(date +%T)" "$*"; }
skip() {
  log "SKIP: $*"
  exit 77
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
build_dir=$(readlink -f "$build_dir")
((EUID == 0)) || skip "must run as root: debootstrap, chroot, debugfs on the image"
for tool in qemu-system-x86_64 cpack debugfs; do command -v "$tool" >/dev/null || skip "no $tool"; done
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
start=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/we_v2_host.XXXXXX")
qemu_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null
  fi
  rm -rf "$work"
  log "exit $rc after $(($(date +%s) - start)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------------- 1. image, 2. package
guest=$build_dir/v2host
bash "$here/build_v2_host.sh" "$guest" || die "build_v2_host.sh failed"
log "guest image ready after $(($(date +%s) - start)) s (kernel $(cat "$guest/kernel.version"))"
(cd "$build_dir" && cpack -G DEB -B "$work/out") >"$work/cpack.log" 2>&1 || {
  tail -n 20 "$work/cpack.log"
  die "cpack failed"
}
deb=$(find "$work/out" -maxdepth 1 -name 'prometheus-workload-exporter_*.deb' | head -n1)
[[ -f $deb ]] || die "cpack made no prometheus-workload-exporter_*.deb"
log "built $(basename "$deb")"

# ------------------------------------------------------------------------- 2b. the container image
# packaging/Dockerfile built for real by podman (runc: crun refuses this hybrid host), on the
# debian:bookworm-slim base build_v2_host.sh made, with the package above (DEB_FROM=prebuilt, so
# the sources are not compiled a second time), then saved for the guest's Docker. Podman's storage
# is this test's own, in $work.
podman_cmd=(podman --root "$work/podman/root" --runroot "$work/podman/run" --cgroup-manager cgroupfs
            --events-backend file --runtime runc --storage-driver overlay)
image_tar=""
if [[ ${WE_V2HOST_IMAGE:-1} == 0 ]]; then
  log "no container image (WE_V2HOST_IMAGE=0)"
elif command -v podman >/dev/null && command -v runc >/dev/null; then
  t=$(date +%s)
  mkdir -p "$work/context"
  cp "$deb" "$work/context/workload_exporter.deb"
  revision=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if "${podman_cmd[@]}" import "$guest/debian-bookworm-slim.tar" docker.io/library/debian:bookworm-slim \
       >"$work/podman-build.log" 2>&1 &&
     "${podman_cmd[@]}" build --format docker --network=host --ulimit nofile=20000:20000 \
       --ulimit nproc=4096:4096 -f "$here/../../packaging/Dockerfile" --build-arg DEB_FROM=prebuilt \
       --build-arg REVISION="$revision" -t docker.io/library/workload_exporter:latest "$work/context" \
       >>"$work/podman-build.log" 2>&1 &&
     "${podman_cmd[@]}" save --format docker-archive -o "$work/we-image.tar" \
       docker.io/library/workload_exporter:latest >>"$work/podman-build.log" 2>&1; then
    image_tar=$work/we-image.tar
    size=$("${podman_cmd[@]}" image inspect -f '{{.Size}}' docker.io/library/workload_exporter:latest)
    log "built the container image in $(($(date +%s) - t)) s: $((size / 1000000)) MB ($size bytes), archive $(du -m "$image_tar" | cut -f1) MiB"
    echo "$size" >"$work/image-size"
  else
    tail -n 30 "$work/podman-build.log"
    die "podman build of packaging/Dockerfile failed (log above)"
  fi
  "${podman_cmd[@]}" rmi -a -f >/dev/null 2>&1
  rm -rf "$work/podman" "$work/context"
else
  log "no podman or runc here: the guest checks the container image as missing"
fi

# ------------------------------------------------------------------------- 3. inject and boot
img=$work/disk.img
cp --sparse=always "$guest/v2host.img" "$img"
cp "${WE_V2HOST_CHECK:-$here/v2_host/guest_check.sh}" "$work/guest_check.sh"
chmod 0755 "$work/guest_check.sh"
cat >"$work/inject.cmds" <<EOF
cd /opt/wetest
write $deb $(basename "$deb")
write $work/guest_check.sh guest_check.sh
sif guest_check.sh mode 0100755
EOF
for f in ${WE_V2HOST_INJECT:-}; do
  [[ -f $f ]] || die "WE_V2HOST_INJECT: no file $f"
  printf 'write %s %s\n' "$(readlink -f "$f")" "$(basename "$f")" >>"$work/inject.cmds"
done
if [[ -n $image_tar ]]; then
  printf 'write %s we-image.tar\nwrite %s image-size\n' "$image_tar" "$work/image-size" >>"$work/inject.cmds"
fi
debugfs -w -f "$work/inject.cmds" "$img" >"$work/inject.log" 2>&1 || {
  cat "$work/inject.log"
  die "debugfs could not write into the image"
}
serial=$work/serial.log
log "booting the guest (TCG, one vCPU)"
boot=$(date +%s)
qemu-system-x86_64 -accel tcg,thread=single,tb-size=256 \
  -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,-cx16 -smp 1 -m 2048 \
  -nodefaults -display none -no-reboot -serial "file:$serial" \
  -kernel "$guest/vmlinuz" \
  -append "root=/dev/nvme0n1 rootfstype=ext4 rw systemd.unified_cgroup_hierarchy=1 apparmor=0 console=ttyS0 panic=-1 quiet" \
  -drive "file=$img,if=none,id=d0,format=raw" -device nvme,drive=d0,serial=wetest \
  2>"$work/qemu.err" &
qemu_pid=$!
timeout_s=${WE_V2HOST_TIMEOUT:-660}
finished=0
for ((i = 0; i < timeout_s; i++)); do
  if ! kill -0 "$qemu_pid" 2>/dev/null; then
    finished=1
    break
  fi
  sleep 1
done
if ((finished)); then
  wait "$qemu_pid"
  qemu_pid=""
  log "QEMU exited after $(($(date +%s) - boot)) s"
else
  log "the guest did not power off within $timeout_s s: stopping QEMU"
  kill "$qemu_pid"
  wait "$qemu_pid" 2>/dev/null
  qemu_pid=""
fi

# ------------------------------------------------------------------------- 4. results
results=${WE_V2HOST_RESULTS:-$build_dir/v2_host_results}
rm -rf "$results"
mkdir -p "$results"
debugfs -R "rdump /results $results" "$img" >"$work/rdump.log" 2>&1
results=$results/results
cp "$serial" "$results/serial.log" 2>/dev/null
checks=$results/checks.txt
show_logs() {
  echo "----- serial log (last 80 lines; all in $results/serial.log)"
  tail -n 80 "$serial"
  [[ -s $work/qemu.err ]] && { echo "----- QEMU stderr"; cat "$work/qemu.err"; }
  if [[ -f $results/journal-workload_exporter.txt ]]; then
    echo "----- journalctl -u workload_exporter (last 60 lines)"
    tail -n 60 "$results/journal-workload_exporter.txt"
  fi
}
if [[ ! -s $checks ]]; then
  show_logs
  die "the guest wrote no $checks (see $(dirname "$results"))"
fi
echo "----- checks (measured vs expected), also in $checks"
column -t "$checks"
pass=$(grep -c '^PASS' "$checks")
fail=$(grep -c '^FAIL' "$checks")
log "$pass passed, $fail failed; total $(($(date +%s) - start)) s"
[[ -f $results/done ]] || finished=0
if ((fail > 0 || !finished)); then
  ((finished)) || log "FAIL: the guest's checks did not finish (timeout, or QEMU stopped): they are incomplete"
  echo "----- failed checks"
  grep '^FAIL' "$checks" | column -t
  show_logs
  exit 1
fi
exit 0
