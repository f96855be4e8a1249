#!/usr/bin/env bash
# Statement-timeout-like database errors are retriable: another session holds an exclusive lock
# on a read table for a few seconds while the projector runs with lock_timeout set, so its
# statements fail (55P03); it retries without dead-lettering or skipping, and ends exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup lock_timeout --topic order-events:2

"$ORDERS_GEN" --events 20000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
PGOPTIONS="-c lock_timeout=200" projector_start run --batch-max-events 50 --retry-backoff-max-ms 500
pid=$LAST_PID
wait_progress $((total / 5))
psql -X -q -c "BEGIN; LOCK TABLE customer_summary IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" \
    >/dev/null &
locker=$!
wait "$locker" || fail "the locking session failed"
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "caught up before the lock; the test needs it mid-stream"
grep -q 'database error.*55P03' "$WORK/run.log" || fail "no lock timeout was logged as a database error"
wait_caught_up orders "$total" 120
stop_clean "$pid"
assert_orders_match "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "a lock timeout dead-lettered events"
echo "lock timeout: ok"
