#!/usr/bin/env bash
# PostgreSQL fails mid-stream: backends killed with pg_terminate_backend, then the server
# stopped for a few seconds and started again. The projector waits, reconnects and retries
# without skipping anything, logs the outage without flooding. Then the server stops again and
# the projector gets SIGTERM in its retry loop: it exits 0, and a new run finishes the work.
# The read tables end exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
# A cluster of this test's own, since it is stopped and started.
pg_start -c fsync=off
CLEANUP_HOOK=pg_stop
itest_setup db_outage --topic order-events:4

"$ORDERS_GEN" --events 40000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")

# The embedded broker forgets a member that left only after its session timeout: keep it short
# for the restart below.
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=8000)
projector_start run --batch-max-events 50 --retry-backoff-max-ms 1000 "${group_args[@]}"
pid=$LAST_PID

wait_progress $((total / 5))
killed=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE application_name = 'projector' AND pid <> pg_backend_pid()
                AND datname = current_database()")
[ "$killed" -ge 1 ] || fail "no projector backend to terminate"
echo "terminated $killed backend(s) at $(applied_total orders) of $total"

wait_progress $((total * 2 / 5))
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "caught up before the outage; the test needs it mid-stream"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null
echo "PostgreSQL stopped at $n of $total"
# Longer than max.poll.interval.ms (8 s): the paused consumer keeps polling and stays in its group.
sleep 10
kill -0 "$pid" || fail "the projector exited while the database was down"
grep -q 'partitions paused' "$WORK/run.log" || fail "the partitions were not paused during the outage"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w start \
    -o "-p $PGPORT -k $PG_ROOT -c listen_addresses='' -c fsync=off" >/dev/null
echo "PostgreSQL started again"

# SIGTERM while the projector is in its retry loop: a clean exit; the batch in hand is
# consumed again by the next run.
wait_progress $((total * 3 / 5))
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null
sleep 2
n=$(grep -c 'database error' "$WORK/run.log")
kill -TERM "$pid"
rc=0
timeout 20 tail --pid="$pid" -f /dev/null || fail "the projector did not exit within 20 s of SIGTERM"
wait "$pid" || rc=$?
[ $rc -eq 0 ] || fail "the projector exited $rc after SIGTERM in its retry loop"
[ "$(grep -c 'database error' "$WORK/run.log")" -gt "$n" ] || [ "$n" -gt 0 ] || fail "no retry logged"
echo "stopped cleanly by SIGTERM while retrying"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w start \
    -o "-p $PGPORT -k $PG_ROOT -c listen_addresses='' -c fsync=off" >/dev/null
projector_start run --retry-backoff-max-ms 1000 "${group_args[@]}"
pid=$LAST_PID

wait_caught_up orders "$total" 180
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] \
    || fail "a database failure dead-lettered events"
grep -q 'database error' "$WORK/run.log" || fail "the outage was not logged"
grep -q 'database back after' "$WORK/run.log" || fail "the recovery was not logged"
# Logged once per interval (10 s), not per retry: the outages give a handful of lines.
lines=$(grep -c 'database error' "$WORK/run.log")
[ "$lines" -le 6 ] || fail "the outage was logged $lines times"
! grep -q 'maximum poll interval' "$WORK/run.log" || fail "the consumer left its group during the outage"
echo "db outage: ok"
