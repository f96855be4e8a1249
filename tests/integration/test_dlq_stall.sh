#!/usr/bin/env bash
# The dead-letter topic cannot be written (every Produce request fails): the batch holding a
# poison message waits, nothing after it is applied, the projection reports stalled (projector
# status names the dead-letter topic), and SIGTERM during that wait exits 0. Once
# producing works again, a new run dead-letters the poison message once and applies the rest.
# Also: Fetch and OffsetCommit requests failing for a while change nothing.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup dlq_stall --topic order-events:2 --topic order-events.dlq:1

"$ORDERS_GEN" --events 3000 --poison 3 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

echo "error 0 100000 19" >&"$BROKER_FD"   # Produce: NOT_ENOUGH_REPLICAS, retriable, forever
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
projector_start run "${group_args[@]}" --stall-after-ms 1000
pid=$LAST_PID
for _ in $(seq 1 300); do
    grep -q 'dead-letter topic unavailable' "$WORK/run.log" && break
    sleep 0.1
done
grep -q 'dead-letter topic unavailable' "$WORK/run.log" || fail "the dead-letter write never failed"
# the wait outlasts stall.after.ms: the projection reports stalled, naming the dead-letter topic
status_args=(--brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
for _ in $(seq 1 300); do
    "$PROJECTOR" status "${status_args[@]}" >"$WORK/status.txt" 2>&1 || true
    grep -q '^  stalled: dead-letter topic: ' "$WORK/status.txt" && break
    sleep 0.2
done
grep -q '^  stalled: dead-letter topic: .*not acknowledged' "$WORK/status.txt" \
    || fail "status while the dead-letter topic is unwritable: $(cat "$WORK/status.txt")"
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "everything was applied although a dead letter could not be written"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "a dead letter was recorded without being published"

kill -TERM "$pid"
timeout 20 tail --pid="$pid" -f /dev/null || fail "no exit within 20 s of SIGTERM during the dead-letter write"
rc=0
wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "exit code $rc after SIGTERM during the dead-letter write"
echo "stopped cleanly at $n of $total while the dead-letter topic was unwritable"

echo "clear-errors 0" >&"$BROKER_FD"
echo "error 1 20 6" >&"$BROKER_FD"    # Fetch: NOT_LEADER_FOR_PARTITION, 20 times
echo "error 8 20 15" >&"$BROKER_FD"   # OffsetCommit: COORDINATOR_NOT_AVAILABLE, 20 times
projector_start run "${group_args[@]}"
wait_caught_up orders "$total" 120
stop_clean "$LAST_PID"
[ "$(sql "SELECT count(*) FROM projector.stalls")" = 0 ] || fail "a stall is still recorded"
assert_orders_match "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 3 ] || fail "dead letters recorded"
dlq=$(kcat -b "$BROKERS" -C -t order-events.dlq -e -q | wc -l)
[ "$dlq" = 3 ] || fail "order-events.dlq holds $dlq messages, expected 3"
echo "dlq stall: ok"
