"""The small HTTP application scripts/compare.sh runs once in a runc container and once in a VM.

Usage: python3 compare_app.py [--bind ADDR] [--port PORT]   (defaults 0.0.0.0:8080)

Endpoints (GET; every answer is one text line, 200 unless the query is bad):
  /health                   "ok": what the daemon's ready probe and compare.sh's own poll ask
  /cpu?n=N                  a fixed amount of work: N steps of an integer recurrence (the same
                            work wherever it runs, so a slower machine answers later); answers
                            the handler's own elapsed milliseconds
  /cpu?ms=N                 a busy loop for N wall milliseconds instead (same time, not same work)
  /mem?mb=N[&hold_ms=M]     allocates N MiB and writes every byte (so the pages are resident),
                            holds it M ms (default 200), then frees it
Standard library only (it runs from the guest's initramfs); no request logging, so that a guest
under TCG does not spend its time on the serial console.
"""

import argparse
import http.server
import time
import urllib.parse

MIB = 1 << 20
MAX_MB = 512
MAX_N = 100_000_000
MAX_MS = 60_000


def work(n):
    """n steps of a linear congruential recurrence: pure interpreter work, no allocation."""
    x = 1
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return x


def busy(ms):
    end = time.monotonic() + ms / 1000.0
    x = 1
    while time.monotonic() < end:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return x


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "we-compare-app/1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)

        def number(key, default, limit):
            try:
                value = int(query.get(key, [default])[0])
            except ValueError:
                return None
            return value if 0 <= value <= limit else None

        start = time.monotonic()
        if url.path == "/health":
            self.answer(200, "ok")
        elif url.path == "/cpu" and "ms" in query:
            ms = number("ms", 0, MAX_MS)
            if ms is None:
                self.answer(400, "ms: 0..%d" % MAX_MS)
                return
            busy(ms)
            self.answer(200, "cpu ms=%d elapsed_ms=%.1f" % (ms, (time.monotonic() - start) * 1000))
        elif url.path == "/cpu":
            n = number("n", 100_000, MAX_N)
            if n is None:
                self.answer(400, "n: 0..%d" % MAX_N)
                return
            work(n)
            self.answer(200, "cpu n=%d elapsed_ms=%.1f" % (n, (time.monotonic() - start) * 1000))
        elif url.path == "/mem":
            mb, hold = number("mb", 16, MAX_MB), number("hold_ms", 200, MAX_MS)
            if mb is None or hold is None:
                self.answer(400, "mb: 0..%d, hold_ms: 0..%d" % (MAX_MB, MAX_MS))
                return
            block = b"\x01" * (mb * MIB)  # written, not calloc'ed: every page is touched
            time.sleep(hold / 1000.0)
            held = len(block)
            del block
            self.answer(200, "mem mb=%d held_bytes=%d elapsed_ms=%.1f" % (mb, held, (time.monotonic() - start) * 1000))
        else:
            self.answer(404, "not found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    server.daemon_threads = True
    print("we-compare-app listening on %s:%d" % (args.bind, args.port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
