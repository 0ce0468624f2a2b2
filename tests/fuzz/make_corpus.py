#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, tests/fuzz/corpus/<target>/, from the real files
in tests/fixtures/ (cgroup trees, /proc, runtime state, configs) plus a few hand-written inputs
(HTTP requests, listen addresses, durations, Accept-Encoding values, `virsh domstats` records).

Run it again after the fixtures change: python3 tests/fuzz/make_corpus.py
It replaces every seed it wrote before and keeps the regression-* inputs that reproduce fixed bugs
(moved in from crashes/). The selector bytes must match the fuzz targets."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
CGROUP = os.path.join(FIX, "cgroup")
PROC = os.path.join(FIX, "proc")
OUT = os.path.join(HERE, "corpus")

corpora = {}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    corpora.setdefault(target, {})[name] = data


def read(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


# --- parse_fuzzer: selector byte (enum Parser in parse_fuzzer.cc), then the file ----------------
P = dict(u64=0, i64=1, max_or_u64=2, flat_keyed=3, cpu_max=4, pressure=5, io_stat=6, blkio=7,
         proc_cgroup=8, proc_pid_stat=9, boot_time=10, max_open_files=11, count_lines=12, split_trim=13,
         net_dev=14, tcp_listeners=15, fib_trie=16)

V2_DOCKER = os.path.join(CGROUP, "v2", "system.slice",
                         "docker-12754dcb42af7a926a92b57fa6ee94401d450d20c9dc5020c52c7afc2c27b5c7.scope")
V2_CRI = os.path.join(CGROUP, "v2", "kubepods.slice", "kubepods-burstable.slice",
                      "kubepods-burstable-pod6b1e9f8a_2c4d_4e5f_9a0b_1c2d3e4f5a6b.slice",
                      "cri-containerd-2c07aa3350607310948ec17d81eb35a9b7c4aef070f26564c5b32681f8dbdef9.scope")
V1_DOCKER = "docker/bc9a3a7c15553350a3ad4370be6df47dbec9e69628fe80c419727d3c1e6c2d6b"


def parse_seed(kind, label, path):
    seed("parse_fuzzer", f"{kind}-{label}", bytes([P[kind]]) + read(path))


for label, d in (("v2-docker", V2_DOCKER), ("v2-cri", V2_CRI)):
    parse_seed("u64", f"{label}-memory.current", os.path.join(d, "memory.current"))
    parse_seed("max_or_u64", f"{label}-memory.max", os.path.join(d, "memory.max"))
    parse_seed("cpu_max", f"{label}-cpu.max", os.path.join(d, "cpu.max"))
    for f in ("cpu.stat", "memory.stat", "memory.events"):
        parse_seed("flat_keyed", f"{label}-{f}", os.path.join(d, f))
    for f in ("cpu.pressure", "memory.pressure", "io.pressure"):
        parse_seed("pressure", f"{label}-{f}", os.path.join(d, f))
    parse_seed("io_stat", f"{label}-io.stat", os.path.join(d, "io.stat"))
    parse_seed("count_lines", f"{label}-cgroup.threads", os.path.join(d, "cgroup.threads"))
v1cpu = os.path.join(CGROUP, "v1", "cpu,cpuacct", V1_DOCKER)
v1mem = os.path.join(CGROUP, "v1", "memory", V1_DOCKER)
v1blkio = os.path.join(CGROUP, "v1", "blkio", V1_DOCKER)
parse_seed("i64", "v1-cpu.cfs_quota_us", os.path.join(v1cpu, "cpu.cfs_quota_us"))
parse_seed("u64", "v1-cpuacct.usage", os.path.join(v1cpu, "cpuacct.usage"))
for f in ("cpu.stat", "cpuacct.stat"):
    parse_seed("flat_keyed", f"v1-{f}", os.path.join(v1cpu, f))
for f in ("memory.stat", "memory.oom_control"):
    parse_seed("flat_keyed", f"v1-{f}", os.path.join(v1mem, f))
for f in ("blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"):
    parse_seed("blkio", f"v1-{f}", os.path.join(v1blkio, f))
parse_seed("count_lines", "v1-tasks", os.path.join(v1mem, "tasks"))
parse_seed("proc_cgroup", "qemu-cgroup", os.path.join(PROC, "21985", "cgroup"))
seed("parse_fuzzer", "proc_cgroup-hybrid",
     bytes([P["proc_cgroup"]]) + b"12:pids:/system.slice/ssh.service\n11:cpu,cpuacct:/system.slice/ssh.service\n"
     b"1:name=systemd:/system.slice/ssh.service\n0::/system.slice/ssh.service\n")
parse_seed("proc_pid_stat", "qemu-stat", os.path.join(PROC, "21985", "stat"))
parse_seed("proc_pid_stat", "init-stat", os.path.join(PROC, "1", "stat"))
parse_seed("proc_pid_stat", "vcpu-thread-stat", os.path.join(PROC, "21985", "task", "21987", "stat"))
parse_seed("boot_time", "proc-stat", os.path.join(PROC, "stat"))
seed("parse_fuzzer", "tcp_listeners-tcp",
     bytes([P["tcp_listeners"]]) +
     b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
     b"   0: 00000000:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 "
     b"0000000000000000 100 0 0 10 0\n"
     b"   1: 0100007F:1388 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000  1000        0 41240 1 "
     b"0000000000000000 20 4 30 10 -1\n")
seed("parse_fuzzer", "fib_trie-container",
     bytes([P["fib_trie"]]) +
     b"Main:\n  +-- 0.0.0.0/1 2 0 2\n     +-- 10.0.3.0/24 2 0 2\n        |-- 10.0.3.2\n"
     b"           /32 host LOCAL\n        |-- 10.0.3.255\n           /32 link BROADCAST\n"
     b"     +-- 127.0.0.0/8 2 0 2\n        |-- 127.0.0.1\n           /32 host LOCAL\n")
# /proc/self/limits as Linux 6.x prints it (there is no limits fixture).
seed("parse_fuzzer", "max_open_files-limits", bytes([P["max_open_files"]]) + (
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max stack size            8388608              unlimited            bytes     \n"
    "Max processes             96364                96364                processes \n"
    "Max open files            20000                20000                files     \n"
    "Max locked memory         8388608              8388608              bytes     \n").encode())
seed("parse_fuzzer", "split_trim-path",
     bytes([P["split_trim"]]) + b"/ /system.slice//docker-12754dcb42af.scope/ \n")
seed("parse_fuzzer", "split_trim-controllers", bytes([P["split_trim"]]) + b",cpu,cpuacct,,name=systemd")
parse_seed("net_dev", "proc-3502", os.path.join(os.path.dirname(CGROUP), "proc", "3502", "net", "dev"))

# --- cgroup_figures_fuzzer: "@@ <file>" records, v2 and v1 names as in cgroup_figures_fuzzer.cc --
V2_FILES = ["cpu.stat", "cpu.max", "memory.current", "memory.stat", "memory.swap.current", "memory.max",
            "memory.peak", "memory.events", "pids.current", "cpu.pressure", "memory.pressure",
            "io.pressure", "io.stat"]
# v1 file -> its name in the fuzz input
V1_FILES = {"cpuacct.usage": "cpuacct.usage", "cpuacct.usage_user": "cpuacct.usage_user",
            "cpuacct.usage_sys": "cpuacct.usage_sys", "cpuacct.stat": "cpuacct.stat", "cpu.stat": "v1/cpu.stat",
            "cpu.cfs_quota_us": "cpu.cfs_quota_us", "cpu.cfs_period_us": "cpu.cfs_period_us",
            "memory.usage_in_bytes": "memory.usage_in_bytes", "memory.stat": "v1/memory.stat",
            "memory.limit_in_bytes": "memory.limit_in_bytes",
            "memory.max_usage_in_bytes": "memory.max_usage_in_bytes",
            "memory.oom_control": "memory.oom_control", "pids.current": "v1/pids.current",
            "blkio.throttle.io_service_bytes": "blkio.throttle.io_service_bytes",
            "blkio.throttle.io_serviced": "blkio.throttle.io_serviced"}
V1_CONTROLLERS = ["cpu,cpuacct", "cpu", "cpuacct", "memory", "pids", "blkio"]


def records(pairs):
    out = b""
    for name, data in pairs:
        out += b"@@ " + name.encode() + b"\n" + data
        if data and not data.endswith(b"\n"):
            out += b"\n"
    return out


def v2_records(d):
    return [(f, read(d, f)) for f in V2_FILES if os.path.isfile(os.path.join(d, f))]


def v1_records(tree, rel):
    pairs, seen = [], set()
    for controller in V1_CONTROLLERS:
        d = os.path.join(CGROUP, tree, controller, rel)
        if not os.path.isdir(d):
            continue
        for f, name in V1_FILES.items():
            if name not in seen and os.path.isfile(os.path.join(d, f)):
                pairs.append((name, read(d, f)))
                seen.add(name)
    return pairs


v2_dirs = {
    "v2-docker": V2_DOCKER,
    "v2-cri-limited": V2_CRI,
    "v2-podman": os.path.join(CGROUP, "v2", "machine.slice",
                              "libpod-0a72863d4391b9826745c7c0bf32a46f0bf373be0726ae7d45d7ee16658a9f77.scope"),
    "v2-libvirt": os.path.join(CGROUP, "v2", "machine.slice", "machine-qemu\\x2d1\\x2dubuntu22.scope"),
    "v2-lxc": os.path.join(CGROUP, "v2", "lxc.payload.web01"),
    "v2-system-slice": os.path.join(CGROUP, "v2", "system.slice"),
}
for label, d in v2_dirs.items():
    seed("cgroup_figures_fuzzer", label, records(v2_records(d)))
for label, rel in (("v1-docker", V1_DOCKER),
                   ("v1-kubepods", "kubepods/burstable/pod3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/"
                                   "024643312553426608058397f965fc6735b06feb79bccd98dc5f37805f6d4434")):
    pairs = v1_records("v1", rel)
    threads = read(CGROUP, "v1", "memory", rel, "tasks").count(b"\n")
    pairs.append(("counted_threads", f"{threads}\n".encode()))
    seed("cgroup_figures_fuzzer", label, records(pairs))
for label, rel in (("hybrid-docker", "system.slice/docker-1d08b429cfcf1debc4cf4fc0a3a78e71591f4f5f8b2780e709aa63a2c6c07a6c.scope"),
                   ("hybrid-podman", "libpod_parent/libpod-8f290e7e3733887dae320f1feaf7725af30b6912d9fd6c9c998ca01b6b42d05b")):
    pairs = v2_records(os.path.join(CGROUP, "hybrid", "unified", rel)) + v1_records("hybrid", rel)
    seed("cgroup_figures_fuzzer", label, records(pairs))

# --- container_identity_fuzzer: every cgroup directory of the fixture trees ---------------------
paths = set()


def add_tree(base):
    for d, _, _ in os.walk(base):
        rel = os.path.relpath(d, base)
        paths.add("/" if rel == "." else "/" + rel)


add_tree(os.path.join(CGROUP, "v2"))
for tree in ("v1", "hybrid"):
    for controller in sorted(os.listdir(os.path.join(CGROUP, tree))):
        base = os.path.join(CGROUP, tree, controller)
        if not os.path.islink(base) and os.path.isdir(base):
            add_tree(base)
paths.add(read(PROC, "21985", "cgroup").decode().strip().split(":", 2)[2])
# Rules the fixture trees do not show: libvirt without systemd, cri-o, LXC's older layout.
paths.update(["/machine/qemu-2-fedora40.libvirt-qemu",
              "/machine.slice/crio-" + "ab" * 32 + ".scope",
              "/machine.slice/crio-conmon-" + "ab" * 32 + ".scope",
              "/lxc/web02", "/lxc.monitor.web01"])
for i, p in enumerate(sorted(paths)):
    seed("container_identity_fuzzer", f"path-{i:03d}", p)
# The platform hosts (issue #21), numbered apart so that the seeds above keep their names.
PLATFORMS = os.path.join(FIX, "platforms")
platform_paths = set()
for host in ("proxmox", "microvm"):
    for d, _, _ in os.walk(os.path.join(CGROUP, host)):
        platform_paths.add("/" + os.path.relpath(d, os.path.join(CGROUP, host)))
platform_paths.update(["/machine.slice/machine-qemu\\x2dalice\\x2d3\\x2dweb.scope",
                       "/machine.slice/machine-qemu\\x2dembed\\x2d0a1b2c3d\\x2d4\\x2ddb.scope",
                       "/firecracker-v1.7.0-x86_64/a1b2"])
for i, p in enumerate(sorted(platform_paths - paths)):
    seed("container_identity_fuzzer", f"platform-path-{i:03d}", p)

# --- qemu_process_fuzzer: 0 cmdline, 1 key byte + status/smaps_rollup, 2 comm ---------------------
seed("qemu_process_fuzzer", "cmdline-qemu", b"\x00" + read(PROC, "21985", "cmdline"))
seed("qemu_process_fuzzer", "cmdline-not-qemu", b"\x00" + read(PROC, "1", "cmdline"))
seed("qemu_process_fuzzer", "cmdline-libvirt",
     b"\x00/usr/bin/qemu-system-x86_64\x00-name\x00guest=web,,1,debug-threads=on\x00-S\x00"
     b"-uuid\x0011111111-2222-3333-4444-555555555555\x00-machine\x00pc-q35-7.2,usb=off\x00")
seed("qemu_process_fuzzer", "kb-smaps_rollup-Rss", b"\x01\x00" + read(PROC, "21985", "smaps_rollup"))
seed("qemu_process_fuzzer", "kb-status-VmRSS", b"\x01\x01" + read(PROC, "21985", "status"))
seed("qemu_process_fuzzer", "kb-status-VmHWM", b"\x01\x02" + read(PROC, "21985", "status"))
for tid in sorted(os.listdir(os.path.join(PROC, "21985", "task"))):
    seed("qemu_process_fuzzer", f"comm-{tid}", b"\x02" + read(PROC, "21985", "task", tid, "comm"))
# Proxmox's kvm, Firecracker and Cloud Hypervisor, from the platform hosts' /proc.
for host in ("proxmox", "microvm"):
    proc = os.path.join(PLATFORMS, host, "proc")
    for pid in sorted(p for p in os.listdir(proc) if p.isdigit()):
        seed("qemu_process_fuzzer", f"cmdline-{host}-{pid}", b"\x00" + read(proc, pid, "cmdline"))
        task = os.path.join(proc, pid, "task")
        for tid in sorted(os.listdir(task)) if os.path.isdir(task) else []:
            seed("qemu_process_fuzzer", f"comm-{host}-{tid}", b"\x02" + read(task, tid, "comm"))

# --- libvirt_collector_fuzzer: `virsh domstats` records ------------------------------------------
def devices(kind, *figures):
    """virsh domstats' lines for devices of one kind: KIND.count, then KIND.<i>.<key>=<value> for
    each device's figures, in order."""
    lines = [f"  {kind}.count={len(figures)}\n"]
    for i, device in enumerate(figures):
        lines += [f"  {kind}.{i}.{key}={value}\n" for key, value in device.items()]
    return "".join(lines)


seed("libvirt_collector_fuzzer", "domstats-web", """Domain: 'web'
  uuid=11111111-2222-3333-4444-555555555555
  state.state=1
  state.reason=1
  cpu.time=2500000000
  cpu.user=1500000000
  cpu.system=1000000000
  balloon.current=1048576
  balloon.maximum=2097152
  balloon.available=1000000
  balloon.unused=600000
  balloon.rss=300000
  balloon.last-update=1000
  vcpu.current=2
  vcpu.maximum=2
  vcpu.0.state=1
  vcpu.0.time=4000000000
  vcpu.0.delay=500000000
  vcpu.1.state=1
  vcpu.1.time=1000000000
""" + devices("block", {"name": "vda", "rd.bytes": 4096, "wr.bytes": 8192, "rd.reqs": 1, "wr.reqs": 2})
  + devices("net", {"name": "vnet0", "rx.bytes": 100, "tx.bytes": 200, "rx.pkts": 3, "tx.pkts": 4}))
seed("libvirt_collector_fuzzer", "domstats-shut-off", "Domain: 'bare'\n  state.state=5\n  state.reason=1\n")

# --- config_loader_fuzzer: the example config and the config fixtures ---------------------------
seed("config_loader_fuzzer", "workload_exporter.yml", read(ROOT, "config", "workload_exporter.yml"))
for f in sorted(os.listdir(os.path.join(FIX, "config"))):
    seed("config_loader_fuzzer", f, read(FIX, "config", f))

# --- duration_fuzzer, listen_address_fuzzer, accept_encoding_fuzzer ------------------------------
for i, d in enumerate(["0", "1s", "500ms", "1m30s", "1h", "2w3d", "1y", "1d12h30m15s250ms", "90s", "0s"]):
    seed("duration_fuzzer", f"duration-{i}", d)
for i, a in enumerate([":9746", "127.0.0.1:9746", "[::1]:9746", "[fe80::1%eth0]:9746", "localhost:9746",
                       "0.0.0.0:0", "[::ffff:192.0.2.1]:80", "node-1.example.com:65535"]):
    seed("listen_address_fuzzer", f"address-{i}", a)
for i, a in enumerate(["gzip", "gzip, deflate, br", "gzip;q=0", "*;q=0.5, identity;q=1",
                       "identity;q=0.9, gzip;q=0.8", "x-gzip", "deflate, *;q=0", "br;q=1.0, gzip;q=0.500, *;q=0.1"]):
    seed("accept_encoding_fuzzer", f"accept-encoding-{i}", a)

# --- http_request_fuzzer: what clients send --------------------------------------------------------
PROMETHEUS_SCRAPE = (
    "GET /metrics HTTP/1.1\r\nHost: 10.0.0.5:9746\r\nUser-Agent: Prometheus/2.45.0\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")
http = {
    "prometheus-scrape": PROMETHEUS_SCRAPE,
    "curl": "GET / HTTP/1.1\r\nHost: localhost:9746\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
    "head-http10": "HEAD /-/healthy HTTP/1.0\r\n\r\n",
    "absolute-form": "GET http://localhost:9746/metrics?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    "accept-encoding-twice": "GET /metrics HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br;q=1\r\n"
                             "Accept-Encoding: gzip;q=0.5, identity;q=0.4\r\n\r\n",
    "post-with-body": "POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 11\r\n\r\nhello world",
    "chunked-body": "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "body-too-large": "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n\r\n" + "x" * 1100,
    "pipelined": PROMETHEUS_SCRAPE + "GET /-/ready HTTP/1.1\r\nHost: h\r\n\r\n"
                 "GET /api/v1/workloads HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "no-host-http11": "GET /metrics HTTP/1.1\r\n\r\n",
    "header-too-large": "GET /metrics HTTP/1.1\r\nHost: h\r\nCookie: " + "a" * 8300 + "\r\n\r\n",
    "slowloris-unfinished": "GET /metrics HTTP/1.1\r\nHost: h\r\nX-a: b\r\n",
    "bare-lf": "GET /metrics HTTP/1.1\nHost: h\n\n",
}
for name, request in http.items():
    seed("http_request_fuzzer", name, request)

# --- runtime_metadata_fuzzer: 0 docker, 1 OCI, 2 podman, 3 Proxmox, then the state file -------
ROOTFS = os.path.join(FIX, "rootfs")
docker_dir = os.path.join(ROOTFS, "var", "lib", "docker", "containers")
for cid in sorted(os.listdir(docker_dir)):
    seed("runtime_metadata_fuzzer", f"docker-{cid[:12]}", b"\x00" + read(docker_dir, cid, "config.v2.json"))
oci_dir = os.path.join(ROOTFS, "run", "containerd", "io.containerd.runtime.v2.task", "k8s.io")
for cid in sorted(os.listdir(oci_dir)):
    seed("runtime_metadata_fuzzer", f"oci-{cid[:12]}", b"\x01" + read(oci_dir, cid, "config.json"))
seed("runtime_metadata_fuzzer", "podman-containers.json",
     b"\x02" + read(ROOTFS, "var", "lib", "containers", "storage", "overlay-containers", "containers.json"))
pve = os.path.join(FIX, "platforms", "proxmox", "rootfs", "etc", "pve")
for kind in ("qemu-server", "lxc"):
    for conf in sorted(os.listdir(os.path.join(pve, kind))):
        seed("runtime_metadata_fuzzer", f"pve-{kind}-{conf}", b"\x03" + read(pve, kind, conf))

# --- opener_request_fuzzer: what the daemon asks the opener, and what it must refuse -------------
CID = "6100a81c4235f3c3ed111d6f6f4c726b5e76f5c261204854d6d0e9b95b254edf"
for i, r in enumerate([
        "w/sys/fs/cgroup/system.slice/docker-" + CID + ".scope/memory.peak",
        "r/var/lib/docker/containers/" + CID + "/config.v2.json",
        "r/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + CID + "/config.json",
        "r/run/containers/storage/overlay-containers/" + CID + "/userdata/config.json",
        "r/var/lib/containers/storage/overlay-containers/containers.json",
        "r/host/var/lib/containers/storage/overlay-containers/" + CID + "/userdata/config.json",
        "w/sys/fs/cgroup/unified/a/memory.peak",
        "r/etc/shadow", "w/var/lib/docker/containers/" + CID + "/config.v2.json",
        "w/sys/fs/cgroup/a/../memory.peak", "w/sys/fs/cgroup//a/memory.peak", "wsys/fs/cgroup/memory.peak",
        "x/etc/passwd"]):
    seed("opener_request_fuzzer", f"request-{i}", r)


def main():
    for target, files in sorted(corpora.items()):
        d = os.path.join(OUT, target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            if not old.startswith("regression-"):
                os.remove(os.path.join(d, old))
        for name, data in files.items():
            with open(os.path.join(d, name.replace("/", "_")), "wb") as f:
                f.write(data)
        print(f"{target}: {len(files)} seeds", file=sys.stderr)


main()
