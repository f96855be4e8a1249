#!/usr/bin/env python3
"""Random operations on a few rows, for test_fold.sh: writes the mapping, the view, the events
(key TAB value per line) and the state applying them one by one must leave, computed here from
the operations' meaning (independently of the projector). Besides sets, the columns take adds
of decimal strings (rounded to the column's scale, some negative, some NULL), max of timestamps
with offsets, min of integers and appends of JSON values, from upserts and updates.

Usage: fold_gen.py DIR SEED N"""
import json
import os
import random
import sys
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def dec(v):
    """A decimal string as numeric(12, 2) stores it (halves away from zero), or None."""
    return None if v is None else Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP)


def add(x, y):
    """coalesce(x, 0) + coalesce(y, 0) in numeric(12, 2)."""
    return (Decimal(0) + (x or 0) + (y or 0)).quantize(CENT)


def ts(v):
    """A timestamp with an offset as seconds since the epoch, or None."""
    return None if v is None else int(datetime.fromisoformat(v).timestamp())


def greatest(x, y, pick=max):
    """SQL greatest (least with pick=min): NULLs are ignored."""
    vals = [z for z in (x, y) if z is not None]
    return pick(vals) if vals else None


def ops(r, e, insert):
    """The add, max, min and append columns of OPS on row r (a new row when insert)."""
    d, m, j = dec(e["d"]), ts(e["m"]), e["j"]
    if insert:
        r.update(d=d, m=m, n=e["n"], j=[j])
    else:
        r["d"] = add(r["d"], d)
        r["m"] = greatest(r["m"], m)
        r["n"] = greatest(r["n"], e["n"], min)
        r["j"] = (r["j"] or []) + [j]

OPS = {"d": {"path": "$.d", "op": "add"}, "m": {"path": "$.m", "op": "max"},
       "n": {"path": "$.n", "op": "min"}, "j": {"path": "$.j", "op": "append"}}
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
        "PutOps": [{"upsert": "fold_row", "key": {"id": "$.id"}, "columns": OPS}],
        "Ops": [{"update": "fold_row", "key": {"id": "$.id"}, "columns": OPS}],
        "AddE": [{"update": "fold_row", "key": {"id": "$.id"},
                  "columns": {"e": {"path": "$.e", "op": "add"}}}],
        "AddF": [{"update": "fold_row", "key": {"id": "$.id"},
                  "columns": {"f": {"path": "$.e", "op": "add"}, "a": "$.a"}}],
        "AddD": [{"update": "fold_row", "key": {"id": "$.id"},
                  "columns": {"d": {"path": "$.d", "op": "add"}}}],
        "SetD": [{"update": "fold_row", "key": {"id": "$.id"}, "columns": {"d": "$.d"}}],
        "SetMN": [{"update": "fold_row", "key": {"id": "$.id"}, "columns": {"m": "$.m", "n": "$.n"}}],
        "MaxM": [{"update": "fold_row", "key": {"id": "$.id"},
                  "columns": {"m": {"path": "$.m", "op": "max"}}}],
        "App": [{"update": "fold_row", "key": {"id": "$.id"},
                 "columns": {"j": {"path": "$.j", "op": "append"}}}],
        "TwiceAdd": [{"upsert": "fold_row", "key": {"id": "$.id"},
                      "columns": {"d": {"path": "$.d", "op": "add"}}},
                     {"update": "fold_row", "key": {"id": "$.id"},
                      "columns": {"d": {"path": "$.d2", "op": "add"}}}],
    },
}
VIEW = ("CREATE TABLE IF NOT EXISTS fold_row (id text PRIMARY KEY, a text, b numeric(12, 2),"
        " c bigint, v bigint, d numeric(12, 2), m timestamptz, n integer, j jsonb,"
        " e bigint DEFAULT 0, f bigint DEFAULT 7);\n")


