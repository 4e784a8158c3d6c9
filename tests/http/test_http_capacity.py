#!/usr/bin/env python3
"""Capacity: idle, slow and many keep-alive connections do not starve other clients.

Starts the real binary with its default connection settings, then
  1. holds 200 idle connections (connected, nothing sent) and 50 slowloris connections (a
     request head sent one header line every 300 ms, never finished) and requires that fresh
     clients are answered within 1 s each while they are held;
  2. runs 200, then 500 concurrent keep-alive clients (each sends a request, reads the answer
     and sends the next one on the same connection, reconnecting when the server closes it
     after an answer, as wrk does) and requires that every client gets answers and that no
     connection ends with a request unanswered.
Traffic goes to 127.0.0.1 only; the whole test is bounded (about 40 s at most).
"""
import argparse
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time

READY = re.compile(r"understudy ready on http://([\d.]+):(\d+)")
REQUEST = b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def start(emulator, extra):
    proc = subprocess.Popen([emulator, "--listen", "127.0.0.1:0", "--log", "off"] + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline()
        m = READY.search(line or "")
        if m:
            return proc, int(m.group(2))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    sys.exit("server did not start: " + proc.stderr.read())


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("server did not stop within 30 s of SIGTERM")
    if proc.returncode != 0 or "Sanitizer" in err:
        sys.exit("server exit %s: %s" % (proc.returncode, err[-2000:]))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def fresh_request(port, timeout):
    """One request on a new connection; returns (status, seconds)."""
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    return (int(m.group(1)) if m else 0), time.time() - t0


def held_connections(port):
    failures = []
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
    slow = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    stop_drip = threading.Event()

    def drip():
        n = 0
        while not stop_drip.wait(0.3):
            for s in slow:
                try:
                    s.sendall(b"X-Slow-%d: y\r\n" % n)
                except OSError:
                    pass
            n += 1

    t = threading.Thread(target=drip)
    t.start()
    try:
        time.sleep(0.05)  # right after the flood: the worst moment
        for i in range(5):
            try:
                status, took = fresh_request(port, 5)
            except OSError as e:
                failures.append("fresh client %d: %s" % (i, e))
                continue
            print("  fresh client %d: %d in %.3f s" % (i, status, took))
            if status != 200 or took > 1.0:
                failures.append("fresh client %d: status %d after %.2f s (want 200 within 1 s)"
                                % (i, status, took))
            time.sleep(0.3)
    finally:
        stop_drip.set()
        t.join()
        for s in idle + slow:
            s.close()
    return failures


class Client:
    def __init__(self, index):
        self.index = index
        self.sock = None
        self.buf = b""
        self.answers = 0
        self.reconnects = 0
        self.waiting = False  # a request is out and unanswered
        self.on_this_conn = 0  # answers on the current connection
        self.retries = 0


def answer_end(buf):
    """Length of the first complete answer in buf, or 0."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return 0
    m = re.search(rb"\r\ncontent-length: *(\d+)", buf[:head_end].lower())
    length = int(m.group(1)) if m else 0
    total = head_end + 4 + length
    return total if len(buf) >= total else 0


def keep_alive_clients(port, n, rounds, limit_s):
    """n keep-alive clients each get `rounds` answers; returns a list of failures."""
    sel = selectors.DefaultSelector()
    clients = [Client(i) for i in range(n)]
    failures = []

    def connect(c):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        c.sock, c.buf, c.waiting, c.on_this_conn = s, b"", False, 0
        sel.register(s, selectors.EVENT_WRITE, c)

    for c in clients:
        connect(c)
    deadline = time.time() + limit_s
    done = 0
    while done < n and time.time() < deadline:
        for key, events in sel.select(timeout=0.5):
            c = key.data
            if events & selectors.EVENT_WRITE and not c.waiting:
                try:
                    c.sock.send(REQUEST)  # small enough for one send
                except OSError as e:
                    failures.append("client %d: send failed: %s" % (c.index, e))
                    sel.unregister(c.sock)
                    c.sock.close()
                    done += 1
                    continue
                c.waiting = True
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                chunk = None
                err = str(e)
            else:
                err = "closed"
            if chunk:
                c.buf += chunk
                end = answer_end(c.buf)
                if end:
                    head = c.buf[:end].lower()
                    if not c.buf.startswith(b"HTTP/1.1 200 "):
                        failures.append("client %d: %r" % (c.index, c.buf[:60]))
                    c.answers += 1
                    c.on_this_conn += 1
                    c.waiting = False
                    c.buf = c.buf[end:]
                    closing = b"\r\nconnection: close" in head
                    if c.answers == rounds:
                        sel.unregister(c.sock)
                        c.sock.close()
                        done += 1
                    elif closing:  # the server closes it: reconnect, as wrk does
                        sel.unregister(c.sock)
                        c.sock.close()
                        c.reconnects += 1
                        connect(c)
                    else:
                        sel.modify(c.sock, selectors.EVENT_WRITE, c)
                continue
            # While workers are scarce the server ends connections that have waited 500 ms for
            # a request; one whose request was still on its way (this client loop can lag that
            # long on a loaded machine) sees it close with nothing of the answer. HTTP lets a
            # client send an idempotent request again on a new connection then (RFC 9112
            # 9.3.1), as curl and browsers do; each client may do so at most `rounds` times.
            if not c.buf and c.retries < rounds:
                sel.unregister(c.sock)
                c.sock.close()
                c.retries += 1
                connect(c)
                continue
            # The connection ended with a request out: that request got no answer.
            failures.append("client %d: connection ended (%s) with a request unanswered after "
                            "%d answers" % (c.index, err, c.answers))
            sel.unregister(c.sock)
            c.sock.close()
            done += 1
    for c in clients:
        if c.answers < rounds and c.sock is not None and c.sock.fileno() >= 0:
            failures.append("client %d: only %d of %d answers within %d s"
                            % (c.index, c.answers, rounds, limit_s))
            c.sock.close()
    sel.close()
    reconnects = sum(c.reconnects for c in clients)
    print("  %d keep-alive clients: %d answers, %d reconnects after Connection: close, %d requests"
          " sent again after an idle connection was ended"
          % (n, sum(c.answers for c in clients), reconnects, sum(c.retries for c in clients)))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures")
    ap.add_argument("--args", default="", help="extra server flags")
    a = ap.parse_args()
    extra = (["--fixtures", a.fixtures] if a.fixtures else []) + a.args.split()
    proc, port = start(a.emulator, extra)
    failures = []
    try:
        print("idle RSS: %d kB" % rss_kb(proc.pid))
        print("1. 200 idle + 50 slowloris connections held, fresh clients:")
        failures += held_connections(port)
        print("2. concurrent keep-alive clients:")
        for n in (200, 500):
            failures += keep_alive_clients(port, n, rounds=3, limit_s=15)
        print("RSS after: %d kB" % rss_kb(proc.pid))
    finally:
        stop(proc)
    for f in failures[:30]:
        print("FAIL", f)
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
