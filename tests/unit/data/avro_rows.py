#!/usr/bin/python3
"""Writes the Avro datums of tests/unit/test_registry.c's rows with Debian's python3-avro, as the
C rows' hex: run it with /usr/bin/python3 and paste what changed. Each case: a name, the
writer's schema, the datum (python values)."""
import datetime
import decimal
import io
import json
import uuid

import avro.io
import avro.schema

UTC = datetime.timezone.utc


def rec(*fields):
    return {"type": "record", "name": "R", "fields": [{"name": n, "type": t} for n, t in fields]}


DEC2 = {"type": "bytes", "logicalType": "decimal", "precision": 14, "scale": 2}
CASES = [
    ("primitives", rec(("b", "boolean"), ("i", "int"), ("l", "long"), ("f", "float"),
                       ("d", "double"), ("s", "string"), ("n", "null")),
     {"b": True, "i": -5, "l": 1234567890123, "f": 1.5, "d": -2.25, "s": "caf\u00e9", "n": None}),
    ("nullable: null", rec(("o", ["null", "string"])), {"o": None}),
    ("nullable: a value", rec(("o", ["null", "string"])), {"o": "x"}),
    ("union of several types: int", rec(("u", ["null", "int", "string"])), {"u": 3}),
    ("union of several types: string", rec(("u", ["null", "int", "string"])), {"u": "three"}),
    ("enum", rec(("e", {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]})),
     {"e": "PAID"}),
    ("array of records", rec(("a", {"type": "array", "items": {
        "type": "record", "name": "Item", "fields": [{"name": "sku", "type": "string"},
                                                     {"name": "q", "type": "int"}]}})),
     {"a": [{"sku": "A", "q": 1}, {"sku": "B", "q": 2}]}),
    ("map", rec(("m", {"type": "map", "values": "long"})), {"m": {"x": 1, "y": -2}}),
    ("bytes and fixed: base64", rec(("by", "bytes"), ("fx", {"type": "fixed", "name": "F4",
                                                             "size": 4})),
     {"by": b"\x00\xffhi", "fx": b"abcd"}),
    ("decimal bytes", rec(("p", DEC2), ("n", DEC2), ("z", DEC2), ("c", DEC2)),
     {"p": decimal.Decimal("1438.83"), "n": decimal.Decimal("-0.05"), "z": decimal.Decimal("0.00"),
      "c": decimal.Decimal("-128.00")}),
    ("decimal: large, scale 0", rec(("big", {"type": "bytes", "logicalType": "decimal",
                                             "precision": 38, "scale": 0})),
     {"big": decimal.Decimal("-123456789012345678901234567890")}),
    ("decimal fixed", rec(("fd", {"type": "fixed", "name": "D8", "size": 8,
                                  "logicalType": "decimal", "precision": 18, "scale": 3})),
     {"fd": decimal.Decimal("-12.345")}),
    ("date", rec(("d0", {"type": "int", "logicalType": "date"}),
                 ("d1", {"type": "int", "logicalType": "date"}),
                 ("d2", {"type": "int", "logicalType": "date"})),
     {"d0": datetime.date(1970, 1, 1), "d1": datetime.date(2026, 1, 1),
      "d2": datetime.date(1969, 12, 31)}),
    ("timestamp-millis", rec(("t", {"type": "long", "logicalType": "timestamp-millis"}),
                             ("before", {"type": "long", "logicalType": "timestamp-millis"})),
     {"t": datetime.datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC),
      "before": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)}),
    ("timestamp-micros", rec(("t", {"type": "long", "logicalType": "timestamp-micros"})),
     {"t": datetime.datetime(2026, 2, 28, 13, 4, 5, 123456, tzinfo=UTC)}),
    ("uuid", rec(("u", {"type": "string", "logicalType": "uuid"})),
     {"u": "6f1c2f5e-8a0b-4c1d-9e2f-0a1b2c3d4e5f"}),
    ("named type referenced", {"type": "record", "name": "Order", "namespace": "shop", "fields": [
        {"name": "billing", "type": {"type": "record", "name": "Address", "fields": [
            {"name": "city", "type": "string"},
            {"name": "since", "type": {"type": "int", "logicalType": "date"}}]}},
        {"name": "shipping", "type": ["null", "shop.Address"]},
        {"name": "other", "type": "Address"}]},
     {"billing": {"city": "Oslo", "since": datetime.date(2020, 2, 29)},
      "shipping": {"city": "Rome", "since": datetime.date(2021, 3, 1)},
      "other": {"city": "Bonn", "since": datetime.date(1999, 12, 31)}}),
]

for name, schema, datum in CASES:
    buf = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(schema))).write(datum,
                                                                       avro.io.BinaryEncoder(buf))
    print(json.dumps(name), json.dumps(json.dumps(schema)), '"%s"' % buf.getvalue().hex())
