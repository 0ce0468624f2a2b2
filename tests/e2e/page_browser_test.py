#!/usr/bin/env python3
"""The page at / in a real headless browser (Debian's chromium), against the real daemon.

    python3 tests/e2e/page_browser_test.py path/to/workload_exporter ARTEFACT_DIR

The daemon runs on a copy of the fixture host (tests/fixtures/cgroup/v2, proc, rootfs), behind
TLS and basic auth from a web config made here (openssl, htpasswd). The copy's docker container
is renamed <script>alert(1)</script>"'é-web, and a thread moves its and the VM's CPU and memory
counters every quarter second so that the plots have something to draw. Then, for the default
table and for two URL selections, headless chromium loads the page with --dump-dom and the test
checks:
  * the page finished (body data-state="ready") with no error: no console message at level
    error or above in chromium's log, none caught by the page (script errors, rejected promises,
    CSP violations: body data-errors);
  * the comparison table and the per-workload figures equal what /metrics says (fetched before
    and after the browser, which must agree: the counters stop moving first);
  * the groups, means and counts equal `workload_exporter report --format json` with the same
    selection (the page implements the report's grammar in JavaScript);
  * the hostile name is text in the table, never an element;
  * the plots hold the series (an SVG path per workload with values).
A screenshot of the default page is kept as ARTEFACT_DIR/page.png.

Exit 0 pass, 1 fail, 77 skipped (chromium, openssl or htpasswd missing). The daemon is stopped
by its PID, chromium runs to completion per page; the temporary directory is removed.
"""

import base64
import html.parser
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures"))
HOSTILE = "<script>alert(1)</script>\"'\u00e9-web"
DOCKER_ID = "6100a81c4235f3c3ed111d6f6f4c726b5e76f5c261204854d6d0e9b95b254edf"
DOCKER_CG = f"system.slice/docker-{DOCKER_ID}.scope"
VM_CG = "machine.slice/machine-qemu\\x2d1\\x2dubuntu22.scope"
USER, PASSWORD = "alice", "page test"
START = time.monotonic()


