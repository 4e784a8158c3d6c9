#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

  bench.py freeport
      print a free TCP port on 127.0.0.1
  bench.py ready [--runs N] [--path P] -- BIN ARGS...
      N times: start `BIN ARGS... --listen 127.0.0.1:PORT`, time from exec to the first
      200 of GET P (tight loop of raw sockets, no fork per try), then SIGTERM it and
      time the exit. Prints `READY median_ms=... min_ms=... max_ms=... stop_median_ms=...
      exit_codes=...`.
  bench.py watch PORT --at S [--at S ...] [--epoch T]
      sample the kernel's per-socket counters (ss -ti) of the established client
      sockets to PORT at S seconds after start (or after the wall-clock instant T); prints `SOCKETS total=... served=...
      progressing=... min_bytes=... max_bytes=...`. served = sockets that had received
      any byte at the last sample; progressing = sockets whose bytes_received grew
      between the first and the last sample.
  bench.py conncheck PORT PATH [--conns 50] [--seconds 3] [--header 'K: V']
      open CONNS keep-alive connections at once, then on each send requests one after
      another for SECONDS; prints `CONNCHECK conns=... served=... min=... median=...
      max=... total=... non200=... errors=...`, served = connections with >= 1 answer.
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time


def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def health_status(port, path, timeout=1.0):
    """Status code of GET path on 127.0.0.1:port, or None if not connectable."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return None
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(256)
            if not chunk:
                break
            buf += chunk
        m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
        return int(m.group(1)) if m else 0
    except OSError:
        return 0
    finally:
        s.close()


def cmd_ready(a):
    if not a.cmd:
        sys.exit("bench.py ready: no command")
    times, stops, codes = [], [], []
    for i in range(a.runs):
        port = freeport()
        argv = a.cmd + ["--listen", "127.0.0.1:%d" % port]
        errf = open(os.path.join(a.errdir, "ready-%d.err" % i), "w+b")
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errf)
        ok = False
        deadline = t0 + a.timeout
        while time.perf_counter() < deadline:
            if health_status(port, a.path) == 200:
                ok = True
                break
            if p.poll() is not None:
                break
            time.sleep(0.0002)
        t1 = time.perf_counter()
        if not ok:
            p.kill()
            p.wait()
            errf.seek(0)
            sys.stderr.write(errf.read().decode(errors="replace")[-2000:])
            sys.exit("bench.py ready: run %d: no 200 from %s (exit code %s) after %.0f ms"
                     % (i, a.path, p.returncode, (t1 - t0) * 1e3))
        times.append((t1 - t0) * 1e3)
        s0 = time.perf_counter()
        p.send_signal(signal.SIGTERM)
        try:
            codes.append(p.wait(timeout=10))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            codes.append("killed")
        stops.append((time.perf_counter() - s0) * 1e3)
        errf.close()
    print("READY runs=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f stop_median_ms=%.1f exit_codes=%s"
          % (len(times), statistics.median(times), min(times), max(times),
             statistics.median(stops), ",".join(str(c) for c in codes)))
    print("READY all_ms=" + ",".join("%.1f" % t for t in times))


def ss_sample(port):
    out = subprocess.run(["ss", "-tinH", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    socks, cur = {}, None
    for line in out.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            toks = line.split()
            cur = toks[-2]  # local address:port of the client socket
            socks[cur] = 0
        elif cur is not None:
            m = re.search(r"\bbytes_received:(\d+)", line)
            socks[cur] = int(m.group(1)) if m else 0  # ss omits the field when it is 0
    return socks


def cmd_watch(a):
    # With --epoch the offsets count from that wall-clock instant (the caller's, taken just
    # before it started the load): on two busy cores this process may start seconds late.
    start = a.epoch if a.epoch is not None else time.time()
    samples = []
    for at in sorted(a.at):
        delay = start + at - time.time()
        if delay > 0:
            time.sleep(delay)
        samples.append(ss_sample(a.port))
    first, last = samples[0], samples[-1]
    served = sum(1 for b in last.values() if b > 0)
    progressing = sum(1 for k, b in last.items() if k in first and b > first[k])
    vals = sorted(last.values()) or [0]
    print("SOCKETS total=%d served=%d progressing=%d first_total=%d min_bytes=%d max_bytes=%d"
          % (len(last), served, progressing, len(first), vals[0], vals[-1]))


def cmd_conncheck(a):
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % a.path
    for h in a.header:
        req += h + "\r\n"
    req = (req + "\r\n").encode()
    counts = [0] * a.conns
    non200 = [0] * a.conns
    errors = [""] * a.conns
    barrier = threading.Barrier(a.conns + 1)
    box = {}

    def worker(i):
        try:
            s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            errors[i] = "connect: %s" % e
            barrier.wait()
            return
        barrier.wait()
        deadline = box["deadline"]
        buf = b""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                s.sendall(req)
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed by server after %d answers" % counts[i])
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if not m:
                    raise ConnectionError("answer without Content-Length")
                need = int(m.group(1))
                while len(buf) < need:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed mid-body")
                    buf += chunk
                buf = buf[need:]
                counts[i] += 1
                if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                    non200[i] += 1
        except socket.timeout:
            pass  # deadline reached while waiting: this connection got no (further) answer
        except OSError as e:
            errors[i] = str(e)
        finally:
            s.close()

    ts = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.conns)]
    for t in ts:
        t.start()
    box["deadline"] = time.monotonic() + a.seconds
    barrier.wait()
    for t in ts:
        t.join(a.seconds + 10)
    errs = [e for e in errors if e]
    print("CONNCHECK conns=%d served=%d min=%d median=%d max=%d total=%d non200=%d errors=%d%s"
          % (a.conns, sum(1 for c in counts if c > 0), min(counts), int(statistics.median(counts)),
             max(counts), sum(counts), sum(non200), len(errs),
             (" first_error=%r" % errs[0]) if errs else ""))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="sub", required=True)
    sub.add_parser("freeport")
    r = sub.add_parser("ready")
    r.add_argument("--runs", type=int, default=10)
    r.add_argument("--path", default="/__admin/health")
    r.add_argument("--timeout", type=float, default=10.0)
    r.add_argument("--errdir", default=os.environ.get("TMPDIR", "/tmp"))
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    w = sub.add_parser("watch")
    w.add_argument("port", type=int)
    w.add_argument("--at", type=float, action="append", required=True)
    w.add_argument("--epoch", type=float, default=None)
    c = sub.add_parser("conncheck")
    c.add_argument("port", type=int)
    c.add_argument("path")
    c.add_argument("--conns", type=int, default=50)
    c.add_argument("--seconds", type=float, default=3.0)
    c.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    if a.sub == "freeport":
        print(freeport())
    elif a.sub == "ready":
        if a.cmd and a.cmd[0] == "--":
            a.cmd = a.cmd[1:]
        cmd_ready(a)
    elif a.sub == "watch":
        cmd_watch(a)
    else:
        cmd_conncheck(a)


if __name__ == "__main__":
    main()
