#!/usr/bin/env python3
"""The soak: 1,000,000 mixed requests against one understudy, and its memory along the way.

  bench/soak.py [--bin PATH] [--requests 1000000] [--out bench/results-soak.md]

understudy runs in its default configuration (the text request log on, to a file; the journal
on, 10,000 entries). wrk -t2 -c50 sends bench/soak.lua's cycle (reads of the three vendors,
Guayaba creates with new phone numbers, answers injected with X-Understudy-Error, journal reads
of GET /__admin/requests) in runs of a few seconds, sized from the rate so far so that one ends
at each quarter (250,000 requests); after each quarter the server's VmRSS, VmHWM, RssAnon and
RssFile are read from /proc/PID/status. Targets: VmRSS under 100 MB at every quarter, and no
growth from the second quarter to the fourth (at most 5 % or 2 MiB, whichever is larger).

Bounded: SOAK_MAX_SECONDS (300) of load at most; a soak cut short by it is reported as such.
Environment: UNDERSTUDY (binary), SOAK_REQUESTS, SOAK_MAX_SECONDS.
"""
import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from scale import Server  # noqa: E402

LIMIT_KB = 100e6 / 1024  # 100 MB


def wrk_run(port, seconds, chunk):
    out = subprocess.run(["wrk", "-t2", "-c50", "-d%ds" % seconds, "-s",
                          os.path.join(HERE, "soak.lua"), "http://127.0.0.1:%d/" % port, "--",
                          str(chunk)], capture_output=True, text=True)
    m = re.search(r"^WRK (.*)$", out.stdout, re.M)
    if not m:
        raise RuntimeError("wrk printed no summary: %s %s" % (out.stdout[-500:], out.stderr[-500:]))
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("UNDERSTUDY", ""))
    ap.add_argument("--requests", type=int, default=int(os.environ.get("SOAK_REQUESTS",
                                                                       "1000000")))
    ap.add_argument("--out", default=os.path.join(HERE, "results-soak.md"))
    a = ap.parse_args()
    binary = os.path.realpath(a.bin or os.path.join(ROOT, "build", "understudy"))
    if not os.access(binary, os.X_OK):
        sys.exit("soak.py: no executable at %s" % binary)
    max_s = float(os.environ.get("SOAK_MAX_SECONDS", "300"))
    quarter = a.requests // 4
    load = open("/proc/loadavg").read().split()[0]
    work = tempfile.mkdtemp(prefix="understudy-soak.")
    os.environ["TMPDIR"] = work  # the server's private store lands here
    srv = Server(binary, [], work, "soak")
    srv.wait_ready(30)
    time.sleep(0.3)
    idle = srv.status()
    samples = []  # (requests so far, seconds so far, status)
    total = errors = non2xx = 0
    p99s = []
    chunk = 0
    rate = None
    t_load = 0.0
    cut = ""
    boundary = quarter
    try:
        while total < a.requests:
            if t_load >= max_s:
                cut = "stopped after %.0f s of load (SOAK_MAX_SECONDS) at %d requests" % (
                    t_load, total)
                break
            if rate is None:
                secs = 3
            else:
                secs = int(max(1, min(20, round((boundary - total) / rate))))
            r = wrk_run(srv.port, secs, chunk % 1000)
            chunk += 1
            if srv.proc.poll() is not None:
                cut = "the server exited (%s) at %d requests" % (srv.proc.returncode, total)
                break
            total += int(r["requests"])
            t_load += r["duration_us"] / 1e6
            errors += int(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"])
            non2xx += int(r["non2xx"])
            p99s.append(r["p99_us"])
            rate = total / t_load
            print("== soak: %d requests, %.0f/s, chunk p99 %.1f ms" % (
                total, r["rps"], r["p99_us"] / 1e3), flush=True)
            while total >= boundary and boundary <= a.requests:
                samples.append((total, t_load, srv.status()))
                st = samples[-1][2]
                print("== soak: quarter at %d requests: VmRSS %.1f MiB (anon %.1f, file %.1f), "
                      "VmHWM %.1f MiB" % (total, st["VmRSS"] / 1024, st["RssAnon"] / 1024,
                                          st["RssFile"] / 1024, st["VmHWM"] / 1024), flush=True)
                boundary += quarter
    finally:
        end = srv.status()
        log_bytes = os.path.getsize(os.path.join(work, "soak.log"))
        srv.stop()
        subprocess.run(["rm", "-rf", work])

    mib = lambda kb: "%.1f" % (kb / 1024.0)  # noqa: E731
    L = ["# understudy soak", ""]
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "none"
    L.append("%s, commit %s, %d cores, load average %s before the run. Binary `%s`, default "
             "configuration (text request log on, to a file: %.0f MiB written; journal on). "
             "`wrk -t2 -c50 -s bench/soak.lua` in runs of 1-20 s: per 20 requests 15 reads "
             "(Guayaba statuses, RASL contact, Convoso search), 1 Guayaba create (a new phone "
             "number), 3 answers injected with X-Understudy-Error (429s by design) and 1 journal "
             "read (GET /__admin/requests?limit=20)." % (
                 datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 commit, os.cpu_count(), load, binary, log_bytes / 1048576.0))
    L.append("")
    L.append("| requests | seconds of load | VmRSS (MiB) | RssAnon | RssFile | VmHWM |")
    L.append("|---:|---:|---:|---:|---:|---:|")
    L.append("| 0 (idle) | 0 | %s | %s | %s | %s |" % (
        mib(idle["VmRSS"]), mib(idle["RssAnon"]), mib(idle["RssFile"]), mib(idle["VmHWM"])))
    for n, t, st in samples:
        L.append("| %s | %.0f | %s | %s | %s | %s |" % (
            "{:,}".format(n), t, mib(st["VmRSS"]), mib(st["RssAnon"]), mib(st["RssFile"]),
            mib(st["VmHWM"])))
    L.append("")
    L.append("%s requests in %.0f s of load (%.0f/s), %d socket errors, %d non-2xx answers "
             "(%.1f %%; 15 %% are injected by design), worst run p99 %.1f ms." % (
                 "{:,}".format(total), t_load, total / t_load if t_load else 0, errors, non2xx,
                 100.0 * non2xx / total if total else 0, max(p99s or [0]) / 1e3))
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---:|---|")
    peak = max([st["VmRSS"] for _, _, st in samples] + [end.get("VmRSS", 0)])
    done = len(samples) >= 4 and not cut
    L.append("| %s requests served | %s | %s |" % ("{:,}".format(a.requests), "{:,}".format(total),
                                                  "PASS" if done else "MISS"))
    L.append("| VmRSS < 100 MB at every quarter | %s MiB at most (%d of 4 quarters) | %s |" % (
        mib(peak), len(samples), "PASS" if samples and peak < LIMIT_KB else "MISS"))
    if len(samples) >= 4:
        q2, q4 = samples[1][2], samples[3][2]
        for field in ("VmRSS", "RssAnon"):
            grow = q4[field] - q2[field]
            ok = grow <= max(2048, 0.05 * q2[field])
            L.append("| %s does not grow from the 2nd to the 4th quarter | %+.1f MiB (%s -> %s) "
                     "| %s |" % (field, grow / 1024.0, mib(q2[field]), mib(q4[field]),
                                 "PASS" if ok else "MISS"))
    if cut:
        L.append("")
        L.append("Cut short: " + cut + ".")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print()
    print(text)
    print("written: %s" % a.out)


if __name__ == "__main__":
    main()
