#!/bin/bash
# build_guest.sh OUTDIR
# Builds a tiny Linux guest for TCG test VMs: Debian's kernel (downloaded, never installed) and a
# busybox-static initramfs whose /init prints WE-GUEST-READY on the serial port, then runs the
# workload asked for on the kernel command line (burn=N seconds busy, fill=M MiB in a tmpfs,
# net=ADDR/PREFIX,PEER and io=N: every N s a read and a write on /dev/vda and a ping of PEER).
# Outputs OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz. Cached: a second run with the same script
# is a no-op.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 64
fi
OUT=$1
SELF=$(readlink -f "${BASH_SOURCE[0]}")
SUM=$(sha256sum "$SELF" | cut -d' ' -f1)
STAMP=$OUT/.build_guest.stamp

if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initramfs.cpio.gz" ] && [ -f "$STAMP" ] &&
   [ "$(cat "$STAMP")" = "$SUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "build_guest.sh: must run as root (apt-get, mknod)" >&2
    exit 1
fi

mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
STAMP=$OUT/.build_guest.stamp
# Serialise concurrent builds into the same OUTDIR; the winner's result serves the others.
exec 9>"$OUT/.build_guest.lock"
flock 9
if [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initramfs.cpio.gz" ] && [ -f "$STAMP" ] &&
   [ "$(cat "$STAMP")" = "$SUM" ]; then
    exit 0
fi
rm -f "$STAMP"

# --- busybox-static -----------------------------------------------------------------------------
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static >&2
fi
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || { echo "build_guest.sh: $BUSYBOX missing after install" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/we-build-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- kernel: download linux-image-6.1.0-*-amd64 and extract it, without installing ---------------
KPKG=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
if [ -z "$KPKG" ]; then
    echo "build_guest.sh: cannot resolve the kernel package from linux-image-amd64" >&2
    exit 1
fi
KVER=${KPKG#linux-image-}
(cd "$WORK" && apt-get download "$KPKG" >&2 2>"$WORK/download.err") ||
    { cat "$WORK/download.err" >&2; exit 1; }
dpkg-deb -x "$WORK"/"$KPKG"_*.deb "$WORK/kimg"
rm -f "$WORK"/"$KPKG"_*.deb
KMOD=$WORK/kimg/lib/modules/$KVER

# --- initramfs tree -----------------------------------------------------------------------------
R=$WORK/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,run}
cp "$BUSYBOX" "$R/bin/busybox"
# Applet links, as `busybox --install -s` would make them, but resolved on the host.
for applet in $("$BUSYBOX" --list-full); do
    [ -e "$R/$applet" ] || ln -s /bin/busybox "$R/$applet"
done
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 660 "$R/dev/ttyS0" c 4 64

# Modules for the memory balloon (virtio_pci transport + virtio_balloon), a virtio disk and a virtio
# NIC, and their dependencies, read from each module's .modinfo "depends=" field; modules.dep is
# written in depmod's format.
MODDIR=$R/lib/modules/$KVER
mkdir -p "$MODDIR"
declare -A SEEN=()
DEPLINES=()
modpath() {  # module name -> path relative to lib/modules/KVER
    local f
    f=$(grep -m1 -E "/($1|${1//_/-})\.ko\$" "$KMOD/modules.order" || true)
    [ -n "$f" ] || { echo "build_guest.sh: module $1 not found" >&2; return 1; }
    echo "$f"
}
moddeps() {  # direct dependencies of a module file
    tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' ' '
}
alldeps() {  # module name -> its transitive deps, dependencies first (depmod order is reversed)
    local m=$1 d
    for d in $(moddeps "$KMOD/$(modpath "$m")"); do alldeps "$d"; done
    echo "$m"
}
addmod() {
    local m=$1 rel deps d line
    [ -z "${SEEN[$m]:-}" ] || return 0
    SEEN[$m]=1
    rel=$(modpath "$m")
    mkdir -p "$MODDIR/$(dirname "$rel")"
    cp "$KMOD/$rel" "$MODDIR/$rel"
    deps=()
    # modules.dep lists the transitive dependencies, the ones to load last first.
    for d in $(alldeps "$m" | awk '!seen[$0]++' | tac); do
        [ "$d" = "$m" ] || deps+=("$(modpath "$d")")
    done
    line="$rel:"
    [ ${#deps[@]} -eq 0 ] || line="$line ${deps[*]}"
    DEPLINES+=("$line")
    for d in $(moddeps "$KMOD/$rel"); do addmod "$d"; done
}
GUEST_MODULES="virtio_pci virtio_balloon virtio_blk virtio_net"
for m in $GUEST_MODULES; do addmod "$m"; done
printf '%s\n' "${DEPLINES[@]}" >"$MODDIR/modules.dep"
: >"$MODDIR/modules.alias"
: >"$MODDIR/modules.symbols"
: >"$MODDIR/modules.builtin"
# Load order for the fallback path (insmod), dependencies first.
for m in $GUEST_MODULES; do alldeps "$m"; done | awk '!seen[$0]++' | while read -r m; do
    echo "/lib/modules/$KVER/$(modpath "$m")"
done >"$R/etc/modules.order"

cat >"$R/init" <<'INIT'
#!/bin/sh
# workload_exporter test guest. Kernel command line: burn=N (busy N s once), fill=M (M MiB tmpfs),
# net=ADDR/PREFIX,PEER (eth0's address; PEER is pinged), io=N (every N s: disk read + write, ping).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
OUT=/dev/ttyS0
[ -c "$OUT" ] || OUT=/dev/console
exec 0</dev/null >"$OUT" 2>&1

# Balloon driver (for libvirt's balloon.* stats), disk and NIC drivers; harmless without devices.
for m in virtio_pci virtio_balloon virtio_blk virtio_net; do
    modprobe "$m" 2>/dev/null || true
done
if ! grep -q '^virtio_balloon ' /proc/modules || ! grep -q '^virtio_net ' /proc/modules; then
    while read -r ko; do insmod "$ko" 2>/dev/null || true; done </etc/modules.order
fi
echo "WE-GUEST-MODULES $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

burn=0
fill=0
net=""
io=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        burn=*) burn=${arg#burn=} ;;
        fill=*) fill=${arg#fill=} ;;
        net=*) net=${arg#net=} ;;
        io=*) io=${arg#io=} ;;
    esac
done
peer=""
if [ -n "$net" ] && [ -d /sys/class/net/eth0 ]; then
    ip addr add "${net%%,*}" dev eth0 && ip link set eth0 up && peer=${net#*,}
    echo "WE-GUEST-NET eth0 ${net%%,*} peer $peer"
fi

echo "WE-GUEST-READY"

if [ "$burn" -gt 0 ] 2>/dev/null; then
    ( while :; do :; done ) &
    spin=$!
    sleep "$burn"
    kill "$spin"
    wait "$spin" 2>/dev/null
fi
echo "WE-GUEST-BURN-DONE"

if [ "$fill" -gt 0 ] 2>/dev/null; then
    mount -t tmpfs -o size=$((fill + 8))m tmpfs /tmp
    dd if=/dev/zero of=/tmp/fill bs=1M count="$fill" 2>/dev/null
    echo "WE-GUEST-FILL-DONE $fill"
fi

# Light, steady I/O so that the host sees block and network counters move: direct I/O on the
# disk (past the guest's page cache), one ping of the peer.
if [ "$io" -gt 0 ] 2>/dev/null; then
    [ -b /dev/vda ] && echo "WE-GUEST-IO vda every ${io}s"
    while :; do
        if [ -b /dev/vda ]; then
            dd if=/dev/vda of=/dev/null bs=64k count=4 iflag=direct 2>/dev/null
            dd if=/dev/zero of=/dev/vda bs=64k count=1 seek=8 oflag=direct conv=notrunc 2>/dev/null
        fi
        [ -z "$peer" ] || ping -c 1 -W 1 "$peer" >/dev/null 2>&1
        sleep "$io"
    done
fi

while :; do sleep 3600; done
INIT
chmod 755 "$R/init"

# --- pack ---------------------------------------------------------------------------------------
if command -v cpio >/dev/null 2>&1; then
    CPIO=(cpio)
else
    CPIO=("$BUSYBOX" cpio)
fi
(cd "$R" && find . | LC_ALL=C sort | "${CPIO[@]}" -o -H newc 2>/dev/null) | gzip -6 >"$WORK/initramfs.cpio.gz"
cp "$WORK/kimg/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
echo "$KVER" >"$OUT/kernel.version"
echo "$SUM" >"$STAMP"
