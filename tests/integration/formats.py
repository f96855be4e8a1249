#!/usr/bin/env python3
"""Test helper: rewrites orders_gen's key<TAB>value lines as a producer of another format would
publish them, as produce_lines input ({"key", "value", "headers"} per line), and writes the
mapping that reads them (mappings/orders.json with "format", its topic, and for the envelopes no
"event_type": the type comes from the envelope or its header).

  formats.py events FORMAT < orders.ndjson > lines.ndjson [--tombstones KEY,...]
  formats.py mapping FORMAT TOPIC ORDERS_JSON > orders.json [--tombstone-rule]
  formats.py case FORMAT < events.ndjson > events.ndjson

"case" rewrites a `projector test` case's events the same way (a value that is not a JSON
object, a poison message, is kept as it is, with the headers of an event of type "Unknown").

FORMAT: json, ce-binary, ce-structured, outbox-expanded, outbox-string, outbox-wrapped. The data
loses its "type" field in the envelope formats, so only the envelope's type can select the rule.
"""
import base64
import json
import sys

MAPPING_FORMAT = {"json": "json", "ce-binary": "cloudevents", "ce-structured": "cloudevents",
                  "outbox-expanded": "debezium-outbox", "outbox-string": "debezium-outbox",
                  "outbox-wrapped": "debezium-outbox"}


def ce_binary(n, key, ev, typ):
    headers = [["ce_specversion", "1.0"], ["ce_id", "ev-%d" % n], ["ce_source", "/orders"],
               ["ce_type", typ], ["ce_subject", ev.get("orderId", key)],
               ["ce_time", ev.get("occurredAt", "2026-01-01T00:00:00Z")],
               ["content-type", "application/json"]]
    return json.dumps(ev), headers


def ce_structured(n, key, ev, typ):
    env = {"specversion": "1.0", "id": "ev-%d" % n, "source": "/orders", "type": typ,
           "subject": ev.get("orderId", key), "datacontenttype": "application/json"}
    if n % 3 == 2:  # every third event carries its data as base64
        env["data_base64"] = base64.b64encode(json.dumps(ev).encode()).decode()
    else:
        env["data"] = ev
    return json.dumps(env), [["content-type", "application/cloudevents+json; charset=UTF-8"]]


def outbox(kind):
    def encode(n, key, ev, typ):
        headers = [["id", "00000000-0000-4000-8000-%012d" % n], ["eventType", typ]]
        if kind == "expanded":
            return json.dumps(ev), headers
        if kind == "string":
            return json.dumps(json.dumps(ev)), headers
        # the JsonConverter with schemas enabled, the payload a string half the time
        payload = json.dumps(ev) if n % 2 else ev
        schema = {"type": "string", "optional": False, "name": "io.debezium.data.Json"}
        return json.dumps({"schema": schema, "payload": payload}), headers
    return encode


def plain(n, key, ev, typ):
    ev["type"] = typ
    return json.dumps(ev), []


ENCODERS = {"json": plain, "ce-binary": ce_binary, "ce-structured": ce_structured,
            "outbox-expanded": outbox("expanded"), "outbox-string": outbox("string"),
            "outbox-wrapped": outbox("wrapped")}


def events(fmt, tombstones):
    enc = ENCODERS[fmt]
    for n, line in enumerate(sys.stdin):
        key, value = line.rstrip("\n").split("\t", 1)
        ev = json.loads(value)
        typ = ev.pop("type")
        value, headers = enc(n, key, ev, typ)
        print(json.dumps({"key": key, "value": value, "headers": headers}))
    for key in tombstones:
        print(json.dumps({"key": key, "value": None, "headers": []}))


def case(fmt):
    enc = ENCODERS[fmt]
    for n, line in enumerate(sys.stdin):
        ev = json.loads(line)
        value = ev["value"]
        if isinstance(value, dict):
            typ = value.pop("type")
            text, headers = enc(n, ev.get("key", ""), value, typ)
        else:
            text, headers = value, enc(n, ev.get("key", ""), {}, "Unknown")[1]
        ev["value"] = text
        if headers:
            ev["headers"] = dict(headers)
        print(json.dumps(ev))


def mapping(fmt, topic, orders_json, tombstone_rule):
    m = json.load(open(orders_json))
    m["format"] = MAPPING_FORMAT[fmt]
    m["topics"] = [topic]
    if fmt != "json":
        del m["event_type"]
    if tombstone_rule:
        m["events"]["$tombstone"] = [
            {"delete": "order_detail", "key": {"order_id": {"meta": "key"}}},
            {"delete_document": "orders", "id": {"meta": "key"}}]
    json.dump(m, sys.stdout, indent=2)


def main(argv):
    if len(argv) >= 3 and argv[1] == "events":
        tomb = argv[4].split(",") if len(argv) > 4 and argv[3] == "--tombstones" else []
        events(argv[2], tomb)
    elif len(argv) == 3 and argv[1] == "case":
        case(argv[2])
    elif len(argv) >= 5 and argv[1] == "mapping":
        mapping(argv[2], argv[3], argv[4], "--tombstone-rule" in argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
