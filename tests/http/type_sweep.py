#!/usr/bin/env python3
"""Black-box type-confusion sweep: every JSON route of every vendor, each known field replaced in
turn by a value of another JSON type, against the real understudy binary.

The server starts as run_case.py starts it (port 0, its own data directory, the port read from
the ready line). The routes come from GET /__admin/routes: RASL's POST/PUT/PATCH/DELETE routes
that take a JSON body (and its webhook listeners), Guayaba's POST/PUT routes, Convoso's routes
that read a flat JSON body, and the admin API's POST/PUT routes. Each route's base body is a
request the test cases (tests/http/cases/**/*.json) send to it; variables in them become
fixture values. Every field of the base body (members of nested objects and of the first item
of arrays included, as dotted paths) is replaced in turn by

    123, [1], {"a": 1}, null, true, 1e300 and 9e15

and the body itself by a non-object. Every answer must be

  - a 4xx, or a 2xx the vendor may give: null is an absent optional field; a wrong type is
    accepted only where the vendor's framework accepts it (Laravel's integer rule takes true;
    Convoso reads every flat value as text; the listeners take any payload; a batch lists a bad
    item among its failures in a 2xx), and a huge or fractional number where the base has an
    integer never is;
  - in the vendor's shape: RASL {"success":false,"error":{"code":...}}, Guayaba
    {"error","message"}, Convoso {"success":false,...} (Convoso answers its errors with 200),
    admin {"error":{...}}; a 2xx is JSON;
  - never a 5xx, a dropped connection or a timeout;

and GET /__admin/health must answer 200 after each route. The data is reset (POST
/__admin/reset, and active scenarios removed) before each route. A server that dies is
restarted so the sweep goes on; its last output is shown.

Prints one line per failure, then a summary with one line per route, field and kind of failure;
exits 1 when anything failed.
  type_sweep.py --emulator build/understudy --fixtures fixtures [--only PATTERN] [-v]
"""
import argparse
import copy
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
READY = re.compile(r"understudy ready on http://([\d.]+):(\d+)")
VAR = re.compile(r"\{(\w+)(:[^{}]*)?\}")
MUTATIONS = [("number", 123), ("array", [1]), ("object", {"a": 1}), ("null", None),
             ("true", True), ("1e300", 1e300), ("9e15", 9e15)]
BODY_MUTATIONS = [("body array", []), ("body number", 1), ("body string", "x"),
                  ("body null", None)]
CLOCK = "2026-01-01T00:00:00Z"


