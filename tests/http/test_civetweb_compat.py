#!/usr/bin/env python3
"""One check per trick in emulator/net/civetweb_compat.c, through the real server.

  find_socket + compat_reset  a scenario "fault: reset" resets only the requesting connection,
                              even when another client uses the same port from another address
  compat_close_after          an answer that closes its connection really closes it
  compat_linger_close         a refused body: the client reads the whole answer (no RST first),
                              and the connection ends within the linger time, not the timeout
  compat_error_has_request    an error civetweb raises before parsing the request line is not
                              rendered with the previous request's path
  compat_head_error           whitespace before a colon and folded lines are refused; empty
                              values and LF-only heads are not
  compat_evict_idle           with few workers, idle connections do not keep a fresh client
                              waiting, and a connection busy with a long request is not ended
  compat_end_idle_reads and   SIGTERM with an idle keep-alive connection open: exit 0 within a
  the listener waker          second
  compat_listen_ipv6          --listen [::1]:0 serves requests (skipped without IPv6 loopback)
Traffic goes to 127.0.0.0/8 and ::1 only; every read has a timeout.
"""
import argparse
import json
import re
import socket
import threading
import time

from emulator_process import Emulator, check, finish

GUA = b"X-API-Key: gua_demo0002_key\r\n"



def read_all(s, limit_s):
    """Reads until the peer closes; returns (bytes, "closed" | "reset" | "timeout")."""
    s.settimeout(limit_s)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return out, "closed"
            out += b
    except ConnectionResetError:
        return out, "reset"
    except socket.timeout:
        return out, "timeout"


def read_answer(s, limit_s=3):
    """Reads one answer with a Content-Length body; returns its bytes (b"" on failure)."""
    s.settimeout(limit_s)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                return buf
            buf += b
        head, _, body = buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        need = int(m.group(1)) if m else 0
        while len(body) < need:
            b = s.recv(65536)
            if not b:
                break
            body += b
        return head + b"\r\n\r\n" + body
    except (socket.timeout, ConnectionResetError):
        return buf


def put_scenario(server, name, rules):
    body = json.dumps({"rules": rules}).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=3)
    s.sendall(b"PUT /__admin/scenarios/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (name.encode(), len(body))
              + body)
    raw, _ = read_all(s, 3)
    s.close()
    return raw.startswith(b"HTTP/1.1 200 ")


def reset_only_the_requester(server):
    print("-- find_socket + compat_reset")
    ok = put_scenario(server, "rst", [{"match": {"vendor": "guayaba", "path": "/contacts/statuses"},
                                       "respond": {"fault": "reset"}}])
    check(ok, "scenario set")
    time.sleep(0.3)  # the scenario's connection is closed on both sides: no descriptor gap
    # An innocent client first (so its socket, with the lower descriptor, is found first by a
    # port-only search), then the requester on the same port from another loopback address.
    innocent = socket.socket()
    innocent.bind(("127.0.0.1", 0))
    port = innocent.getsockname()[1]
    innocent.connect(("127.0.0.1", server.port))
    innocent.sendall(b"GET /contacts?limit=1 HTTP/1.1\r\nHost: x\r\n" + GUA + b"\r\n")
    first = read_answer(innocent)
    requester = socket.socket()
    requester.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        requester.bind(("127.0.0.2", port))
    except OSError as e:
        print("skip: cannot bind 127.0.0.2:%d (%s)" % (port, e))
        innocent.close()
        requester.close()
        return
    requester.connect(("127.0.0.1", server.port))
    requester.sendall(b"GET /contacts/statuses HTTP/1.1\r\nHost: x\r\n" + GUA + b"\r\n")
    raw, how = read_all(requester, 3)
    check(how == "reset" and raw == b"", "the requester gets an RST: %s %r" % (how, raw[:30]))
    try:
        innocent.sendall(b"GET /contacts?limit=1 HTTP/1.1\r\nHost: x\r\n" + GUA + b"\r\n")
        second = read_answer(innocent)
    except OSError as e:
        second = repr(e).encode()
    check(first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 200 "),
          "the client on the same port from another address keeps its connection: %r"
          % second[:20])
    innocent.close()
    requester.close()


