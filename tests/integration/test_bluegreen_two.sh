#!/usr/bin/env bash
# Two instances running: a blue/green rebuild is built by both (the build's consumer group
# spreads the partitions over them), switched by one of them, and completes with both alive;
# the end state is exact, with events produced during the rebuild. --wait on a terminal draws a
# progress bar.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup bluegreen_two --topic order-events:8

"$ORDERS_GEN" --events 30000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/w1" --quiet
cli_args=(--brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=20000
            --batch-max-events 200)
projector_start a "${group_args[@]}"
a=$LAST_PID
projector_start b "${group_args[@]}"
b=$LAST_PID
wait_caught_up orders "$(count_of messages "$WORK/w1")" 180
for log in a b; do
    for _ in $(seq 1 100); do grep -q 'projection=orders topic=.* assigned' "$WORK/$log.log" && break; sleep 0.1; done
done

"$ORDERS_GEN" --events 4000 --start-order 100000 --rate 1000 --brokers "$BROKERS" \
    --topic order-events --expect-dir "$WORK/w2" --quiet &
producer=$!
PIDS+=("$producer")
# On a terminal (script gives it one), --wait draws a progress bar.
script -qfec "$(printf '%q ' "$PROJECTOR" rebuild orders --wait "${cli_args[@]}")" /dev/null \
    >"$WORK/r.txt" 2>&1 || { cat "$WORK/r.txt"; fail "rebuild --wait failed"; }
grep -q 'switched to generation 2' "$WORK/r.txt" || { cat "$WORK/r.txt"; fail "rebuild output"; }
grep -Eq $'\r''rebuild orders blue-green generation 2 building \[#*\.*\] +[0-9]+% [0-9]+/[0-9]+ events' "$WORK/r.txt" \
    || { cat -A "$WORK/r.txt" | head; fail "no progress bar on a terminal"; }
wait "$producer" || fail "the second wave was not produced"
combine_expected "$WORK/expected" "$WORK/w1" "$WORK/w2"
wait_caught_up orders "$(count_of messages "$WORK/expected")" 120
kill -0 "$a" && kill -0 "$b" || fail "an instance died"
for log in a b; do
    grep -q 'projection=orders#g2 topic=order-events partition=[0-9] assigned' "$WORK/$log.log" \
        || fail "instance $log ran no build worker"
done
[ "$(cat "$WORK/a.log" "$WORK/b.log" | grep -c 'switched to generation 2')" = 1 ] \
    || fail "not exactly one instance switched"
stop_clean "$a"
stop_clean "$b"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
assert_generation 2
echo "bluegreen with two instances: ok"
