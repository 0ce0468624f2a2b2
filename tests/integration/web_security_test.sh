#!/usr/bin/env bash
# --web.config.file end to end: the real daemon with a web config in exporter-toolkit's format,
# a real CA, server and client certificates made here with openssl, a bcrypt hash from htpasswd,
# and curl as the client.
#
#   bash tests/integration/web_security_test.sh path/to/workload_exporter
#
# Checks, against TLS with client_auth_type RequireAndVerifyClientCert and basic auth:
#   right password 200; wrong password 401 with "WWW-Authenticate: Basic"; no password 401;
#   plain HTTP on the TLS port gets no 200 (a plain 400 saying why); no client certificate, or
#   one from another CA: the handshake fails; TLS 1.1 is refused (min_version TLS12);
#   SIGHUP with a broken web config: the error names the file, and the old config stays in
#   force; SIGHUP with a valid new one (another user): it takes effect without a restart;
#   --check-config fails on a broken web config.
#
# Exit 0 pass, 1 fail, 77 skipped (openssl, curl or htpasswd missing: apt-get install openssl
# curl apache2-utils). The daemon it starts is stopped by PID; its temporary directory is removed.
set -uo pipefail

binary=${1:-}
[[ -n $binary && -x $binary ]] || { echo "usage: $0 WORKLOAD_EXPORTER_BINARY" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)
for tool in openssl curl htpasswd ss; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

log() { printf '%s web_security: %s\n' "$(date +%T)" "$*"; }
work=$(mktemp -d)
daemon_pid=""
failures=0
cleanup() {
  if [[ -n $daemon_pid ]]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  if ((failures > 0)) && [[ -f $work/daemon.log ]]; then
    echo "---- daemon log ----"
    cat "$work/daemon.log"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { log "FAIL: $*"; failures=$((failures + 1)); }
check() {  # check WHAT EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then log "ok: $1 ($3)"; else fail "$1: expected $2, got $3"; fi
}
handshake_fails() {  # handshake_fails WHAT RESULT_OF_status
  if [[ $2 == failed* ]]; then log "ok: $1: the handshake fails ($2)"
  else fail "$1: expected a failed handshake, got $2"; fi
}
hup_and_wait_for_log() {  # hup_and_wait_for_log PATTERN: SIGHUP, then up to 5 s for daemon.log to match
  kill -HUP "$daemon_pid"
  for _ in $(seq 1 50); do
    grep -q "$1" daemon.log && break
    sleep 0.1
  done
}
# reload_keeps_old_config WAIT_FOR LOGGED OK FAILED AFTER: SIGHUP with a bad web.yml in place; the
# reload error must match "reload failed.*LOGGED" in daemon.log, and alice still gets in.
reload_keeps_old_config() {
  hup_and_wait_for_log "$1"
  if grep -q "reload failed.*$2" daemon.log; then log "ok: $3"; else fail "$4"; fi
  check "$5" 200 "$(status "${tls[@]}" -u 'alice:correct horse' "$url/metrics")"
}

# ------------------------------------------------------------------ certificates and a hash
cd "$work" || exit 1
gen_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
make_ca() {  # make_ca NAME
  gen_key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=$1" 2>/dev/null
}
make_cert() {  # make_cert NAME CA EXTENSIONS
  gen_key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" \
    -days 2 -extfile "$1.ext" 2>/dev/null
}
mkdir -p tls
(cd tls && make_ca ca && make_ca other_ca &&
  make_cert server ca "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth" &&
  make_cert client ca "extendedKeyUsage=clientAuth" &&
  make_cert intruder other_ca "extendedKeyUsage=clientAuth") || { echo "openssl failed"; exit 1; }
alice_hash=$(htpasswd -nbBC 10 alice 'correct horse' | cut -d: -f2-)
bob_hash=$(htpasswd -nbBC 10 bob 'battery staple' | cut -d: -f2-)
[[ $alice_hash == "\$2y\$10\$"* ]] || { echo "htpasswd gave no bcrypt hash: $alice_hash"; exit 1; }

# Relative paths: they resolve against the web config file's directory, as in exporter-toolkit.
write_web_config() {  # write_web_config USER HASH
  cat >web.yml <<EOF
tls_server_config:
  cert_file: tls/server.crt
  key_file: tls/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: tls/ca.crt
  min_version: TLS12
basic_auth_users:
  $1: $2
EOF
}
write_web_config alice "$alice_hash"

# ------------------------------------------------------------------------------ the daemon
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! ss -Hltn "sport = :$candidate" | grep -q .; then port=$candidate; break; fi
done
[[ -n $port ]] || { echo "no free port"; exit 1; }

# From another directory, so that a path resolved against the working directory would fail.
(cd / && exec "$binary" --web.listen-address="127.0.0.1:$port" --web.config.file="$work/web.yml" \
  --libvirt.uri= --sampling.interval=200ms --path.cgroupfs="$fixtures/cgroup/v2" \
  --path.procfs="$fixtures/proc" --path.rootfs="$fixtures/rootfs" >"$work/daemon.log" 2>&1) &
daemon_pid=$!

url=https://127.0.0.1:$port
tls=(--cacert tls/ca.crt --cert tls/client.crt --key tls/client.key)
status() {  # status CURL_ARGS... -> the HTTP status, or "failed(N)" when curl got none
  local code rc
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@")
  rc=$?
  if ((rc != 0)); then echo "failed($rc)"; else echo "$code"; fi
}
ready=""
for _ in $(seq 1 100); do
  if [[ $(status "${tls[@]}" -u 'alice:correct horse' "$url/-/ready") == 200 ]]; then ready=1; break; fi
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $ready ]] || { fail "the daemon never answered 200 on $url/-/ready"; exit 1; }
log "daemon $daemon_pid serving TLS on 127.0.0.1:$port"

