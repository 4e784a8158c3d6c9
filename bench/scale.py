#!/usr/bin/env python3
"""The scale run: how understudy's operations cost as one tenant grows (Python 3 stdlib only).

  bench/scale.py [--bin PATH] [--sizes 1000,10000,100000] [--out bench/results-scale.md]
  bench/scale.py gen --size N DIR      only write a generated fixture set into DIR

For each size N it writes a fixture set whose tenant "demo" holds N Guayaba contacts, N RASL
contacts and N custom Convoso statuses (beside the built-in fixtures of every other table and
tenant; the RASL plan's contact limit is raised so creates go on past it), then:

  A. starts `understudy --fixtures DIR --data-dir D` on a fresh D: exec to the first 200 of
     GET /__admin/ready is the cold start (the store seeded with N rows per table); then
     POST /__admin/reset (which reseeds those rows), and the RSS of this process, which holds
     the fixture set in memory;
  B. restarts on the same D without --fixtures (the store is kept, nothing is seeded): the warm
     start; then, from one client on one keep-alive connection, every operation below, a
     snapshot save and restore, and the RSS (VmRSS, VmHWM, RssAnon, RssFile of /proc/PID/status).

Each operation runs at most SCALE_SAMPLES requests (100) or SCALE_OP_SECONDS (3 s), whichever
ends first (the slow ones their own smaller counts), at least one; a request that takes longer
than SCALE_TIMEOUT_S (30 s) ends the operation and counts as a MISS. Once a size has used
SCALE_SIZE_SECONDS (300 s) from the start of its fixture generation, the operations left are
skipped (SKIP), so a very slow store still finishes in bounded time. An answer with another
status than the operation expects fails it (ERR). Once per run, before the sizes, reset is timed
at fixture size (the built-in fixtures). The server runs with its defaults: the text request log
on (to a file), the journal on.

Prints p50/p99 per operation per size, the growth of p50 from one size to the next, PASS/MISS
against the targets (judged on p50), and writes the tables to --out (bench/results-scale.md).
Environment: BENCH_SIZES (comma-separated sizes), UNDERSTUDY (binary), SCALE_SAMPLES,
SCALE_OP_SECONDS, SCALE_TIMEOUT_S, SCALE_START_RUNS (3), SCALE_OPS (comma-separated operation
names or prefixes: only those run, e.g. "rasl.,guayaba.list").
"""
import argparse
import datetime
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench  # noqa: E402  (freeport, health_status)

TENANT = "demo"
GUAYABA_KEY = "gua_demo0002_key"  # unlimited
RASL_TOKEN = "wm_demo_unlimited"  # every scope, no rate limit
CONVOSO_TOKEN = "cv_demo_token"  # no rate limit
GUAYABA_PAGE = 25  # Guayaba's default limit
RASL_PAGE = 15  # RASL's default per_page
CAMPAIGNS = ["550e8400-e29b-41d4-a716-446655440000", "a96d7dfa-af50-59e0-b007-5c41ed680f21",
             "eeb4119e-a231-5a8e-b828-22509fd1135f", "fdcbdb14-25d2-574c-b559-ee7f60b13309"]
BASE_EPOCH = 1735689600  # 2025-01-01T00:00:00Z: generated rows are older than the fixtures'
MIB = 1024.0


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


def env_float(name, default):
    v = os.environ.get(name, "")
    return float(v) if v.strip() else default


# ---- the fixture generator -------------------------------------------------------------------

def instant(i, ms):
    t = datetime.datetime.fromtimestamp(BASE_EPOCH + i, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if ms else "+00:00")


def guayaba_id(i):
    return "00000000-0000-4000-8000-%012d" % i


def gen_phone(prefix, i):
    return "+1%d%09d" % (prefix, i)


def convoso_code(i, lead="B"):
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    s = ""
    while True:
        s = digits[i % 36] + s
        i //= 36
        if i == 0:
            break
    return lead + s.rjust(5, "0")


def guayaba_row(i):
    return {"id": guayaba_id(i), "name": "Bench Contact %d" % i, "phoneNumber": gen_phone(8, i),
            "timezone": "America/New_York", "status": ("active", "paused", "active")[i % 3],
            "customVariables": {"n": str(i)}, "campaignId": CAMPAIGNS[i % 4],
            "createdAt": instant(i, True), "updatedAt": instant(i, True), "fulfilledAt": None,
            "reAddedAt": None, "deletedAt": None}


