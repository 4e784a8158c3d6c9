#!/usr/bin/env python3
"""The HTTP layer on the wire: what only raw sockets can send or see.

Request framing (smuggling attempts, bodies cut short), Expect: 100-continue, errors civetweb
finds itself rendered in the owning vendor's shape, reason phrases, HEAD, the text request log
(one line per request), SIGTERM during a long request, and --listen on IPv6. Each check starts
from its own connection; traffic goes to 127.0.0.1 and ::1 only, every read has a timeout,
and the whole script ends within about a minute.
"""
import argparse
import json
import re
import socket
import threading
import time

from emulator_process import Emulator, check, finish

GUA = b"X-API-Key: gua_demo0002_key\r\n"
RASL = b"Authorization: Bearer wm_demo_unlimited\r\n"



def exchange(server, data, half_close=False, timeout=3.0, pause_after=None):
    """Sends data on a new connection and reads until the server closes or timeout. Returns
    (bytes read, "closed" | "timeout" | "reset", seconds until the first byte)."""
    s = socket.create_connection((server.host, server.port), timeout=timeout)
    s.settimeout(timeout)
    t0 = time.time()
    first = None
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    out = b""
    how = "closed"
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            if first is None:
                first = time.time() - t0
            out += b
    except socket.timeout:
        how = "timeout"
    except ConnectionResetError:
        how = "reset"
    s.close()
    return out, how, first


