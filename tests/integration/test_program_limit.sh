#!/usr/bin/env bash
# An event whose indexed value is too large for an index (a 200,000-character customerId:
# PostgreSQL error 54000, "index row requires ... bytes") is the event's data, not an outage: it
# is dead-lettered (on order-events.dlq and in projector.dead_letters, with PostgreSQL's error)
# and every other event of its partition, before and after it, is applied once.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup program_limit --topic order-events:1 --topic order-events.dlq:1

"$ORDERS_GEN" --events 3000 --ndjson "$WORK/events.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
before=1500
# incompressible, so that PostgreSQL cannot shrink it below the index's limit
big=$(head -c 150000 /dev/urandom | base64 -w0 | head -c 200000)
[ ${#big} = 200000 ] || fail "the large value has ${#big} characters"
{
    head -n "$before" "$WORK/events.ndjson"
    printf 'o-toolarge\t{"type":"OrderCreated","orderId":"o-toolarge","customerId":"%s","items":[],"totalAmount":"1.00","occurredAt":"2026-01-01T00:00:00Z"}\n' "$big"
    tail -n +$((before + 1)) "$WORK/events.ndjson"
} | kcat -b "$BROKERS" -P -t order-events -p 0 -K $'\t'
messages=$((total + 1))

projector_start run -X session.timeout.ms=6000
wait_caught_up orders "$messages" 120
stop_clean "$LAST_PID"

assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
read -r off stage err_ok len_ok < <(psql -X -At -F' ' -c "SELECT \"offset\", stage,
    error LIKE '%PostgreSQL error 54000%', length(value) > 200000 FROM projector.dead_letters")
[ "$off" = "$before" ] || fail "dead letter at offset '$off', expected $before"
[ "$stage" = apply ] || fail "dead letter stage '$stage', expected apply"
[ "$err_ok" = t ] || fail "dead letter error lacks PostgreSQL error 54000: $(sql "SELECT error FROM projector.dead_letters")"
[ "$len_ok" = t ] || fail "dead letter value was not kept in full"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 1 ] || fail "dead letters recorded: $(sql "SELECT count(*) FROM projector.dead_letters")"
[ "$(sql "SELECT dead_lettered FROM projector.positions WHERE projection = 'orders'")" = 1 ] \
    || fail "positions count $(sql "SELECT dead_lettered FROM projector.positions") dead letters"
[ "$(sql "SELECT count(*) FROM order_detail WHERE order_id = 'o-toolarge'")" = 0 ] \
    || fail "the dead-lettered event was written"
kcat -b "$BROKERS" -C -t order-events.dlq -e -q -f '%k %h\n' >"$WORK/dlq.txt"
[ "$(wc -l <"$WORK/dlq.txt")" = 1 ] || fail "order-events.dlq holds $(wc -l <"$WORK/dlq.txt") messages, expected 1"
grep -q '^o-toolarge .*projector.offset='"$before" "$WORK/dlq.txt" || fail "dead letter on the topic: $(cut -c1-300 "$WORK/dlq.txt")"
grep -q 'projector.error=[^,]*54000' "$WORK/dlq.txt" || fail "dead letter's projector.error lacks 54000"
grep -q 'isolating the failing events' "$WORK/run.log" || fail "the batch was not bisected"
echo "program limit: ok"
