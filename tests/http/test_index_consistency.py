#!/usr/bin/env python3
"""The store's indexes survive kill -9: Guayaba contacts are written from several connections
at once (creates, upserts that bring deleted contacts back, status and campaign changes,
fulfilments, new phone numbers), the server gets SIGKILL in the middle of it, and
`understudy check --data-dir` must find every index in step with its table. Restarted on that
directory, the server lists what its totals count, and finds every contact whose creation it
answered by its phone number. The whole script takes about ten seconds.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from emulator_process import Emulator, check, finish

HEADERS = {"X-API-Key": "gua_demo0002_key", "Content-Type": "application/json"}
CAMPAIGNS = ["550e8400-e29b-41d4-a716-446655440000", "a96d7dfa-af50-59e0-b007-5c41ed680f21",
             "fdcbdb14-25d2-574c-b559-ee7f60b13309"]
STATUSES = ["active", "talk-to-human", "fulfilled", "paused", "DNC"]
DELETED_PHONES = ["+13035551740", "+13125551962"]  # deleted contacts of the demo fixtures
WRITERS = 4


def call(conn, method, path, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None, HEADERS)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def run_check(emulator, data):
    p = subprocess.run([emulator, "check", "--data-dir", data], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


class Writer(threading.Thread):
    """Writes contacts on its own connection until the server goes away."""

    def __init__(self, server, n):
        super().__init__(daemon=True)
        self.server, self.n = server, n
        self.rng = random.Random(n)
        self.created = []  # (id, phone) of contacts whose creation was answered
        self.moving = None  # (id, phone) a PUT sent and not answered may have given
        self.writes = 0

    def step(self, conn, i):
        rng = self.rng
        op = rng.randrange(6)
        known = [p for _, p in self.created] + DELETED_PHONES
        if op <= 1 or not self.created:
            phone = "+1777%d%06d" % (self.n, i)
            status, body = call(conn, "POST", "/contacts",
                                {"phoneNumber": phone, "campaignId": rng.choice(CAMPAIGNS),
                                 "name": "Writer %d/%d" % (self.n, i)})
            if status == 201:
                self.created.append((body["data"]["id"], phone))
        elif op == 2:
            call(conn, "POST", "/contacts", {"phoneNumber": rng.choice(known),
                                             "campaignId": rng.choice(CAMPAIGNS)})
        elif op == 3:
            call(conn, "POST", "/contacts/update", {"phone": rng.choice(known),
                                                    "status": rng.choice(STATUSES)})
        elif op == 4:
            call(conn, "POST", "/contacts/fulfill", {"phone": rng.choice(known)})
        else:
            k = rng.randrange(len(self.created))
            cid, _ = self.created[k]
            phone = "+1888%d%06d" % (self.n, i)
            self.moving = (cid, phone)
            status, _ = call(conn, "PUT", "/contacts/" + cid, {"phoneNumber": phone})
            self.moving = None
            if status == 200:
                self.created[k] = (cid, phone)
        self.writes += 1

    def run(self):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        try:
            for i in range(1000000):
                self.step(conn, i)
        except (OSError, http.client.HTTPException, ValueError):
            pass  # the server was killed


def listed(conn, query):
    """Every contact a list gives, page by page, and the total it states."""
    ids, page, total = [], 1, None
    while True:
        status, body = call(conn, "GET", "/contacts?limit=100&page=%d%s" % (page, query))
        if status != 200:
            return None, None
        total = body["pagination"]["total"]
        ids += [(c["id"], c["status"]) for c in body["contacts"]]
        if len(body["contacts"]) < 100:
            return ids, total
        page += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--fixtures")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="understudy-index-")
    data = os.path.join(tmp, "data")
    args = ["--data-dir", data] + (["--fixtures", a.fixtures] if a.fixtures else [])
    try:
        # A first life seeds the store. Seeding empties core.meta, where the store notes the
        # indexes it built, so the next open builds them again: the check here does, and the
        # check after the kill then reads the indexes the server itself wrote.
        server = Emulator(a.emulator, args)
        code, _ = server.stop()
        check(code == 0, "the seeding server exits 0")
        rc, out = run_check(a.emulator, data)
        check(rc == 0, "check after seeding: %s" % out[-300:])

        server = Emulator(a.emulator, args)
        writers = [Writer(server, n) for n in range(WRITERS)]
        for w in writers:
            w.start()
        time.sleep(1.5)
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait()
        for w in writers:
            w.join(10)
        writes = sum(w.writes for w in writers)
        check(writes > 40, "%d writes answered before the kill" % writes)

        rc, out = run_check(a.emulator, data)
        check(rc == 0 and out.endswith(": ok"), "check after kill -9: %s" % out[-600:])

        server = Emulator(a.emulator, args)
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        everyone, total = listed(conn, "")
        check(everyone is not None and len(everyone) == total
              and len(set(everyone)) == total, "the default list gives its total, %s" % total)
        for status in ("talk-to-human", "fulfilled"):
            some, n = listed(conn, "&status=" + status)
            want = sum(1 for _, s in everyone or [] if s == status)
            check(some is not None and len(some) == n == want
                  and all(s == status for _, s in some),
                  "status=%s lists %s contacts, as many as the default list holds" % (status, n))
        oldest, n = listed(conn, "&sortOrder=asc&sortBy=fulfilledAt")
        check(oldest is not None and sorted(oldest) == sorted(everyone or []),
              "another sort lists the same %s contacts" % n)
        created = [c for w in writers for c in w.created]
        moved = dict(w.moving for w in writers if w.moving)
        found = 0
        for cid, phone in created:
            for number in [phone] + ([moved[cid]] if cid in moved else []):
                status, body = call(conn, "POST", "/contacts/update",
                                    {"phone": number, "campaignId": CAMPAIGNS[0]})
                if status == 200 and body["contact"]["id"] == cid:
                    found += 1
                    break
        check(found == len(created) and created,
              "each of the %d contacts created before the kill is found by its phone (%d)"
              % (len(created), found))
        code, _ = server.stop()
        check(code == 0, "the restarted server exits 0")
        rc, out = run_check(a.emulator, data)
        check(rc == 0, "check after the restart's writes: %s" % out[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
