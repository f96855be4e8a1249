#!/usr/bin/python3
"""Test helper of test_upcast_registry.sh: OrderCreated in two Avro schema versions of one
subject, as a Schema Registry producer publishes them (magic byte 0, the 4-byte schema id, the
Avro datum written by Debian's python3-avro: run this with /usr/bin/python3).

  upcast_registry.py schema v1|v2|ambiguous|stray|unrelated     the schema's JSON
  upcast_registry.py events N ID1 ID2 LINES EXPECTED            N orders, v1 (id ID1) and v2 (id
      ID2) drawn at random, interleaved, as produce_lines input into LINES; the rows of
      order_read they make (order_id|customer_id|total_amount|currency|item_count) into EXPECTED
  upcast_registry.py one KIND ID ORDER_ID                       one order of schema KIND (v1 or
      v2 shape), id ID, as a produce_lines line

v1 has total in cents and no currency; v2 has totalAmount (a decimal string) and currency.
"""
import io
import json
import random
import sys

ITEM = {"type": "record", "name": "Item", "fields": [
    {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}


def schema(kind):
    head = [{"name": "type", "type": "string"}, {"name": "orderId", "type": "string"},
            {"name": "customerId", "type": "string"}]
    items = {"name": "items", "type": {"type": "array", "items": ITEM}}
    if kind == "unrelated":
        return {"type": "record", "name": "Unrelated", "namespace": "example.other",
                "fields": [{"name": "x", "type": "int"}]}
    if kind in ("v1", "ambiguous"):
        fields = head + [{"name": "total", "type": "long"}, items]
    else:
        fields = head + [{"name": "totalAmount", "type": "string"},
                         {"name": "currency", "type": "string"}, items]
    s = {"type": "record", "name": "OrderCreated", "namespace": "example.orders", "fields": fields}
    if kind in ("ambiguous", "stray"):
        s["doc"] = kind  # another schema text: another id
    return s


def datum(kind, order_id, rnd):
    items = [{"sku": "s-%d" % rnd.randint(1, 9), "qty": rnd.randint(1, 5)}
             for _ in range(rnd.randint(0, 3))]
    d = {"type": "OrderCreated", "orderId": order_id, "customerId": "c-%d" % rnd.randint(1, 50),
         "items": items}
    cents = rnd.randint(1, 99999)
    if kind in ("v1", "ambiguous"):
        d["total"] = cents
        row = (order_id, d["customerId"], "%d.%02d" % (cents // 100, cents % 100), "EUR", len(items))
    else:
        d["totalAmount"] = "%d.%02d" % (cents // 100, cents % 100)
        d["currency"] = rnd.choice(["USD", "GBP", "EUR"])
        row = (order_id, d["customerId"], d["totalAmount"], d["currency"], len(items))
    return d, row


def line(kind, sid, d):
    import avro.io
    import avro.schema
    writer = avro.io.DatumWriter(avro.schema.parse(json.dumps(schema(kind))))
    buf = io.BytesIO()
    writer.write(d, avro.io.BinaryEncoder(buf))
    value = b"\0" + sid.to_bytes(4, "big") + buf.getvalue()
    return json.dumps({"key": d["orderId"], "value_hex": value.hex()})


def main(argv):
    if len(argv) == 3 and argv[1] == "schema":
        print(json.dumps(schema(argv[2])))
    elif len(argv) == 7 and argv[1] == "events":
        rnd = random.Random(7)
        rows = []
        with open(argv[5], "w") as out:
            for i in range(int(argv[2])):
                kind = rnd.choice(["v1", "v2"])
                d, row = datum(kind, "o-%04d" % i, rnd)
                out.write(line(kind, int(argv[3] if kind == "v1" else argv[4]), d) + "\n")
                rows.append(row)
        with open(argv[6], "w") as out:
            for r in sorted(rows):
                out.write("|".join(str(x) for x in r) + "\n")
    elif len(argv) == 5 and argv[1] == "one":
        d, _ = datum(argv[2], argv[4], random.Random(1))
        print(line(argv[2], int(argv[3]), d))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
