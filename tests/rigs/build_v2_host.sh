#!/bin/bash
# build_v2_host.sh OUTDIR
# Builds a real pure cgroup v2 Debian 12 host to boot under QEMU/TCG (issue #16, and
# /work/shared/RIGS.md "A pure cgroup v2 host"): a debootstrap'd bookworm with systemd, udev, dbus,
# Docker 20.10 (docker.io), Podman 4.3 with crun, and the bookworm-backports 6.12 -cloud-amd64
# kernel (NVMe and ext4 built in: it boots without an initramfs). Nothing is installed on this
# machine but debootstrap; the kernel is downloaded and extracted, never installed, through a
# private apt configuration (the host's sources are not touched).
#
# Outputs, in OUTDIR:
#   v2host.img       a sparse raw ext4 image of the tree (boot it as root=/dev/nvme0n1)
#   vmlinuz          the 6.12 kernel;  kernel.version its release
#   debian-bookworm-slim.tar  the same debootstrap'd tree before any package was added, slimmed as
#                    the official debian:bookworm-slim: the base packaging/Dockerfile is built on
# The image holds /opt/wetest/{load,image.tar} (the static workload program of v2_host/load.c and a
# busybox tree of it, imported by the guest as the containers' image, since no registry is
# reachable), /etc/docker/daemon.json (no iptables: the test's containers run with --network none;
# the image's daemon is published on the default bridge by Docker's userland proxy) and
# wetest-check.service, which runs /opt/wetest/guest_check.sh (put there by the test, see
# v2_host_test.sh) once multi-user.target and Docker are up and then powers the guest off. It
# powers off at once when no check script is there. The serial getty is masked, root has no
# password.
# Cached: keyed by the sha256 of this script and of v2_host/load.c; concurrent builds into one
# OUTDIR are serialised with flock.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 64
fi
OUT=$1
SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
LOAD_C=$HERE/v2_host/load.c
SUM=$(cat "$SELF" "$LOAD_C" | sha256sum | cut -d' ' -f1)
MIRROR=${WE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

cached() {
    [ -f "$OUT/v2host.img" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/debian-bookworm-slim.tar" ] &&
        [ -f "$OUT/.build_v2_host.stamp" ] &&
        [ "$(cat "$OUT/.build_v2_host.stamp")" = "$SUM" ]
}
cached && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "build_v2_host.sh: must run as root (debootstrap, chroot)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
exec 9>"$OUT/.build_v2_host.lock"
flock 9
cached && exit 0
rm -f "$OUT/.build_v2_host.stamp"
log() { printf '%s build_v2_host: %s\n' "$(date +%T)" "$*" >&2; }
START=$(date +%s)

for tool in debootstrap gcc mkfs.ext4; do
    command -v "$tool" >/dev/null && continue
    case $tool in
        debootstrap) pkg=debootstrap ;;
        gcc) pkg=gcc ;;
        mkfs.ext4) pkg=e2fsprogs ;;
    esac
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg" >&2
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/we-build-v2host.XXXXXX")
T=$WORK/tree
MOUNTED=()
cleanup() {
    local m
    for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- kernel: bookworm-backports' 6.12 -cloud-amd64, through a private apt configuration ----------
A=$WORK/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
echo "deb $MIRROR bookworm-backports main" >"$A/sources.list"
APT_OPTS=(-o "Dir::Etc::sourcelist=$A/sources.list" -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache")
apt-get "${APT_OPTS[@]}" update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2; exit 1; }
KPKG=$(apt-cache "${APT_OPTS[@]}" show linux-image-cloud-amd64 |
       sed -n 's/^Depends: .*\(linux-image-6\.12\.[^ ,]*-cloud-amd64\).*/\1/p' | head -n1)
[ -n "$KPKG" ] || { echo "build_v2_host.sh: no 6.12 cloud kernel in bookworm-backports" >&2; exit 1; }
# The signed package and the -unsigned one carry the same image; the -unsigned one needs no shim.
if apt-cache "${APT_OPTS[@]}" show "$KPKG-unsigned" >/dev/null 2>&1; then KPKG=$KPKG-unsigned; fi
(cd "$WORK" && apt-get "${APT_OPTS[@]}" download "$KPKG" >"$WORK/download.log" 2>&1) ||
    { cat "$WORK/download.log" >&2; exit 1; }
dpkg-deb -x "$WORK"/"$KPKG"_*.deb "$WORK/kimg"
KVER=$(basename "$(ls -d "$WORK"/kimg/lib/modules/6.12.*)")
log "kernel $KPKG ($KVER) after $(( $(date +%s) - START )) s"

# --- the Debian 12 tree ------------------------------------------------------------------------
debootstrap --variant=minbase bookworm "$T" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
log "debootstrap done after $(( $(date +%s) - START )) s"

# --- the container image's base: debian:bookworm-slim, made here ---------------------------------
# No registry is reachable, so packaging/Dockerfile's base is this fresh minbase tree, slimmed as
# debuerreotype makes the official bookworm-slim: no downloaded .debs or lists, apt's docker-clean
# configuration (every apt run removes what it downloaded), and dpkg's path excludes for docs
# (copyright kept), man, info, groff, lintian and locale files, those already installed removed.
S=$WORK/slim
cp -a "$T" "$S"
rm -f "$S"/var/cache/apt/archives/*.deb "$S"/var/cache/apt/*.bin
rm -rf "$S"/var/lib/apt/lists/*
cat >"$S/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
cat >"$S/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
DPKG
find "$S/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$S/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$S"/usr/share/groff/* "$S"/usr/share/info/* "$S"/usr/share/lintian/* "$S"/usr/share/linda/* \
       "$S"/usr/share/locale/* "$S"/usr/share/man/*
: >"$S/etc/machine-id"
tar -C "$S" --numeric-owner -cf "$WORK/debian-bookworm-slim.tar" .
rm -rf "$S"
log "debian:bookworm-slim base ($(du -m "$WORK/debian-bookworm-slim.tar" | cut -f1) MiB) after $(( $(date +%s) - START )) s"
for m in proc sys dev; do
    mount --rbind "/$m" "$T/$m"
    mount --make-rslave "$T/$m"
    MOUNTED=("$T/$m" "${MOUNTED[@]}")
done
cp /etc/resolv.conf "$T/etc/resolv.conf"
# No service starts in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$T/usr/sbin/policy-rc.d"
chmod 755 "$T/usr/sbin/policy-rc.d"
# Beside the host's packages: the shared libraries the daemon's package depends on (what
# dpkg-shlibdeps finds for it on Debian 12), since the guest has no network to resolve them.
PACKAGES="systemd-sysv udev kmod dbus procps docker.io podman crun conmon iproute2 curl busybox-static
          adduser libssl3 libcrypt1 zlib1g libisal2 libprometheus-cpp-core1.0 libyaml-cpp0.7 libspdlog1.10
          libfmt9 libstdc++6"
chroot "$T" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    $PACKAGES >"$WORK/apt-install.log" 2>&1 || { tail -n 30 "$WORK/apt-install.log" >&2; exit 1; }
chroot "$T" apt-get clean
rm -f "$T/usr/sbin/policy-rc.d"
rm -rf "$T"/var/lib/apt/lists/*
log "packages installed after $(( $(date +%s) - START )) s"

# Kernel modules (overlay for Docker's and Podman's storage, and the rest), and their index.
mkdir -p "$T/lib/modules"
cp -a "$WORK/kimg/lib/modules/$KVER" "$T/lib/modules/"
chroot "$T" depmod "$KVER"

# --- system configuration ----------------------------------------------------------------------
echo v2host >"$T/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 v2host\n' >"$T/etc/hosts"
printf '/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1\n' >"$T/etc/fstab"
: >"$T/etc/machine-id"
chroot "$T" passwd -d root >/dev/null
ln -sf /dev/null "$T/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$T/etc/systemd/system/getty@tty1.service"
# Nothing here needs the network or the clock from it.
ln -sf /dev/null "$T/etc/systemd/system/systemd-timesyncd.service"
ln -sf /dev/null "$T/etc/systemd/system/apt-daily.timer"
ln -sf /dev/null "$T/etc/systemd/system/apt-daily-upgrade.timer"
mkdir -p "$T/etc/docker"
cat >"$T/etc/docker/daemon.json" <<'JSON'
{ "iptables": false, "ip6tables": false, "log-driver": "none" }
JSON
# The journal in memory is enough (the test saves what it needs into /results).
mkdir -p "$T/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$T/etc/systemd/journald.conf.d/wetest.conf"

cat >"$T/etc/systemd/system/wetest-check.service" <<'UNIT'
[Unit]
Description=workload_exporter acceptance checks (tests/rigs/v2_host/guest_check.sh)
Wants=docker.service
After=multi-user.target docker.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'if [ -x /opt/wetest/guest_check.sh ]; then /opt/wetest/guest_check.sh; else mkdir -p /results; echo "no /opt/wetest/guest_check.sh" >/results/error.txt; fi'
ExecStopPost=/bin/systemctl poweroff --no-block
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=15min

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/wetest-check.service "$T/etc/systemd/system/multi-user.target.wants/wetest-check.service"

# --- the containers' workload and image ---------------------------------------------------------
mkdir -p "$T/opt/wetest" "$WORK/img/bin" "$WORK/img/data" "$WORK/img/tmp" "$WORK/img/proc" \
         "$WORK/img/sys" "$WORK/img/dev" "$WORK/img/etc"
gcc -O2 -static -Wall -Wextra -o "$T/opt/wetest/load" "$LOAD_C"
cp "$T/opt/wetest/load" "$WORK/img/load"
cp "$T/bin/busybox" "$WORK/img/bin/busybox"
for applet in sh sleep cat ls echo kill; do ln -s busybox "$WORK/img/bin/$applet"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$WORK/img/etc/passwd"
tar -C "$WORK/img" --numeric-owner --owner=0 --group=0 -cf "$T/opt/wetest/image.tar" .

# --- the image ---------------------------------------------------------------------------------
rm -f "$T/etc/resolv.conf"
for m in "${MOUNTED[@]}"; do umount -l "$m"; done
MOUNTED=()
truncate -s 3G "$WORK/v2host.img"
mkfs.ext4 -q -F -L v2host -d "$T" "$WORK/v2host.img"
cp "$WORK/kimg/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/v2host.img" "$OUT/v2host.img"
mv -f "$WORK/debian-bookworm-slim.tar" "$OUT/debian-bookworm-slim.tar"
echo "$KVER" >"$OUT/kernel.version"
echo "$SUM" >"$OUT/.build_v2_host.stamp"
log "built $OUT/v2host.img ($(du -m "$OUT/v2host.img" | cut -f1) MiB used) in $(( $(date +%s) - START )) s"
