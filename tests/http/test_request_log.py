#!/usr/bin/env python3
"""The request log, end to end: written by a background writer, never waited for by a request.

Starts the real binary and
  1. (text, then JSON) sends requests on a few keep-alive connections and stops the server with
     SIGTERM at once: every request has its line, whole and in the log's format, although the
     writer flushes only every 100 ms (the stop writes what is left);
  2. keeps the server's stdout unread (a full pipe, as a stuck terminal would be) while one
     client sends many requests: every request is still answered, the lines that found no room
     are dropped, and after the stop a last line says how many, so that the lines shown plus
     the lines dropped are the requests sent.
Traffic goes to 127.0.0.1 only; bounded (about 20 s at most).
"""
import argparse
import fcntl
import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time

READY = re.compile(r"understudy ready on http://([\d.]+):(\d+)")
KEY = {"X-API-Key": "gua_demo0002_key"}
TEXT_LINE = re.compile(r"^\S+Z demo guayaba GET /contacts/statuses 200 \d+us -$")
DROPPED = re.compile(r"^\S+Z request log: (\d+) lines dropped$")
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def start(emulator, extra, log, pipe_size=None):
    proc = subprocess.Popen([emulator, "--listen", "127.0.0.1:0", "--log", log] + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if pipe_size:
        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, pipe_size)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline().decode()
        m = READY.search(line)
        if m:
            return proc, int(m.group(2))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    sys.exit("server did not start: " + proc.stderr.read().decode())


def get_many(port, n, out):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(n):
        conn.request("GET", "/contacts/statuses", headers=KEY)
        resp = conn.getresponse()
        resp.read()
        out.append(resp.status)
    conn.close()


def stop(proc):
    """SIGTERM, then the rest of stdout as lines; a sanitizer report counts as a failure."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    err = err.decode(errors="replace")
    check("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report " + err[-800:])
    check(proc.returncode == 0, "exit code 0 after SIGTERM (%s)" % proc.returncode)
    return out.decode(errors="replace").splitlines()


def every_line_at_stop(emulator, extra, log):
    print("-- --log %s: %d requests, SIGTERM at once" % (log, 4 * 50))
    proc, port = start(emulator, extra, log)
    statuses = []
    threads = [threading.Thread(target=get_many, args=(port, 50, statuses)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = stop(proc)
    check(statuses == [200] * 200, "200 answers")
    if log == "text":
        good = [line for line in lines if TEXT_LINE.match(line)]
    else:
        good = []
        for line in lines:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("path") == "/contacts/statuses" and doc.get("status") == 200 and \
                    list(doc) == ["time", "tenant", "vendor", "method", "path", "status",
                                  "duration_us", "scenario"]:
                good.append(line)
    check(len(good) == 200 and len(lines) == 200,
          "one whole line a request, written at the stop: %d good of %d" % (len(good), len(lines)))


def unread_stdout(emulator, extra):
    sent = 1200
    print("-- stdout nobody reads: %d requests on one connection" % sent)
    proc, port = start(emulator, extra, "text", pipe_size=4096)
    statuses = []
    t = threading.Thread(target=get_many, args=(port, sent, statuses))
    t.start()
    t.join(timeout=60)
    check(not t.is_alive() and statuses == [200] * sent,
          "every request answered while the log cannot be written (%d)" % len(statuses))
    lines = stop(proc)  # reads stdout from here on
    shown = [line for line in lines if TEXT_LINE.match(line)]
    last = DROPPED.match(lines[-1]) if lines else None
    check(last is not None and int(last.group(1)) > 0,
          "a last line tells the lines dropped: %r" % (lines[-1:] or None))
    if last is not None:
        check(len(shown) + int(last.group(1)) == sent,
              "lines shown (%d) + dropped (%s) = requests" % (len(shown), last.group(1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures")
    a = ap.parse_args()
    extra = ["--fixtures", a.fixtures] if a.fixtures else []
    every_line_at_stop(a.emulator, extra, "text")
    every_line_at_stop(a.emulator, extra, "json")
    unread_stdout(a.emulator, extra)
    if FAILURES:
        print("%d failures" % len(FAILURES))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
