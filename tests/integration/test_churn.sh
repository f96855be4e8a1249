#!/usr/bin/env bash
# Three instances in one group while events flow: instances are killed (SIGKILL) and started
# again and again, so partitions move between them mid-batch and concurrent batches update the
# same customer_summary rows. No batch is lost to a deadlock (they are retried) and none is
# applied twice: the read tables end exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup churn --topic order-events:12

# The events flow while the instances churn: 60,000 events at 4,000 per second.
"$ORDERS_GEN" --events 60000 --rate 4000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet &
producer=$!

group_args=(--batch-max-events 200 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500
            -X max.poll.interval.ms=20000)
declare -a inst
for i in 0 1 2; do
    projector_start "i$i" "${group_args[@]}"
    inst[$i]=$LAST_PID
done

wait_progress 1000
for round in 1 2 3 4 5 6; do
    sleep 2.5
    victim=$((RANDOM % 3))
    kill -9 "${inst[$victim]}" 2>/dev/null || true
    wait "${inst[$victim]}" 2>/dev/null || true
    projector_start "i$victim" "${group_args[@]}"
    inst[$victim]=$LAST_PID
    echo "round $round: restarted instance $victim at $(applied_total orders) applied"
done

wait "$producer" || fail "orders_gen failed"
total=$(count_of messages "$WORK/expected")
wait_caught_up orders "$total" 300
for i in 0 1 2; do stop_clean "${inst[$i]}"; done
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "churn dead-lettered events"
echo "stale batches discarded: $(cat "$WORK"/i*.log | grep -c 'another instance applied it' || true)"
echo "churn: ok"
