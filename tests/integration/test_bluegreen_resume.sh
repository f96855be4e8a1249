#!/usr/bin/env bash
# A blue/green rebuild whose only instance is killed (SIGKILL) in the middle of the build: the
# restarted instance resumes the build from its stored positions (they never go back: asserted)
# and switches; the end state is exact. Then a cancelled rebuild: the partial generation (its
# schema, positions and build worker) is gone, the live tables are untouched and keep
# projecting.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup bluegreen_resume --topic order-events:4

"$ORDERS_GEN" --events 40000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/w1" --quiet
total=$(count_of messages "$WORK/w1")
cli_args=(--brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -X max.poll.interval.ms=20000)
projector_start run "${group_args[@]}"
pid=$LAST_PID
wait_caught_up orders "$total" 120
stop_clean "$pid"

build_total() {
    sql "SELECT coalesce(sum(next_offset), 0) FROM projector.positions WHERE projection = '$1'" 2>/dev/null || echo 0
}
# Small batches keep the build slow enough to be killed in the middle of it.
projector_start a "${group_args[@]}" --batch-max-events 50
pid=$LAST_PID
"$PROJECTOR" rebuild orders "${cli_args[@]}" >"$WORK/r1.txt" || { cat "$WORK/r1.txt"; fail "rebuild request"; }
grep -q 'building generation 2' "$WORK/r1.txt" || { cat "$WORK/r1.txt"; fail "the request was not taken up"; }
for _ in $(seq 1 600); do
    n=$(build_total 'orders#g2')
    [ "$n" -ge $((total / 4)) ] && break
    sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
killed_at=$(build_total 'orders#g2')
[ "$killed_at" -ge $((total / 4)) ] || fail "the build made no progress ($killed_at of $total)"
[ "$killed_at" -lt "$total" ] || fail "the build finished before the kill; the test needs it mid-build"
[ "$(sql "SELECT state FROM projector.rebuilds WHERE id = 1")" = building ] || fail "state after the kill"
echo "killed at $killed_at of $total replayed"

projector_start b "${group_args[@]}" --batch-max-events 50
pid=$LAST_PID
# Until the switch the build's positions never go below where the kill left them.
# (State and positions in one statement: one snapshot, so a switch cannot fall in between.)
for _ in $(seq 1 1200); do
    read -r st n < <(sql "SELECT state, (SELECT coalesce(sum(next_offset), 0) FROM projector.positions
        WHERE projection = 'orders#g2') FROM projector.rebuilds WHERE id = 1" | tr '|' ' ')
    [ "$st" = building ] || break
    [ "$n" -ge "$killed_at" ] || fail "the build went back to $n (killed at $killed_at): it started over"
    sleep 0.1
done
[ "$st" = switching ] || [ "$st" = done ] || fail "the resumed rebuild ended $st"
grep -Eq 'projection=orders#g2 topic=order-events partition=[0-9] assigned, resuming at offset [1-9]' "$WORK/b.log" \
    || fail "the restarted instance did not resume the build from its stored positions"
wait_caught_up orders "$total" 120
for _ in $(seq 1 100); do [ "$(sql "SELECT state FROM projector.rebuilds WHERE id = 1")" = done ] && break; sleep 0.1; done
assert_orders_match "$WORK/w1"
assert_applied_exactly "$WORK/w1"
assert_generation 2
[ "$(alias_indices)" = orders-g2 ] || fail "alias orders points at $(alias_indices), expected orders-g2"

# Cancel: a rebuild in the middle of its build is cancelled; nothing of it is left.
"$PROJECTOR" rebuild orders "${cli_args[@]}" >"$WORK/r2.txt" || { cat "$WORK/r2.txt"; fail "second rebuild request"; }
for _ in $(seq 1 600); do
    [ "$(build_total 'orders#g3')" -gt 0 ] && break
    sleep 0.1
done
[ "$(build_total 'orders#g3')" -gt 0 ] || fail "the second build made no progress"
"$PROJECTOR" rebuild orders --cancel "${cli_args[@]}" >"$WORK/c1.txt" 2>&1 || { cat "$WORK/c1.txt"; fail "cancel failed"; }
grep -q 'cancelled (id 2)' "$WORK/c1.txt" || { cat "$WORK/c1.txt"; fail "cancel output"; }
[ "$(sql "SELECT state FROM projector.rebuilds WHERE id = 2")" = cancelled ] || fail "state after cancel"
assert_generation 2
for _ in $(seq 1 50); do grep -q 'projection=orders#g3 stopping' "$WORK/b.log" && break; sleep 0.1; done
grep -q 'projection=orders#g3 stopping' "$WORK/b.log" || fail "the build worker did not stop"
[ "$(build_total 'orders#g3')" = 0 ] || fail "the cancelled build's positions came back"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/orders-g3")" = 404 ] || fail "the cancelled build's index is left"
[ "$(alias_indices)" = orders-g2 ] || fail "the cancel moved alias orders to $(alias_indices)"
rc=0
"$PROJECTOR" rebuild orders --cancel "${cli_args[@]}" >"$WORK/c2.txt" 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "a cancel with nothing to cancel exited $rc, expected 2"
grep -q 'no rebuild of this projection is active' "$WORK/c2.txt" || fail "second cancel message"
# The live generation keeps projecting.
"$ORDERS_GEN" --events 1000 --start-order 100000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/w2" --quiet
combine_expected "$WORK/expected" "$WORK/w1" "$WORK/w2"
wait_caught_up orders "$(count_of messages "$WORK/expected")" 120
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
echo "bluegreen resume and cancel: ok"
