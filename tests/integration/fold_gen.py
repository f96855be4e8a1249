#!/usr/bin/env python3
"""Random operations on a few rows, for test_fold.sh: writes the mapping, the view, the events
(key TAB value per line) and the state applying them one by one must leave, computed here from
the operations' meaning (independently of the projector).

Usage: fold_gen.py DIR SEED N"""
import json
import os
import random
import sys
from decimal import Decimal

MAPPING = {
    "version": 1, "projection": "fold", "topics": ["fold-events"],
    "events": {
        "Put": [{"upsert": "fold_row", "key": {"id": "$.id"},
                 "columns": {"a": "$.a", "b": "$.b", "c": {"literal": 1, "op": "add"}}}],
        "PutA": [{"upsert": "fold_row", "key": {"id": "$.id"}, "columns": {"a": "$.a"}}],
        "SetA": [{"update": "fold_row", "key": {"id": "$.id"}, "columns": {"a": "$.a"}}],
        "SetAB": [{"update": "fold_row", "key": {"id": "$.id"},
                   "columns": {"b": "$.b", "a": "$.a"}}],
        "AddB": [{"update": "fold_row", "key": {"id": "$.id"},
                  "columns": {"b": {"path": "$.b", "op": "add"}}}],
        "Max": [{"update": "fold_row", "key": {"id": "$.id"},
                 "columns": {"c": {"path": "$.c", "op": "max"}}}],
        "Del": [{"delete": "fold_row", "key": {"id": "$.id"}}],
        "Guarded": [{"upsert": "fold_row", "key": {"id": "$.id"}, "columns": {"a": "$.a"},
                     "guard": {"column": "v", "value": "$.v"}}],
        "Twice": [{"upsert": "fold_row", "key": {"id": "$.id"}, "columns": {"a": "$.a"}},
                  {"update": "fold_row", "key": {"id": "$.id"}, "columns": {"b": "$.b"}}],
    },
}
VIEW = ("CREATE TABLE IF NOT EXISTS fold_row (id text PRIMARY KEY, a text, b numeric(12, 2),"
        " c bigint, v bigint);\n")


def apply(rows, e):
    """The effect of event e on rows (id -> dict), one event at a time."""
    t, k = e["type"], e["id"]
    r = rows.get(k)
    if t == "Put":
        if r is None:
            rows[k] = {"a": e["a"], "b": Decimal(e["b"]), "c": 1, "v": None}
        else:
            r.update(a=e["a"], b=Decimal(e["b"]), c=(r["c"] or 0) + 1)
    elif t in ("PutA", "Twice"):
        if r is None:
            r = rows[k] = {"a": e["a"], "b": None, "c": None, "v": None}
        else:
            r["a"] = e["a"]
        if t == "Twice":
            r["b"] = Decimal(e["b"])
    elif t == "SetA" and r is not None:
        r["a"] = e["a"]
    elif t == "SetAB" and r is not None:
        r.update(a=e["a"], b=Decimal(e["b"]))
    elif t == "AddB" and r is not None:
        r["b"] = (r["b"] or Decimal(0)) + Decimal(e["b"])
    elif t == "Max" and r is not None:
        r["c"] = e["c"] if r["c"] is None else max(r["c"], e["c"])
    elif t == "Del":
        rows.pop(k, None)
    elif t == "Guarded":
        if r is None:
            rows[k] = {"a": e["a"], "b": None, "c": None, "v": e["v"]}
        elif r["v"] is None or r["v"] <= e["v"]:
            r.update(a=e["a"], v=e["v"])


def main():
    out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    os.makedirs(os.path.join(out, "mappings"), exist_ok=True)
    os.makedirs(os.path.join(out, "views"), exist_ok=True)
    json.dump(MAPPING, open(os.path.join(out, "mappings", "fold.json"), "w"), indent=1)
    open(os.path.join(out, "views", "010_fold.sql"), "w").write(VIEW)
    kinds = ["Put", "PutA", "SetA", "SetAB", "AddB", "Max", "Del", "Guarded", "Twice"]
    weights = [4, 2, 4, 3, 3, 2, 1, 2, 2]
    rows = {}
    with open(os.path.join(out, "events.ndjson"), "w") as f:
        for i in range(n):
            k = "r%02d" % rnd.randrange(12)  # few rows: many operations on each per batch
            e = {"type": rnd.choices(kinds, weights)[0], "id": k, "a": "a%d" % i,
                 "b": "%d.%02d" % (rnd.randrange(100), rnd.randrange(100)),
                 "c": rnd.randrange(1000), "v": rnd.randrange(50)}
            apply(rows, e)
            f.write("%s\t%s\n" % (k, json.dumps(e)))
    with open(os.path.join(out, "expected.txt"), "w") as f:
        for k in sorted(rows):
            r = rows[k]
            cells = [k, r["a"], r["b"], r["c"], r["v"]]
            f.write("|".join("" if c is None else str(c) for c in cells) + "\n")


if __name__ == "__main__":
    main()
