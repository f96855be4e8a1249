#!/usr/bin/python3
"""Test helper: rewrites orders_gen's key<TAB>value lines as a Schema Registry producer publishes
them (Confluent's wire format: magic byte 0, the 4-byte big-endian schema id, the payload), as
produce_lines input ({"key", "value_hex"} per line), and writes the schemas and the mapping.

  registry_formats.py schema avro|json < orders.ndjson > schema     the order events' schema
  registry_formats.py events avro|json ID SCHEMA < orders.ndjson > lines.ndjson
  registry_formats.py mapping avro|json TOPIC ORDERS_JSON > orders.json

The Avro schema is one record for every event type: "type" an enum of the types seen, the
fields of the other types optional (a union with null), totalAmount and the items' price a
decimal (bytes, scale 2), occurredAt a timestamp-millis. The payloads are written by Debian's
python3-avro (run this with /usr/bin/python3). The JSON Schema payload is the event's JSON.
"""
import datetime
import decimal
import io
import json
import sys

DECIMAL = {"type": "bytes", "logicalType": "decimal", "precision": 14, "scale": 2}
ITEM = {"type": "record", "name": "Item", "fields": [
    {"name": "sku", "type": "string"}, {"name": "quantity", "type": "int"},
    {"name": "price", "type": DECIMAL}]}
OPTIONAL = ["customerId", "paymentId", "trackingNumber", "reason", "note"]


def read_events():
    for line in sys.stdin:
        key, value = line.rstrip("\n").split("\t", 1)
        yield key, json.loads(value)


def avro_schema(types):
    fields = [{"name": "eventId", "type": "string"},
              {"name": "type", "type": {"type": "enum", "name": "EventType", "symbols": types}},
              {"name": "orderId", "type": "string"},
              {"name": "occurredAt", "type": {"type": "long", "logicalType": "timestamp-millis"}},
              {"name": "totalAmount", "type": ["null", DECIMAL], "default": None},
              {"name": "items", "type": ["null", {"type": "array", "items": ITEM}],
               "default": None}]
    fields += [{"name": f, "type": ["null", "string"], "default": None} for f in OPTIONAL]
    return {"type": "record", "name": "OrderEvent", "namespace": "example.orders",
            "fields": fields}


def json_schema():
    return {"$schema": "http://json-schema.org/draft-07/schema#", "title": "OrderEvent",
            "type": "object", "required": ["eventId", "type", "orderId", "occurredAt"],
            "properties": {"eventId": {"type": "string"}, "type": {"type": "string"},
                           "orderId": {"type": "string"}, "occurredAt": {"type": "string"}}}


def to_avro_datum(ev):
    d = {k: ev.get(k) for k in ["eventId", "type", "orderId"] + OPTIONAL}
    t = datetime.datetime.strptime(ev["occurredAt"], "%Y-%m-%dT%H:%M:%SZ")
    d["occurredAt"] = t.replace(tzinfo=datetime.timezone.utc)
    d["totalAmount"] = decimal.Decimal(ev["totalAmount"]) if "totalAmount" in ev else None
    d["items"] = [{"sku": i["sku"], "quantity": i["quantity"], "price": decimal.Decimal(i["price"])}
                  for i in ev["items"]] if "items" in ev else None
    return d


def events(fmt, sid, schema_file):
    header = b"\0" + sid.to_bytes(4, "big")
    if fmt == "avro":
        import avro.io
        import avro.schema
        writer = avro.io.DatumWriter(avro.schema.parse(open(schema_file).read()))
    for key, ev in read_events():
        if fmt == "avro":
            buf = io.BytesIO()
            writer.write(to_avro_datum(ev), avro.io.BinaryEncoder(buf))
            payload = buf.getvalue()
        else:
            payload = json.dumps(ev).encode()
        print(json.dumps({"key": key, "value_hex": (header + payload).hex()}))


def mapping(fmt, topic, orders_json):
    m = json.load(open(orders_json))
    m["format"] = "registry-" + fmt
    m["topics"] = [topic]
    json.dump(m, sys.stdout, indent=2)


def main(argv):
    if len(argv) == 3 and argv[1] == "schema":
        if argv[2] == "avro":
            types = sorted({ev["type"] for _, ev in read_events()})
            json.dump(avro_schema(types), sys.stdout)
        else:
            json.dump(json_schema(), sys.stdout)
    elif len(argv) == 5 and argv[1] == "events":
        events(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 5 and argv[1] == "mapping":
        mapping(argv[2], argv[3], argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
