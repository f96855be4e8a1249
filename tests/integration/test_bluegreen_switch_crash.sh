#!/usr/bin/env bash
# A blue/green switch whose instance dies after the search engine applied the switch's _aliases
# request and before the PostgreSQL COMMIT (the stand-in applies the request and holds its
# answer; the instance is killed while it waits): PostgreSQL still says the old generation is
# live while the alias points at the build's partial index.
#   1. live generation 1 (index orders-<ms>, made by migrate), then a plain restart: the alias is
#      moved back before anything else runs, searches see the live generation's complete index
#      while the resumed build is held, and the build then switches: end state exact in both
#      stores, the old index deleted.
#   2. live generation 2 (index orders-g2), then `projector rebuild --cancel`: the alias ends on
#      orders-g2, the cancelled build's index is gone, rows and documents are exact, and the
#      live generation keeps projecting into both stores.
#   3. a switch whose _aliases request times out once applied (the instance lives on): the alias
#      goes back while the switch still holds every position, and the retried switch completes.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup bluegreen_switch_crash --topic order-events:4

"$ORDERS_GEN" --events 20000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/w1" --quiet
total=$(count_of messages "$WORK/w1")
cli_args=(--brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
projector_start run "${group_args[@]}"
pid=$LAST_PID
wait_caught_up orders "$total" 120
stop_clean "$pid"
index1=$(alias_indices)
[[ $index1 =~ ^orders-[0-9]+$ ]] || fail "generation 1's index is $index1, expected orders-<ms>"

pending_hangs() {
    curl -s "$ES_URL/_standin/stats" \
        | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["pending_faults"]["hang"]))'
}
index_status() { curl -s -o /dev/null -w '%{http_code}' "$ES_URL/$1"; }
last_state() { sql "SELECT state FROM projector.rebuilds ORDER BY id DESC LIMIT 1"; }

# Starts instance NAME, requests a rebuild and kills the instance once the stand-in applied the
# switch's _aliases request (its answer held back, the COMMIT not sent): alias on orders-gGEN,
# PostgreSQL still on generation LIVE.
crash_in_switch() {
    local name=$1 gen=$2 live=$3
    projector_start "$name" "${group_args[@]}" --es-timeout-ms 600000
    local p=$LAST_PID
    es_ctl hang '{"endpoint": "_aliases", "apply": true, "seconds": 600}'
    "$PROJECTOR" rebuild orders "${cli_args[@]}" >"$WORK/$name-request.txt" \
        || { cat "$WORK/$name-request.txt"; fail "rebuild request"; }
    for _ in $(seq 1 1200); do
        [ "$(pending_hangs)" = 0 ] && break
        sleep 0.1
    done
    [ "$(pending_hangs)" = 0 ] || fail "the switch sent no _aliases request"
    kill -9 "$p"
    wait "$p" 2>/dev/null || true
    [ "$(alias_indices)" = "orders-g$gen" ] \
        || fail "after the crash alias orders points at $(alias_indices), expected orders-g$gen"
    [ "$(last_state)" = building ] || fail "the rebuild is $(last_state) after the crash"
    [ "$(sql "SELECT coalesce((SELECT generation FROM projector.projections
        WHERE name = 'orders'), 1)")" = "$live" ] || fail "the switch committed in PostgreSQL"
    echo "crashed in the switch to generation $gen: alias on orders-g$gen, generation $live live"
}

# 1. Generation 1 live; a restart reconciles the alias, then the resumed build switches.
crash_in_switch a 2 1
# Hold the switch back: a session holds the rebuild's row FOR SHARE (the switch takes it FOR
# UPDATE NOWAIT and tries again later).
mkfifo "$WORK/lock.fifo"
psql -X -q -v ON_ERROR_STOP=1 <"$WORK/lock.fifo" >"$WORK/lock.out" 2>&1 &
lock_pid=$!
PIDS+=("$lock_pid")
exec {lock_fd}>"$WORK/lock.fifo"
echo "BEGIN; SELECT 1 FROM projector.rebuilds WHERE id = 1 FOR SHARE;" >&$lock_fd
for _ in $(seq 1 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'
        AND query LIKE '%FOR SHARE%'")" = 1 ] && break
    sleep 0.1
done
projector_start b "${group_args[@]}" {lock_fd}>&- # psql must see the end of its input
pid=$LAST_PID
for _ in $(seq 1 600); do
    grep -q "alias orders moved back from orders-g2 to $index1" "$WORK/b.log" && break
    sleep 0.1