class Server:
    """The real binary on a free port with its own data directory."""

    def __init__(self, emulator, fixtures):
        self.data_dir = tempfile.mkdtemp(prefix="understudy-sweep-")
        self.lines = []
        cmd = [emulator, "--listen", "127.0.0.1:0", "--data-dir", self.data_dir,
               "--fixtures", fixtures, "--clock", CLOCK, "--log", "off"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace")
        ready = threading.Event()

        def drain():
            for line in self.proc.stdout:
                self.lines = (self.lines + [line.rstrip()])[-300:]
                m = READY.search(line)
                if m:
                    self.port = int(m.group(2))
                    ready.set()
        threading.Thread(target=drain, daemon=True).start()
        if not ready.wait(15):
            self.stop()
            sys.exit("type_sweep: no ready line within 15 s:\n" + "\n".join(self.lines))

    def died(self):
        """Whether the process ended, given a few seconds to finish a sanitizer report."""
        try:
            self.proc.wait(5)
            return True
        except subprocess.TimeoutExpired:
            return False

    def report(self):
        """The top of the crash report in the output: the error line and the first frames."""
        start = max([i for i, line in enumerate(self.lines)
                     if "ERROR:" in line or "runtime error" in line] or [0])
        head = [line for line in self.lines[start:] if "#" not in line][:2]
        frames = [line.strip() for line in self.lines[start:] if re.match(r"\s*#[0-5] ", line)]
        return "\n    ".join(head + frames[:6])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.proc.returncode


def exchange(port, method, path, body=..., headers=None, raw=None):
    """One request on a fresh connection: (status, parsed JSON or None, raw text), or raises
    OSError / HTTPException for a connection that ends without an answer. body ... sends none
    (None is the JSON null)."""
    headers = dict(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not ... else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    return resp.status, doc, text


def vendor_shape(vendor, path, status, doc):
    """Why the answer is not in the vendor's shape, or None."""
    if status >= 300:
        if path.startswith("/api/webhooks/"):  # a listener answers like the vendor's receiver
            ok = isinstance(doc, dict) and "error" in doc
            return None if ok else 'not {"error",...}'
        if vendor == "rasl":
            ok = (isinstance(doc, dict) and doc.get("success") is False and
                  isinstance(doc.get("error"), dict) and isinstance(doc["error"].get("code"), str))
            return None if ok else 'not {"success":false,"error":{"code":...}}'
        if vendor == "guayaba":
            ok = isinstance(doc, dict) and "error" in doc and "message" in doc
            return None if ok else 'not {"error","message"}'
        if vendor == "convoso":
            ok = isinstance(doc, dict) and doc.get("success") is False
            return None if ok else 'not {"success":false,...}'
        ok = isinstance(doc, dict) and isinstance(doc.get("error"), dict)
        return None if ok else 'not {"error":{...}}'
    if doc is None:
        return "a 2xx that is not JSON"
    if vendor == "rasl" and isinstance(doc, dict) and doc.get("success") is False:
        return "a 2xx with success false"
    return None


def kind(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return {str: "string", list: "array", dict: "object"}[type(value)]


# Members where a 2xx for another type is right: the route ignores the member, or the type
# sent is one the route takes too.
TAKES_ANY = {
    ("/api/v2/groups", "color"): "groups have no colour: the vendor ignores the member",
    ("/__admin/requests/count", "status"): "an HTTP status filter, as text or as a number",
}


def may_accept(vendor, path, where, base, label, value):
    """Whether a 2xx is a legitimate answer to base's field replaced by value."""
    if where and (path, where[0]) in TAKES_ANY and not (label in ("1e300", "9e15")
                                                         and where[0] == "status"):
        return True
    if value is None or vendor == "convoso" or path.startswith("/api/webhooks/"):
        return True  # an absent optional field; Convoso reads text; listeners take any payload
    if any(isinstance(p, int) for p in where):
        return True  # an item of a batch: the answer lists it among the failed ones
    have, got = kind(base), kind(value)
    if have == "integer":
        if label in ("1e300", "9e15"):
            return False  # huge or fractional where an integer is expected: always refused
        return got == "integer" or (got == "boolean" and value is True)
    if have == "number":
        return got in ("integer", "number") and label != "1e300"
    if have == "boolean":
        return got == "boolean"
    if have == "null":
        return True  # the base does not say what the field is
    return have == got


def fields(doc, prefix=()):
    """Dotted paths of every member: top level, nested objects, and arrays' first items."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append(prefix + (k,))
            if len(prefix) < 2:
                out += fields(v, prefix + (k,))
    elif isinstance(doc, list) and doc and len(prefix) < 2:
        out += fields(doc[0], prefix + (0,))
    return out


def get_at(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def set_at(doc, path, value):
    doc = copy.deepcopy(doc)
    at = doc
    for p in path[:-1]:
        at = at[p]
    at[path[-1]] = value
    return doc


def pattern_match(pattern, path):
    p, s = pattern.rstrip("/").split("/"), path.rstrip("/").split("/")
    if len(p) != len(s):
        return False
    return all(a == b or (a.startswith("{") and a.endswith("}") and b) for a, b in zip(p, s))


def fixture_values(fixtures):
    def first(name, key, tenant="demo"):
        try:
            with open(os.path.join(fixtures, name)) as f:
                return str(json.load(f)[tenant][0][key])
        except (OSError, ValueError, KeyError, IndexError):
            return "1"
    return {"gua_contact": first("guayaba/contacts.json", "id"),
            "listener": first("rasl/listeners.json", "uuid")}


def concrete(pattern, vendor, fx):
    """The route's path with each {name} given a value that exists in the fixtures."""
    def one(m):
        name = m.group(1)
        if vendor == "guayaba":
            return fx["gua_contact"]
        if name == "uuid":
            return fx["listener"]
        if vendor == "admin":
            return "demo" if name == "id" else "sweep"
        return "1"
    return re.sub(r"\{(\w+)\}", one, pattern)


def unvar(value):
    """Replaces {var} in every string of value by "1" (saved values of a case are not known)."""
    if isinstance(value, str):
        return VAR.sub("1", value)
    if isinstance(value, list):
        return [unvar(v) for v in value]
    if isinstance(value, dict):
        return {k: unvar(v) for k, v in value.items()}
    return value


def case_requests():
    """(method, path, query, JSON body, expected status) of every request in the cases."""
    for file in sorted(glob.glob(os.path.join(HERE, "cases", "**", "*.json"), recursive=True)):
        with open(file) as f:
            case = json.load(f)
        steps = list(case.get("steps", []))
        while steps:
            step = steps.pop(0)
            if "twin" in step:
                steps += step["twin"].get("requests", [])
            req = step.get("request")
            if not req or "path" not in req:
                continue
            path, _, query = req["path"].partition("?")
            body = req.get("json")
            if body is None and "body" in req:
                try:
                    body = json.loads(req["body"])
                except (ValueError, RecursionError):  # the cases send broken and deep bodies
                    body = None
            status = step.get("expect", {}).get("status", 200)
            status = status if isinstance(status, int) else 0  # a matcher: not known good
            clean = "{" not in json.dumps(body) and "{" not in path
            yield req.get("method", "GET"), path, query, body, status, clean


def base_body(route, requests):
    """The best base body the cases send to route: a clean 2xx one if any, with the most
    fields."""
    method, pattern, vendor = route["method"], route["path"], route["vendor"]
    best = None
    for m, path, query, body, status, clean in requests:
        if m != method or not pattern_match(pattern, path):
            continue
        if body is None and vendor == "convoso" and query:  # Convoso: the query as flat JSON
            body = {k: v for k, _, v in (p.partition("=") for p in query.split("&"))
                    if k and k != "auth_token"}
        if not isinstance(body, dict) or not body:
            continue
        score = ((200 <= status < 300) * 2 + clean, len(fields(body)))  # then the richest
        if best is None or score > best[0]:
            best = (score, unvar(body))
    return best[1] if best else None


def sweeps(route):
    vendor, method, path = route["vendor"], route["method"], route["path"]
    if vendor == "rasl":
        return method in ("POST", "PUT", "PATCH", "DELETE")
    if vendor == "guayaba":
        return method in ("POST", "PUT")
    if vendor == "convoso":
        return method == "POST"
    return method in ("POST", "PUT") and path.startswith("/__admin")


def credentials(vendor, path):
    if path.startswith("/api/webhooks/"):
        return {"X-Webhook-Secret": "demo-listener-secret"}, ""  # the first listener's
    if vendor == "rasl":
        return {"Authorization": "Bearer wm_demo_unlimited"}, ""
    if vendor == "guayaba":
        return {"X-API-Key": "gua_demo0001_key"}, ""
    if vendor == "convoso":
        return {}, "auth_token=cv_demo_token"
    return {}, ""


class Sweep:
    def __init__(self, opts):
        self.opts = opts
        self.server = Server(opts.emulator, opts.fixtures)
        self.failures, self.sent, self.accepted = [], 0, []

    def restart(self, why, label=""):
        self.fail(why, label, "the server died", ":\n    " + self.server.report())
        self.server.stop()
        self.server = Server(self.opts.emulator, self.opts.fixtures)

    def fail(self, key, label, kind, detail=""):
        """Records one failure: key names the route and field, label the value sent."""
        self.failures.append((key, kind, label))
        print("FAIL %s%s: %s%s" % (key, "=" + label if label else "", kind, detail), flush=True)

    def prepare(self):
        for method, path in (("DELETE", "/__admin/scenarios"), ("POST", "/__admin/reset")):
            try:
                exchange(self.server.port, method, path)
            except (OSError, http.client.HTTPException):
                pass

    def one(self, route, target, headers, base, label, where, body, value):
        vendor = route["vendor"]
        what = "%s %s %s" % (route["method"], route["path"], ".".join(map(str, where)) or "body")
        self.sent += 1
        try:
            status, doc, text = exchange(self.server.port, route["method"], target, body, headers)
        except (OSError, http.client.HTTPException) as e:
            self.fail(what, label, "no answer", " (%s)" % e.__class__.__name__)
            if self.server.died():
                self.restart(what, label)
                self.prepare()
            return
        if self.opts.verbose:
            print("  %s -> %d %s" % (what, status, text[:120]))
        if status >= 500 or status < 200 or 300 <= status < 400:
            self.fail(what, label, "status %d" % status, " " + text[:200])
            return
        why = vendor_shape(vendor, route["path"], status, doc)
        if why:
            self.fail(what, label, "%d %s" % (status, why), ": " + text[:200])
        elif status < 300 and base is not ... and not (
                vendor == "convoso" and isinstance(doc, dict) and doc.get("success") is False):
            if may_accept(vendor, route["path"], where, base, label, value):
                self.accepted.append(what)
            else:
                self.fail(what, label, "%d: a wrong type accepted" % status, " " + text[:200])

    def route(self, route, base):
        headers, auth = credentials(route["vendor"], route["path"])
        path = concrete(route["path"], route["vendor"], self.fx)
        target = path + ("?" + auth if auth else "")
        self.prepare()
        for label, value in BODY_MUTATIONS:
            self.one(route, target, headers, ..., label, (), value, value)
        for where in fields(base):
            for label, value in MUTATIONS:
                self.one(route, target, headers, get_at(base, where), label, where,
                         set_at(base, where, value), value)
        try:
            status, _, _ = exchange(self.server.port, "GET", "/__admin/health")
        except (OSError, http.client.HTTPException):
            status = 0
        if status != 200:
            self.fail("GET /__admin/health after %s %s" % (route["method"], route["path"]), "",
                      "status %s" % status if status else "no answer")
            if self.server.died():
                self.restart("after " + route["path"])

    def run(self):
        self.fx = fixture_values(self.opts.fixtures)
        _, doc, _ = exchange(self.server.port, "GET", "/__admin/routes")
        requests = list(case_requests())
        swept, skipped = 0, []
        for route in doc["routes"]:
            if not sweeps(route) or (self.opts.only and self.opts.only not in route["path"]):
                continue
            base = base_body(route, requests)
            if base is None:
                skipped.append("%s %s" % (route["method"], route["path"]))
                continue
            swept += 1
            print("sweep %s %s (%d fields)" % (route["method"], route["path"], len(fields(base))),
                  flush=True)
            self.route(route, base)
        code = self.server.stop()
        if code != 0:
            self.fail("SIGTERM at the end", "", "the server exited %s" % code)
        print("\n%d routes swept, %d requests, %d failures; %d answers accepted a value (2xx)"
              % (swept, self.sent, len(self.failures), len(self.accepted)))
        if skipped:
            print("no JSON body in the cases for: " + ", ".join(skipped))
        groups = {}
        for key, kind, label in self.failures:  # one line per route, field and kind of failure
            groups.setdefault((key, kind), []).append(label)
        for (key, kind), labels in groups.items():
            values = ", ".join(label for label in labels if label)
            print("FAIL %s: %s%s" % (key, kind, " (" + values + ")" if values else ""))
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only", help="sweep only routes whose pattern contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    sweep = Sweep(ap.parse_args())
    try:
        code = sweep.run()
    finally:  # whatever went wrong here, the server does not outlive the sweep
        sweep.server.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
