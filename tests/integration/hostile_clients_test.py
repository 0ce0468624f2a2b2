#!/usr/bin/env python3
"""Hostile clients against the real daemon (issue #9), stdlib only.

    python3 tests/integration/hostile_clients_test.py path/to/workload_exporter

For ATTACK_SECONDS, a separate process keeps 500 slowloris connections open: each sends the
start of a request and then one header byte every second or so, and is reopened as soon as the
server closes it (read timeout or eviction at the connection cap). Meanwhile:

  * a normal client scrapes /metrics every 100 ms, each on a fresh connection (connect, request,
    whole body): every scrape must be a 200 and take under 100 ms;
  * malformed requests, each on its own connection, must get their status: a bad request line
    400, a huge header 431, a body 413, POST 405, an unknown path 404.

Afterwards the slow clients go away, and the daemon's open file descriptors (/proc/PID/fd)
must return to what they were before the attack. Prints the scrape latencies (median, p99,
max), the attack's connection count and reconnections, and the fd counts.

Exit 0 pass, 1 fail. The daemon it starts is stopped by PID.
"""

import multiprocessing
import os
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test_util"))
from exporter_client import (HOST, binary_from_argv, free_port, raise_fd_limit,  # noqa: E402
                             read_response, start_daemon, stop_daemon, verdict)

SLOW_CONNECTIONS = 500
ATTACK_SECONDS = 15
SCRAPE_EVERY = 0.1
SCRAPE_BUDGET = 0.100  # seconds, connect to last byte


def log(message):
    print(f"{time.strftime('%T')} hostile_clients: {message}", flush=True)


