#!/usr/bin/env python3
"""gen_fixtures.py -- writes a fixture set with many contacts, for runs at scale.

    tools/gen_fixtures.py OUT_DIR [--contacts N] [--tenant demo] [--vendors guayaba,rasl]

OUT_DIR gets a copy of the repository's fixtures/ in which the tenant's Guayaba and RASL
contacts are grown to N each (the fixture rows first, then generated ones with distinct
phones and emails). The output is the same for the same arguments: ids come from counters and
uuid5, instants from the row number. Start the emulator on it with --fixtures OUT_DIR.
"""
import argparse
import json
import os
import shutil
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACE = uuid.UUID("6f1d7c2a-4b7e-5c36-9d0a-3e2f1b9c8a70")
FIRST = ["Ana", "Omar", "Lina", "Yusuf", "Maya", "Karim", "Noor", "Ravi", "Sofia", "Tariq"]
LAST = ["Haddad", "Silva", "Nasser", "Okafor", "Kim", "Saleh", "Rossi", "Diaz", "Ito", "Berg"]


def instant(i, rasl):
    """An instant that grows with i: one second a row from 2026-01-01."""
    day, sec = divmod(i, 86400)
    month, day = divmod(day, 28)
    stamp = "%04d-%02d-%02dT%02d:%02d:%02d" % (2026 + month // 12, month % 12 + 1, day + 1,
                                               sec // 3600, sec // 60 % 60, sec % 60)
    return stamp + ("+00:00" if rasl else ".000Z")


def grow_guayaba(rows, n, tenant):
    campaigns = [r["campaignId"] for r in rows] or [str(uuid.uuid5(NAMESPACE, "campaign"))]
    for i in range(len(rows), n):
        at = instant(i, False)
        rows.append({
            "id": str(uuid.uuid5(NAMESPACE, "%s/guayaba/%d" % (tenant, i))),
            "name": "%s %s" % (FIRST[i % 10], LAST[i // 10 % 10]),
            "phoneNumber": "+1%010d" % (3000000000 + i),
            "timezone": "America/New_York",
            "status": "active",
            "customVariables": {"email": "g%d@example.com" % i},
            "campaignId": campaigns[i % len(campaigns)],
            "createdAt": at, "updatedAt": at,
            "fulfilledAt": None, "reAddedAt": None, "deletedAt": None,
        })


def grow_rasl(rows, n):
    template = dict(rows[0]) if rows else None
    next_id = max((r["id"] for r in rows), default=0) + 1
    for i in range(len(rows), n):
        row = dict(template) if template else {
            "company": None, "type": "lead", "status_id": 1, "source_id": 1,
            "description": None, "city": None, "state": None, "zip": None, "address": None,
            "country_id": None, "assigned_id": None}
        at = instant(i, True)
        row.update({
            "id": next_id, "firstname": FIRST[i % 10], "lastname": LAST[i // 10 % 10],
            "email": "r%d@example.com" % i, "phone": "+1%010d" % (4000000000 + i),
            "group_id": [], "is_opted_out": False, "created_at": at, "updated_at": at,
        })
        next_id += 1
        rows.append(row)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("out")
    ap.add_argument("--contacts", type=int, default=100000)
    ap.add_argument("--tenant", default="demo")
    ap.add_argument("--vendors", default="guayaba,rasl")
    args = ap.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    shutil.copytree(os.path.join(ROOT, "fixtures"), args.out)
    for vendor in args.vendors.split(","):
        path = os.path.join(args.out, vendor, "contacts.json")
        with open(path) as f:
            doc = json.load(f)
        rows = doc.setdefault(args.tenant, [])
        if vendor == "guayaba":
            grow_guayaba(rows, args.contacts, args.tenant)
        elif vendor == "rasl":
            grow_rasl(rows, args.contacts)
        else:
            sys.exit("gen_fixtures: no contacts generator for vendor %r" % vendor)
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