def close_after(server):
    print("-- compat_close_after")
    s = socket.create_connection(("127.0.0.1", server.port), timeout=3)
    s.sendall(b"GET /contacts/statuses?x=%00 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n"
              + GUA + b"\r\n")
    raw, how = read_all(s, 3)
    s.close()
    check(raw.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in raw and how == "closed",
          "a refused request's connection is closed after the answer: %s" % how)


def linger_close(server):
    print("-- compat_linger_close")
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    t0 = time.time()
    s.sendall(b"POST /contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + GUA
              + b"Content-Length: %d\r\n\r\n" % len(body))
    sender = threading.Thread(target=lambda: _send_quietly(s, body))
    sender.start()
    raw, how = read_all(s, 5)
    sender.join()
    s.close()
    check(raw.startswith(b"HTTP/1.1 413 ") and raw.endswith(b"}") and how in ("closed", "reset")
          and time.time() - t0 < 4, "413 read whole while the body was still being sent (%s, "
          "%.2f s)" % (how, time.time() - t0))
    # A client that declares a large body and then sends nothing: the connection ends within
    # the linger time, not civetweb's request timeout.
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    t0 = time.time()
    s.sendall(b"POST /contacts HTTP/1.1\r\nHost: x\r\n" + GUA + b"Content-Length: 99999999\r\n\r\n")
    raw, how = read_all(s, 5)
    took = time.time() - t0
    s.close()
    check(raw.startswith(b"HTTP/1.1 413 ") and how == "closed" and took < 2.0,
          "declared too large, nothing sent: closed after %.2f s" % took)


def _send_quietly(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass  # the server stopped reading, as it may


def error_has_request(server):
    print("-- compat_error_has_request")
    s = socket.create_connection(("127.0.0.1", server.port), timeout=3)
    s.sendall(b"GET /api/v2/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wm_demo_unlimited\r\n\r\n")
    first = read_answer(s)
    s.sendall(b"\x01\x02\x03 not http\r\n\r\n")
    raw, _ = read_all(s, 3)
    s.close()
    check(first.startswith(b"HTTP/1.1 200 ") and raw.startswith(b"HTTP/1.1 400 ")
          and b"/api/v2/contacts" not in raw and b'"success"' not in raw,
          "a malformed request after a RASL one is not answered as RASL's: %r" % raw[-80:])


def head_error(server):
    print("-- compat_head_error")
    # (/contacts/statuses answers with a reset on this server: see reset_only_the_requester)
    cases = [
        (b"GET /contacts?limit=1 HTTP/1.1\r\nHost: x\r\n" + GUA +
         b"Transfer-Encoding : chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", 400,
         "whitespace before a colon"),
        (b"GET /contacts?limit=1 HTTP/1.1\r\nHost: x\r\n" + GUA +
         b"X-A: 1\r\n  folded\r\nConnection: close\r\n\r\n", 400, "a folded line"),
        (b"GET /contacts?limit=1 HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Spaces:   \r\n" + GUA +
         b"Connection: close\r\nX-Last:\r\n\r\n", 200, "empty values"),
        (b"GET /contacts?limit=1 HTTP/1.1\nHost: x\nX-API-Key: gua_demo0002_key\n"
         b"Connection: close\n\n", 200, "an LF-only head"),
        (b"POST /api/v2/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wm_demo_unlimited\r\n"
         b"Content-Type: application/json\r\nContent-Length: 3\r\nConnection: close\r\n\r\n {}",
         422, "a body starting with a space"),
    ]
    for data, want, what in cases:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=3)
        s.sendall(data)
        raw, _ = read_all(s, 3)
        s.close()
        check(raw.startswith(b"HTTP/1.1 %d " % want), "%s: %r" % (what, raw[:30]))


