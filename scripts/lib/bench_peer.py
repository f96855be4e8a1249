#!/usr/bin/env python3
"""The benchmark's peer: the sample order domain's projection as a team would hand-write it in
Python (confluent-kafka + psycopg2): statements per event, one transaction per polled batch,
offsets committed to Kafka after the database commit. It writes the same read tables as
mappings/orders.json (without documents), so scripts/bench verifies it the same way.

Usage: bench_peer.py BROKERS TOPIC GROUP MESSAGES  (PostgreSQL from the PG* variables)
Consumes until MESSAGES messages were applied or skipped, then prints the seconds from the
first message polled to the last commit, on stdout."""
import json
import sys
import time

import psycopg2
from confluent_kafka import Consumer

CREATED_ORDER = """
INSERT INTO order_detail (order_id, customer_id, status, total_amount, item_count, items,
                          created_at, updated_at)
VALUES (%s, %s, 'CREATED', %s, %s, %s::jsonb, %s, %s)
ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, status = 'CREATED',
  total_amount = EXCLUDED.total_amount, item_count = EXCLUDED.item_count, items = EXCLUDED.items,
  created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at"""
CREATED_CUSTOMER = """
INSERT INTO customer_summary AS c (customer_id, orders_created, total_ordered, last_order_at)
VALUES (%s, 1, %s, %s)
ON CONFLICT (customer_id) DO UPDATE SET orders_created = coalesce(c.orders_created, 0) + 1,
  total_ordered = coalesce(c.total_ordered, 0) + coalesce(EXCLUDED.total_ordered, 0),
  last_order_at = greatest(c.last_order_at, EXCLUDED.last_order_at)"""
PAID = """UPDATE order_detail SET status = 'PAID', payment_id = %s, updated_at = %s
WHERE order_id = %s"""
SHIPPED = """UPDATE order_detail SET status = 'SHIPPED', tracking_number = %s, updated_at = %s
WHERE order_id = %s"""
CANCELLED_CUSTOMER = """UPDATE customer_summary SET orders_cancelled =
  coalesce(orders_cancelled, 0) + 1
WHERE customer_id = (SELECT customer_id FROM order_detail WHERE order_id = %s)"""
CANCELLED_ORDER = """UPDATE order_detail SET status = 'CANCELLED', cancel_reason = %s,
  updated_at = %s WHERE order_id = %s"""


def apply(cur, e):
    """Runs the statements of event e; returns False for a type the projection ignores."""
    t = e.get("type")
    if t == "OrderCreated":
        qty = sum(i.get("quantity", 0) for i in e.get("items", []))
        cur.execute(CREATED_ORDER, (e["orderId"], e["customerId"], e["totalAmount"], qty,
                                    json.dumps(e["items"]), e["occurredAt"], e["occurredAt"]))
        cur.execute(CREATED_CUSTOMER, (e["customerId"], e["totalAmount"], e["occurredAt"]))
    elif t == "OrderPaid":
        cur.execute(PAID, (e["paymentId"], e["occurredAt"], e["orderId"]))
    elif t == "OrderShipped":
        cur.execute(SHIPPED, (e["trackingNumber"], e["occurredAt"], e["orderId"]))
    elif t == "OrderCancelled":
        cur.execute(CANCELLED_CUSTOMER, (e["orderId"],))
        cur.execute(CANCELLED_ORDER, (e.get("reason"), e["occurredAt"], e["orderId"]))
    else:
        return False
    return True


def main():
    brokers, topic, group, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    db = psycopg2.connect("")
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    done, first = 0, None
    while done < total:
        msgs = consumer.consume(num_messages=5000, timeout=1.0)
        if not msgs:
            continue
        if first is None:
            first = time.monotonic()
        with db.cursor() as cur:
            for m in msgs:
                if m.error():
                    continue
                apply(cur, json.loads(m.value()))
                done += 1
        db.commit()
        consumer.commit(asynchronous=True)
    print("%.3f" % (time.monotonic() - first))
    consumer.close()


if __name__ == "__main__":
    main()