def rasl_row(rid, i):
    return {"id": rid, "firstname": "Bench%d" % i, "lastname": "Contact", "company": "Bench Co",
            "type": ("lead", "customer", "guest")[i % 3], "email": "c%d@bench.example" % i,
            "phone": gen_phone(8, i), "status_id": 1 + i % 8, "source_id": 1 + i % 9,
            "description": None, "city": "Riyadh", "state": None, "zip": None, "address": None,
            "country_id": None, "assigned_id": None, "group_id": [1 + i % 3] if i % 5 == 0 else [],
            "is_opted_out": False, "created_at": instant(i, False), "updated_at": instant(i, False)}


def convoso_row(i):
    return {"status": convoso_code(i), "name": "Bench Status %d" % i, "final": "N",
            "reached": "N", "success": "N", "dnc": "N", "callback": "Y", "contact": "N",
            "voicemail": "N", "workflow_disposition_event_option": "none", "custom_status": True,
            "hex_color": "#FFAA00"}


def write_table(path, doc, tenant, rows):
    """doc with doc[tenant] = rows, written compactly, row by row (rows is an iterator)."""
    with open(path, "w") as f:
        f.write("{")
        first = True
        for t, v in doc.items():
            if t == tenant:
                continue
            f.write("%s%s:%s" % ("" if first else ",", json.dumps(t), json.dumps(v)))
            first = False
        f.write("%s%s:[" % ("" if first else ",", json.dumps(tenant)))
        for n, row in enumerate(rows):
            f.write(("," if n else "") + json.dumps(row, separators=(",", ":")))
        f.write("]}")


class Dataset:
    """What a generated set holds, for the requests: which ids and phones exist."""

    def __init__(self, size):
        self.size = size
        self.guayaba_fixture = 0  # built-in rows kept ahead of the generated ones
        self.guayaba_gen = 0
        self.guayaba_live = 0  # built-in rows that are not deleted
        self.rasl_first_id = 0  # generated RASL ids are rasl_first_id .. rasl_first_id+gen-1
        self.rasl_gen = 0
        self.convoso_gen = size


def generate(size, out):
    """Writes the fixture set for size into out; returns its Dataset."""
    src = os.path.join(ROOT, "fixtures")
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(src, out)
    ds = Dataset(size)

    path = os.path.join(out, "guayaba", "contacts.json")
    doc = json.load(open(path))
    kept = doc.get(TENANT, [])
    taken = {r["phoneNumber"] for r in kept}
    ds.guayaba_fixture = len(kept)
    ds.guayaba_live = sum(1 for r in kept if r.get("deletedAt") is None)
    ds.guayaba_gen = max(0, size - len(kept))
    assert not any(gen_phone(8, i) in taken for i in range(ds.guayaba_gen))
    write_table(path, doc, TENANT,
                (r for part in (kept, (guayaba_row(i) for i in range(ds.guayaba_gen)))
                 for r in part))

    path = os.path.join(out, "rasl", "contacts.json")
    doc = json.load(open(path))
    kept = doc.get(TENANT, [])
    ds.rasl_first_id = max([r["id"] for r in kept] + [0]) + 1
    ds.rasl_gen = max(0, size - len(kept))
    write_table(path, doc, TENANT,
                (r for part in (kept, (rasl_row(ds.rasl_first_id + i, i)
                                       for i in range(ds.rasl_gen))) for r in part))

    path = os.path.join(out, "rasl", "account.json")
    doc = json.load(open(path))
    for acc in doc.get(TENANT, []):
        acc.setdefault("limits", {})["contacts"] = 1000000000  # creates go on past N
    json.dump(doc, open(path, "w"), indent=1)

    path = os.path.join(out, "convoso", "statuses.json")
    doc = json.load(open(path))
    kept = doc.get(TENANT, [])
    write_table(path, doc, TENANT,
                (r for part in (kept, (convoso_row(i) for i in range(size))) for r in part))
    return ds


# ---- the server -----------------------------------------------------------------------------

def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


