#!/usr/bin/env bash
# SIGKILL of the projector three times mid-stream, then a restart: the read tables end exactly
# as if each event had been applied once (the counters in customer_summary would show a double
# application).
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup crash_restart --topic order-events:8

"$ORDERS_GEN" --events 60000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

# A killed member stays in the group until its session times out and a rebalance waits for it
# up to max.poll.interval.ms: short ones keep the restarts quick.
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=20000)
# Small batches make the run long enough to be killed in the middle of it.
for k in 1 2 3; do
    projector_start run --batch-max-events 50 "${group_args[@]}"
    pid=$LAST_PID
    threshold=$((total * k / 5))
    for _ in $(seq 1 600); do
        n=$(applied_total orders)
        [ "$n" -ge "$threshold" ] && break
        sleep 0.1
    done
    n=$(applied_total orders)
    [ "$n" -lt "$total" ] || fail "the projector caught up before kill $k; the test needs it mid-stream"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    echo "kill $k at $n of $total applied"
done

projector_start run "${group_args[@]}"
wait_caught_up orders "$total" 300
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
echo "crash restart: ok"
