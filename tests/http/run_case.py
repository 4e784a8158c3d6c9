#!/usr/bin/env python3
"""Runs one black-box HTTP case file against the real understudy binary.

A case is data: {"name", "args": [extra server flags], "headers": {default request headers},
"start": true, "env": {NAME: value}, "steps": [...]}. "env" adds variables to the environment of
every understudy the case starts (servers, restarts, twins and "run" steps), as for the
test-only UNDERSTUDY_WEBHOOK_RETRY_MS. Each step is one of
  {"request": {...}, "expect": {...}, "save": {var: "dotted.path"}, "repeat": N}
  {"restart": {"signal": "KILL"|"TERM", "args": [...], "exit": 0, "fresh": false}}
  {"run": {"args": [...], "exit": N, "stderr_contains": [...], "stderr_regex": r}}
  {"concurrent": {"clients": N, "requests": M, "request": {...}, "expect": {...}}}
  {"term_under_load": {"clients": N, "request": {...}, "after_ms": T, "ok_status": S,
                       "refused_status": R, "save_count": var}}
  {"receiver": {"name", "wait_for": N, "timeout_s": 10, "quiet_ms": T, "requests": {index:
                expectation}, "each": expectation, "gaps_s": [[min, max], ...], "save":
                {var: "index.json.path"}, "clear": false}}
  {"sleep_ms": T}
  {"background": {request step}}  then  {"join": true}
  {"tally": {"request": {...}, "count": N, "clients": C, "expect": {outcome: matcher},
             "save": {var: outcome}}}
  {"twin": {"args": [...], "headers": true, "ignore_headers": [...], "requests": [request
            steps]}}
A request step may say "fails": "no_answer" | "reset" | "truncated" instead of "expect": the
connection must end that way (no_answer: closed, by FIN or RST, before a status line; reset:
an RST; truncated: a status line, then fewer body bytes than Content-Length). "tally" sends
the request count times (spread over clients connections, default 1) on fresh connections and
counts the outcomes: "status:NNN", "no_answer" (which includes "reset"), "truncated", and
"total"; "sequence" is the outcomes in order ("200,no_answer,...", for one client). "twin"
starts two fresh servers with the case's args plus its own, sends every request step to both
in order (expect and save are checked on the first), requires the same status and the same
body byte for byte (and, with "headers", the same headers but ignore_headers), then stops both.
"args_b" are extra args for the second server only; with "differ": true at least one answer
must differ instead (to show a comparison has teeth).
A request step may also say "min_ms" (the answer takes at least T ms), "body_file" (a path:
the raw answer body is written there) and "expect" may hold "body_regex" (a regex or a list).
A request step may also say "max_ms" (the answer must come back within T ms) and "retry_s"
(re-send until the expectations hold, for state that settles in the background).
"background" sends a request step from a thread of its own and goes on at once; "join" waits
for every background step and fails with the first one that failed (a case also joins them
before its final stop). A "restart" may say "timeout" (seconds the old server has to exit,
15 unless told).
Webhook receivers: a case-level "receivers": {"name": {"status": 200, "fail_first": N,
"fail_status": 500, "down": false, "silent": false}} starts one local HTTP server per name before the server
and exposes {name_url} (http://127.0.0.1:PORT/hook/name) and {name_port}; "down" gives the
URL of a port nothing listens on, "silent" one that takes connections and never answers. Each receiver records every request (arrival time, method,
path, headers, body) and answers fail_status to the first fail_first requests, then status.
A "receiver" step waits (up to timeout_s) until the receiver holds wait_for requests; with
quiet_ms it then waits that long more and requires exactly wait_for. An expectation takes
"method", "path", "headers", "json", "paths", "body_contains" like a response, and
"signature": {"secret", "header": "X-Webhook-Signature"} (hex HMAC-SHA256 of the raw body).
"gaps_s" bounds the seconds between consecutive requests; "clear" forgets them afterwards.
A request has "method", "path", "headers" (null drops a default), and "json", "body" (raw
text) or "body_size" (a valid JSON object of exactly N bytes).
Strings may use {var} (unknown names stay as written): saved values, {base}, {port},
{data_dir}, {fixtures}, {data}, {tmp}, {_i} (repeat index), {_c} (client index), with a
format spec ({_c:02d}); a string that is only "{var}" keeps the value's type.
Matchers: "$any", "$absent", "$notnull", "$uuid" (any UUID), "$uuid4" (a version 4 UUID),
"$iso" (2026-01-01T00:00:00.000Z), "$iso_offset" (2026-01-01T00:00:00+00:00), {"$len": n},
{"$each": m}, {"$ne": v}, {"$gte": n}, {"$lte": n}, {"$regex": r}, {"$contains": m}. A string
that starts with '$' but names no matcher is a literal. "json" matches a subset (lists element
by element), "paths" {dotted.path: matcher}, "json_exact" the whole body with key order, "body"
the raw text, "body_contains" substrings, "headers" values (names any case; a header's matcher
may be a {"$op": ...} object).
Named objects stand for members written out: "$rasl_meta" is RASL's meta object,
{"request_id": "$uuid4", "timestamp": "$iso_offset"}; as a member, {"$rasl_meta": T, ...}
puts those two members (timestamp T) beside the object's others, so
"meta": {"$rasl_meta": "2026-01-01T00:00:00+00:00", "pagination": {...}} checks all three.
Per-case defaults: "defaults": {"expect": {...}} is merged into the expect of every request
step (in "request", "concurrent", "background" and "twin" steps) before it is checked: objects
merge member by member, at any depth, and where both sides hold something else the step's own
value wins (so a step overrides one default member and keeps the rest). A step with
"defaults": false gets none; a step {"set_defaults": {"expect": {...}}} replaces the defaults
for the steps after it (as when the clock has moved on). tools/format_case.py lays case files out the suite's way, and
tools/count_assertions.py counts the checks they make (named objects and defaults expanded).
Every server listens on port 0 with its own data dir; at the end it gets SIGTERM and must exit
0 (so sanitizer builds report leaks), and any sanitizer report fails the case.
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
NAMED = {  # string matchers: name -> test of the value
    "$any": lambda got: True,
    "$notnull": lambda got: got is not None,
    "$uuid": lambda got: isinstance(got, str) and bool(UUID.search(got)),
    "$uuid4": lambda got: isinstance(got, str) and bool(UUID4.search(got)),
    "$iso": lambda got: isinstance(got, str) and bool(ISO.search(got)),
    "$iso_offset": lambda got: isinstance(got, str) and bool(ISO_OFFSET.search(got)),
}
# Named objects: name -> the members it stands for, given its argument (None when written
# as a bare string).
OBJECTS = {
    "$rasl_meta": lambda ts: {"request_id": "$uuid4",
                              "timestamp": "$iso_offset" if ts is None else ts},
}
VAR = re.compile(r"\{(\w+)(:[^{}]*)?\}")
READY = re.compile(r"understudy ready on http://([\d.]+):(\d+)")


class Failure(Exception):
    pass


def subst(value, env):
    """Replaces {var} in every string of value (recursively)."""
    if isinstance(value, str):
        whole = VAR.fullmatch(value)
        if whole and not whole.group(2) and whole.group(1) in env:
            return env[whole.group(1)]

        def one(m):
            if m.group(1) not in env:  # not a variable: "/contacts/{id}" stays as written
                return m.group(0)
            return format(env[m.group(1)], (m.group(2) or ":")[1:])
        return VAR.sub(one, value)
    if isinstance(value, list):
        return [subst(v, env) for v in value]
    if isinstance(value, dict):
        return {k: subst(v, env) for k, v in value.items()}
    return value


def expand(want):
    """want with its named objects written out (this level only: each member is expanded in
    turn when it is matched)."""
    if isinstance(want, str) and want in OBJECTS:
        return OBJECTS[want](None)
    if isinstance(want, dict) and any(k in OBJECTS for k in want):
        out = {}
        for key, sub in want.items():
            if key in OBJECTS:
                out.update(OBJECTS[key](sub))
        out.update((k, v) for k, v in want.items() if k not in OBJECTS)
        return out
    return want


def merge(default, own):
    """own with default's members added where own has none, at any depth of objects."""
    if not isinstance(default, dict) or not isinstance(own, dict):
        return own
    out = dict(default)
    for key, sub in own.items():
        out[key] = merge(default[key], sub) if key in default else sub
    return out


