#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus, tests/fuzz/corpus/<target>/, from the tests' own data.

  pipeline   every request of tests/http/cases/**/*.json, in fuzz_pipeline.c's format: route
             byte (the route's index over the vendors' tables, read from the C sources in the
             order of emulator/vendor_list.c; a path no route has is sent raw), flags byte, then
             params, query, headers and body, each a 16-bit little-endian length and its bytes
  rasl_list  the query strings the cases send to RASL's list routes (fuzz_rasl_list.c's format)
  scenario   the scenario library (scenarios/*.json), tests/http/data/scenarios_*, and the
             scenario documents the cases PUT to /__admin/scenarios/{name}
  fixtures   every built-in fixture file and those of tests/http/data/, each behind the byte that
             picks its file (fuzz_fixtures.c: the built-in files in sorted order)
  replay     journal files (NDJSON, five entries each) built from the cases' requests and
             expected answers

Variables in the cases ({id}, {base}, ...) become "1". Inputs are deduplicated, named by their
SHA-1, and capped in number and size so the committed corpus stays small. Run it from anywhere:
  python3 tests/fuzz/make_corpus.py
"""
import glob
import hashlib
import json
import os
import re
import shutil
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
VAR = re.compile(r"\{\w+(:[^{}]*)?\}")
MAX_PER_TARGET = {"pipeline": 400, "rasl_list": 120, "scenario": 80, "fixtures": 40, "replay": 30}
MAX_LEN = {"pipeline": 16384, "rasl_list": 4096, "scenario": 8192, "fixtures": 32768,
           "replay": 16384}
OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]
RASL_LISTS = ["/api/v2/contacts", "/api/v2/groups", "/api/v2/sources", "/api/v2/statuses",
              "/api/v2/messages", "/api/v2/templates", "/api/v2/auth/templates"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def routes_of(name):
    """[(method, pattern)] of the route table of the vendor descriptor called name."""
    for src in glob.glob(os.path.join(ROOT, "emulator", "**", "*.c"), recursive=True):
        text = read(src)
        m = re.search(r"const struct vendor %s = \{(.*?)\n\};" % name, text, re.S)
        if m:
            table = re.search(r"\.routes\s*=\s*(\w+)", m.group(1)).group(1)
            body = re.search(r"struct route %s\[\] = \{(.*?)\n\};" % table, text, re.S).group(1)
            return re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)"', body)
    return []


def vendor_order():
    """The vendor descriptors (vendor_rasl, ...) in vendor_list[]: the dispatcher's order."""
    text = read(os.path.join(ROOT, "emulator", "vendor_list.c"))
    table = re.search(r"vendor_list\[\] = \{(.*?)\n\};", text, re.S).group(1)
    return re.findall(r"&(vendor_\w+)", table)


def routes():
    """[(method, pattern)] over every vendor's table, in the dispatcher's order."""
    return [r for name in vendor_order() for r in routes_of(name)]


def segments_match(pattern, path):
    """The {name} values when path matches pattern, else None (as router_path_match)."""
    if pattern.endswith("*"):
        return [path[len(pattern) - 1:]] if path.startswith(pattern[:-1]) else None
    p, s = pattern.split("/"), path.split("/")
    if len(p) != len(s):
        return None
    params = []
    for a, b in zip(p, s):
        if a.startswith("{") and a.endswith("}"):
            if not b:
                return None
            params.append(b)
        elif a != b:
            return None
    return params


def field(data):
    data = data[:0xFFFF]
    return struct.pack("<H", len(data)) + data


def cases():
    """(case, request) for every request step of every case file, default headers merged."""
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "http", "cases", "**", "*.json"),
                              recursive=True)):
        case = json.loads(read(path))

        def walk(steps):
            for step in steps:
                if "request" in step:
                    yield step["request"], step.get("expect", {})
                for key in ("concurrent", "tally", "term_under_load"):
                    if key in step and "request" in step[key]:
                        yield step[key]["request"], step[key].get("expect", {})
                if "twin" in step:
                    yield from walk(step["twin"].get("requests", []))

        for req, expect in walk(case.get("steps", [])):
            headers = dict(case.get("headers", {}))
            headers.update(req.get("headers", {}))
            headers = {k: v for k, v in headers.items() if v is not None}
            yield case, req, headers, expect


def unvar(text):
    return VAR.sub("1", text)


def request_parts(req, headers):
    """(method, path, query, headers dict, body bytes) with variables replaced."""
    target = unvar(req["path"])
    path, _, query = target.partition("?")
    body = None
    if "json" in req:
        body = unvar(json.dumps(req["json"]))
    elif "body" in req:
        body = unvar(req["body"])
    elif "body_size" in req and req["body_size"] < 4096:
        body = "{" + " " * (req["body_size"] - 2) + "}"
    headers = {k: unvar(str(v)) for k, v in headers.items()}
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    return req.get("method", "GET"), path, query, headers, (body or "").encode()


def pipeline_input(table, method, path, query, headers, body):
    for i, (m, pattern) in enumerate(table):
        params = segments_match(pattern, path)
        if params is not None and m == method:
            pick, flags, param_text = i, 0, "\n".join(params)
            break
    else:  # a path no route has: sent raw
        if method not in OTHER_METHODS:
            return None
        pick, flags, param_text = OTHER_METHODS.index(method), 0x20, path
    head = "".join("%s: %s\n" % (k, v) for k, v in headers.items())
    return (bytes([pick % 256, flags]) + field(param_text.encode()) + field(query.encode()) +
            field(head.encode()) + field(body))


def journal_line(seq, method, path, query, headers, body, expect):
    answer = expect.get("json")
    return json.dumps({
        "seq": seq, "time": "2026-01-01T00:00:00.000Z", "tenant": "demo", "vendor": "-",
        "method": method, "path": path, "query": query or None, "request_headers": headers,
        "request_body": body.decode(errors="replace"), "status": expect.get("status", 200),
        "response_headers": {"Content-Type": "application/json; charset=utf-8"},
        "response_body": json.dumps(answer) if answer is not None else "",
        "duration_us": 100, "scenario": None})


def write(target, inputs):
    """Replaces corpus/<target>/ with the distinct inputs, at most the target's cap."""
    out = os.path.join(OUT, target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    seen = {}
    for data in inputs:
        if data is None or len(data) > MAX_LEN[target]:
            continue
        seen.setdefault(hashlib.sha1(data).hexdigest(), data)
    # Keep the first ones of each kind by spreading the cap over the whole list evenly.
    items = sorted(seen.items())
    step = max(1, len(items) / MAX_PER_TARGET[target])
    kept = [items[int(i * step)] for i in range(min(len(items), MAX_PER_TARGET[target]))]
    for digest, data in kept:
        with open(os.path.join(out, digest[:16]), "wb") as f:
            f.write(data)
    print("%-10s %4d inputs (%d distinct seen)" % (target, len(kept), len(items)))


def main():
    table = routes()
    pipeline, lists, scenarios, journal = [], [], [], []
    for seq, (case, req, headers, expect) in enumerate(cases(), 1):
        if "path" not in req:
            continue
        method, path, query, hdrs, body = request_parts(req, headers)
        pipeline.append(pipeline_input(table, method, path, query, hdrs, body))
        if method == "GET" and path in RASL_LISTS and query:
            lists.append(bytes([RASL_LISTS.index(path)]) + query.encode())
        if method == "PUT" and path.startswith("/__admin/scenarios/") and body:
            scenarios.append(body)
        line = journal_line(seq, method, path, query, hdrs, body, expect)
        if len(line) < 1024:  # the big bodies add nothing to the reader but bytes
            journal.append(line)
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.json")) +
                       glob.glob(os.path.join(ROOT, "tests", "http", "data", "scenarios_*", "**",
                                              "*.json"), recursive=True)):
        with open(path, "rb") as f:
            scenarios.append(f.read())

    builtin = sorted(os.path.relpath(p, os.path.join(ROOT, "fixtures")) for p in
                     glob.glob(os.path.join(ROOT, "fixtures", "**", "*.json"), recursive=True))
    fixtures = []
    for base in [os.path.join(ROOT, "fixtures")] + sorted(
            glob.glob(os.path.join(ROOT, "tests", "http", "data", "*"))):
        for name in builtin:
            if os.path.exists(os.path.join(base, name)):
                with open(os.path.join(base, name), "rb") as f:
                    fixtures.append(bytes([builtin.index(name)]) + f.read())

    write("pipeline", pipeline)
    write("rasl_list", lists)
    write("scenario", scenarios)
    write("fixtures", fixtures)
    # A journal file holds several entries: five consecutive requests each.
    write("replay", ["\n".join(journal[i:i + 5]).encode() + b"\n"
                     for i in range(0, len(journal), 5)])


if __name__ == "__main__":
    main()