def log(message):
    print(f"{time.monotonic() - START:6.1f}s page_browser: {message}", flush=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """The fixture host, copied so that a name and some counters can change."""

    def __init__(self, work):
        self.cgroup = os.path.join(work, "cgroup")
        self.rootfs = os.path.join(work, "rootfs")
        shutil.copytree(os.path.join(FIXTURES, "cgroup", "v2"), self.cgroup, symlinks=True)
        shutil.copytree(os.path.join(FIXTURES, "rootfs"), self.rootfs, symlinks=True)
        config = os.path.join(self.rootfs, "var/lib/docker/containers", DOCKER_ID, "config.v2.json")
        with open(config, encoding="utf-8") as f:
            text = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write(text.replace('"Name":"/web-1"', '"Name":' + json.dumps("/" + HOSTILE)))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.move, daemon=True)

    def write(self, cgroup, name, text):
        # In place, in one write: the daemon keeps cgroup files open, so a renamed new file
        # would never be read.
        fd = os.open(os.path.join(self.cgroup, cgroup, name), os.O_WRONLY)
        try:
            os.pwrite(fd, text.encode(), 0)
            os.ftruncate(fd, len(text))
        finally:
            os.close(fd)

    def move(self):
        usage = {DOCKER_CG: 612345678, VM_CG: 0}
        base = {}
        for cg in usage:
            with open(os.path.join(self.cgroup, cg, "cpu.stat")) as f:
                usage[cg] = int(re.search(r"usage_usec (\d+)", f.read()).group(1))
            with open(os.path.join(self.cgroup, cg, "memory.current")) as f:
                base[cg] = int(f.read())
        step = 0
        while not self.stop.wait(0.25):
            step += 1
            for k, cg in enumerate(usage):
                # A quarter of a core at rest, bursts of 1.5 cores every 8 s; memory a slow saw.
                busy = 1.5 if (step // 4 + 3 * k) % 8 == 0 else 0.25
                usage[cg] += int(busy * 250000)
                self.write(cg, "cpu.stat", f"usage_usec {usage[cg]}\nuser_usec {usage[cg] // 2}\n"
                           f"system_usec {usage[cg] // 2}\n")
                self.write(cg, "memory.current", f"{int(base[cg] * (0.7 + 0.02 * (step % 12)))}\n")


def web_config(work):
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    hashed = subprocess.run(["htpasswd", "-nbBC", "10", USER, PASSWORD], check=True, capture_output=True,
                            text=True).stdout.strip().split(":", 1)[1]
    path = os.path.join(work, "web.yml")
    with open(path, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
                f"basic_auth_users:\n  {USER}: '{hashed}'\n")
    return path


class Daemon:
    def __init__(self, binary, work, host, web, probe_port):
        self.port = free_port()
        # A ready probe for the VM, against a socket the test listens on (a TCP probe only
        # connects): the page's "where present" rows then have one workload with figures. Once a
        # probe has succeeded the next is an hour away, so the figures hold still while the page
        # and the report are read.
        config = os.path.join(work, "workload_exporter.yml")
        with open(config, "w") as f:
            f.write("probes:\n  - match: {kind: vm, name: ubuntu22}\n"
                    f"    tcp: \"127.0.0.1:{probe_port}\"\n    interval: 1h\n")
        self.base = f"https://127.0.0.1:{self.port}"
        self.log = open(os.path.join(work, "daemon.log"), "w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--web.config.file={web}", "--libvirt.uri=",
             "--sampling.interval=1s", f"--path.cgroupfs={host.cgroup}", f"--path.procfs={FIXTURES}/proc",
             f"--path.rootfs={host.rootfs}"], stdout=self.log, stderr=subprocess.STDOUT, cwd="/")
        self.tls = ssl.create_default_context()
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE
        self.auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def get(self, path, auth=True):
        request = urllib.request.Request(self.base + path, headers={"Authorization": self.auth} if auth else {})
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=5) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, ""

    def wait_ready(self):
        for _ in range(100):
            try:
                if self.get("/-/ready")[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def chromium(work, url, *extra):
    """Runs headless chromium on `url`; returns (stdout, the console lines of its log)."""
    command = ["chromium", "--headless", "--disable-gpu", "--no-sandbox", "--ignore-certificate-errors",
               f"--user-data-dir={work}/chromium", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--enable-logging=stderr", "--v=0",
               "--virtual-time-budget=8000", "--window-size=1400,1500", *extra, url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    return done.stdout, console


class Dom(html.parser.HTMLParser):
    """The parts of the dumped DOM the test reads."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.tables = []  # {"attrs", "rows": [[cell...]]}, cell = {"attrs", "text"}
        self.stack = []
        self.scripts = 0
        self.paths = []  # SVG path d attributes in the workloads table

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "script":
            self.scripts += 1
        elif tag == "table":
            self.tables.append({"attrs": attrs, "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]["rows"]:
            self.tables[-1]["rows"][-1].append({"attrs": attrs, "text": ""})
            self.stack.append(tag)
        elif tag == "path" and self.tables:
            self.paths.append((self.tables[-1]["attrs"].get("id"), attrs.get("d", "")))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.tables and self.tables[-1]["rows"] and self.tables[-1]["rows"][-1]:
            self.tables[-1]["rows"][-1][-1]["text"] += data


def parse_metrics(text):
    """workload figures of the longest window (1h) by (family, id), and each id's kind."""
    figures, kinds = {}, {}
    for line in text.splitlines():
        m = re.match(r'(workload_(?:memory|cpu)_(?:idle|peak)_(?:bytes|cores))\{(.*)\} (\S+)$', line)
        if m and 'window="1h"' in m.group(2):
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            figures[(m.group(1)[len("workload_"):], labels["id"])] = float(m.group(3))
            kinds[labels["id"]] = labels["kind"]
    return figures, kinds


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def check_page(dom, console, failures, what):
    if dom.body.get("data-state") != "ready":
        failures.append(f"{what}: the page did not finish (data-state={dom.body.get('data-state')!r})")
    if "data-errors" in dom.body:
        failures.append(f"{what}: the page caught errors: {dom.body['data-errors']}")
    # The page logs nothing itself: any console line (an error, a refused load, a CSP report,
    # whatever level chromium files it at) is a failure.
    if console:
        failures.append(f"{what}: console messages: {console}")
    if dom.scripts != 1:
        failures.append(f"{what}: {dom.scripts} script elements in the DOM, expected the page's one")


def comparison(dom):
    """group name -> figure key -> kind -> (mean or None, with_figure, workloads)."""
    groups = {}
    for t in dom.tables:
        if t["attrs"].get("class") != "cmp":
            continue
        g = groups.setdefault(t["attrs"].get("data-group", ""), {})
        for row in t["rows"]:
            for cell in row:
                a = cell["attrs"]
                if "data-kind" in a and "data-figure" in a:
                    counts = re.search(r"\((\d+)/(\d+)\)", cell["text"])
                    g.setdefault(a["data-figure"], {})[a["data-kind"]] = (
                        float(a["data-value"]) if "data-value" in a else None,
                        int(counts.group(1)) if counts else 0, int(counts.group(2)) if counts else 0)
    return groups


def workload_rows(dom):
    """id -> {"name", "kind", figure key -> value in the page's unit}."""
    rows = {}
    for t in dom.tables:
        if t["attrs"].get("id") != "workloads":
            continue
        for row in t["rows"][1:]:
            if len(row) < 3:
                continue
            r = {"kind": row[0]["text"], "name": row[2]["text"], "id": row[2]["attrs"].get("title")}
            for cell in row:
                if "data-figure" in cell["attrs"] and "data-value" in cell["attrs"]:
                    r[cell["attrs"]["data-figure"]] = float(cell["attrs"]["data-value"])
            rows[r["id"]] = r
    return rows


def report(binary, daemon, work, args):
    password = os.path.join(work, "password")
    with open(password, "w") as f:
        f.write(PASSWORD + "\n")
    out = subprocess.run([binary, "report", "--url", daemon.base, "--insecure", "--user", USER, "--password-file",
                          password, "--format", "json", *args], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"report {args}: exit {out.returncode}: {out.stderr}")
    return json.loads(out.stdout)


WHERE_PRESENT = ("listen_seconds", "ready_seconds", "probe_response_seconds")
SIZING_PREFIXES = ("vpa_", "krr_")


def compare_with_report(page_groups, rep, failures, what):
    names = sorted(g["group"] for g in rep["groups"])
    if sorted(page_groups) != names:
        failures.append(f"{what}: groups {sorted(page_groups)} on the page, {names} in the report")
        return
    for g in rep["groups"]:
        for key, per in g["figures"].items():
            # The sizing recommendations (VPA's, krr's) are the report's alone: the page does not
            # show them (README, "The page").
            if key.startswith(SIZING_PREFIXES):
                continue
            # The listen, first-response and response-time rows are shown, on the page as in the
            # report's tables, only where some selected workload has the figure.
            if key in WHERE_PRESENT and key not in page_groups[g["group"]]:
                if any(per[kind]["with_figure"] for kind in ("vm", "container")):
                    failures.append(f"{what}: group {g['group']!r} {key}: in the report, not on the page")
                continue
            for kind in ("vm", "container"):
                cell = per[kind]
                mean, n, of = page_groups[g["group"]].get(key, {}).get(kind, (None, 0, 0))
                if (cell["mean"] is None) != (mean is None) or (mean is not None and not close(mean, cell["mean"])) \
                        or (cell["workloads"] and (n, of) != (cell["with_figure"], cell["workloads"])):
                    failures.append(f"{what}: group {g['group']!r} {key} {kind}: page {mean} ({n}/{of}), report "
                                    f"{cell['mean']} ({cell['with_figure']}/{cell['workloads']})")


def main():
    if len(sys.argv) != 3 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} WORKLOAD_EXPORTER_BINARY ARTEFACT_DIR", file=sys.stderr)
        return 1
    binary, artefacts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("chromium", "openssl", "htpasswd"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not installed (scripts/install-deps.sh test)")
            return 77
    os.makedirs(artefacts, exist_ok=True)
    failures = []
    work = tempfile.mkdtemp(prefix="page_browser.")
    host = Host(work)
    probed = socket.socket()
    probed.bind(("127.0.0.1", 0))
    probed.listen(16)  # the kernel completes the probe's handshake; nothing needs to accept
    daemon = Daemon(binary, work, host, web_config(work), probed.getsockname()[1])
    try:
        if not daemon.wait_ready():
            failures.append("the daemon did not become ready")
            return 1
        # Behind the same auth: no credentials, no page and no JSON.
        for path in ("/", "/api/v1/workloads", "/api/v1/workloads/series"):
            status = daemon.get(path, auth=False)[0]
            if status != 401:
                failures.append(f"{path} without credentials: {status}, expected 401")
        daemon.get("/api/v1/workloads/series")  # someone looks: the snapshots keep series from now
        host.thread.start()
        time.sleep(12)  # a burst or two in the plots
        host.stop.set()
        host.thread.join()
        time.sleep(3.5)  # still counters for a few ticks: every figure settles

        page = f"https://{USER}:{urllib.parse.quote(PASSWORD)}@127.0.0.1:{daemon.port}/"
        cases = [("default", "", []),
                 ("selected and grouped", "select=name!~db|notebook&group_by=runtime",
                  ["--select", "name!~db|notebook", "--group-by", "runtime"]),
                 ("compare", "compare=vm:ubuntu22&compare=container:*-web",
                  ["--compare", "vm:ubuntu22", "container:*-web"])]
        for what, query, args in cases:
            before = daemon.get("/metrics")[1]
            dom_text, console = chromium(work, page + "?refresh=0" + ("&" + query if query else ""), "--dump-dom")
            after = daemon.get("/metrics")[1]
            dom = Dom()
            dom.feed(dom_text)
            check_page(dom, console, failures, what)
            page_groups = comparison(dom)
            compare_with_report(page_groups, report(binary, daemon, work, args), failures, what)
            log(f"{what}: {len(page_groups)} group(s), {len(workload_rows(dom))} workload row(s), "
                f"{len(console)} console line(s)")
            if what != "default":
                continue
            figures, kinds = parse_metrics(before)
            if parse_metrics(after) != (figures, kinds):
                failures.append("/metrics moved while the browser ran: the comparison would not hold")
            # The VM's ready probe: its rows are on the page, with /metrics' figures.
            ready = re.search(r'^workload_ready_seconds\{[^}]*name="ubuntu22"[^}]*\} (\S+)$', before, re.M)
            count = re.search(r'^workload_probe_duration_seconds_count\{[^}]*name="ubuntu22"[^}]*\} (\S+)$',
                              before, re.M)
            total = re.search(r'^workload_probe_duration_seconds_sum\{[^}]*name="ubuntu22"[^}]*\} (\S+)$',
                              before, re.M)
            shown = page_groups.get("", {})
            if not (ready and count and total):
                failures.append("/metrics has no ready probe figures for the VM")
            else:
                for key, want in (("ready_seconds", float(ready.group(1))),
                                  ("probe_response_seconds", 1000 * float(total.group(1)) / float(count.group(1)))):
                    got = shown.get(key, {}).get("vm", (None, 0, 0))[0]
                    if got is None or not close(got, want):
                        failures.append(f"the page's {key} for the VM: {got}, /metrics {want}")
                if "listen_seconds" in shown:
                    failures.append("the page shows listen_seconds, which no workload here has")
            rows = workload_rows(dom)
            # The test's VM and its (renamed) container, with /metrics' figures.
            vm = [r for r in rows.values() if r["kind"] == "vm" and r["name"] == "ubuntu22"]
            web = rows.get(DOCKER_ID)
            if not vm or web is None:
                failures.append(f"the VM and the container are not both in the table: {sorted(rows)}")
            if web is not None and web["name"] != HOSTILE:
                failures.append(f"the container's name reads {web['name']!r}, expected {HOSTILE!r}")
            if "<script>alert" in dom_text:
                failures.append("the hostile name became markup")
            for wid, r in rows.items():
                for key, scale in (("memory_idle_bytes", 1 / 1048576), ("memory_peak_bytes", 1 / 1048576),
                                   ("cpu_idle_cores", 1), ("cpu_peak_cores", 1)):
                    want = figures.get((key, wid))
                    got = r.get(key)
                    if (want is None) != (got is None) or (want is not None and not close(want * scale, got)):
                        failures.append(f"{r['name']!r} {key}: page {got}, /metrics {want} x {scale}")
            # The comparison table: per kind, the mean of /metrics' figures over that kind.
            for key, scale in (("memory_idle_bytes", 1 / 1048576), ("cpu_peak_cores", 1)):
                for kind in ("vm", "container"):
                    values = [v * scale for (k, wid), v in figures.items() if k == key and kinds[wid] == kind]
                    got = page_groups.get("", {}).get(key, {}).get(kind, (None,))[0]
                    if not values or got is None or not close(sum(values) / len(values), got):
                        failures.append(f"table {key} {kind}: page {got}, /metrics mean of {values}")
            if web is not None and web.get("cpu_peak_cores", 0) < 1.0:
                failures.append(f"the container's peak CPU {web.get('cpu_peak_cores')} missed its bursts")
            drawn = [d for table, d in dom.paths if table == "workloads" and d.count("L") >= 5]
            if len(drawn) < 2 * len(rows):
                failures.append(f"{len(drawn)} plots with values for {len(rows)} workloads (CPU and memory each)")
            shot = os.path.join(artefacts, "page.png")
            chromium(work, page + "?refresh=0", f"--screenshot={shot}")
            if not os.path.exists(shot) or os.path.getsize(shot) < 10000:
                failures.append(f"no screenshot at {shot}")
            else:
                log(f"screenshot: {shot}")
    finally:
        host.stop.set()
        daemon.stop()
        probed.close()
        if failures:
            with open(os.path.join(work, "daemon.log"), errors="replace") as f:
                print("---- daemon log (tail) ----\n" + f.read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        log(f"FAIL: {failure}")
    log("pass" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