def effective_expect(defaults, step):
    """The expectation a request step is checked against: its own merged over defaults (the
    case's "defaults", or the last "set_defaults" step's)."""
    own = step.get("expect", {})
    if step.get("defaults", True) is False:
        return own
    return merge(defaults.get("expect", {}), own)


def match(want, got, where, errors):
    """Appends to errors every way got fails the matcher want."""
    want = expand(want)
    if isinstance(want, str) and want.startswith("$"):
        test = NAMED.get(want)
        ok = test(got) if test else want == got  # not a name: a literal that starts with '$'
        if not ok:
            errors.append("%s: expected %s, got %s" % (where, want, json.dumps(got)))
    elif isinstance(want, dict) and len(want) == 1 and next(iter(want)).startswith("$"):
        op, arg = next(iter(want.items()))
        if op == "$len":
            if not isinstance(got, (list, dict, str)) or len(got) != arg:
                errors.append("%s: expected length %s, got %s" % (where, arg, json.dumps(got)[:300]))
        elif op == "$each":
            if not isinstance(got, list):
                errors.append("%s: expected an array, got %s" % (where, json.dumps(got)[:300]))
            for i, item in enumerate(got if isinstance(got, list) else []):
                match(arg, item, "%s[%d]" % (where, i), errors)
        elif op == "$ne":
            if got == arg:
                errors.append("%s: expected anything but %s" % (where, json.dumps(arg)))
        elif op == "$gte":
            if not isinstance(got, (int, float)) or got < arg:
                errors.append("%s: expected at least %s, got %s" % (where, arg, json.dumps(got)))
        elif op == "$lte":
            if not isinstance(got, (int, float)) or got > arg:
                errors.append("%s: expected at most %s, got %s" % (where, arg, json.dumps(got)))
        elif op == "$regex":
            if not isinstance(got, str) or not re.search(arg, got):
                errors.append("%s: %s does not match /%s/" % (where, json.dumps(got), arg))
        elif op == "$contains":
            if not isinstance(got, list) or not any(not match(arg, g, where, []) for g in got):
                errors.append("%s: no element matches %s" % (where, json.dumps(arg)))
        else:
            raise Failure("unknown matcher %s" % op)
    elif isinstance(want, dict):
        if not isinstance(got, dict):
            errors.append("%s: expected an object, got %s" % (where, json.dumps(got)[:300]))
            return errors
        for key, sub in want.items():
            if sub == "$absent":
                if key in got:
                    errors.append("%s.%s: expected absent, got %s" % (where, key, json.dumps(got[key])))
            elif key not in got:
                errors.append("%s.%s: missing" % (where, key))
            else:
                match(sub, got[key], "%s.%s" % (where, key), errors)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            errors.append("%s: expected %d items, got %s" % (where, len(want), json.dumps(got)[:300]))
        else:
            for i, (w, g) in enumerate(zip(want, got)):
                match(w, g, "%s[%d]" % (where, i), errors)
    elif type(want) is not type(got) or want != got:  # True is not 1 here
        errors.append("%s: expected %s, got %s" % (where, json.dumps(want), json.dumps(got)))
    return errors


