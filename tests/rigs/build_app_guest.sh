#!/bin/bash
# build_app_guest.sh OUTDIR [BASEDIR]
# Builds the guest in which scripts/compare.sh runs tests/rigs/compare_app.py under QEMU/TCG: the
# test guest of build_guest.sh (Debian's kernel, the busybox initramfs and its virtio modules),
# built or reused in BASEDIR (default OUTDIR/base; the tests pass the build tree's shared guest/),
# with a second cpio archive appended to its initramfs. That archive holds the host's
# /usr/bin/python3.11 with the shared libraries ldd names for it and its extension modules,
# exactly the standard-library files (sources and their __pycache__ .pyc) the app imports while
# serving each of its endpoints once, the app itself, and an /init that brings up eth0 as QEMU's
# user network expects (10.0.2.15/24, gateway 10.0.2.2), prints WE-APP-BOOTED on the serial port,
# then runs the app on 0.0.0.0:8080 (and prints WE-APP-EXITED if it ever ends). The kernel unpacks
# concatenated archives in order, so the later /init wins.
# Outputs OUTDIR/vmlinuz and OUTDIR/initramfs.cpio.gz (plus kernel.version, and files.txt: what
# was added). Cached as build_guest.sh is: a second run is a no-op while this script,
# compare_app.py, build_guest.sh and the host's python3.11 are unchanged.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTDIR [BASEDIR]" >&2
    exit 64
fi
OUT=$1
BASE=${2:-$OUT/base}
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
APP=$HERE/compare_app.py
PY=/usr/bin/python3.11
[ -x "$PY" ] || { echo "build_app_guest.sh: $PY missing (apt-get install python3.11)" >&2; exit 1; }
# The key: this script, the app, the base guest's builder, and the interpreter it copies.
SUM=$(cat "$HERE/build_app_guest.sh" "$APP" "$HERE/build_guest.sh" "$PY" | sha256sum | cut -d' ' -f1)
STAMP=$OUT/.build_app_guest.stamp

cached() {
    [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initramfs.cpio.gz" ] && [ -f "$STAMP" ] &&
        [ "$(cat "$STAMP")" = "$SUM" ]
}
cached && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "build_app_guest.sh: must run as root (build_guest.sh: apt-get, mknod)" >&2
    exit 1
fi
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
STAMP=$OUT/.build_app_guest.stamp
exec 9>"$OUT/.build_app_guest.lock"
flock 9
cached && exit 0
rm -f "$STAMP"

bash "$HERE/build_guest.sh" "$BASE"
BASE=$(readlink -f "$BASE")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/we-build-app-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R/app" "$R/usr/bin"

# --- what the app imports: run it on a loopback port, ask each endpoint once, list sys.modules --
# The same flags as the guest's /init uses (-I -S: no site, no user paths), so the same modules.
"$PY" -I -S - "$APP" >"$WORK/modules.txt" <<'PY'
import runpy, socket, sys, threading
app = runpy.run_path(sys.argv[1], run_name="compare_app")
server = app["http"].server.ThreadingHTTPServer(("127.0.0.1", 0), app["Handler"])
threading.Thread(target=server.serve_forever, daemon=True).start()
for path in ("/health", "/cpu?n=10", "/cpu?ms=1", "/mem?mb=1&hold_ms=0", "/cpu?n=x", "/nope"):
    with socket.create_connection(server.server_address) as s:
        s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
        while s.recv(65536):
            pass
server.shutdown()
import argparse, traceback  # the app's main() and socketserver's handle_error
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f:
        print(f)
PY
{
    echo "$PY"
    # Less what the app never uses and its importers do without (http.client's ssl, shutil's
    # bz2 and lzma are each imported in a try): libcrypto alone would be half the archive.
    grep '^/usr/lib/python3.11/' "$WORK/modules.txt" |
        grep -Ev '/(ssl|bz2|lzma|_compression)\.py$|/lib-dynload/_(ssl|bz2|lzma)\.'
    # Every codec: cheap (2.5 MB), and a missing one would only show under some locale or input.
    find /usr/lib/python3.11/encodings -name '*.py'
} | sort -u >"$WORK/sources.txt"
{
    while read -r f; do
        echo "$f"
        case "$f" in
            *.py)
                pyc=$(dirname "$f")/__pycache__/$(basename "$f" .py).cpython-311.pyc
                [ ! -f "$pyc" ] || echo "$pyc"
                ;;
        esac
    done <"$WORK/sources.txt"
    # The interpreter's and the extension modules' shared libraries, as ldd resolves them here.
    grep -E '\.so$' "$WORK/sources.txt" | cat - <(echo "$PY") | xargs -r ldd |
        sed -n -e 's/^.* => \(\/[^ ]*\) .*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*$/\1/p'
} | sort -u >"$WORK/files.txt"
while read -r f; do
    mkdir -p "$R$(dirname "$f")"
    cp -L "$f" "$R$f"  # keeps the paths (and the .py mtimes the .pyc files are checked against)
    touch -r "$f" "$R$f"
done <"$WORK/files.txt"
mkdir -p "$R/usr/lib/python3.11/lib-dynload"  # getpath looks for it
ln -s python3.11 "$R/usr/bin/python3"
cp "$APP" "$R/app/compare_app.py"

cat >"$R/init" <<'INIT'
#!/bin/sh
# workload_exporter compare guest (tests/rigs/build_app_guest.sh): eth0 on QEMU's user network,
# then the app of tests/rigs/compare_app.py on 0.0.0.0:8080.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
mount -t tmpfs -o size=16m tmpfs /tmp
OUT=/dev/ttyS0
[ -c "$OUT" ] || OUT=/dev/console
exec 0</dev/null >"$OUT" 2>&1
for m in virtio_pci virtio_net; do modprobe "$m" 2>/dev/null || true; done
if ! grep -q '^virtio_net ' /proc/modules; then
    while read -r ko; do insmod "$ko" 2>/dev/null || true; done </etc/modules.order
fi
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2
echo "WE-APP-BOOTED $(cut -d' ' -f1 /proc/uptime)"
/usr/bin/python3.11 -I -S -u /app/compare_app.py --bind 0.0.0.0 --port 8080
echo "WE-APP-EXITED $?"
while :; do sleep 3600; done
INIT
chmod 755 "$R/init"

if command -v cpio >/dev/null 2>&1; then CPIO=(cpio); else CPIO=(/bin/busybox cpio); fi
(cd "$R" && find . | LC_ALL=C sort | "${CPIO[@]}" -o -H newc 2>/dev/null) | gzip -6 >"$WORK/app.cpio.gz"
cat "$BASE/initramfs.cpio.gz" "$WORK/app.cpio.gz" >"$WORK/initramfs.cpio.gz"
cp "$BASE/vmlinuz" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
cp "$BASE/kernel.version" "$OUT/kernel.version"
cp "$WORK/files.txt" "$OUT/files.txt"
echo "$SUM" >"$STAMP"
