"""The client side of scripts/compare.sh: waits for the app, drives its load, reads processes and
the daemon's /metrics, checks the report, and prints the measured figures. Standard library only.

  ready URL --since EPOCH [--timeout S]     poll URL every 50 ms until it answers 200; prints the
                                            seconds from EPOCH (when compare.sh started the
                                            workload) to that first answer
  free-ports N                              N free loopback TCP ports, one a line
  proc PID...                               per PID: CPU seconds (all threads), VmRSS, VmHWM
  load URL --seconds D --rate R ...         a fixed schedule of requests (below) to URL; JSON out
  metrics URL NAME...                       the daemon's ready/listen/probe series of each workload
  check REPORT_JSON                         every row of the report has a figure for both kinds
  summary STATE_DIR                         the measured figures, VM and container side by side

The load: for D seconds, R requests a second, issued on a fixed clock (request i at i/R s) by at
most C at a time, cycling through /cpu?n=N, /cpu?n=N, /mem?mb=M&hold_ms=H. The same schedule goes
to each target; a target too slow to keep up is sent the rest late (the phase then runs longer,
and says so), never fewer requests.
"""

import argparse
import json
import math
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def get(url, timeout):
    """(status, body, seconds) of one GET; status None on a connection failure."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            return r.status, body, time.monotonic() - start
    except urllib.error.HTTPError as e:
        return e.code, b"", time.monotonic() - start
    except (OSError, ValueError):
        return None, b"", time.monotonic() - start


def cmd_ready(a):
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        status, _, _ = get(a.url, 1.0)
        if status == 200:
            print("%.3f" % (time.time() - a.since))
            return 0
        time.sleep(0.05)
    print("%s: no 200 within %.0f s" % (a.url, a.timeout), file=sys.stderr)
    return 1


def cmd_free_ports(a):
    socks = []
    for _ in range(a.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    for s in socks:
        print(s.getsockname()[1])
        s.close()
    return 0


def proc_figures(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, fields 14 and 15
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                mem[key] = int(value.split()[0]) * 1024
    return {"cpu_seconds": cpu, "rss_bytes": mem.get("VmRSS"), "hwm_bytes": mem.get("VmHWM"), "time": time.time()}


def cmd_proc(a):
    print(json.dumps({str(pid): proc_figures(pid) for pid in a.pids}))
    return 0


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def cmd_load(a):
    paths = ["/cpu?n=%d" % a.cpu_n, "/cpu?n=%d" % a.cpu_n, "/mem?mb=%d&hold_ms=%d" % (a.mem_mb, a.hold_ms)]
    total = max(1, int(round(a.seconds * a.rate)))
    lock = threading.Lock()
    results = []
    next_index = [0]
    start = time.monotonic()

    def worker():
        while True:
            with lock:
                i = next_index[0]
                if i >= total:
                    return
                next_index[0] += 1
            due = start + i / a.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            path = paths[i % len(paths)]
            late = max(0.0, time.monotonic() - due)
            status, _, seconds = get(a.url + path, a.timeout)
            with lock:
                results.append({"path": path.split("?")[0], "status": status, "seconds": seconds, "late": late})

    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    out = {"url": a.url, "requests": total, "wall_seconds": wall, "planned_seconds": a.seconds,
           "rate": a.rate, "concurrency": a.concurrency, "paths": paths, "by_path": {}}
    for key in ("/cpu", "/mem", "all"):
        rs = [r for r in results if key == "all" or r["path"] == key]
        ok = [r["seconds"] for r in rs if r["status"] == 200]
        out["by_path"][key] = {
            "sent": len(rs), "ok": len(ok),
            "mean_ms": 1000 * sum(ok) / len(ok) if ok else None,
            "p50_ms": 1000 * percentile(ok, 0.5) if ok else None,
            "p95_ms": 1000 * percentile(ok, 0.95) if ok else None,
            "max_ms": 1000 * max(ok) if ok else None,
            "max_late_s": max((r["late"] for r in rs), default=0.0),
        }
    json.dump(out, sys.stdout)
    print()
    failed = total - out["by_path"]["all"]["ok"]
    if failed:
        print("load %s: %d of %d requests failed" % (a.url, failed, total), file=sys.stderr)
    return 0 if failed == 0 else 1


def parse_metrics(text):
    """[(name, {label: value}, value)] of a text exposition (enough for the daemon's own)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, labels = head, {}
        if "{" in head:
            name, rest = head.split("{", 1)
            rest = rest.rsplit("}", 1)[0]
            i = 0
            while i < len(rest):
                eq = rest.index("=", i)
                key = rest[i:eq].strip(", ")
                j = eq + 2
                val = []
                while rest[j] != '"':
                    if rest[j] == "\\":
                        j += 1
                        val.append({"n": "\n"}.get(rest[j], rest[j]))
                    else:
                        val.append(rest[j])
                    j += 1
                labels[key] = "".join(val)
                i = j + 1
        try:
            out.append((name, labels, float(value)))
        except ValueError:
            pass
    return out


def cmd_metrics(a):
    status, body, _ = get(a.url + "/metrics", 10)
    if status != 200:
        print("%s/metrics: HTTP %s" % (a.url, status), file=sys.stderr)
        return 1
    series = parse_metrics(body.decode())
    out = {}
    for name in a.names:
        mine = [(n, v) for n, l, v in series if l.get("name") == name and "le" not in l]
        got = {n: v for n, v in mine if n in (
            "workload_ready_seconds", "workload_listen_seconds", "workload_startup_seconds",
            "workload_probe_success", "workload_probe_duration_seconds_sum", "workload_probe_duration_seconds_count",
            "workload_start_time_seconds")}
        kinds = {l.get("kind") for n, l, v in series if l.get("name") == name and n == "workload_info"}
        got["kind"] = ",".join(sorted(k for k in kinds if k))
        out[name] = got
    print(json.dumps(out))
    return 0


# A figure the report's source can never have for a workload is not the workload's fault: the
# check names those cells instead of failing on them. Today that is one: a VM's listening sockets
# are its guest's, so it has no "Startup to listening" (the report says so with this phrase,
# tools/report_model.cc). Every other missing figure (no probe, too young, too few samples for
# krr, a daemon too old to send a field) fails the check.
SOURCE_LIMITS = ("which the host cannot see",)


def cmd_check(a):
    with open(a.report) as f:
        report = json.load(f)
    groups = report.get("groups") or []
    if len(groups) != 1:
        print("check: expected one --compare group, the report has %d" % len(groups))
        return 1
    figures = groups[0]["figures"]
    failed, limited = [], []
    for key, row in figures.items():
        cells = {kind: row.get(kind) or {} for kind in ("vm", "container")}
        missing = [k for k, c in cells.items() if c.get("mean") is None]
        if not missing:
            print("  ok      %-28s vm %-12s container %s" % (key, fmt(cells["vm"]["mean"]), fmt(cells["container"]["mean"])))
            continue
        reasons = sorted({why for k in missing for why in (cells[k].get("missing") or {"(no reason given)": 1})})
        for k in missing:
            if cells[k].get("workloads", 0) == 0:
                reasons.append("no %s workload in the group" % k)
        if all(any(s in why for s in SOURCE_LIMITS) for why in reasons):
            limited.append(key)
            present = [k for k in cells if k not in missing]
            shown = "".join(" %s %s" % (k, fmt(cells[k]["mean"])) for k in present)
            print("  n/a     %-28s%s; %s: %s" % (key, shown, " and ".join(missing), "; ".join(reasons)))
        else:
            failed.append(key)
            print("  MISSING %-28s %s: %s" % (key, " and ".join(missing), "; ".join(reasons)))
    print("check: %d rows, %d with both figures, %d a side cannot have (named above), %d missing" %
          (len(figures), len(figures) - len(failed) - len(limited), len(limited), len(failed)))
    return 1 if failed else 0


def fmt(v, unit=""):
    if v is None:
        return "-"
    return ("%.0f" if abs(v) >= 100 else "%.2f" if abs(v) >= 1 else "%.3f") % v + unit


def cmd_summary(a):
    def load(name):
        with open(os.path.join(a.state, name)) as f:
            return json.load(f)

    st = load("state.json")
    rows = []
    sides = ("vm", "container")

    def row(label, f):
        rows.append([label] + [f(k) for k in sides])

    def procs(phase, k):
        return load("proc_%s.json" % phase)[str(st[k]["pid"])]

    def rate(k, a_phase, b_phase):
        p, q = procs(a_phase, k), procs(b_phase, k)
        return (q["cpu_seconds"] - p["cpu_seconds"]) / (q["time"] - p["time"])

    mib = 1 << 20
    metrics = load("metrics.json")
    row("Started (UTC)", lambda k: time.strftime("%H:%M:%S", time.gmtime(st[k]["started"])))
    row("First 200 from /health, from start (s)", lambda k: fmt(st[k]["ready_measured"]))
    row("Daemon: workload_ready_seconds (s)", lambda k: fmt(metrics[st[k]["name"]].get("workload_ready_seconds")))
    row("Daemon: workload_listen_seconds (s)", lambda k: fmt(metrics[st[k]["name"]].get("workload_listen_seconds")))
    row("Daemon: workload_startup_seconds (s)", lambda k: fmt(metrics[st[k]["name"]].get("workload_startup_seconds")))

    def probe_mean(k):
        m = metrics[st[k]["name"]]
        n = m.get("workload_probe_duration_seconds_count")
        return fmt(1000 * m["workload_probe_duration_seconds_sum"] / n) if n else "-"

    row("Daemon: probe response, mean (ms)", probe_mean)
    row("Daemon: probes answered", lambda k: "%d" % metrics[st[k]["name"]].get("workload_probe_duration_seconds_count", 0))
    row("Process RSS at end of idle (MiB)", lambda k: fmt(procs("idle_end", k)["rss_bytes"] / mib))
    row("Process RSS high-water mark (MiB)", lambda k: fmt(procs("end", k)["hwm_bytes"] / mib))
    row("Process CPU at idle (cores)", lambda k: fmt(rate(k, "idle_start", "idle_end")))
    row("Process CPU under its load (cores)", lambda k: fmt(rate(k, "load_%s_start" % k, "load_%s_end" % k)))
    for key, label in (("/cpu", "/cpu"), ("/mem", "/mem")):
        for stat in ("mean_ms", "p50_ms", "p95_ms"):
            row("Response %s %s (ms)" % (label, stat.split("_")[0]),
                lambda k, key=key, stat=stat: fmt(load("load_%s.json" % k)["by_path"][key][stat]))
    row("Requests ok / sent", lambda k: "%d / %d" % (load("load_%s.json" % k)["by_path"]["all"]["ok"],
                                                 load("load_%s.json" % k)["by_path"]["all"]["sent"]))
    row("Load phase wall (s; planned %s)" % fmt(load("load_vm.json")["planned_seconds"]),
        lambda k: fmt(load("load_%s.json" % k)["wall_seconds"]))

    rows.insert(0, ["Measured", "VM (QEMU/TCG)", "Container (runc)"])
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(width[i]) for i, c in enumerate(r)).rstrip())
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("ready")
    s.add_argument("url")
    s.add_argument("--since", type=float, required=True)
    s.add_argument("--timeout", type=float, default=120)
    s = sub.add_parser("free-ports")
    s.add_argument("n", type=int)
    s = sub.add_parser("proc")
    s.add_argument("pids", type=int, nargs="+")
    s = sub.add_parser("load")
    s.add_argument("url")
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--rate", type=float, default=4)
    s.add_argument("--concurrency", type=int, default=4)
    s.add_argument("--cpu-n", type=int, default=40000)
    s.add_argument("--mem-mb", type=int, default=32)
    s.add_argument("--hold-ms", type=int, default=250)
    s.add_argument("--timeout", type=float, default=30)
    s = sub.add_parser("metrics")
    s.add_argument("url")
    s.add_argument("names", nargs="+")
    s = sub.add_parser("check")
    s.add_argument("report")
    s = sub.add_parser("summary")
    s.add_argument("state")
    a = p.parse_args()
    return {"ready": cmd_ready, "free-ports": cmd_free_ports, "proc": cmd_proc, "load": cmd_load,
            "metrics": cmd_metrics, "check": cmd_check, "summary": cmd_summary}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
