#!/usr/bin/env python3
"""A flood of wrong passwords against the real daemon with basic auth (issue #17), stdlib only.

    python3 tests/integration/password_flood_test.py path/to/workload_exporter

The daemon runs with a --web.config.file of one bcrypt user (cost 10, ~70 ms per check). A
Prometheus-style scraper (one keep-alive connection, the right password, Accept-Encoding: gzip)
scrapes /metrics every 100 ms throughout. In a separate process, FLOOD_CONNECTIONS connections
open connection after connection, each sending one request with a random password. Two floods,
SHORT_FLOOD and LONG_FLOOD seconds, with quiet spells between.

Checked, each against this run's own quiet measurements rather than wall-clock constants:
  * every scrape is a 200, and the scrapes' median latency during the floods stays within
    LATENCY_RATIO of the quiet median (plus one scheduler tick, for the 2-core box the flood's
    own process shares);
  * from 1 s to 2 s after each flood's end the daemon's CPU is back to its quiet level (within
    IDLE_MARGIN cores): no checks are left queued;
  * the daemon's RSS after the long flood is within RSS_MARGIN of the short one's: what a flood
    holds does not grow with its length.

Prints the figures (scrape latency quiet and during the floods, CPU after, RSS before and after,
the flood's request and 401/503 counts). Exit 0 pass, 1 fail. The daemon it starts is stopped
by PID.
"""

import base64
import multiprocessing
import os
import random
import selectors
import socket
import statistics
import string
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test_util"))
from exporter_client import (HOST, binary_from_argv, free_port, raise_fd_limit,  # noqa: E402
                             read_response, start_daemon, stop_daemon, verdict)

USER = "prometheus"
PASSWORD = "scrape-secret"
# htpasswd -nbBC 10 prometheus 'scrape-secret'
HASH = "$2y$10$Ahwp6Tpzyc3QpZ95BzqyuuW1ioKI5rFlC/7EypSow7AC0wteJDjW2"
FLOOD_CONNECTIONS = 64
SHORT_FLOOD = 3.0
LONG_FLOOD = 9.0
QUIET = 3.0
SCRAPE_EVERY = 0.1
MAX_FLOOD_REQUESTS = 500_000  # a bound on the flood whatever the machine's speed
LATENCY_RATIO = 5.0
IDLE_MARGIN = 0.15  # cores
RSS_MARGIN = 8 << 20  # bytes
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message):
    print(f"{time.strftime('%T')} password_flood: {message}", flush=True)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_over(pid, seconds):
    """The daemon's CPU in cores over the next `seconds`."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - started)


# ---------------------------------------------------------------------------------- the flood

def flood(port, connections, seconds, stats):
    """Keeps `connections` connections each sending one request with a random password, opening a
    new one as soon as the answer (or a close) comes. Its own process: never delays the scraper."""
    selector = selectors.DefaultSelector()
    sent = statuses_401 = statuses_503 = other = 0
    rng = random.Random(17)

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((HOST, port))
        selector.register(s, selectors.EVENT_WRITE, b"")

    for _ in range(connections):
        open_one()
    end = time.monotonic() + seconds
    while time.monotonic() < end and sent < MAX_FLOOD_REQUESTS:
        for key, events in selector.select(timeout=0.05):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                guess = "".join(rng.choice(string.ascii_letters) for _ in range(16))
                try:
                    s.send(f"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(USER, guess)}\r\n"
                           "Connection: close\r\n\r\n".encode())
                    sent += 1
                    selector.modify(s, selectors.EVENT_READ, b"")
                    continue
                except OSError:
                    pass
            else:
                try:
                    data = key.data + s.recv(4096)
                except OSError:
                    data = key.data
                if data and b"\r\n" not in data and len(data) < 64:
                    selector.modify(s, selectors.EVENT_READ, data)
                    continue
                if data.startswith(b"HTTP/1.1 401"):
                    statuses_401 += 1
                elif data.startswith(b"HTTP/1.1 503"):
                    statuses_503 += 1
                else:
                    other += 1
            selector.unregister(s)
            s.close()
            open_one()
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    stats.update(sent=sent, s401=statuses_401, s503=statuses_503, other=other)


# ---------------------------------------------------------------------------------- the scraper

class Scraper:
    """Prometheus' way: one keep-alive connection, reopened when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def scrape(self):
        request = (f"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(USER, PASSWORD)}\r\n"
                   "Accept-Encoding: gzip\r\n\r\n").encode()
        started = time.monotonic()
        for attempt in range(2):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection((HOST, self.port), timeout=5)
                self.sock.sendall(request)
                status, headers, _ = read_response(self.sock, started + 5)
                if headers.get("connection", "").lower() == "close":
                    self.close()
                return status, time.monotonic() - started
            except OSError:
                self.close()
                if attempt == 1:
                    return "error", time.monotonic() - started
        return "error", time.monotonic() - started

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def scrape_for(scraper, seconds, results):
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < end:
        results.append(scraper.scrape())
        next_at += SCRAPE_EVERY
        time.sleep(max(0, next_at - time.monotonic()))


