#!/usr/bin/env python3
"""Prints the documents of an index of the Elasticsearch stand-in in orders_gen's order_docs.txt
format (one line per document, by id): orderId|customerId|status|totalAmount|itemCount|skus|
cancelReason|createdAt|updatedAt, times as epoch seconds.

usage: es_docs.py ES_URL INDEX   (ES_CA_FILE in the environment: verify HTTPS with it)
"""
import datetime
import json
import os
import ssl
import sys
import urllib.request


def epoch(text):
    return int(datetime.datetime.fromisoformat(text).timestamp())


def main():
    url, index = sys.argv[1], sys.argv[2]
    ca = os.environ.get("ES_CA_FILE")
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(f"{url}/_standin/dump/{index}", context=ctx) as r:
        dump = json.load(r)
    for doc_id in sorted(dump["docs"]):
        d = dump["docs"][doc_id]["_source"]
        if d.get("orderId") != doc_id:
            sys.exit(f"document {doc_id}: orderId is {d.get('orderId')!r}")
        fields = [d["orderId"], d["customerId"], d["status"], f"{d['totalAmount']:.2f}",
                  str(d["itemCount"]), ",".join(d["skus"]), d.get("cancelReason") or "",
                  str(epoch(d["createdAt"])), str(epoch(d["updatedAt"]))]
        print("|".join(fields))


if __name__ == "__main__":
    main()