def ordered(v):
    """v with objects as lists of pairs, so == compares key order too."""
    if isinstance(v, dict):
        return [(k, ordered(x)) for k, x in v.items()]
    if isinstance(v, list):
        return [ordered(x) for x in v]
    return v


def dig(doc, path):
    for part in str(path).split(".") if path != "" else []:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


class Server:
    def __init__(self, opts, data_dir, args, env=None):
        self.opts, self.data_dir, self.lines, self.sanitizer = opts, data_dir, [], []
        cmd = [opts.emulator, "--listen", "127.0.0.1:0", "--data-dir", data_dir,
               "--fixtures", opts.fixtures] + args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        ready = threading.Event()

        def drain():  # the request log must never fill the pipe and stall the server
            for line in self.proc.stdout:
                self.lines = (self.lines + [line.rstrip()])[-40:]
                if "Sanitizer" in line or "runtime error:" in line:
                    self.sanitizer.append(line.rstrip())
                m = READY.search(line)
                if m:
                    self.port = int(m.group(2))
                    ready.set()
        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(15):
            self.stop(signal.SIGKILL)
            raise Failure("no ready line within 15 s; output:\n" + "\n".join(self.lines))

    def stop(self, sig, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("server did not exit within %s s after signal %s" % (timeout, sig))
        time.sleep(0.05)  # let the drain thread read the last lines
        if self.sanitizer:  # a sanitizer build's report fails the case whatever the answers were
            raise Failure("sanitizer report from the server:\n" + "\n".join(self.lines))
        return code


def send(port, req, conn=None):
    """One HTTP exchange; returns (status, headers as a lower-case dict, body bytes)."""
    headers = {k: v for k, v in req.get("headers", {}).items() if v is not None}
    body = req.get("body")
    if "json" in req:
        body = json.dumps(req["json"])
    elif "body_size" in req:  # a valid empty JSON object of exactly that many bytes
        body = "{" + " " * (req["body_size"] - 2) + "}"
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
        body = body.encode()
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(req.get("method", "GET"), req["path"], body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        if own:
            conn.close()


def outcome(port, req):
    """Sends req on a fresh connection; returns ("answer", status, headers, raw) or
    (kind, detail) for a connection that ended without a whole answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        try:
            return ("answer",) + send(port, req, conn)
        except http.client.RemoteDisconnected as e:  # closed before a status line (FIN)
            return ("no_answer", repr(e))
        except ConnectionResetError as e:  # an RST
            return ("reset", repr(e))
        except http.client.IncompleteRead as e:
            return ("truncated", "%d bytes, %s more expected" % (len(e.partial), e.expected))
        except (OSError, http.client.HTTPException) as e:
            return ("other", repr(e))
    finally:
        conn.close()


def check(expect, status, headers, raw):
    errors = []
    if "status" in expect:
        match(expect["status"], status, "status", errors)
    for name, want in expect.get("headers", {}).items():
        got = headers.get(name.lower())
        if want == "$absent":
            if got is not None:
                errors.append("header %s: expected absent, got %r" % (name, got))
        elif got is None:
            errors.append("header %s: missing" % name)
        else:
            match(want if isinstance(want, (str, dict)) else str(want), got, "header " + name,
                  errors)
    text = raw.decode("utf-8", "replace")
    if "body" in expect and expect["body"] != text:
        errors.append("body: expected exactly\n  %s\ngot\n  %s" % (expect["body"], text))
    for piece in ([expect["body_contains"]] if isinstance(expect.get("body_contains"), str)
                  else expect.get("body_contains", [])):
        if piece not in text:
            errors.append("body does not contain %r" % piece)
    for rx in ([expect["body_regex"]] if isinstance(expect.get("body_regex"), str)
               else expect.get("body_regex", [])):
        if not re.search(rx, text, re.M):
            errors.append("body does not match /%s/" % rx)
    if any(k in expect for k in ("json", "json_exact", "paths")):
        try:
            doc = json.loads(text)
        except ValueError as e:
            return errors + ["body is not JSON (%s): %r" % (e, text[:300])]
        if "json" in expect:
            match(expect["json"], doc, "$", errors)
        if "json_exact" in expect and ordered(expect["json_exact"]) != ordered(doc):
            errors.append("json_exact: expected\n  %s\ngot\n  %s" % (
                json.dumps(expect["json_exact"]), text))
        for path, want in expect.get("paths", {}).items():
            try:
                got = dig(doc, path)
            except (KeyError, IndexError, TypeError, ValueError):
                if want != "$absent":
                    errors.append("%s: missing" % path)
                continue
            match(want, got, path, errors)
    return errors


class Receiver:
    """A local HTTP server that records what is POSTed to it (a webhook target)."""

    def __init__(self, name, spec):
        self.name, self.spec, self.requests, self.lock = name, spec, [], threading.Lock()
        self.server = None
        if spec.get("down"):
            sock = socket.socket()  # a port that was free a moment ago: nothing listens there
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            sock.close()
        elif spec.get("silent"):
            self.silent = socket.socket()  # connections complete in the backlog; none is read
            self.silent.bind(("127.0.0.1", 0))
            self.silent.listen(64)
            self.port = self.silent.getsockname()[1]
        else:
            receiver = self

            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"

                def handle_one(self):
                    at = time.monotonic()
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length > 0 else b""
                    with receiver.lock:
                        receiver.requests.append({
                            "at": at, "method": self.command, "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body})
                        n = len(receiver.requests)
                    status = (receiver.spec.get("fail_status", 500)
                              if n <= receiver.spec.get("fail_first", 0)
                              else receiver.spec.get("status", 200))
                    reply = json.dumps({"received": n}).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)

                do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = handle_one

                def log_message(self, *args):
                    pass
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.server.daemon_threads = True
            self.port = self.server.server_address[1]
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/hook/%s" % (self.port, name)

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def clear(self):
        with self.lock:
            self.requests = []

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if getattr(self, "silent", None) is not None:
            self.silent.close()


def received(req):
    """A recorded request as a document for "save" and error messages."""
    text = req["body"].decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    return {"method": req["method"], "path": req["path"], "headers": req["headers"],
            "body": text, "json": doc}


def check_received(expect, req, where):
    """Every way the recorded request req fails the expectation."""
    errors = []
    for key in ("method", "path"):
        if key in expect:
            match(expect[key], req[key], "%s.%s" % (where, key), errors)
    errors += ["%s: %s" % (where, e) for e in check(
        {k: v for k, v in expect.items() if k in ("headers", "json", "paths", "body_contains",
                                                  "json_exact", "body")},
        None, req["headers"], req["body"])]
    sig = expect.get("signature")
    if sig is not None:
        header = sig.get("header", "X-Webhook-Signature").lower()
        want = hmac.new(sig["secret"].encode(), req["body"], hashlib.sha256).hexdigest()
        got = req["headers"].get(header)
        if got != want:
            errors.append("%s: header %s is %r, HMAC-SHA256 of the body with %r is %s" % (
                where, header, got, sig["secret"], want))
    return errors


class Runner:
    def __init__(self, opts, case):
        self.opts, self.case, self.server, self.passed = opts, case, None, 0
        self.defaults = case.get("defaults", {})
        self.dirs = [tempfile.mkdtemp(prefix="understudy-case-") for _ in range(2)]
        self.env = {"fixtures": opts.fixtures, "tmp": self.dirs[1],
                    "data": os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")}
        self.data_dir = os.path.join(self.dirs[0], "store")
        self.receivers = {}
        self.proc_env = dict(os.environ, **case["env"]) if "env" in case else None
        self.background, self.background_errors = [], []
        for name, spec in case.get("receivers", {}).items():
            self.receivers[name] = Receiver(name, spec)
            self.env.update({name + "_url": self.receivers[name].url,
                             name + "_port": self.receivers[name].port})

    def start(self, args):
        self.server = Server(self.opts, self.data_dir, subst(self.case.get("args", []) + args,
                                                             self.env), self.proc_env)
        self.env.update(port=self.server.port, base="http://127.0.0.1:%d" % self.server.port,
                        data_dir=self.data_dir)

    def request(self, step, env, conn=None):
        if "retry_s" not in step:
            return self.request_once(step, env, conn)
        deadline = time.monotonic() + step["retry_s"]
        while True:
            try:
                return self.request_once(step, env, conn)
            except Failure as e:
                if time.monotonic() >= deadline:
                    raise Failure("still failing after %s s: %s" % (step["retry_s"], e))
                time.sleep(0.1)

    def request_once(self, step, env, conn=None, port=None):
        req = dict(step["request"])
        req["headers"] = dict(self.case.get("headers", {}), **req.get("headers", {}))
        req = subst(req, env)
        if "fails" in step:
            got = outcome(port or self.server.port, req)
            want = step["fails"]
            if not (got[0] == want or (want == "no_answer" and got[0] == "reset")):
                raise Failure("%s %s: expected the connection to end as %s, got %s" % (
                    req.get("method", "GET"), req["path"], want,
                    got[0] + ": " + (str(got[1]) + " " + got[3][:300].decode("utf-8", "replace")
                                     if got[0] == "answer" else got[1])))
            return None
        started = time.monotonic()
        try:
            status, headers, raw = send(port or self.server.port, req, conn)
        except (OSError, http.client.HTTPException) as e:
            raise Failure("%s %s: no answer: %r" % (req.get("method", "GET"), req["path"][:200], e))
        took_ms = (time.monotonic() - started) * 1000
        errors = check(subst(effective_expect(self.defaults, step), env), status, headers, raw)
        if "max_ms" in step and took_ms > step["max_ms"]:
            errors.append("the answer took %.0f ms, more than %s ms" % (took_ms, step["max_ms"]))
        if "min_ms" in step and took_ms < step["min_ms"]:
            errors.append("the answer took %.0f ms, less than %s ms" % (took_ms, step["min_ms"]))
        if errors:
            raise Failure("%s %s\n  %s\n  response %s %s\n  %s" % (
                req.get("method", "GET"), req["path"], "\n  ".join(errors), status,
                json.dumps(headers), raw[:1500].decode("utf-8", "replace")))
        for var, path in step.get("save", {}).items():
            try:
                self.env[var] = dig(json.loads(raw), path)
            except (KeyError, IndexError, TypeError, ValueError):
                raise Failure("save %s: no %s in %s" % (var, path, raw[:500]))
        for var, name in step.get("save_header", {}).items():
            self.env[var] = headers.get(name.lower())
        if "body_file" in step:
            with open(subst(step["body_file"], env), "wb") as f:
                f.write(raw)
        return status, headers, raw

    def clients(self, spec, body):
        """Runs body(client_index, connection) in spec["clients"] threads; returns errors."""
        errors, lock = [], threading.Lock()

        def client(c):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            try:
                body(c, conn)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append("client %d: %s" % (c, e))
            finally:
                conn.close()
        threads = [threading.Thread(target=client, args=(c,)) for c in range(spec["clients"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return errors

    def step(self, step):
        if "request" in step:
            for i in range(step.get("repeat", 1)):
                self.request(step, dict(self.env, _i=i))
        elif "restart" in step:
            spec = subst(step["restart"], self.env)
            sig = getattr(signal, "SIG" + spec.get("signal", "KILL"))
            was_running = self.server.proc.poll() is None
            code = self.server.stop(sig, spec.get("timeout", 15))
            want = spec.get("exit", 0 if sig == signal.SIGTERM else -signal.SIGKILL)
            if was_running and code != want:
                raise Failure("server exited %s after %s, expected %s; output:\n%s" % (
                    code, sig.name, want, "\n".join(self.server.lines)))
            if spec.get("fresh"):
                self.data_dir += "x"
            self.start(spec.get("args", []))
        elif "run" in step:
            spec = subst(step["run"], self.env)
            try:
                p = subprocess.run([self.opts.emulator] + spec["args"], capture_output=True,
                                   text=True, timeout=spec.get("timeout", 20), env=self.proc_env)
            except subprocess.TimeoutExpired:
                raise Failure("understudy %s did not exit within %s s" % (
                    " ".join(spec["args"]), spec.get("timeout", 20)))
            errors = [] if p.returncode == spec.get("exit", 0) else [
                "exit: expected %s, got %s" % (spec.get("exit", 0), p.returncode)]
            for stream, text in (("stderr", p.stderr), ("stdout", p.stdout)):
                errors += ["%s does not contain %r" % (stream, s)
                           for s in spec.get(stream + "_contains", []) if s not in text]
                if stream + "_regex" in spec and not re.search(spec[stream + "_regex"], text):
                    errors.append("%s does not match /%s/" % (stream, spec[stream + "_regex"]))
            if errors:
                raise Failure("understudy %s\n  %s\n  stdout: %s\n  stderr: %s" % (
                    " ".join(spec["args"]), "\n  ".join(errors), p.stdout, p.stderr))
        elif "concurrent" in step:
            spec = step["concurrent"]

            def body(c, conn):
                sock = None
                for i in range(spec.get("requests", 1)):
                    self.request(spec, dict(self.env, _c=c, _i=i), conn)
                    if sock is not None and conn.sock is not sock:
                        raise Failure("the connection was not kept alive")
                    sock = conn.sock
            errors = self.clients(spec, body)
            if errors:
                raise Failure("%d of %d clients failed:\n  %s" % (
                    len(errors), spec["clients"], "\n  ".join(errors[:10])))
        elif "term_under_load" in step:
            self.term_under_load(step["term_under_load"])
        elif "receiver" in step:
            self.receiver_step(subst(step["receiver"], self.env))
        elif "background" in step:
            def one(spec, env):
                try:
                    self.request(spec, env)
                except Exception as e:  # noqa: BLE001 - reported by "join"
                    self.background_errors.append("background %s: %s" % (
                        spec["request"].get("path"), e))
            spec = dict(step["background"], defaults=False,  # the defaults of now
                        expect=effective_expect(self.defaults, step["background"]))
            t = threading.Thread(target=one, args=(spec, dict(self.env)))
            t.start()
            self.background.append(t)
        elif "join" in step:
            self.join_background()
        elif "set_defaults" in step:
            self.defaults = step["set_defaults"]
        elif "sleep_ms" in step:
            time.sleep(step["sleep_ms"] / 1000)
        elif "tally" in step:
            self.tally(step["tally"])
        elif "twin" in step:
            self.twin(step["twin"])
        else:
            raise Failure("unknown step kind: %s" % sorted(step))

    def join_background(self):
        for t in self.background:
            t.join(120)
        self.background = []
        errors, self.background_errors = self.background_errors, []
        if errors:
            raise Failure("\n  ".join(errors))

    def tally(self, spec):
        """Counts how count sends of one request end, spread over clients threads."""
        count, nclients = spec.get("count", 1), spec.get("clients", 1)
        results, lock = [None] * count, threading.Lock()

        def body(c, conn):
            for i in range(c, count, nclients):
                req = dict(spec["request"])
                req["headers"] = dict(self.case.get("headers", {}), **req.get("headers", {}))
                got = outcome(self.server.port, subst(req, dict(self.env, _c=c, _i=i)))
                with lock:
                    results[i] = ("status:%d" % got[1]) if got[0] == "answer" else got[0]
        errors = self.clients({"clients": nclients}, body)
        if errors:
            raise Failure("tally: %s" % errors[:5])
        counts = {"total": count, "sequence": ",".join(
            r[7:] if r.startswith("status:") else r for r in results)}
        for r in results:
            counts[r] = counts.get(r, 0) + 1
            if r == "reset":
                counts["no_answer"] = counts.get("no_answer", 0) + 1
        want = {k: v for k, v in subst(spec.get("expect", {}), self.env).items()}
        errors = []
        for key, m in want.items():
            match(m, counts.get(key, 0), key, errors)
        print("tally: %s" % json.dumps({k: v for k, v in counts.items() if k != "sequence"}))
        if errors:
            raise Failure("tally %s %s\n  %s\n  outcomes %s" % (
                spec["request"].get("method", "GET"), spec["request"]["path"],
                "\n  ".join(errors), json.dumps(counts)))
        for var, key in spec.get("save", {}).items():
            self.env[var] = counts.get(key, 0)

    def twin(self, spec):
        """Two fresh servers, the same requests: the same answers to the byte."""
        args = subst(self.case.get("args", []) + spec.get("args", []), self.env)
        servers = []
        try:
            for n in range(2):
                servers.append(Server(self.opts, os.path.join(self.dirs[1], "twin%d-%d" % (
                    n, len(os.listdir(self.dirs[1])))),
                    args + (subst(spec.get("args_b", []), self.env) if n else []),
                    self.proc_env))
            differed = []
            ignore = {h.lower() for h in spec.get("ignore_headers", [])}
            for k, step in enumerate(spec["requests"], 1):
                env = dict(self.env, base="http://127.0.0.1:%d" % servers[0].port,
                           port=servers[0].port)
                try:
                    a = self.request_once(step, env, port=servers[0].port)
                    b = self.request_once(dict(step, expect={}, save={}, defaults=False), env,
                                          port=servers[1].port)
                except Failure as e:
                    raise Failure("twin request %d: %s" % (k, e))
                if a is None:
                    continue  # both ended as step["fails"] says
                diffs = []
                if a[0] != b[0]:
                    diffs.append("status %s vs %s" % (a[0], b[0]))
                if a[2] != b[2]:
                    diffs.append("body\n    %s\n  vs\n    %s" % (a[2][:800], b[2][:800]))
                if spec.get("headers"):
                    ha = {k2: v for k2, v in a[1].items() if k2 not in ignore}
                    hb = {k2: v for k2, v in b[1].items() if k2 not in ignore}
                    if ha != hb:
                        diffs.append("headers %s vs %s" % (json.dumps(ha), json.dumps(hb)))
                if diffs and spec.get("differ"):
                    differed.append(k)
                elif diffs:
                    raise Failure("twin request %d (%s %s) differs:\n  %s" % (
                        k, step["request"].get("method", "GET"), step["request"]["path"],
                        "\n  ".join(diffs)))
            if spec.get("differ") and not differed:
                raise Failure("twin: every answer was the same, a difference was expected")
            for srv in servers:
                code = srv.stop(signal.SIGTERM)
                if code != 0:
                    raise Failure("twin server: SIGTERM exit %s" % code)
        finally:
            for srv in servers:
                if srv.proc.poll() is None:
                    srv.proc.kill()
                    srv.proc.wait()

    def receiver_step(self, spec):
        """Waits for a receiver's requests, then checks them."""
        rcv = self.receivers.get(spec["name"])
        if rcv is None:
            raise Failure("no receiver named %r" % spec["name"])
        want = spec.get("wait_for", 1)
        deadline = time.monotonic() + spec.get("timeout_s", 10)
        got = rcv.snapshot()
        while len(got) < want and time.monotonic() < deadline:
            time.sleep(0.05)
            got = rcv.snapshot()
        if "quiet_ms" in spec:
            time.sleep(spec["quiet_ms"] / 1000)
            got = rcv.snapshot()
        summary = "\n  ".join("%s %s %s" % (r["method"], r["path"], r["body"][:300]) for r in got)
        if len(got) < want or ("quiet_ms" in spec and len(got) != want):
            raise Failure("receiver %s: expected %s%d requests within %s s, got %d:\n  %s" % (
                rcv.name, "exactly " if "quiet_ms" in spec else "", want,
                spec.get("timeout_s", 10), len(got), summary))
        errors = []
        for i, req in enumerate(got):
            if "each" in spec:
                errors += check_received(spec["each"], req, "request %d" % i)
        for index, expect in spec.get("requests", {}).items():
            try:
                req = got[int(index)]
            except IndexError:
                errors.append("request %s: there are only %d" % (index, len(got)))
                continue
            errors += check_received(expect, req, "request %s" % index)
        for i, (low, high) in enumerate(spec.get("gaps_s", [])):
            if i + 1 >= len(got):
                errors.append("gap %d: only %d requests" % (i, len(got)))
                continue
            gap = got[i + 1]["at"] - got[i]["at"]
            if not low <= gap <= high:
                errors.append("gap between requests %d and %d: %.3f s, expected %s..%s s" % (
                    i, i + 1, gap, low, high))
        if errors:
            raise Failure("receiver %s:\n  %s\n  requests:\n  %s" % (
                rcv.name, "\n  ".join(errors), summary))
        docs = [received(r) for r in got]
        for var, path in spec.get("save", {}).items():
            try:
                self.env[var] = dig(docs, path)
            except (KeyError, IndexError, TypeError, ValueError):
                raise Failure("save %s: no %s in the received requests" % (var, path))
        if spec.get("clear"):
            rcv.clear()

    def term_under_load(self, spec):
        """Clients send until the server stops; SIGTERM lands while they are busy, after_ms
        after the first whole answer. Every answer that arrives must be whole, and the server
        must exit 0."""
        ok, stop, lock, answered = [0], threading.Event(), threading.Lock(), threading.Event()

        def body(c, conn):
            i = 0
            while not stop.is_set() or i == 0:
                try:
                    req = subst(dict(spec["request"], headers=dict(
                        self.case.get("headers", {}), **spec["request"].get("headers", {}))),
                        dict(self.env, _c=c, _i=i))
                    status, _, raw = send(self.server.port, req, conn)
                except (ConnectionError, http.client.HTTPException, OSError):
                    return  # refused or closed after the stop: not an answer
                json.loads(raw)  # a cut body fails here
                if status == spec.get("refused_status"):
                    return  # arrived after the stop began: refused whole, nothing was done
                if status != spec.get("ok_status", 200):
                    raise Failure("status %s: %s" % (status, raw[:200]))
                with lock:
                    ok[0] += 1
                answered.set()
                i += 1
        errors = []
        load = threading.Thread(target=lambda: errors.extend(self.clients(spec, body)))
        load.start()
        answered.wait(15)  # a loaded machine may take a while to answer the first one
        time.sleep(spec.get("after_ms", 300) / 1000)
        code = self.server.stop(signal.SIGTERM, 20)
        stop.set()
        load.join(60)
        if code != 0 or errors or ok[0] == 0:
            raise Failure("exit %s, %d answers, errors: %s" % (code, ok[0], errors[:5]))
        print("term_under_load: %d whole answers before the stop, exit 0" % ok[0])
        if spec.get("save_count"):
            self.env[spec["save_count"]] = ok[0]

    def run(self):
        try:
            if self.case.get("start", True):
                self.start([])
            for n, step in enumerate(self.case["steps"], 1):
                try:
                    self.step(step)
                except Failure as e:
                    raise Failure("step %d%s: %s" % (
                        n, " (%s)" % step["comment"] if "comment" in step else "", e))
                self.passed += 1
            self.join_background()
            if self.server is not None and self.server.proc.poll() is None:
                # A clean stop at the end, so a sanitizer build reports leaks and bad exits.
                code = self.server.stop(signal.SIGTERM)
                if code != 0:
                    raise Failure("final SIGTERM: exit %s; output:\n%s" % (
                        code, "\n".join(self.server.lines)))
        finally:
            if self.server is not None and self.server.proc.poll() is None:
                self.server.proc.kill()
                self.server.proc.wait()
            for rcv in self.receivers.values():
                rcv.stop()
            for d in self.dirs:
                shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("case")
    opts = ap.parse_args()
    with open(opts.case) as f:
        case = json.load(f)
    runner = Runner(opts, case)
    total = len(case["steps"])
    try:
        runner.run()
    except Failure as e:
        print("FAIL %s: %s" % (case.get("name", opts.case), e))
        if runner.server is not None and runner.server.sanitizer:
            print("sanitizer report from the server:\n  " + "\n  ".join(runner.server.sanitizer))
        print("%d passed, 1 failed, %d not run" % (runner.passed, total - runner.passed - 1))
        return 1
    print("ok %s: %d passed, 0 failed" % (case.get("name", opts.case), runner.passed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