def apply(rows, e):
    """The effect of event e on rows (id -> dict), one event at a time."""
    t, k = e["type"], e["id"]
    r = rows.get(k)
    if t == "Put":
        if r is None:
            rows[k] = new_row(a=e["a"], b=Decimal(e["b"]), c=1)
        else:
            r.update(a=e["a"], b=Decimal(e["b"]), c=(r["c"] or 0) + 1)
    elif t in ("PutA", "Twice"):
        if r is None:
            r = rows[k] = new_row(a=e["a"])
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
            rows[k] = new_row(a=e["a"], v=e["v"])
        elif r["v"] is None or r["v"] <= e["v"]:
            r.update(a=e["a"], v=e["v"])
    elif t == "PutOps":
        if r is None:
            ops(rows.setdefault(k, new_row()), e, True)
        else:
            ops(r, e, False)
    elif t == "Ops" and r is not None:
        ops(r, e, False)
    elif t == "AddE" and r is not None:
        r["e"] = (r["e"] or 0) + (e["e"] or 0)
    elif t == "AddF" and r is not None:
        r.update(f=(r["f"] or 0) + (e["e"] or 0), a=e["a"])
    elif t == "AddD" and r is not None:
        r["d"] = add(r["d"], dec(e["d"]))
    elif t == "SetD" and r is not None:
        r["d"] = dec(e["d"])
    elif t == "SetMN" and r is not None:
        r.update(m=ts(e["m"]), n=e["n"])
    elif t == "MaxM" and r is not None:
        r["m"] = greatest(r["m"], ts(e["m"]))
    elif t == "App" and r is not None:
        r["j"] = (r["j"] or []) + [e["j"]]
    elif t == "TwiceAdd":
        if r is None:
            r = rows[k] = new_row(d=dec(e["d"]))
        else:
            r["d"] = add(r["d"], dec(e["d"]))
        r["d"] = add(r["d"], dec(e["d2"]))


def new_row(**cols):
    r = dict.fromkeys(["a", "b", "c", "v", "d", "m", "n", "j"])
    r.update(e=0, f=7)  # the columns' defaults
    r.update(cols)
    return r


def decimal_text(rnd):
    """A decimal string for an add: mostly positive with 2 decimals, some negative, some with 3
    (rounded at each step: not folded)."""
    if rnd.random() < 0.1:
        return None
    if rnd.random() < 0.2:
        v = "%d.%03d" % (rnd.randrange(1000), rnd.randrange(1000))
    else:
        v = "%d.%02d" % (rnd.randrange(1000), rnd.randrange(100))
    return "-" + v if rnd.random() < 0.1 else v


def timestamp_text(rnd):
    if rnd.random() < 0.1:
        return None
    off = rnd.choice(["Z", "+05:30", "-08:00", "+00:00"])
    return "2026-0%d-1%d %02d:%02d:00%s" % (rnd.randrange(1, 10), rnd.randrange(10),
                                            rnd.randrange(24), rnd.randrange(60), off)


def json_value(rnd):
    return rnd.choice([None, rnd.randrange(100), "s%d" % rnd.randrange(100),
                       {"k": rnd.randrange(10)}, [rnd.randrange(5)]])


def main():
    out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    os.makedirs(os.path.join(out, "mappings"), exist_ok=True)
    os.makedirs(os.path.join(out, "views"), exist_ok=True)
    json.dump(MAPPING, open(os.path.join(out, "mappings", "fold.json"), "w"), indent=1)
    open(os.path.join(out, "views", "010_fold.sql"), "w").write(VIEW)
    kinds = ["Put", "PutA", "SetA", "SetAB", "AddB", "Max", "Del", "Guarded", "Twice", "PutOps",
             "Ops", "AddD", "SetD", "MaxM", "App", "TwiceAdd", "AddE", "AddF", "SetMN"]
    weights = [4, 2, 4, 3, 3, 2, 1, 2, 2, 5, 3, 3, 2, 2, 2, 2, 3, 2, 2]
    rows = {}
    with open(os.path.join(out, "events.ndjson"), "w") as f:
        for i in range(n):
            k = "r%02d" % rnd.randrange(12)  # few rows: many operations on each per batch
            e = {"type": rnd.choices(kinds, weights)[0], "id": k, "a": "a%d" % i,
                 "b": "%d.%02d" % (rnd.randrange(100), rnd.randrange(100)),
                 "c": rnd.randrange(1000), "v": rnd.randrange(50), "d": decimal_text(rnd),
                 "d2": decimal_text(rnd), "m": timestamp_text(rnd),
                 "n": None if rnd.random() < 0.1 else rnd.randrange(-50, 1000),
                 "j": json_value(rnd), "e": None if rnd.random() < 0.1 else rnd.randrange(100)}
            apply(rows, e)
            f.write("%s\t%s\n" % (k, json.dumps(e)))
    with open(os.path.join(out, "expected.txt"), "w") as f:
        for k in sorted(rows):
            r = rows[k]
            j = None if r["j"] is None else json.dumps(r["j"])
            cells = [k, r["a"], r["b"], r["c"], r["v"], r["d"], r["m"], r["n"], j, r["e"], r["f"]]
            f.write("|".join("" if c is None else str(c) for c in cells) + "\n")


if __name__ == "__main__":
    main()