def evict_idle(emulator, extra):
    print("-- compat_evict_idle (4 workers)")
    server = Emulator(emulator, extra + ["--threads", "4"])
    try:
        ok = put_scenario(server, "slow", [{"match": {"vendor": "guayaba", "path": "/contacts/statuses"},
                                            "respond": {"delay_ms": 1500}}])
        check(ok, "scenario set")
        busy = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        busy.sendall(b"GET /contacts/statuses HTTP/1.1\r\nHost: x\r\n" + GUA + b"\r\n")
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(12)]
        time.sleep(0.05)
        t0 = time.time()
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw, _ = read_all(s, 5)
        took = time.time() - t0
        s.close()
        check(raw.startswith(b"HTTP/1.1 200 ") and took < 1.0,
              "a fresh client behind 12 idle connections: answered in %.2f s" % took)
        slow = read_answer(busy, 5)
        check(slow.startswith(b"HTTP/1.1 200 ") and slow.endswith(b"]"),
              "the connection busy with a 1.5 s request got its whole answer")
        for c in idle + [busy]:
            c.close()
    finally:
        server.stop()


def stop_fast(emulator, extra):
    print("-- compat_end_idle_reads and the listener waker")
    # A wall-clock bound on a shared machine: measured up to three times, the best counts.
    for attempt in range(3):
        server = Emulator(emulator, extra)
        s = socket.create_connection(("127.0.0.1", server.port), timeout=3)
        s.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
        read_answer(s)
        code, took = server.stop()
        s.close()
        if code != 0 or took < 1.0:
            break
    check(code == 0 and took < 1.0, "SIGTERM with an idle keep-alive connection: exit %s in "
          "%.2f s (attempt %d)" % (code, took, attempt + 1))


def listen_ipv6(emulator, extra):
    print("-- compat_listen_ipv6")
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        print("skip: no IPv6 loopback here")
        return
    server = Emulator(emulator, extra, listen="[::1]:0")
    s = socket.create_connection(("::1", server.port), timeout=3)
    s.sendall(b"GET /contacts/statuses HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + GUA + b"\r\n")
    raw, _ = read_all(s, 3)
    s.close()
    check(raw.startswith(b"HTTP/1.1 200 "), "a request over [::1]: %r" % raw[:20])
    ok = put_scenario_v6(server)
    s = socket.create_connection(("::1", server.port), timeout=3)
    s.sendall(b"GET /contacts/statuses HTTP/1.1\r\nHost: x\r\n" + GUA + b"\r\n")
    raw, how = read_all(s, 3)
    s.close()
    check(ok and how == "reset", "fault reset over IPv6 finds the socket: %s" % how)
    code, took = server.stop()  # how fast is stop_fast's to measure; here: that it stops
    check(code == 0 and took < 5.0, "exit %s in %.2f s" % (code, took))


def put_scenario_v6(server):
    body = json.dumps({"rules": [{"match": {"vendor": "guayaba", "path": "/contacts/statuses"},
                                  "respond": {"fault": "reset"}}]}).encode()
    s = socket.create_connection(("::1", server.port), timeout=3)
    s.sendall(b"PUT /__admin/scenarios/rst HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    raw, _ = read_all(s, 3)
    s.close()
    return raw.startswith(b"HTTP/1.1 200 ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures")
    a = ap.parse_args()
    extra = ["--fixtures", a.fixtures] if a.fixtures else []
    server = Emulator(a.emulator, extra)
    try:
        reset_only_the_requester(server)
        close_after(server)
        linger_close(server)
        error_has_request(server)
        head_error(server)
    finally:
        code, _ = server.stop()
        check(code == 0, "server exits 0")
    evict_idle(a.emulator, extra)
    stop_fast(a.emulator, extra)
    listen_ipv6(a.emulator, extra)
    finish()


if __name__ == "__main__":
    main()