def parse(raw):
    """Splits one answer: (status, reason, headers dict lower-case, body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) (.*)$", lines[0]) if lines else None
    if not m:
        return 0, "", {}, body
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(m.group(1)), m.group(2), headers, body


def json_of(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def req(method, path, headers=b"", body=b"", extra=b""):
    return (b"%s %s HTTP/1.1\r\nHost: x\r\n" % (method, path)) + headers + extra + b"\r\n" + body


def framing(server):
    print("-- request framing")
    cases = [
        ("Content-Length with Transfer-Encoding (Guayaba)",
         req(b"POST", b"/contacts", GUA + b"Content-Type: application/json\r\n"
             b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\nGET /x HTTP/1.1\r\n\r\n"),
         lambda j: j.get("error") == "Bad Request"),
        ("two different Content-Length values (RASL)",
         req(b"POST", b"/api/v2/contacts", RASL + b"Content-Type: application/json\r\n"
             b"Content-Length: 2\r\nContent-Length: 12\r\n", b"{}{}{}{}{}{}"),
         lambda j: j.get("success") is False and "error" in j),
        ("Transfer-Encoding other than chunked (Convoso)",
         req(b"POST", b"/v1/status/insert", b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
         lambda j: j.get("success") is False),
        ("Transfer-Encoding: identity (Guayaba)",
         req(b"POST", b"/contacts", GUA + b"Transfer-Encoding: identity\r\n"),
         lambda j: j.get("error") == "Bad Request"),
        ("a Content-Length that is not a number (RASL)",
         req(b"POST", b"/api/v2/contacts", RASL + b"Content-Length: 12abc\r\n", b"{}"),
         lambda j: j.get("success") is False),
        ("whitespace before a header's colon (Guayaba)",
         req(b"POST", b"/contacts", GUA + b"Content-Type: application/json\r\n"
             b"Content-Length : 5\r\n", b"{}{}{"),
         lambda j: j.get("error") == "Bad Request"),
        ("a folded header line hiding Content-Length (RASL)",
         req(b"POST", b"/api/v2/contacts", RASL + b"X-A: 1\r\n folded\r\nContent-Length: 2\r\n",
             b"{}"),
         lambda j: j.get("success") is False),
    ]
    for what, data, shape in cases:
        raw, how, _ = exchange(server, data)
        status, _, headers, body = parse(raw)
        j = json_of(body) or {}
        check(status in (400, 411) and shape(j) and headers.get("connection") == "close"
              and how == "closed" and raw.count(b"HTTP/1.1 ") == 1,
              "%s: %d %s, connection %s" % (what, status, body[:80], how))
    # More header fields than civetweb keeps: the ones past its limit (Content-Length here)
    # would be ignored, so the request is refused.
    many = b"".join(b"X-F%d: y\r\n" % i for i in range(70))
    raw, how, _ = exchange(server, req(b"POST", b"/contacts", GUA + many + b"Content-Length: 2\r\n",
                                       b"{}"))
    status, _, headers, body = parse(raw)
    check(status == 431 and (json_of(body) or {}).get("message") == "Too many header fields"
          and (json_of(body) or {}).get("error") == "Request Header Fields Too Large"
          and how == "closed", "70 header fields: %d %s" % (status, body[:60]))
    # Identical repeated Content-Length values are one length (RFC 9110 §8.6).
    raw, _, _ = exchange(server, req(b"POST", b"/api/v2/contacts", RASL +
                                     b"Content-Type: application/json\r\nConnection: close\r\n"
                                     b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}"))
    check(parse(raw)[0] == 422, "equal repeated Content-Length values: %d" % parse(raw)[0])
    # A chunked body is read whole.
    raw, _, _ = exchange(server, req(b"POST", b"/api/v2/contacts", RASL +
                                     b"Content-Type: application/json\r\nConnection: close\r\n"
                                     b"Transfer-Encoding: chunked\r\n", b"1\r\n{\r\n1\r\n}\r\n0\r\n\r\n"))
    check(parse(raw)[0] == 422, "a chunked body is read: %d" % parse(raw)[0])


def short_body(server):
    print("-- a body shorter than its Content-Length is never executed")
    form = b"auth_token=cv_demo_token&status=TRUNC1&name=Truncated%20Name&final=N&reached=N" \
           b"&success=N&dnc=N&callback=N&contact=N&voicemail=N"
    cut = form[:form.index(b"%20Name")]  # name=Truncated: a complete, valid form on its own
    data = req(b"POST", b"/v1/status/insert",
               b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(form),
               cut)
    raw, how, _ = exchange(server, data, half_close=True)
    status, _, headers, body = parse(raw)
    check(status in (0, 400) and how in ("closed", "reset"),
          "client half-closes mid-body: %s %s" % (status or "no answer", body[:80]))
    # A client that stops sending mid-body and keeps the connection open: the server's
    # request timeout (--request-timeout-ms 1500 here) ends the wait, and the cut body is not
    # executed either.
    data = data.replace(b"TRUNC1", b"TRUNC2")
    t0 = time.time()
    raw, how, _ = exchange(server, data, timeout=10)
    check(time.time() - t0 < 6, "the stalled body ends within two request timeouts: %.2f s"
          % (time.time() - t0))
    status, _, headers, body = parse(raw)
    check(status in (0, 400) and how in ("closed", "reset"),
          "client stops sending mid-body: %s (%s) after the timeout" % (status or "no answer", how))
    for code in (b"TRUNC1", b"TRUNC2"):
        raw, _, _ = exchange(server, req(b"GET", b"/v1/status/search?auth_token=cv_demo_token"
                                         b"&query=" + code, b"Connection: close\r\n"))
        j = json_of(parse(raw)[3]) or {}
        check(parse(raw)[0] == 200 and code.decode() not in json.dumps(j),
              "no status %s was stored: %s" % (code.decode(), json.dumps(j)[:120]))


def expect_continue(server):
    print("-- Expect: 100-continue")
    s = socket.create_connection((server.host, server.port), timeout=3)
    t0 = time.time()
    s.sendall(req(b"POST", b"/api/v2/contacts", RASL + b"Content-Type: application/json\r\n"
                  b"Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n"))
    first = s.recv(100)
    took = time.time() - t0
    check(first == b"HTTP/1.1 100 Continue\r\n\r\n" and took < 0.5,
          "100 Continue before the body, in %.3f s: %r" % (took, first))
    s.sendall(b"{}")
    rest = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            rest += b
    except socket.timeout:
        pass
    s.close()
    check(parse(rest)[:2] == (422, "Unprocessable Entity"),
          "then the final answer: %r" % rest[:40])
    raw, how, first_s = exchange(server, req(b"POST", b"/contacts", GUA +
                                             b"Content-Type: application/json\r\n"
                                             b"Content-Length: 99999999\r\nExpect: 100-continue\r\n"))
    status, _, headers, body = parse(raw)
    check(status == 413 and b"100 Continue" not in raw and first_s is not None and first_s < 0.5
          and (json_of(body) or {}).get("error") == "Payload Too Large"
          and headers.get("connection") == "close",
          "a declared too-large body: 413 at once, no 100: %r" % raw[:60])
    raw, how, first_s = exchange(server, req(b"POST", b"/api/v2/nowhere", RASL +
                                             b"Content-Length: 10\r\nExpect: 100-continue\r\n"))
    check(parse(raw)[0] == 404 and b"100 Continue" not in raw and first_s is not None
          and first_s < 0.5, "an unknown route: 404 at once, no 100: %r" % raw[:40])


def civetweb_errors(server):
    print("-- errors civetweb finds itself, in the owning vendor's shape")
    cases = [
        ("bad HTTP version on a RASL path", b"GET /api/v2/contacts HTTP/1.7\r\nHost: x\r\n\r\n",
         505, lambda j: j.get("success") is False and "error" in j),
        ("bad HTTP version on a Convoso path", b"GET /v1/status/search HTTP/3.0\r\nHost: x\r\n\r\n",
         505, lambda j: j.get("success") is False),
        ("Content-Length not a number on a Guayaba path",
         b"POST /contacts HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
         411, lambda j: j.get("error") == "Length Required" and j.get("message") is not None),
        ("a header line without a colon", b"GET /api/v2/contacts HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n",
         400, lambda j: j is not None),
        ("a head over the buffer (--max-body plus 16 KiB)",
         b"GET /api/v2/contacts HTTP/1.1\r\nX: " + b"a" * (1 << 21) + b"\r\n\r\n",
         400, lambda j: j is not None),
        ("binary garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400,
         lambda j: j is not None),
    ]
    for what, data, want, shape in cases:
        raw, how, _ = exchange(server, data)
        status, reason, headers, body = parse(raw)
        check(status == want and shape(json_of(body))
              and headers.get("content-type", "").startswith("application/json")
              and headers.get("connection") == "close",
              "%s: %d %s %s" % (what, status, reason, body[:90]))
    # After a good request on a keep-alive connection, a malformed one is not rendered with
    # the previous request's path.
    s = socket.create_connection((server.host, server.port), timeout=3)
    s.sendall(req(b"GET", b"/api/v2/contacts", RASL))
    time.sleep(0.3)
    try:  # a head over the buffer (--max-body plus 16 KiB); the server may close mid-send
        s.sendall(b"GET /api/v2/contacts HTTP/1.1\r\n" + b"X: " + b"a" * (1 << 21) + b"\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    raw = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            raw += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    second = raw[raw.find(b"HTTP/1.1 ", 10):]
    check(parse(second)[0] == 400 and b"/api/v2/contacts" not in second,
          "a malformed request after a good one on the same connection: %r" % second[-120:])


def reasons_and_head(server):
    print("-- reason phrases, HEAD")
    raw, _, _ = exchange(server, req(b"POST", b"/api/v2/contacts", RASL +
                                     b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                                     b"Connection: close\r\n", b"{}"))
    check(raw.startswith(b"HTTP/1.1 422 Unprocessable Entity\r\n"), "422: %r" % raw[:40])
    raw, _, _ = exchange(server, req(b"GET", b"/nowhere", GUA + b"Connection: close\r\n"))
    check(raw.startswith(b"HTTP/1.1 404 Not Found\r\n"), "404: %r" % raw[:30])
    get, _, _ = exchange(server, req(b"GET", b"/api/v2/contacts", RASL + b"Connection: close\r\n"))
    head, _, _ = exchange(server, req(b"HEAD", b"/api/v2/contacts", RASL + b"Connection: close\r\n"))
    g, h = parse(get), parse(head)
    check(g[0] == h[0] == 200 and g[2]["content-length"] == h[2]["content-length"]
          and h[3] == b"" and len(g[3]) == int(g[2]["content-length"]),
          "HEAD: same status and Content-Length as GET (%s), no body" % h[2].get("content-length"))


def long_query(server):
    print("-- a query as long as a body is read whole")
    # 30,000 ids (170 KB): a filter a client builds from its own list; every demo contact's
    # id is among them, so the filtered list is the whole list.
    ids = b",".join(b"%d" % i for i in range(1, 30001))
    raw, _, _ = exchange(server, req(b"GET", b"/api/v2/contacts?per_page=100", RASL,
                                     extra=b"Connection: close\r\n"))
    everyone = (json_of(parse(raw)[3]) or {}).get("data") or []
    raw, _, _ = exchange(server, req(b"GET", b"/api/v2/contacts?per_page=100&filter[id][in]=" + ids,
                                     RASL, extra=b"Connection: close\r\n"))
    status, _, _, body = parse(raw)
    found = (json_of(body) or {}).get("data") or []
    check(status == 200 and len(everyone) > 0 and len(found) == len(everyone),
          "filter[id][in] with 30,000 ids: %d, %d of %d contacts" % (status, len(found),
                                                                    len(everyone)))
    raw, _, _ = exchange(server, req(b"GET", b"/api/v2/contacts?filter[id][in]=999999," + ids[:5000],
                                     RASL, extra=b"Connection: close\r\n"))
    check(parse(raw)[0] == 200 and len((json_of(parse(raw)[3]) or {}).get("data") or []) > 0,
          "a long filter whose first id is unknown still finds the rest")


def text_log(server):
    print("-- the text request log: one request, one line")
    time.sleep(0.3)  # the log lines of earlier requests are in (stdout is written as it comes)
    before = len(server.lines)
    exchange(server, req(b"GET", b"/contacts%0d%0a2026-01-01T00:00:00.000Z%20forged%09line%1b[31m",
                         GUA + b"Connection: close\r\n"))
    time.sleep(0.3)
    # the lines about this request (a late line of an earlier one does not count): escaped, it
    # is one line holding the forged text; unescaped, the forged text starts a line of its own
    new = [line for line in server.lines[before:] if "forged" in line]
    check(len(new) == 1 and "\\r\\n" in new[0] and "\\x1b" in new[0] and "\x1b" not in new[0],
          "logged as one line: %r" % new)


def sigterm_long_request(emulator, extra):
    print("-- SIGTERM while a long request is in flight")
    # The exit times are wall-clock bounds on a shared machine: each is measured up to three
    # times and holds when one measurement does (every answer must be whole every time).
    exits, idle_exits = [], []
    for attempt in range(3):
        exits.append(one_sigterm(emulator, extra))
        if exits[-1] is not None and exits[-1] < 1.0:
            break
    check(exits[-1] is not None and exits[-1] < 1.0,
          "exit 0 within 1 s of the last answer: %s s" % ", ".join("%.2f" % e if e is not None
                                                                   else "-" for e in exits))
    for attempt in range(3):
        server = Emulator(emulator, extra)
        s = socket.create_connection((server.host, server.port), timeout=3)
        s.sendall(req(b"GET", b"/__admin/health"))
        s.recv(4096)
        code, took = server.stop()
        s.close()
        idle_exits.append(took if code == 0 else None)
        if code == 0 and took < 1.0:
            break
    check(idle_exits[-1] is not None and idle_exits[-1] < 1.0,
          "an idle keep-alive connection open: exit 0 in %s s"
          % ", ".join("%.2f" % e if e is not None else "-" for e in idle_exits))


def one_sigterm(emulator, extra):
    """A 2 s request in flight, then SIGTERM: checks its answer; returns the seconds from the
    answer to the exit (None when the exit code is not 0)."""
    server = Emulator(emulator, extra)
    raw, _, _ = exchange(server, req(
        b"PUT", b"/__admin/scenarios/slow", b"Content-Type: application/json\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n" % len(SLOW), SLOW))
    check(parse(raw)[0] == 200, "scenario with delay_ms 2000 set: %r" % raw[:30])
    result = {}

    def slow():
        body = b'{"phoneNumber":"+15550001111","campaignId":"550e8400-e29b-41d4-a716-446655440000"}'
        result["sent"] = time.time()
        result["raw"], result["how"], _ = exchange(
            server, req(b"POST", b"/contacts", GUA + b"Content-Type: application/json\r\n"
                        b"Content-Length: %d\r\n" % len(body), body), timeout=10)
        result["at"] = time.time()

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    code, _ = server.stop(within_s=15)
    exited = time.time()
    t.join()
    status, _, headers, body = parse(result.get("raw", b""))
    took = result.get("at", 0) - result.get("sent", 0)
    check(status == 201 and len(body) == int(headers.get("content-length", -1)) and took >= 1.9,
          "the delayed request got its whole answer after %.2f s: %d, %d bytes"
          % (took, status, len(body)))
    return exited - result["at"] if code == 0 and "at" in result else None


SLOW = json.dumps({"rules": [{"match": {"vendor": "guayaba", "method": "POST"},
                              "respond": {"delay_ms": 2000}}]}).encode()


def ipv6(emulator, extra):
    print("-- --listen [::1]:0")
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        print("skip: no IPv6 loopback here")
        return
    server = Emulator(emulator, extra, listen="[::1]:0")
    check(server.url.startswith("http://[::1]:"), "ready line: %s" % server.url)
    raw, _, _ = exchange(server, req(b"GET", b"/contacts/statuses", GUA + b"Connection: close\r\n"))
    check(parse(raw)[0] == 200, "a request over IPv6: %r" % raw[:20])
    code, took = server.stop()
    check(code == 0 and took < 1.5, "stops: exit %s in %.2f s" % (code, took))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures")
    a = ap.parse_args()
    extra = ["--fixtures", a.fixtures] if a.fixtures else []
    server = Emulator(a.emulator, extra + ["--request-timeout-ms", "1500"], log="text")
    try:
        framing(server)
        short_body(server)
        expect_continue(server)
        civetweb_errors(server)
        reasons_and_head(server)
        text_log(server)
        long_query(server)
    finally:
        code, _ = server.stop()
        check(code == 0, "server exits 0")
    sigterm_long_request(a.emulator, extra)
    ipv6(a.emulator, extra)
    finish()


if __name__ == "__main__":
    main()
