#!/usr/bin/env python3
"""Order events of every schema version, for test_upcast.sh, and the read table they must give.

Each order is drawn from a seeded generator (id, customer, amount in cents, currency, lines,
channel) and published as one event in one of the versions the orders topic has held:
  v1   OrderCreated, no schemaVersion: total in cents, items, no currency (EUR)
  v1p  OrderPlaced (the old name), schemaVersion 1, as v1
  v2   OrderCreated 2: totalAmount a decimal string, currency, items
  v3   OrderCreated 3: lines instead of items
  v4   OrderCreated 4: customer {id}, channel (only with --v4)
and a few that cannot be upcast: a v2 without items, a version newer than any (9).
The expected rows are computed from the drawn orders, not from the events, so they check the
upcasters independently. Usage:
  upcast_gen.py --start N --orders N --seed S [--v4] EVENTS_FILE   (lines: key TAB value)
  upcast_gen.py --start N --orders N --seed S [--v4] --expected 3|4 FILE
--expected 3 writes the rows under the v3 mapping, 4 under the v4 one (channel column):
  order_id|customer_id|total_amount|currency|line_count|quantity|channel ("-": NULL)
and the ids of the orders that are dead-lettered to FILE.dead."""
import argparse
import json
import random


def orders(start, n, seed, v4):
    rnd = random.Random(seed)
    kinds = ["v1", "v1p", "v2", "v3"] + (["v4"] if v4 else [])
    for i in range(start, start + n):
        o = {
            "id": "o%06d" % i,
            "customer": "c%03d" % rnd.randrange(50),
            "cents": rnd.randrange(1, 200000),
            "currency": rnd.choice(["USD", "EUR", "GBP"]),
            "lines": [{"sku": "s%d" % rnd.randrange(20), "qty": rnd.randrange(1, 5)}
                      for _ in range(rnd.randrange(0, 4))],
            "channel": rnd.choice(["web", "mobile", "store"]),
            "kind": rnd.choice(kinds),
        }
        if rnd.random() < 0.03:
            o["kind"] = rnd.choice(["bad_v2", "bad_v9"])
        yield o


def amount(o):
    return "%d.%02d" % (o["cents"] // 100, o["cents"] % 100)


def event(o):
    k = o["kind"]
    base = {"type": "OrderCreated", "orderId": o["id"], "customerId": o["customer"]}
    if k in ("v1", "v1p"):
        base.update(total=o["cents"], items=o["lines"])
        if k == "v1p":
            base.update(type="OrderPlaced", schemaVersion=1)
    elif k in ("v2", "bad_v2"):
        base.update(schemaVersion=2, totalAmount=amount(o), currency=o["currency"])
        if k == "v2":
            base["items"] = o["lines"]
    elif k == "v3":
        base.update(schemaVersion=3, totalAmount=amount(o), currency=o["currency"],
                    lines=o["lines"])
    elif k == "v4":
        del base["customerId"]
        base.update(schemaVersion=4, customer={"id": o["customer"]}, totalAmount=amount(o),
                    currency=o["currency"], lines=o["lines"], channel=o["channel"])
    else:  # bad_v9
        base.update(schemaVersion=9, totalAmount=amount(o), currency=o["currency"])
    return base


def row(o, shape):
    currency = "EUR" if o["kind"] in ("v1", "v1p") else o["currency"]
    channel = o["channel"] if o["kind"] == "v4" else "web"
    cols = [o["id"], o["customer"], amount(o), currency, str(len(o["lines"])),
            str(sum(line["qty"] for line in o["lines"]))]
    if shape == 4:
        cols.append(channel)
    return "|".join(cols)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--start", type=int, required=True)
    p.add_argument("--orders", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--v4", action="store_true")
    p.add_argument("--expected", type=int, choices=[3, 4])
    p.add_argument("file")
    a = p.parse_args()
    all_orders = list(orders(a.start, a.orders, a.seed, a.v4))
    if a.expected:
        good = [o for o in all_orders if not o["kind"].startswith("bad")]
        with open(a.file, "w") as f:
            for line in sorted(row(o, a.expected) for o in good):
                f.write(line + "\n")
        with open(a.file + ".dead", "w") as f:
            for o in all_orders:
                if o["kind"].startswith("bad"):
                    f.write("%s %s\n" % (o["id"], o["kind"]))
        return
    with open(a.file, "w") as f:
        for o in all_orders:
            f.write("%s\t%s\n" % (o["id"], json.dumps(event(o), separators=(",", ":"))))


if __name__ == "__main__":
    main()
