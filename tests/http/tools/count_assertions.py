#!/usr/bin/env python3
"""Counts the leaf assertions of case files as run_case.py checks them.

Named objects ("$rasl_meta") and a case's "defaults" are expanded first, so a case that
writes an envelope once counts the same as one that spells it out in every step. A leaf is
one check: a status, a header, a scalar or matcher inside "json"/"paths"/"json_exact", an
empty object or array, the length of an array, a body piece, a run's exit and streams, a
receiver's count and gaps. A step is counted once whatever its "repeat".

usage: count_assertions.py [--total] FILE_OR_DIR...
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run_case  # noqa: E402

OPS = ("$len", "$ne", "$gte", "$lte", "$regex")


def leaves(want):
    """The checks a matcher makes."""
    want = run_case.expand(want)
    if isinstance(want, dict) and len(want) == 1 and next(iter(want)).startswith("$"):
        op, arg = next(iter(want.items()))
        if op in OPS:
            return 1
        if op in ("$each", "$contains"):
            return leaves(arg)
        raise ValueError("unknown matcher %s" % op)
    if isinstance(want, dict):
        return sum(leaves(v) for v in want.values()) or 1
    if isinstance(want, list):
        return 1 + sum(leaves(v) for v in want)  # the length, then each element
    return 1


def listed(value):
    return [value] if isinstance(value, str) else list(value or [])


def expect_leaves(expect):
    n = sum(1 for k in ("status", "body") if k in expect)
    n += sum(leaves(v) for v in expect.get("headers", {}).values())
    n += len(listed(expect.get("body_contains"))) + len(listed(expect.get("body_regex")))
    n += sum(leaves(v) for v in expect.get("paths", {}).values())
    for key in ("json", "json_exact"):
        if key in expect:
            n += leaves(expect[key])
    return n


def received_leaves(expect):
    n = sum(leaves(expect[k]) for k in ("method", "path") if k in expect)
    return n + expect_leaves(expect) + ("signature" in expect)


def request_leaves(defaults, step):
    n = sum(1 for k in ("fails", "max_ms", "min_ms") if k in step)
    if "fails" not in step:
        n += expect_leaves(run_case.effective_expect(defaults, step))
    return n


def step_leaves(defaults, step):
    """The checks of one step, with these defaults in force."""
    if "request" in step:
        return request_leaves(defaults, step)
    if "background" in step:
        return request_leaves(defaults, step["background"])
    if "concurrent" in step:
        return 1 + request_leaves(defaults, step["concurrent"])  # and the kept-alive connection
    if "restart" in step or "term_under_load" in step:
        return 1
    if "run" in step:
        spec = step["run"]
        return 1 + sum(len(spec.get(s + "_contains", [])) + (s + "_regex" in spec)
                       for s in ("stdout", "stderr"))
    if "receiver" in step:
        spec = step["receiver"]
        n = 1 + ("quiet_ms" in spec) + len(spec.get("gaps_s", []))
        n += received_leaves(spec["each"]) if "each" in spec else 0
        return n + sum(received_leaves(e) for e in spec.get("requests", {}).values())
    if "tally" in step:
        return sum(leaves(v) for v in step["tally"].get("expect", {}).values())
    if "twin" in step:  # each answer is compared, and the first one checked
        return sum(1 + request_leaves(defaults, s) for s in step["twin"]["requests"]) + (
            1 if step["twin"].get("differ") else 0)
    return 0  # sleep_ms, join


def count_case(case):
    n, defaults = 0, case.get("defaults", {})
    for step in case["steps"]:
        if "set_defaults" in step:
            defaults = step["set_defaults"]
        n += step_leaves(defaults, step)
    return n


def files(args):
    for arg in args:
        if os.path.isdir(arg):
            for root, _, names in sorted(os.walk(arg)):
                for name in sorted(names):
                    if name.endswith(".json"):
                        yield os.path.join(root, name)
        else:
            yield arg


def main(argv):
    total_only = "--total" in argv
    total = 0
    for path in files(a for a in argv if a != "--total"):
        with open(path) as f:
            n = count_case(json.load(f))
        total += n
        if not total_only:
            print("%6d %s" % (n, path))
    print("%6d total" % total)


if __name__ == "__main__":
    main(sys.argv[1:])