def request(port, raw, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns (status, seconds) of the response."""
    started = time.monotonic()
    deadline = started + timeout
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(raw)
        status, _, _ = read_response(sock, deadline)
    return status, time.monotonic() - started


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# ------------------------------------------------------------------------- the slow clients

def slowloris(port, count, seconds, stats):
    """Keeps `count` connections trickling a request header for `seconds`, reopening each one
    the server closes. Runs in its own process so that it never delays the scraper."""
    raise_fd_limit(count + 256)
    selector = selectors.DefaultSelector()
    opened = reopened = 0
    next_byte = {}

    def open_one():
        nonlocal opened
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((HOST, port))
        selector.register(s, selectors.EVENT_WRITE, "connecting")
        opened += 1

    for _ in range(count):
        open_one()
    end = time.monotonic() + seconds
    peak_open = 0
    while time.monotonic() < end:
        for key, events in selector.select(timeout=0.05):
            s = key.fileobj
            if key.data == "connecting":
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    selector.unregister(s)
                    s.close()
                    open_one()
                    reopened += 1
                    continue
                try:
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                except OSError:
                    pass
                selector.modify(s, selectors.EVENT_READ, "trickling")
                next_byte[s] = time.monotonic() + 1.0
            elif events & selectors.EVENT_READ:
                # The server closed it (or answered it): reopen, as an attacker would.
                try:
                    s.recv(4096)
                except OSError:
                    pass
                selector.unregister(s)
                next_byte.pop(s, None)
                s.close()
                open_one()
                reopened += 1
        now = time.monotonic()
        for s, when in list(next_byte.items()):
            if when <= now:
                try:
                    s.send(b"a")
                except OSError:
                    pass
                next_byte[s] = now + 1.0
        peak_open = max(peak_open, len(selector.get_map()))
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    stats["opened"] = opened
    stats["reopened"] = reopened
    stats["peak_open"] = peak_open


# -------------------------------------------------------------------------------- the test

MALFORMED = [
    ("bad request line", b"THIS IS NOT HTTP\r\n\r\n", 400),
    ("huge header", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 16384 + b"\r\n\r\n", 431),
    ("body", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + b"b" * 4096, 413),
    ("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    ("unknown path", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
]


def main():
    binary = binary_from_argv()
    if binary is None:
        return 1
    raise_fd_limit(4096)

    port = free_port()
    daemon_log = tempfile.NamedTemporaryFile(prefix="we-hostile-", suffix=".log", delete=False)
    daemon = start_daemon(binary, port, daemon_log)
    failures = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if request(port, b"GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n", 1.0)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SystemExit("the daemon never became ready")
            time.sleep(0.05)
        request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")  # first render, cached
        time.sleep(0.5)
        baseline = fd_count(daemon.pid)
        log(f"daemon {daemon.pid} on {HOST}:{port}, {baseline} open fds before the attack")

        manager = multiprocessing.Manager()
        stats = manager.dict()
        attacker = multiprocessing.Process(
            target=slowloris, args=(port, SLOW_CONNECTIONS, ATTACK_SECONDS, stats), daemon=True)
        attacker.start()
        time.sleep(1.0)  # let the slow connections pile up first

        malformed_results = []

        def send_malformed():
            for _ in range(3):
                for name, raw, want in MALFORMED:
                    try:
                        got, _ = request(port, raw)
                    except OSError as e:
                        got = f"error: {e}"
                    malformed_results.append((name, want, got))
                time.sleep(2)

        malformed = threading.Thread(target=send_malformed)
        malformed.start()

        latencies = []
        statuses = {}
        peak_fds = 0
        scrape_end = time.monotonic() + ATTACK_SECONDS - 2
        next_scrape = time.monotonic()
        while time.monotonic() < scrape_end:
            try:
                status, took = request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 2.0)
            except OSError as e:
                status, took = f"error: {e}", 2.0
            latencies.append(took)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200 or took >= SCRAPE_BUDGET:
                failures.append(f"scrape {len(latencies)}: {status} in {took * 1000:.1f} ms")
            peak_fds = max(peak_fds, fd_count(daemon.pid))
            next_scrape += SCRAPE_EVERY
            time.sleep(max(0, next_scrape - time.monotonic()))
        malformed.join()
        attacker.join(ATTACK_SECONDS + 10)

        ordered = sorted(latencies)
        log(f"{len(latencies)} scrapes under attack: statuses {statuses}; latency median "
            f"{statistics.median(ordered) * 1000:.2f} ms, p99 "
            f"{ordered[int(len(ordered) * 0.99) - 1] * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms")
        log(f"slow clients: {stats.get('opened')} connections opened, {stats.get('reopened')} "
            f"reopened after the server closed them, at most {stats.get('peak_open')} open at once")
        for name, want, got in malformed_results:
            if got != want:
                failures.append(f"{name}: expected {want}, got {got}")
        log(f"malformed requests: {sum(1 for _, w, g in malformed_results if w == g)} of "
            f"{len(malformed_results)} got their status (400, 431, 413, 405, 404)")
        if len(latencies) < (ATTACK_SECONDS - 3) / SCRAPE_EVERY * 0.8:
            failures.append(f"only {len(latencies)} scrapes happened")
        if stats.get("peak_open", 0) < SLOW_CONNECTIONS * 0.9:
            failures.append(f"the attack held only {stats.get('peak_open')} connections open")

        # The slow clients are gone: every connection of theirs must be released.
        after_deadline = time.monotonic() + 10
        while fd_count(daemon.pid) > baseline and time.monotonic() < after_deadline:
            time.sleep(0.05)
        after = fd_count(daemon.pid)
        log(f"open fds: {baseline} before, at most {peak_fds} during, {after} after")
        if after > baseline:
            failures.append(f"open fds did not return to {baseline}: {after}")
        status, took = request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        if status != 200:
            failures.append(f"after the attack: {status}")
        if daemon.poll() is not None:
            failures.append(f"the daemon exited with {daemon.returncode}")
    finally:
        stop_daemon(daemon, daemon_log, show_log=bool(failures))
        os.unlink(daemon_log.name)

    return verdict(failures, log, most=40)


if __name__ == "__main__":
    sys.exit(main())
