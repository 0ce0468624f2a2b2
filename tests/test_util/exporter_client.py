"""What the Python integration tests share to run the real daemon and speak HTTP/1.1 to it,
stdlib only: a free port, one response read off a socket, the daemon started on the checked-in
fixtures and stopped by PID, its log's tail on failure, the verdict.

A test script imports it from beside itself, whatever the working directory:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test_util"))
    import exporter_client
"""

import os
import resource
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_response(sock, deadline):
    """Reads one HTTP/1.1 response (Content-Length body) before `deadline` (time.monotonic());
    returns (status, headers with lower-case names, body) or raises."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} bytes of header")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(body)} of {length} body bytes")
        body += chunk
    return status, headers, body


def binary_from_argv():
    """The daemon binary named by the script's one argument, or None after printing the usage."""
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} WORKLOAD_EXPORTER_BINARY", file=sys.stderr)
        return None
    return sys.argv[1]


def raise_fd_limit(wanted):
    """Raises this process's soft RLIMIT_NOFILE to `wanted` (at most the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, wanted)), hard))


def start_daemon(binary, port, log_file, *extra_flags):
    """Starts the daemon on HOST:port over the checked-in fixtures, without libvirt, sampling
    every second; its stdout and stderr go to the open file `log_file`."""
    return subprocess.Popen(
        [binary, f"--web.listen-address={HOST}:{port}", *extra_flags, "--libvirt.uri=",
         "--sampling.interval=1s", f"--path.cgroupfs={FIXTURES}/cgroup/v2",
         f"--path.procfs={FIXTURES}/proc", f"--path.rootfs={FIXTURES}/rootfs"],
        stdout=log_file, stderr=subprocess.STDOUT)


def stop_daemon(daemon, log_file, show_log):
    """SIGTERM to the daemon's PID, SIGKILL if it has not exited 5 s later; then closes its
    `log_file` and, when `show_log`, prints the log's tail."""
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    log_file.close()
    if show_log:
        with open(log_file.name, errors="replace") as f:
            print("---- daemon log (tail) ----\n" + f.read()[-4000:])


def verdict(failures, log, most=None):
    """Logs the failures (the first `most` of them) and their count, or "pass"; the exit status."""
    for failure in failures[:most]:
        log(f"FAIL: {failure}")
    if failures:
        log(f"{len(failures)} failure(s)")
        return 1
    log("pass")
    return 0