class Server:
    def __init__(self, binary, args, workdir, name):
        self.port = bench.freeport()
        self.log = open(os.path.join(workdir, name + ".log"), "wb")
        self.err = open(os.path.join(workdir, name + ".err"), "w+b")
        # A store of 100,000 contacts per vendor, its seed image and a few snapshots need more
        # than the default 1 GiB map (sparse: only what is written takes disk).
        argv = [binary] + args + ["--listen", "127.0.0.1:%d" % self.port,
                                  "--map-size", os.environ.get("SCALE_MAP_SIZE", "8589934592")]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.err)
        self.ready_ms = None

    def wait_ready(self, timeout):
        deadline = self.t0 + timeout
        while time.perf_counter() < deadline:
            if bench.health_status(self.port, "/__admin/ready") == 200:
                self.ready_ms = (time.perf_counter() - self.t0) * 1e3
                return self.ready_ms
            if self.proc.poll() is not None:
                break
            time.sleep(0.0005)
        self.err.seek(0)
        tail = self.err.read().decode(errors="replace")[-1500:]
        self.stop()
        raise RuntimeError("understudy not ready after %.0f s (exit %s): %s"
                           % (timeout, self.proc.returncode, tail))

    def status(self):
        return proc_status(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.err.close()


# ---- the client -----------------------------------------------------------------------------

class Client:
    def __init__(self, port, timeout):
        self.port, self.timeout = port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, body bytes, seconds); raises socket.timeout past the timeout."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body, separators=(",", ":"))
            hdrs["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        except Exception:
            self.close()
            raise
        dt = time.perf_counter() - t0
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return r.status, data, dt

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Result:
    def __init__(self, name):
        self.name = name
        self.times = []  # seconds
        self.error = ""  # "timeout after ...", "status 429 ..."
        self.note = ""

    def p(self, q):
        if not self.times:
            return None
        s = sorted(self.times)  # nearest rank: the p99 of 100 samples is the 99th
        return s[min(len(s) - 1, max(0, math.ceil(q / 100.0 * len(s)) - 1))]


def run_op(client, name, make, expect, samples, seconds, check=None):
    """Sends make(i) (method, path, body, headers) until samples or seconds are used up."""
    res = Result(name)
    start = time.perf_counter()
    i = 0
    while i < samples and (i == 0 or time.perf_counter() - start < seconds):
        method, path, body, headers = make(i)
        try:
            status, data, dt = client.request(method, path, body, headers)
        except (socket.timeout, TimeoutError):
            res.error = "timeout: one request took over %.0f s" % client.timeout
            break
        except (OSError, http.client.HTTPException) as e:
            res.error = "%s: %s" % (type(e).__name__, e)
            break
        if status != expect:
            res.error = "status %d (expected %d): %s" % (status, expect, data[:160].decode(
                errors="replace"))
            break
        if check is not None:
            why = check(data)
            if why:
                res.error = "bad answer: %s" % why
                break
        res.times.append(dt)
        i += 1
    return res


# ---- the operations -------------------------------------------------------------------------

def G(method, path, body=None):
    return (method, path, body, {"X-API-Key": GUAYABA_KEY})


def R(method, path, body=None):
    return (method, path, body, {"Authorization": "Bearer " + RASL_TOKEN})


def A(method, path):
    return (method, path, None, {})


def want(fragment):
    frag = fragment.encode()

    def check(data):
        return None if frag in data else "no %r in %r" % (fragment, data[:120])
    return check


def total_is(n, member="total"):
    def check(data):
        try:
            doc = json.loads(data)
        except ValueError:
            return "not JSON"
        stack = [doc]
        while stack:
            d = stack.pop()
            if isinstance(d, dict):
                if member in d and not isinstance(d[member], (dict, list)):
                    return None if d[member] == n else "%s is %r, not %d" % (member, d[member], n)
                stack.extend(d.values())
        return "no %s" % member
    return check


CONVOSO_FLAGS = "final=N&reached=N&success=N&dnc=N&callback=N&contact=N&voicemail=N"

# (name, what it measures, target kind, target value): the kinds are
#   ms        p50 under value ms
#   us_row    p50 / rows scanned under value µs
TARGETS = {
    "guayaba.list": ("ms", 2), "rasl.list": ("ms", 2),
    "convoso.search": ("us_row", 2),
    "guayaba.list_middle": ("ms", 5), "rasl.list_middle": ("ms", 5),
    "rasl.get": ("ms", 1), "guayaba.by_phone": ("ms", 1),
    "guayaba.create": ("ms", 1), "rasl.create": ("ms", 1), "convoso.insert": ("ms", 1),
    "guayaba.update": ("ms", 1), "guayaba.update_by_phone": ("ms", 1), "rasl.update": ("ms", 1),
    "rasl.delete": ("ms", 1),
    "rasl.search": ("us_row", 2), "convoso.search_one": ("us_row", 2),
    "rasl.batch_1000": ("ms", 1000),
    "admin.snapshot_save": ("ms", 1000), "admin.snapshot_restore": ("ms", 1000),
    "admin.reset": ("ms", 1000), "start.cold": ("ms", 1000), "start.warm": ("ms", 1000),
    "admin.reset_fixtures": ("ms", 10),
}

DESCRIBE = {
    "client.floor": "GET /__admin/health (the client's own cost)",
    "guayaba.list": "Guayaba GET /contacts (default page, 25)",
    "guayaba.list_middle": "Guayaba GET /contacts?page=<middle>",
    "guayaba.by_phone": "Guayaba GET /contacts?search=<phone>&searchBy=phone",
    "guayaba.create": "Guayaba POST /contacts (new phone)",
    "guayaba.update": "Guayaba PUT /contacts/{id}",
    "guayaba.update_by_phone": "Guayaba POST /contacts/update (by phone)",
    "rasl.list": "RASL GET /api/v2/contacts (default page, 15)",
    "rasl.list_middle": "RASL GET /api/v2/contacts?page=<middle>",
    "rasl.get": "RASL GET /api/v2/contacts/{id}",
    "rasl.search": "RASL GET /api/v2/contacts?search=<no match> (unindexed)",
    "rasl.create": "RASL POST /api/v2/contacts",
    "rasl.update": "RASL PATCH /api/v2/contacts/{id}",
    "rasl.delete": "RASL DELETE /api/v2/contacts/{id}",
    "rasl.batch_1000": "RASL POST /api/v2/contacts/batch (1,000 items)",
    "convoso.search": "Convoso /v1/status/search (every status: no paging)",
    "convoso.search_one": "Convoso /v1/status/search?query=<one code> (scan)",
    "convoso.insert": "Convoso /v1/status/insert (new code)",
    "admin.snapshot_save": "POST /__admin/snapshots/{name}",
    "admin.snapshot_restore": "POST /__admin/snapshots/{name}/restore",
    "admin.reset": "POST /__admin/reset (reseeds N rows per table)",
    "admin.reset_fixtures": "POST /__admin/reset at fixture size (built-in fixtures)",
    "start.cold": "exec to first 200 of /__admin/ready, seeding N from fixtures",
    "start.warm": "exec to first 200 of /__admin/ready, store kept (no seeding)",
}


def selected(name):
    want_ops = [s.strip() for s in os.environ.get("SCALE_OPS", "").split(",") if s.strip()]
    return not want_ops or any(name.startswith(w) for w in want_ops)


def client_ops(ds, run_id):
    """The operations against server B, in order: reads, then writes, then the heavy ones.
    Each is (name, make(i), expected status, samples, seconds, check)."""
    n = ds.size
    rng = random.Random(n)
    gmid = max(1, n // 2 // GUAYABA_PAGE)
    rmid = max(1, n // 2 // RASL_PAGE)
    g_pick = [rng.randrange(max(1, ds.guayaba_gen)) for _ in range(1000)]
    # gets, updates and deletes use disjoint RASL ids: gets and updates the lower half,
    # deletes from the top down
    r_low = [ds.rasl_first_id + rng.randrange(max(1, ds.rasl_gen // 2)) for _ in range(1000)]
    c_pick = [rng.randrange(n) for _ in range(1000)]
    S = env_int("SCALE_SAMPLES", 100)
    T = env_float("SCALE_OP_SECONDS", 3.0)
    tag = run_id % 1000
    batch_base = [0]

    def batch(i):
        b = batch_base[0] + i
        items = [{"firstname": "Batch%d" % j, "lastname": "Item", "type": "lead",
                  "phone": "+17%03d%03d%05d" % (tag, b, j), "source_id": 1, "status_id": 1,
                  "email": "b%d.%d.%d@bench.example" % (tag, b, j)} for j in range(1000)]
        return R("POST", "/api/v2/contacts/batch", {"contacts": items})

    return [
        ("client.floor", lambda i: A("GET", "/__admin/health"), 200, S, T, None),
        ("guayaba.list", lambda i: G("GET", "/contacts"), 200, S, T,
         total_is(ds.guayaba_live + ds.guayaba_gen)),
        ("guayaba.list_middle", lambda i: G("GET", "/contacts?page=%d" % gmid), 200, S, T,
         want('"phoneNumber"')),
        ("guayaba.by_phone", lambda i: G("GET", "/contacts?search=%%2B%s&searchBy=phone"
                                         % gen_phone(8, g_pick[i % 1000])[1:]), 200, S, T,
         total_is(1)),
        ("rasl.list", lambda i: R("GET", "/api/v2/contacts"), 200, S, T, total_is(n)),
        ("rasl.list_middle", lambda i: R("GET", "/api/v2/contacts?page=%d" % rmid), 200, S, T,
         want('"phone"')),
        ("rasl.get", lambda i: R("GET", "/api/v2/contacts/%d" % r_low[i % 1000]), 200, S, T,
         want('"phone"')),
        ("rasl.search", lambda i: R("GET", "/api/v2/contacts?search=zq%dxnomatch" % i), 200, S, T,
         total_is(0)),
        ("convoso.search", lambda i: A("GET", "/v1/status/search?auth_token=" + CONVOSO_TOKEN),
         200, S, T, want('"success":true')),
        ("convoso.search_one", lambda i: A("GET", "/v1/status/search?auth_token=%s&query=%s"
                                           % (CONVOSO_TOKEN, convoso_code(c_pick[i % 1000]))),
         200, S, T, want('"success":true')),
        ("guayaba.create", lambda i: G("POST", "/contacts", {
            "phoneNumber": "+19%03d%06d" % (tag, i), "campaignId": CAMPAIGNS[i % 4],
            "name": "Created %d" % i, "customVariables": {"email": "g%d@bench.example" % i}}),
         201, S, T, None),
        ("guayaba.update", lambda i: G("PUT", "/contacts/%s" % guayaba_id(g_pick[i % 1000]),
                                       {"name": "Renamed %d" % i}), 200, S, T, None),
        ("guayaba.update_by_phone", lambda i: G("POST", "/contacts/update", {
            "phone": gen_phone(8, g_pick[i % 1000]), "status": ("paused", "active")[i % 2]}),
         200, S, T, None),
        ("rasl.create", lambda i: R("POST", "/api/v2/contacts", {
            "firstname": "Created", "lastname": "C%d" % i, "phone": "+19%03d%06d" % (tag, i),
            "type": "lead", "source_id": 1, "status_id": 1,
            "email": "created%d.%d@bench.example" % (tag, i)}), 201, S, T, None),
        ("rasl.update", lambda i: R("PATCH", "/api/v2/contacts/%d" % r_low[i % 1000],
                                    {"city": "City %d" % i}), 200, S, T, None),
        ("rasl.delete", lambda i: R("DELETE", "/api/v2/contacts/%d"
                                    % (ds.rasl_first_id + ds.rasl_gen - 1 - i)), 200,
         min(S, max(1, ds.rasl_gen // 4)), T, None),
        ("convoso.insert", lambda i: A("GET", "/v1/status/insert?auth_token=%s&status=%s"
                                       "&name=Bench%%20%d&%s" % (CONVOSO_TOKEN, convoso_code(
                                           (tag % 500) * 100000 + i, "Z"), i, CONVOSO_FLAGS)),
         200, S, T, want('"success":true')),
        ("rasl.batch_1000", batch, 200, 3, 2 * T, want('"success":true')),
        ("admin.snapshot_save", lambda i: A("POST", "/__admin/snapshots/bench"), 201, 3, 2 * T,
         None),
        ("admin.snapshot_restore", lambda i: A("POST", "/__admin/snapshots/bench/restore"), 200,
         3, 2 * T, None),
    ]


# ---- one size -------------------------------------------------------------------------------

def timed_starts(binary, args_of, runs, budget, work, name, keep_last):
    """Starts the server runs times (each on args_of(r)), timing exec to ready; returns
    (Result, last server still running when keep_last)."""
    res = Result(name)
    start = time.perf_counter()
    last = None
    timeout = env_float("SCALE_TIMEOUT_S", 30.0) * 4
    for r in range(runs):
        srv = Server(binary, args_of(r), work, "%s-%d" % (name, r))
        try:
            ms = srv.wait_ready(timeout)
        except RuntimeError as e:
            res.error = str(e)[:300]
            return res, None
        res.times.append(ms / 1e3)
        final = r == runs - 1 or time.perf_counter() - start > budget
        if final and keep_last:
            last = srv
        else:
            srv.stop()
        if final:
            break
    return res, last


def measure_size(binary, size, work, run_id, log):
    out = {"size": size, "results": {}, "rss": {}}
    gen_dir = os.path.join(work, "fixtures-%d" % size)
    data = os.path.join(work, "data-%d" % size)
    t0 = time.perf_counter()
    ds = generate(size, gen_dir)
    fx_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(gen_dir)
                   for f in fs)
    out["gen_s"] = time.perf_counter() - t0
    out["fixture_mib"] = fx_bytes / MIB / MIB
    log("size %d: fixtures generated in %.1f s (%.1f MiB)" % (size, out["gen_s"],
                                                              out["fixture_mib"]))
    runs = env_int("SCALE_START_RUNS", 3)
    T = env_float("SCALE_OP_SECONDS", 3.0)
    budget = env_float("SCALE_SIZE_SECONDS", 300.0)

    def over(name):
        """A skipped Result when the size's time is used up, else None."""
        if time.perf_counter() - t0 <= budget:
            return None
        res = Result(name)
        res.error = "skipped: the size had used its %.0f s (SCALE_SIZE_SECONDS)" % budget
        return res

    timeout = env_float("SCALE_TIMEOUT_S", 30.0)

    # A: cold starts, each on a fresh data directory; the last one stays up for reset
    def cold_args(r):
        d = "%s-cold%d" % (data, r)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return ["--fixtures", gen_dir, "--data-dir", d]

    res, srv = timed_starts(binary, cold_args, runs, 4 * T, work, "start.cold", True)
    out["results"]["start.cold"] = res
    log("  start.cold: %s" % fmt_res(res))
    if srv is None:
        return out
    cold_dir = srv.proc.args[srv.proc.args.index("--data-dir") + 1]
    out["rss"]["A.ready"] = srv.status()
    # Blocks, not lengths: the data file is as long as the map and sparse.
    out["store_mib"] = sum(os.stat(os.path.join(cold_dir, f)).st_blocks * 512
                           for f in os.listdir(cold_dir)) / MIB / MIB
    cl = Client(srv.port, timeout)
    if selected("admin.reset"):
        res = over("admin.reset") or run_op(
            cl, "admin.reset", lambda i: A("POST", "/__admin/reset"), 200, 3, 2 * T)
        out["results"]["admin.reset"] = res
        log("  admin.reset: %s" % fmt_res(res))
    cl.close()
    out["rss"]["A.end"] = srv.status()
    srv.stop()
    for d in os.listdir(work):
        p = os.path.join(work, d)
        if d.startswith("data-%d-cold" % size) and p != cold_dir:
            shutil.rmtree(p, ignore_errors=True)
    os.rename(cold_dir, data)

    # B: warm starts on the seeded store, without --fixtures; the last one serves the client
    res, srv = timed_starts(binary, lambda r: ["--data-dir", data], runs, 4 * T, work,
                            "start.warm", True)
    out["results"]["start.warm"] = res
    log("  start.warm: %s" % fmt_res(res))
    if srv is None:
        return out
    time.sleep(0.2)
    out["rss"]["B.ready"] = srv.status()
    cl = Client(srv.port, timeout)
    try:
        for name, make, expect, samples, seconds, check in client_ops(ds, run_id):
            if name != "client.floor" and not selected(name):
                continue
            if srv.proc.poll() is not None:
                out["results"][name] = Result(name)
                out["results"][name].error = "the server exited (%s)" % srv.proc.returncode
                continue
            res = over(name) or run_op(cl, name, make, expect, samples, seconds, check)
            out["results"][name] = res
            out["rss"]["B.max_after_" + name] = srv.status()
            log("  %s: %s" % (name, fmt_res(res)))
            if res.error and "timeout" in res.error:
                cl.close()  # a fresh connection; the server may still be busy with the old one
    finally:
        cl.close()
        out["rss"]["B.end"] = srv.status()
        srv.stop()
    # the high-water mark over server B's run: VmHWM at its end
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(gen_dir, ignore_errors=True)
    return out


def reset_at_fixture_size(binary, work, log):
    srv = Server(binary, [], work, "fixture-size")
    srv.wait_ready(30)
    cl = Client(srv.port, env_float("SCALE_TIMEOUT_S", 30.0))
    res = run_op(cl, "admin.reset_fixtures", lambda i: A("POST", "/__admin/reset"), 200,
                 env_int("SCALE_SAMPLES", 100), env_float("SCALE_OP_SECONDS", 3.0))
    cl.close()
    srv.stop()
    log("fixture size: admin.reset %s" % fmt_res(res))
    return res


# ---- report ---------------------------------------------------------------------------------

def ms(v):
    if v is None:
        return "-"
    v *= 1e3
    return "%.3f" % v if v < 1 else "%.2f" % v if v < 100 else "%.0f" % v


def fmt_res(res):
    if not res.times:
        return "no sample: " + res.error
    return "p50 %s ms, p99 %s ms, n=%d%s" % (ms(res.p(50)), ms(res.p(99)), len(res.times),
                                             (" (" + res.error + ")") if res.error else "")


def rows_scanned(name, size):
    return size  # every one of these scans (or answers) the tenant's N rows


def verdict(name, res, size):
    if name not in TARGETS:
        return ""
    if res is None:
        return ""
    if res.error.startswith("skipped"):
        return "SKIP"
    if not res.times:
        return "MISS" if "timeout" in res.error else "ERR"
    kind, value = TARGETS[name]
    p50 = res.p(50)
    if kind == "ms":
        ok = p50 * 1e3 < value
    else:
        ok = p50 * 1e6 / max(1, rows_scanned(name, size)) <= value
    if res.error and "timeout" in res.error:
        ok = False
    elif res.error:
        return "ERR"
    return "PASS" if ok else "MISS"


def target_text(name):
    if name not in TARGETS:
        return ""
    kind, value = TARGETS[name]
    return "< %g ms" % value if kind == "ms" else "<= %g us/row" % value


def report(runs, fixture_reset, meta):
    sizes = [r["size"] for r in runs]
    names = []
    for r in runs:
        for n in r["results"]:
            if n not in names:
                names.append(n)
    order = ["start.cold", "start.warm", "client.floor"] + [
        n for n, *_ in client_ops(Dataset(1), 0) if n != "client.floor"] + ["admin.reset"]
    names = [n for n in order if n in names] + [n for n in names if n not in order]
    L = []
    L.append("# understudy scale run")
    L.append("")
    L.append(meta)
    L.append("")
    L.append("p50 / p99 in ms from one client on one keep-alive connection (n = samples); "
             "growth = p50 at this size / p50 at the size before; the verdict compares p50 "
             "with the target (targets are for 100,000 contacts; us/row = p50 / N). Guayaba "
             "has no delete route (the vendor deletes in its dashboard), so deletes are RASL's; "
             "Convoso's search has no paging, so its list is every status and is judged per row.")
    L.append("")
    head = "| operation | target |"
    sep = "|---|---|"
    for i, s in enumerate(sizes):
        head += " %s p50 / p99 (n) |" % "{:,}".format(s)
        sep += "---:|"
        if i:
            head += " growth |"
            sep += "---:|"
    for s in sizes:
        head += " %s |" % "{:,}".format(s)
        sep += ":-:|"
    L.append(head)
    L.append(sep)
    for name in names:
        row = "| %s | %s |" % (DESCRIBE.get(name, name), target_text(name))
        prev = None
        for i, r in enumerate(runs):
            res = r["results"].get(name)
            if res is None or not res.times:
                cell = "-" if res is None else ("timeout" if "timeout" in res.error else
                                                "skipped" if res.error.startswith("skipped")
                                                else "error")
            else:
                cell = "%s / %s (%d)" % (ms(res.p(50)), ms(res.p(99)), len(res.times))
                if TARGETS.get(name, ("", 0))[0] == "us_row":
                    cell += " %.2f us/row" % (res.p(50) * 1e6 / r["size"])
            row += " %s |" % cell
            if i:
                g = "-"
                if prev is not None and res is not None and res.times and prev.times:
                    g = "x%.1f" % (res.p(50) / prev.p(50))
                row += " %s |" % g
            prev = res
        for r in runs:
            row += " %s |" % verdict(name, r["results"].get(name), r["size"])
        L.append(row)
    if fixture_reset is not None:
        cells = [DESCRIBE["admin.reset_fixtures"], target_text("admin.reset_fixtures")]
        for i in range(len(sizes)):
            if i == 0:
                cells.append("%s / %s (%d) at fixture size" % (
                    ms(fixture_reset.p(50)), ms(fixture_reset.p(99)), len(fixture_reset.times))
                    if fixture_reset.times else "error")
            else:
                cells += ["", ""]
        cells += [verdict("admin.reset_fixtures", fixture_reset, 0)] + [""] * (len(sizes) - 1)
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("Memory (MiB, from /proc/PID/status). A = the server started with the generated "
             "fixtures (it keeps the fixture set in memory for reset), after its cold start and "
             "after the resets; B = the server restarted on the same store without them, after "
             "its warm start and at the end of every operation above. Target: under 100 MB "
             "(95.4 MiB) at any point of those runs.")
    L.append("")
    L.append("| | " + " | ".join("{:,}".format(s) for s in sizes) + " |")
    L.append("|---|" + "---:|" * len(sizes))

    def mem(r, key, field):
        st = r["rss"].get(key)
        return "%.1f" % (st[field] / MIB) if st and field in st else "-"

    def peak_b(r):
        vals = [v.get("VmHWM", 0) for k, v in r["rss"].items() if k.startswith("B.")]
        return max(vals) if vals else 0

    def peak_a(r):
        vals = [v.get("VmHWM", 0) for k, v in r["rss"].items() if k.startswith("A.")]
        return max(vals) if vals else 0

    L.append("| fixture set on disk | " + " | ".join(
        "%.1f" % r.get("fixture_mib", 0) for r in runs) + " |")
    L.append("| store on disk after seeding | " + " | ".join(
        "%.1f" % r.get("store_mib", 0) for r in runs) + " |")
    L.append("| A: VmRSS after the cold start | " + " | ".join(
        mem(r, "A.ready", "VmRSS") for r in runs) + " |")
    L.append("| A: VmHWM (peak) after the resets | " + " | ".join(
        mem(r, "A.end", "VmHWM") for r in runs) + " |")
    L.append("| B: VmRSS after the warm start | " + " | ".join(
        mem(r, "B.ready", "VmRSS") for r in runs) + " |")
    L.append("| B: VmRSS at the end (RssAnon + RssFile) | " + " | ".join(
        "%s (%s + %s)" % (mem(r, "B.end", "VmRSS"), mem(r, "B.end", "RssAnon"),
                          mem(r, "B.end", "RssFile")) for r in runs) + " |")
    L.append("| B: VmHWM (peak) at the end | " + " | ".join(
        mem(r, "B.end", "VmHWM") for r in runs) + " |")
    L.append("| B: peak < 100 MB | " + " | ".join(
        ("PASS" if peak_b(r) and peak_b(r) < 100e6 / 1024 else "MISS") for r in runs) + " |")
    L.append("| A: peak < 100 MB | " + " | ".join(
        ("PASS" if peak_a(r) and peak_a(r) < 100e6 / 1024 else "MISS") for r in runs) + " |")
    errs = []
    for r in runs:
        for name, res in r["results"].items():
            if res.error:
                errs.append("- %s at %s: %s" % (name, "{:,}".format(r["size"]), res.error))
    if fixture_reset is not None and fixture_reset.error:
        errs.append("- admin.reset_fixtures: %s" % fixture_reset.error)
    if errs:
        L.append("")
        L.append("Operations cut short (the samples before are kept):")
        L.append("")
        L.extend(errs)
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="sub")
    g = sub.add_parser("gen")
    g.add_argument("--size", type=int, required=True)
    g.add_argument("dir")
    ap.add_argument("--bin", default=os.environ.get("UNDERSTUDY", ""))
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000,10000,100000"))
    ap.add_argument("--out", default=os.path.join(HERE, "results-scale.md"))
    ap.add_argument("--note", default="", help="a sentence for the report's header")
    a = ap.parse_args()
    if a.sub == "gen":
        ds = generate(a.size, a.dir)
        print("wrote %s: %d Guayaba contacts, %d RASL contacts, %d custom Convoso statuses "
              "for tenant %s" % (a.dir, ds.guayaba_fixture + ds.guayaba_gen,
                                 ds.rasl_first_id - 1 + ds.rasl_gen, ds.convoso_gen, TENANT))
        return
    binary = a.bin or os.path.join(ROOT, "build", "understudy")
    if not os.access(binary, os.X_OK):
        sys.exit("scale.py: no executable at %s (build it, or give --bin / UNDERSTUDY)" % binary)
    binary = os.path.realpath(binary)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    started = time.perf_counter()
    load = open("/proc/loadavg").read().split()[0]
    work = tempfile.mkdtemp(prefix="understudy-scale.")

    def log(msg):
        print("== [%5.0f s] %s" % (time.perf_counter() - started, msg), flush=True)

    runs = []
    fixture_reset = None
    try:
        if selected("admin.reset"):
            fixture_reset = reset_at_fixture_size(binary, work, log)
        for size in sizes:
            runs.append(measure_size(binary, size, work, int(time.time()) + size, log))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "none"
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                            "--", ".", ":!bench/results*.md"],
                           capture_output=True, text=True).stdout.strip()
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    meta = ("%s, commit %s%s, %d cores (%s), load average %s before the run; %.0f s in all.\n"
            "Binary: `%s`, default configuration (text request log on, to a file; journal on); "
            "one tenant (demo) holding N Guayaba contacts, N RASL contacts and N custom Convoso "
            "statuses, generated by `bench/scale.py gen`.%s" % (
                datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                commit, " (work tree modified)" if dirty else "", os.cpu_count(), cpu, load,
                time.perf_counter() - started, binary, (" " + a.note) if a.note else ""))
    text = report(runs, fixture_reset, meta)
    with open(a.out, "w") as f:
        f.write(text)
    print()
    print(text)
    print("written: %s" % a.out)


if __name__ == "__main__":
    main()
