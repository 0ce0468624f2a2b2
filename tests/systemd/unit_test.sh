#!/usr/bin/env bash
# Checks the files under systemd/ with systemd's own tools, without systemd running as PID 1:
#   - `systemd-analyze verify` accepts the daemon's unit and the opener's socket and service
#     with no warning about them;
#   - `systemd-analyze security --offline=true` rates each service's overall exposure 2.0 or
#     lower ("OK"), the daemon's also with the SupplementaryGroups=libvirt drop-in the package
#     adds on libvirt hosts;
#   - the daemon's unit asks for the opener (--opener.socket, Wants= its socket) and reloads
#     outside its sandbox (ExecReload=+);
#   - systemd-sysusers and systemd-tmpfiles, run into a scratch root, create the user and the
#     configuration directory as intended.
# Usage: unit_test.sh [BINARY [OPENER]]
#   BINARY (the built workload_exporter) and OPENER (workload_exporter_opener) replace
#   /usr/bin/workload_exporter and /usr/libexec/workload_exporter/workload_exporter_opener in
#   the copies that `verify` reads, since verify rejects an ExecStart= that does not exist.
# Exit status: 0 pass, 1 fail, 77 skip (no systemd-analyze, or one too old for --offline).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
unit_dir="$here/../../systemd"
unit="$unit_dir/workload_exporter.service"
opener_service="$unit_dir/workload_exporter-opener.service"
opener_socket="$unit_dir/workload_exporter-opener.socket"
binary="${1:-}"
opener="${2:-}"
max_exposure="2.0"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not found (Debian package: systemd)"
  exit 77
fi
if ! systemd-analyze --help 2>&1 | grep -q -- '--offline'; then
  echo "SKIP: this systemd-analyze has no --offline (needs systemd >= 250): $(systemd-analyze --version | head -n1)"
  exit 77
fi

export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat LC_ALL=C.UTF-8
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

echo "== $(systemd-analyze --version | head -n1)"

# --- verify ---------------------------------------------------------------------------------
mkdir -p "$scratch/verify"
if [ -n "$binary" ]; then
  [ -x "$binary" ] || { echo "FAIL: $binary is not an executable"; exit 1; }
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
else
  binary="$(type -P true)"
  echo "note: no binary given; ExecStart= points at $binary for verify"
fi
if [ -n "$opener" ]; then
  [ -x "$opener" ] || { echo "FAIL: $opener is not an executable"; exit 1; }
  opener="$(cd "$(dirname "$opener")" && pwd)/$(basename "$opener")"
else
  opener="$(type -P true)"
fi
sed "s|/usr/bin/workload_exporter|$binary|g" "$unit" > "$scratch/verify/workload_exporter.service"
sed "s|/usr/libexec/workload_exporter/workload_exporter_opener|$opener|g" "$opener_service" \
  > "$scratch/verify/workload_exporter-opener.service"
cp "$opener_socket" "$scratch/verify/"
set +e
verify_output="$(cd "$scratch/verify" && systemd-analyze verify workload_exporter.service \
  workload_exporter-opener.service workload_exporter-opener.socket 2>&1)"
verify_rc=$?
set -e
echo "== systemd-analyze verify: exit $verify_rc"
[ -n "$verify_output" ] && echo "$verify_output"
# verify exits 0 on unknown keys and invalid values (it only warns), so any line that names our
# units is a failure too; lines about other units are the host's business.
if [ "$verify_rc" -ne 0 ]; then
  fail "systemd-analyze verify exited $verify_rc"
elif grep -q 'workload_exporter' <<<"$verify_output"; then
  fail "systemd-analyze verify warned about the units"
fi

# --- the daemon asks the opener; reload outside the sandbox -----------------------------------
grep -q '^ExecStart=.* --opener.socket=/run/workload_exporter/opener.sock' "$unit" ||
  fail "the daemon's ExecStart= does not name the opener's socket"
grep -q '^ListenSequentialPacket=/run/workload_exporter/opener.sock$' "$opener_socket" ||
  fail "the opener's socket is not /run/workload_exporter/opener.sock (SOCK_SEQPACKET)"
grep -q '^Wants=workload_exporter-opener.socket$' "$unit" || fail "the daemon's unit does not want the opener's socket"
# shellcheck disable=SC2016 # $MAINPID is systemd's, literal here
grep -q '^ExecReload=+/bin/kill -HUP \$MAINPID$' "$unit" || fail "ExecReload= is not '+' (outside the sandbox)"
grep -q '^CapabilityBoundingSet=$' "$opener_service" || fail "the opener keeps capabilities"

# --- security -------------------------------------------------------------------------------
# Prints the overall exposure of the unit file $1, and fails when it is above $max_exposure.
check_exposure() {
  local file="$1" label="$2" output score
  set +e
  output="$(systemd-analyze security --offline=true "$file" 2>&1)"
  set -e
  score="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' <<<"$output")"
  if [ -z "$score" ]; then
    echo "$output"
    fail "$label: no overall exposure level in systemd-analyze security's output"
    return
  fi
  echo "== exposure ($label): $score (limit $max_exposure)"
  if awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s > m) }'; then
    echo "$output"
    fail "$label: exposure $score is above $max_exposure"
  fi
}
check_exposure "$unit" "as shipped"
check_exposure "$opener_service" "opener"
mkdir -p "$scratch/libvirt"
sed 's/^Group=workload_exporter$/&\nSupplementaryGroups=libvirt/' "$unit" > "$scratch/libvirt/workload_exporter.service"
grep -q '^SupplementaryGroups=libvirt$' "$scratch/libvirt/workload_exporter.service" ||
  fail "could not add SupplementaryGroups=libvirt after Group= in the unit"
check_exposure "$scratch/libvirt/workload_exporter.service" "with SupplementaryGroups=libvirt"

# --- sysusers.d and tmpfiles.d, into a scratch root -------------------------------------------
if command -v systemd-sysusers >/dev/null 2>&1 && command -v systemd-tmpfiles >/dev/null 2>&1; then
  root="$scratch/root"
  mkdir -p "$root/etc"
  systemd-sysusers --root="$root" - < "$unit_dir/workload_exporter.sysusers" ||
    fail "systemd-sysusers rejected workload_exporter.sysusers"
  passwd_line="$(grep '^workload_exporter:' "$root/etc/passwd" || true)"
  echo "== sysusers: $passwd_line"
  [[ "$passwd_line" == *:/usr/sbin/nologin ]] || fail "workload_exporter is not a nologin user: '$passwd_line'"
  gid="$(awk -F: '$1 == "workload_exporter" { print $3 }' "$root/etc/group")"
  [ -n "$gid" ] || fail "no workload_exporter group"
  systemd-tmpfiles --root="$root" --create - < "$unit_dir/workload_exporter.tmpfiles" ||
    fail "systemd-tmpfiles rejected workload_exporter.tmpfiles"
  mode_owner="$(stat -c '%a %u:%g' "$root/etc/workload_exporter" 2>/dev/null || true)"
  echo "== tmpfiles: /etc/workload_exporter $mode_owner"
  [ "$mode_owner" = "750 0:$gid" ] || fail "/etc/workload_exporter is '$mode_owner', want '750 0:$gid'"
else
  echo "note: systemd-sysusers or systemd-tmpfiles missing; sysusers/tmpfiles files not checked"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "PASS"
