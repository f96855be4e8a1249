#!/usr/bin/env python3
"""Test helper: a `customers` table's change stream as Debezium's PostgreSQL connector publishes
it, as produce_lines input ({"key", "value", "headers"} per line), and the table's end state
computed from the same changes.

  cdc_gen.py events --seed N --rows N --changes N --expect FILE > lines.ndjson
  cdc_gen.py bad > lines.ndjson

events: a snapshot (op "r" for every row of the table), then creates, updates, deletes (each
followed by its tombstone, a null value with the delete's key, as Debezium emits unless
tombstones.on.delete=false) and primary key changes (a delete, its tombstone, and a create of the
new key, as Debezium turns an UPDATE of the key into). Keys as the JsonConverter writes them
({"id": N}) for odd ids and as plain text for even ones; values the envelope, wrapped in
{"schema", "payload"} (schemas enabled) one message in two. FILE gets the end state, one
"id|name|email|op|ts_ms|table" line per row in id order (what the mapping of test_cdc.sh
projects), and "count NAME N" lines: messages, changes (events with a value), tombstones.

bad: change events the projector must dead-letter at stage decode, keyed by ids the events above
never use (no op, an unknown op, a create without its new image).
"""
import argparse
import json
import random
import sys

SOURCE = {"version": "2.5.0.Final", "connector": "postgresql", "name": "legacy",
          "db": "shop", "schema": "public", "table": "customers"}
SCHEMA = {"type": "struct", "optional": False, "name": "legacy.public.customers.Envelope",
          "version": 1, "fields": []}


class Stream:
    def __init__(self, out):
        self.out, self.n, self.ts, self.lsn = out, 0, 1700000000000, 1000
        self.tombstones = self.changes = 0

    def key(self, cid):
        return json.dumps({"id": cid}) if cid % 2 else str(cid)

    def change(self, op, cid, before, after, snapshot="false"):
        self.ts += 7
        self.lsn += 64
        env = {"before": before, "after": after, "op": op, "ts_ms": self.ts,
               "source": dict(SOURCE, ts_ms=self.ts - 3, lsn=self.lsn, snapshot=snapshot,
                              txId=self.lsn // 64),
               "transaction": None}
        value = {"schema": SCHEMA, "payload": env} if self.n % 2 else env
        self.emit(cid, json.dumps(value))
        self.changes += 1
        return env

    def tombstone(self, cid):
        self.emit(cid, None)
        self.tombstones += 1

    def emit(self, cid, value):
        self.out.write(json.dumps({"key": self.key(cid), "value": value, "headers": []}) + "\n")
        self.n += 1


def row(rnd, cid):
    return {"id": cid, "name": "customer-%d-%d" % (cid, rnd.randrange(1000)),
            "email": None if rnd.random() < 0.2 else "c%d@example.com" % rnd.randrange(10000)}


def events(args):
    rnd = random.Random(args.seed)
    s = Stream(sys.stdout)
    table = {}  # id -> (row, op, ts_ms): what the read table holds
    rows = {cid: row(rnd, cid) for cid in range(1, args.rows + 1)}
    for i, (cid, r) in enumerate(sorted(rows.items())):
        env = s.change("r", cid, None, r, "first" if i == 0 else "true")
        table[cid] = (r, "r", env["ts_ms"])
    next_id = args.rows + 1
    for _ in range(args.changes):
        live = sorted(rows)
        pick = rnd.random()
        if pick < 0.3 or not live:
            cid, next_id = next_id, next_id + 1
            rows[cid] = row(rnd, cid)
            env = s.change("c", cid, None, rows[cid])
            table[cid] = (rows[cid], "c", env["ts_ms"])
        elif pick < 0.75:
            cid = rnd.choice(live)
            before, after = rows[cid], dict(rows[cid], **row(rnd, cid))
            rows[cid] = after
            env = s.change("u", cid, before, after)
            table[cid] = (after, "u", env["ts_ms"])
        elif pick < 0.92:
            cid = rnd.choice(live)
            s.change("d", cid, rows.pop(cid), None)
            s.tombstone(cid)
            del table[cid]
        else:  # the key changes: delete, tombstone, create under the new key
            cid, new = rnd.choice(live), next_id
            next_id += 1
            r = dict(rows.pop(cid), id=new)
            s.change("d", cid, dict(r, id=cid), None)
            s.tombstone(cid)
            del table[cid]
            rows[new] = r
            env = s.change("c", new, None, r)
            table[new] = (r, "c", env["ts_ms"])
    with open(args.expect, "w") as f:
        for cid in sorted(table):
            r, op, ts = table[cid]
            f.write("%d|%s|%s|%s|%d|customers\n" % (cid, r["name"], r["email"] or "", op, ts))
        f.write("count messages %d\ncount changes %d\ncount tombstones %d\n"
                % (s.n, s.changes, s.tombstones))


def bad(_args):
    s = Stream(sys.stdout)
    env = {"before": None, "after": {"id": 900001, "name": "x", "email": None}, "ts_ms": 1,
           "source": SOURCE}
    s.emit(900001, json.dumps(env))  # no op
    s.emit(900002, json.dumps(dict(env, op="x")))  # an unknown op
    s.emit(900003, json.dumps({"schema": SCHEMA, "payload": dict(env, op="c", after=None)}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("events")
    e.add_argument("--seed", type=int, default=13)
    e.add_argument("--rows", type=int, default=200)
    e.add_argument("--changes", type=int, default=1500)
    e.add_argument("--expect", required=True)
    sub.add_parser("bad")
    args = p.parse_args()
    {"events": events, "bad": bad}[args.cmd](args)


if __name__ == "__main__":
    main()
