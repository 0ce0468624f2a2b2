#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the daemon need ("run"), or those plus what the
# tests use ("test": promtool, QEMU, libvirtd, busybox for the test guest, systemd-analyze,
# clang for the sanitizer and fuzz runs).
# Idempotent: packages already present are skipped by apt, and apt-get update runs
# only when something is missing.
set -euo pipefail

mode=${1:-test}
packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev  # Asio, Beast and JSON (Debian 12's default libboost-dev is 1.74, without JSON)
  prometheus-cpp-dev           # core: Registry, Collectable, TextSerializer
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev
  zlib1g-dev                   # gzip for /metrics
  libisal-dev                  # ISA-L igzip: the gzip /metrics body, 5x faster than zlib
  libvirt-dev                  # VMs' guest-side figures
  libssl-dev                   # TLS for --web.config.file
  libcrypt-dev                 # libxcrypt's crypt_r: bcrypt basic auth
  curl procps ccache
  file                         # CPack's dependency scan of the Debian package (dpkg-shlibdeps)
)
if [ "$mode" = test ]; then
  packages+=(
    libgtest-dev libgmock-dev
    libbenchmark-dev
    prometheus                   # promtool, and the server for end-to-end tests
    systemd                      # systemd-analyze, for the unit file checks (not run as PID 1)
    qemu-system-x86 libvirt-daemon-driver-qemu libvirt-clients busybox-static  # real VMs
    runc                         # a real OCI container
    podman                       # builds packaging/Dockerfile (tests/rigs/v2_host_test.sh)
    debootstrap e2fsprogs        # the pure cgroup v2 host guest (tests/rigs/build_v2_host.sh)
    jq                           # the end-to-end test reads dashboards and API answers
    libvirt-daemon               # libvirtd, for the real-VM test
    lintian shellcheck python3-yaml  # the Debian package test; shell and YAML lint
    openssl apache2-utils        # certificates and a bcrypt hash (htpasswd) for the web security test
    clang libclang-rt-14-dev     # the ASan/UBSan unit suite and the libFuzzer targets (sanitize.sh)
    clang-format-14              # tests/format_test.sh: the C++ files as .clang-format says
    chromium                     # headless, for the page at / (tests/e2e/page_browser_test.py)
  )
fi

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
