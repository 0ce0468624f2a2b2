#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the daemon need.
# Idempotent: packages already present are skipped by apt, and apt-get update runs
# only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev                 # Asio and Beast (header-only)
  prometheus-cpp-dev           # core: Registry, Collectable, TextSerializer
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev
  zlib1g-dev                   # gzip for /metrics
  libgtest-dev libgmock-dev
  libbenchmark-dev
  prometheus                   # promtool, and the server for end-to-end tests
  curl procps
  systemd                      # systemd-analyze, for the unit file checks (not run as PID 1)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