done
grep -q "projection=orders alias orders moved back from orders-g2 to $index1 (the live generation 1)" \
    "$WORK/b.log" || fail "the restarted instance did not move alias orders back to $index1"
[ "$(alias_indices)" = "$index1" ] || fail "alias orders points at $(alias_indices), expected $index1"
assert_docs_match "$WORK/w1" # searches see generation 1's complete index, not the partial build
[ "$(last_state)" = building ] || fail "the rebuild is $(last_state) while its switch is held"
echo "COMMIT;" >&$lock_fd
exec {lock_fd}>&-
wait "$lock_pid" || { cat "$WORK/lock.out"; fail "the session holding the rebuild's row failed"; }
for _ in $(seq 1 1200); do [ "$(last_state)" = done ] && break; sleep 0.1; done
[ "$(last_state)" = done ] || fail "the resumed rebuild ended $(last_state)"
wait_caught_up orders "$total" 120
assert_orders_match "$WORK/w1"
assert_applied_exactly "$WORK/w1"
assert_generation 2
[ "$(alias_indices)" = orders-g2 ] || fail "alias orders points at $(alias_indices), expected orders-g2"
[ "$(index_status "$index1")" = 404 ] || fail "generation 1's index $index1 was not deleted"
stop_clean "$pid"

# 2. Generation 2 live; a cancel reconciles the alias and drops the partial build.
crash_in_switch c 3 2
"$PROJECTOR" rebuild orders --cancel "${cli_args[@]}" >"$WORK/cancel.txt" 2>&1 \
    || { cat "$WORK/cancel.txt"; fail "cancel failed"; }
grep -q 'cancelled (id 2)' "$WORK/cancel.txt" || { cat "$WORK/cancel.txt"; fail "cancel output"; }
grep -q 'alias orders moved back from orders-g3 to orders-g2 (the live generation 2)' \
    "$WORK/cancel.txt" || { cat "$WORK/cancel.txt"; fail "the cancel did not say it moved the alias"; }
[ "$(alias_indices)" = orders-g2 ] || fail "after the cancel alias orders points at $(alias_indices)"
[ "$(index_status orders-g3)" = 404 ] || fail "the cancelled build's index orders-g3 is left"
[ "$(last_state)" = cancelled ] || fail "the rebuild is $(last_state) after the cancel"
assert_generation 2
assert_orders_match "$WORK/w1"
# The live generation keeps projecting into both stores (the alias's write index is right).
"$ORDERS_GEN" --events 1000 --start-order 100000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/w2" --quiet
combine_expected "$WORK/expected" "$WORK/w1" "$WORK/w2"
projector_start d "${group_args[@]}"
pid=$LAST_PID
wait_caught_up orders "$(count_of messages "$WORK/expected")" 120
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
[ "$(alias_indices)" = orders-g2 ] || fail "alias orders points at $(alias_indices), expected orders-g2"

# 3. A switch whose _aliases request times out after the stand-in applied it, in an instance that
#    lives on: the alias goes back before the switch rolls back, and the retried switch completes.
projector_start e "${group_args[@]}" --es-timeout-ms 2000
pid=$LAST_PID
es_ctl hang '{"endpoint": "_aliases", "apply": true, "seconds": 5}'
"$PROJECTOR" rebuild orders "${cli_args[@]}" >"$WORK/e-request.txt" \
    || { cat "$WORK/e-request.txt"; fail "rebuild request"; }
grep -q 'building generation 4' "$WORK/e-request.txt" || { cat "$WORK/e-request.txt"; fail "request"; }
for _ in $(seq 1 1200); do [ "$(last_state)" = done ] && break; sleep 0.1; done
[ "$(last_state)" = done ] || fail "the rebuild after a timed-out switch ended $(last_state)"
[ "$(pending_hangs)" = 0 ] || fail "the switch sent no _aliases request"
grep -q 'projection=orders alias orders moved back from orders-g4 to orders-g2 (the live generation 2)' \
    "$WORK/e.log" || fail "the timed-out switch did not move alias orders back to orders-g2"
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
assert_generation 4
[ "$(alias_indices)" = orders-g4 ] || fail "alias orders points at $(alias_indices), expected orders-g4"
[ "$(index_status orders-g2)" = 404 ] || fail "generation 2's index orders-g2 was not deleted"
echo "bluegreen switch crash: ok"
