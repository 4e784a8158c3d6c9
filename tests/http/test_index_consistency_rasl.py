#!/usr/bin/env python3
"""RASL's indexes survive kill -9: after the server is killed in the middle of writes,
`understudy check --data-dir DIR` finds every index in step with its table, and the restarted
server's lists, counts and uniqueness checks agree with the rows.

Starts the real binary on a data directory, stops it and starts it again (a first start seeds
the store, and the store builds its indexes when it next opens), then runs four clients that
create, batch-create, update, delete, move contacts between groups and send messages, kills the
server with SIGKILL while they run, and checks the directory. Twice, killing at different
moments. Traffic goes to 127.0.0.1 only; bounded to about 20 s.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulator_process import Emulator, check, finish  # noqa: E402

TOKEN = "wm_demo_unlimited"


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def writer(base, seed, stop):
    rnd = random.Random(seed)
    while not stop.is_set():
        n = rnd.randint(1, 400)
        r = rnd.random()
        try:
            if r < 0.3:
                call(base, "POST", "/api/v2/contacts",
                     {"firstname": "K", "lastname": "L", "phone": "+1777%07d" % n, "type": "lead",
                      "source_id": 1, "status_id": rnd.randint(1, 3),
                      "email": "k%d@example.com" % n, "groups": [rnd.randint(1, 3)]})
            elif r < 0.4:
                call(base, "POST", "/api/v2/contacts/batch",
                     {"contacts": [{"firstname": "B", "lastname": "C",
                                    "phone": "+1778%07d" % rnd.randint(1, 400), "type": "guest",
                                    "source_id": 2, "status_id": 1} for _ in range(10)]})
            elif r < 0.55:
                call(base, "PATCH", "/api/v2/contacts/%d" % rnd.randint(1, 600),
                     {"phone": "+1779%07d" % n, "status_id": rnd.randint(1, 3)})
            elif r < 0.7:
                call(base, "DELETE", "/api/v2/contacts/%d" % rnd.randint(1, 600))
            elif r < 0.8:
                call(base, rnd.choice(["POST", "DELETE"]),
                     "/api/v2/groups/%d/contacts" % rnd.randint(1, 3),
                     {"contact_ids": [rnd.randint(1, 30)]})
            else:
                call(base, "POST", "/api/v2/messages/text",
                     {"phone": "+1777%07d" % n, "message": "hi"})
        except (OSError, ValueError):
            return  # the server is gone


def run_check(emulator, data):
    p = subprocess.run([emulator, "check", "--data-dir", data], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


def every_id(base, path):
    ids, page = [], 1
    while True:
        status, body = call(base, "GET", "%s?per_page=100&page=%d" % (path, page))
        if status != 200 or not body["data"]:
            return ids, body
        ids += [row["id"] for row in body["data"]]
        page += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="understudy-kill9-")
    extra = ["--data-dir", data, "--fixtures", args.fixtures]
    try:
        Emulator(args.emulator, extra).stop()
        Emulator(args.emulator, extra).stop()
        rc, out = run_check(args.emulator, data)
        check(rc == 0, "a seeded data directory passes check: " + out.strip()[-300:])
        for round_, run_s in enumerate((1.0, 1.5)):
            emu = Emulator(args.emulator, extra)
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(emu.url, 10 * round_ + i, stop))
                       for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(run_s)
            emu.proc.send_signal(signal.SIGKILL)
            emu.proc.wait()
            stop.set()
            for t in threads:
                t.join(timeout=15)
            rc, out = run_check(args.emulator, data)
            check(rc == 0, "round %d: check after kill -9: %s" % (round_, out.strip()[-600:]))
            emu = Emulator(args.emulator, extra)
            ids, body = every_id(emu.url, "/api/v2/contacts")
            total = body["meta"]["pagination"]["total"]
            check(len(ids) == total and ids == sorted(set(ids)),
                  "round %d: the pages hold each of the %d contacts once" % (round_, total))
            status, usage = call(emu.url, "GET", "/api/v2/account/usage")
            check(status == 200 and usage["data"]["contacts"]["current"] == total,
                  "round %d: usage counts the contacts" % round_)
            status, first = call(emu.url, "GET", "/api/v2/contacts/%d" % ids[-1])
            status, dup = call(emu.url, "POST", "/api/v2/contacts",
                               {"firstname": "D", "lastname": "E",
                                "phone": first["data"]["phone"].upper(), "type": "lead",
                                "source_id": 1, "status_id": 1})
            check(status == 422, "round %d: a taken phone is still refused" % round_)
            status, body = call(emu.url, "GET", "/api/v2/messages?per_page=1")
            check(status == 200, "round %d: the message log answers" % round_)
            emu.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