check "right password" 200 "$(status "${tls[@]}" -u 'alice:correct horse' "$url/metrics")"
check "wrong password" 401 "$(status "${tls[@]}" -u 'alice:wrong' "$url/metrics")"
check "unknown user" 401 "$(status "${tls[@]}" -u 'mallory:correct horse' "$url/metrics")"
check "no password" 401 "$(status "${tls[@]}" "$url/metrics")"
challenge=$(curl -s -D - -o /dev/null --max-time 5 "${tls[@]}" "$url/metrics" | tr -d '\r' |
  grep -i '^www-authenticate:' | cut -d' ' -f2-)
check "401 carries WWW-Authenticate" "Basic" "$challenge"
body=$(curl -s --max-time 5 "${tls[@]}" -u 'alice:correct horse' "$url/metrics")
if grep -q '^workload_exporter_build_info' <<<"$body"; then log "ok: the scrape is the exposition"
else fail "the scrape over TLS is not the exposition: ${body:0:200}"; fi

plain=$(status -u 'alice:correct horse' "http://127.0.0.1:$port/metrics")
if [[ $plain != 200 ]]; then log "ok: plain HTTP on the TLS port is no scrape ($plain)"
else fail "plain HTTP on the TLS port answered 200"; fi
check "plain HTTP gets a plain 400" 400 "$plain"
no_cert=$(status --cacert tls/ca.crt -u 'alice:correct horse' "$url/metrics")
handshake_fails "no client certificate" "$no_cert"
intruder=$(status --cacert tls/ca.crt --cert tls/intruder.crt --key tls/intruder.key \
  -u 'alice:correct horse' "$url/metrics")
handshake_fails "a client certificate from another CA" "$intruder"
old_tls=$(status "${tls[@]}" --tlsv1.1 --tls-max 1.1 -u 'alice:correct horse' "$url/metrics")
handshake_fails "TLS 1.1 (min_version TLS12)" "$old_tls"

# ------------------------------------------------------------- SIGHUP: broken, then valid
cp web.yml web.yml.good
cat >web.yml <<EOF
tls_server_config:
  cert_file: tls/missing.crt
  key_file: tls/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: tls/ca.crt
basic_auth_users:
  alice: not-a-hash
  bob: $bob_hash
EOF
reload_keeps_old_config 'reload failed' "$work/web.yml:7:10: basic_auth_users.alice: not a bcrypt hash" \
  "the broken web config is logged with file:line:col" \
  "no reload error naming $work/web.yml:7:10: basic_auth_users.alice" \
  "after a broken reload, the old password"
check "after a broken reload, the new user is not in force" 401 "$(status "${tls[@]}" -u 'bob:battery staple' "$url/metrics")"
no_cert=$(status --cacert tls/ca.crt -u 'alice:correct horse' "$url/metrics")
handshake_fails "after a broken reload, no client certificate" "$no_cert"

# A missing certificate alone (valid YAML) also keeps the old config, naming the file it missed.
write_web_config alice "$alice_hash"
sed -i 's|tls/server.crt|tls/missing.crt|' web.yml
reload_keeps_old_config 'missing.crt' "web.yml: tls_server_config.cert_file: $work/tls/missing.crt: No such file" \
  "a missing certificate is logged with its path" \
  "no reload error naming $work/tls/missing.crt" \
  "after a missing certificate, still serving"

write_web_config bob "$bob_hash"
kill -HUP "$daemon_pid"
ok=""
for _ in $(seq 1 50); do
  if [[ $(status "${tls[@]}" -u 'bob:battery staple' "$url/metrics") == 200 ]]; then ok=1; break; fi
  sleep 0.1
done
if [[ -n $ok ]]; then log "ok: a valid web config takes effect on SIGHUP"
else fail "bob never got in after SIGHUP"; fi
check "the replaced user is out" 401 "$(status "${tls[@]}" -u 'alice:correct horse' "$url/metrics")"

# ----------------------------------------------------------------------------- --check-config
cp web.yml.good web.yml
"$binary" --web.config.file="$work/web.yml" --check-config >/dev/null 2>&1 ||
  fail "--check-config rejected a valid web config"
printf 'tls_server_config:\n  cert_fil: x\n' >bad.yml
out=$("$binary" --web.config.file="$work/bad.yml" --check-config 2>&1)
rc=$?
check "--check-config on a broken web config exits" 1 "$rc"
if grep -q "$work/bad.yml:2:3: tls_server_config.cert_fil: unknown key" <<<"$out"; then
  log "ok: --check-config names file:line:col"
else
  fail "--check-config said: $out"
fi

kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
daemon_pid=""
check "SIGTERM exit status" 0 "$rc"

if ((failures > 0)); then
  log "$failures check(s) failed"
  exit 1
fi
log "all checks passed"