def main():
    binary = binary_from_argv()
    if binary is None:
        return 1
    raise_fd_limit(4096)

    work = tempfile.mkdtemp(prefix="we-flood-")
    web_config = os.path.join(work, "web.yml")
    with open(web_config, "w") as f:
        f.write(f"basic_auth_users:\n  {USER}: '{HASH}'\n")
    port = free_port()
    daemon_log = open(os.path.join(work, "daemon.log"), "wb")
    daemon = start_daemon(binary, port, daemon_log, f"--web.config.file={web_config}")
    failures = []
    scraper = Scraper(port)
    try:
        deadline = time.monotonic() + 10
        while True:
            status, _ = scraper.scrape()
            if status == 200:
                break  # and the credentials are verified, so cached
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise SystemExit(f"the daemon never served a scrape (last: {status})")
            time.sleep(0.1)

        quiet = []
        scrape_for(scraper, QUIET, quiet)
        idle_cpu = cpu_over(daemon.pid, 1.0)
        rss_before = rss_bytes(daemon.pid)
        log(f"daemon {daemon.pid} on {HOST}:{port}: quiet CPU {idle_cpu:.3f} cores, RSS "
            f"{rss_before / 2**20:.1f} MiB")

        rss_after = {}
        during_all = []
        manager = multiprocessing.Manager()
        for name, seconds in (("short", SHORT_FLOOD), ("long", LONG_FLOOD)):
            stats = manager.dict()
            flooder = multiprocessing.Process(target=flood, args=(port, FLOOD_CONNECTIONS, seconds, stats),
                                              daemon=True)
            flooder.start()
            during = []
            scrape_for(scraper, seconds, during)
            flooder.join(seconds + 10)
            if flooder.is_alive():
                flooder.kill()
                failures.append(f"{name} flood: the flooding process did not end")
            time.sleep(1.0)  # the second after the flood's end
            after_cpu = cpu_over(daemon.pid, 1.0)
            rss_after[name] = rss_bytes(daemon.pid)
            during_all += during
            latencies = sorted(t for _, t in during)
            statuses = {}
            for s, _ in during:
                statuses[s] = statuses.get(s, 0) + 1
            log(f"{name} flood, {seconds:.0f} s of {FLOOD_CONNECTIONS} connections: {stats.get('sent')} wrong "
                f"passwords sent, {stats.get('s401')} answered 401, {stats.get('s503')} 503, "
                f"{stats.get('other')} other")
            log(f"  {len(during)} scrapes during it: {statuses}; latency median "
                f"{statistics.median(latencies) * 1000:.2f} ms, p99 "
                f"{latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000:.2f} ms, max "
                f"{latencies[-1] * 1000:.2f} ms")
            log(f"  CPU from 1 s to 2 s after its end: {after_cpu:.3f} cores; RSS {rss_after[name] / 2**20:.1f} MiB")
            if after_cpu > idle_cpu + IDLE_MARGIN:
                failures.append(f"{name} flood: {after_cpu:.3f} cores 1-2 s after its end "
                                f"(quiet: {idle_cpu:.3f})")
            if (stats.get("s401") or 0) == 0:
                failures.append(f"{name} flood: no wrong password was ever checked")

        quiet_latencies = sorted(t for _, t in quiet)
        flood_latencies = sorted(t for _, t in during_all)
        quiet_median = statistics.median(quiet_latencies)
        flood_median = statistics.median(flood_latencies)
        tick = 1.0 / CLK_TCK
        log(f"scrape latency: quiet median {quiet_median * 1000:.2f} ms (max {quiet_latencies[-1] * 1000:.2f}), "
            f"during the floods median {flood_median * 1000:.2f} ms (max {flood_latencies[-1] * 1000:.2f}): "
            f"ratio {flood_median / quiet_median:.1f}")
        log(f"RSS: {rss_before / 2**20:.1f} MiB before, {rss_after['short'] / 2**20:.1f} after "
            f"{SHORT_FLOOD:.0f} s, {rss_after['long'] / 2**20:.1f} after {LONG_FLOOD:.0f} s")
        bad = [s for s, _ in quiet + during_all if s != 200]
        if bad:
            failures.append(f"{len(bad)} scrape(s) not answered 200: {bad[:10]}")
        if flood_median > LATENCY_RATIO * quiet_median + tick:
            failures.append(f"scrapes during the floods took {flood_median * 1000:.2f} ms (median), "
                            f"quiet {quiet_median * 1000:.2f} ms")
        if rss_after["long"] > rss_after["short"] + RSS_MARGIN:
            failures.append(f"RSS grew with the flood's length: {rss_after['short']} after the short, "
                            f"{rss_after['long']} after the long")
        if daemon.poll() is not None:
            failures.append(f"the daemon exited with {daemon.returncode}")
    finally:
        scraper.close()
        stop_daemon(daemon, daemon_log, show_log=bool(failures))

    return verdict(failures, log)


if __name__ == "__main__":
    sys.exit(main())
