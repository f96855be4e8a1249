#!/usr/bin/env bash
# PostgreSQL fails mid-stream: backends killed with pg_terminate_backend, then the server
# stopped for a few seconds and started again. The projector waits, reconnects and retries
# without skipping anything, logs the outage without flooding, and the read tables end exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
# A cluster of this test's own, since it is stopped and started.
pg_start -c fsync=off
CLEANUP_HOOK=pg_stop
itest_setup db_outage --topic order-events:4

"$ORDERS_GEN" --events 40000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

projector_start run --batch-max-events 50 --retry-backoff-max-ms 1000
pid=$LAST_PID

wait_progress $((total / 5))
killed=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE application_name = 'projector' AND pid <> pg_backend_pid()")
[ "$killed" -ge 1 ] || fail "no projector backend to terminate"
echo "terminated $killed backend(s) at $(applied_total orders) of $total"

wait_progress $((total * 2 / 5))
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "caught up before the outage; the test needs it mid-stream"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null
echo "PostgreSQL stopped at $n of $total"
sleep 4
kill -0 "$pid" || fail "the projector exited while the database was down"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w start \
    -o "-p $PGPORT -k $PG_ROOT -c listen_addresses='' -c fsync=off" >/dev/null
echo "PostgreSQL started again"

wait_caught_up orders "$total" 180
stop_clean "$pid"
assert_orders_match "$WORK/expected"
[ "$(sql "SELECT sum(applied) FROM projector.positions")" = "$(count_of good "$WORK/expected")" ] \
    || fail "applied count is not exactly the number of good events"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] \
    || fail "a database failure dead-lettered events"
grep -q 'database error' "$WORK/run.log" || fail "the outage was not logged"
grep -q 'database back after' "$WORK/run.log" || fail "the recovery was not logged"
# Logged once per interval, not per retry: a 4 s outage gives at most a few lines.
lines=$(grep -c 'database error' "$WORK/run.log")
[ "$lines" -le 4 ] || fail "the outage was logged $lines times"
echo "db outage: ok"
