#!/usr/bin/env bash
# The sample order domain end to end, with poison messages: the read tables equal the expected
# state computed independently by orders_gen, and every poison message is in the DLQ with its
# error headers while every good event is applied.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup sample_domain --topic order-events:4

"$ORDERS_GEN" --events 20000 --poison 25 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

# Three decode workers whatever the machine's CPUs: each batch is decoded in three ranges at once,
# poison messages among them, and must come out exactly as one thread would decode it.
projector_start run --decode-threads 3
wait_caught_up orders "$total" 180
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"

# Exact accounting in the positions table.
read -r applied skipped dead <<<"$(sql "SELECT sum(applied), sum(skipped), sum(dead_lettered)
    FROM projector.positions WHERE projection = 'orders'" | tr '|' ' ')"
[ "$applied" = "$(count_of good "$WORK/expected")" ] || fail "applied=$applied"
[ "$skipped" = "$(count_of unknown "$WORK/expected")" ] || fail "skipped=$skipped"
[ "$dead" = "$(count_of poison "$WORK/expected")" ] || fail "dead_lettered=$dead"

# Dead letters: in the table, and on order-events.dlq with the original key and error headers.
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 25 ] || fail "dead_letters rows"
for stage in decode map apply; do
    n=$(sql "SELECT count(*) FROM projector.dead_letters WHERE stage = '$stage'")
    [ "$n" -gt 0 ] || fail "no dead letter of stage $stage"
done
kcat -b "$BROKERS" -C -t order-events.dlq -e -q \
    -f '%k\t%h\n' >"$WORK/dlq.txt"
[ "$(wc -l <"$WORK/dlq.txt")" = 25 ] || fail "order-events.dlq holds $(wc -l <"$WORK/dlq.txt") messages, expected 25"
for h in projector.error= projector.stage= projector.projection=orders projector.topic=order-events \
         projector.partition= projector.offset=; do
    [ "$(grep -c -- "$h" "$WORK/dlq.txt")" = 25 ] || fail "header $h missing on some dead letters"
done
grep -q 'invalid input syntax for type numeric' "$WORK/dlq.txt" || fail "apply-stage error text"
grep -q 'required field \$.orderId is missing' "$WORK/dlq.txt" || fail "map-stage error text"
# Each dead letter's key is the poison message's own order id, which no read row has.
cut -f1 "$WORK/dlq.txt" | while read -r key; do
    [ "$(sql "SELECT count(*) FROM order_detail WHERE order_id = '$key'")" = 0 ] || fail "poison $key was applied"
done
echo "sample domain: ok"
