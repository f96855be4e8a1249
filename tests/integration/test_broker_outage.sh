#!/usr/bin/env bash
# The broker goes down mid-stream (connections dropped and refused) and comes back; then a
# partition's leadership moves to another broker. The projector rides both out and the read
# tables end exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup broker_outage --topic order-events:4 --brokers-count 2

"$ORDERS_GEN" --events 40000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

# Little prefetching, so the outage interrupts the flow instead of being bridged by what was
# already fetched.
projector_start run --batch-max-events 50 -X queued.min.messages=100 \
    -X queued.max.messages.kbytes=64
pid=$LAST_PID

wait_progress $((total / 4))
echo "down" >&"$BROKER_FD"
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "caught up before the outage; the test needs it mid-stream"
echo "brokers down at $n of $total"
sleep 3
echo "up" >&"$BROKER_FD"
n=$(applied_total orders)
echo "brokers up at $n of $total"
[ "$n" -lt "$total" ] || fail "caught up during the outage; the test needs it mid-stream"

wait_progress $((total / 2))
echo "leader order-events 0 2" >&"$BROKER_FD"
echo "leader order-events 1 2" >&"$BROKER_FD"
echo "moved leadership at $(applied_total orders) of $total"

wait_caught_up orders "$total" 240
stop_clean "$pid"
assert_orders_match "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "an outage dead-lettered events"
echo "broker outage: ok"
