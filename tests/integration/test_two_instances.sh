#!/usr/bin/env bash
# Two instances in one consumer group: the second joins mid-stream (a rebalance while the first
# is consuming), then the first is killed and the second takes its partitions over from the
# stored positions: exact end state.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup two_instances --topic order-events:8

"$ORDERS_GEN" --events 60000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

group_args=(--batch-max-events 50 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500
            -X max.poll.interval.ms=20000)

# a starts alone; b joins mid-stream (a rebalance while a is consuming).
projector_start a "${group_args[@]}"
a=$LAST_PID
wait_progress $((total / 5))
projector_start b "${group_args[@]}"
b=$LAST_PID
echo "b joined at $(applied_total orders) of $total"

# Both must hold partitions before one dies.
for _ in $(seq 1 300); do
    grep -q 'assigned' "$WORK/b.log" && break
    sleep 0.1
done
grep -q 'assigned' "$WORK/b.log" || fail "instance b never got partitions"
wait_progress $((total * 2 / 5))
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "caught up before the kill; the test needs it mid-stream"
kill -9 "$a"
wait "$a" 2>/dev/null || true
echo "killed instance a at $n of $total applied"

wait_caught_up orders "$total" 300
stop_clean "$b"
assert_orders_match "$WORK/expected"
# b applied a's partitions too.
[ "$(grep -c 'assigned' "$WORK/b.log")" -gt 4 ] || fail "instance b never took over a's partitions"
echo "two instances: ok"
