#!/usr/bin/env bash
# The views no longer fitting the mapping is a state of its own, neither a bad event nor an
# outage. With stall.after.ms at its default (60 s), a column of a read table renamed under the
# running projection (42703) makes it stalled at once with cause schema_mismatch: /readyz 503
# "schema_mismatch", /v1/projections state "stalled" with the cause and the column,
# projector_stalled{cause="schema_mismatch"} 1, `projector status` naming it, one error in the
# log (not a warning every 10 s), nothing applied meanwhile. Renamed back, it resumes by itself
# and ends exact. Then a read table is dropped (42P01: schema_mismatch) and re-created empty by
# `projector migrate`: the projection refuses to apply to it (table_recreated) until a rebuild,
# after which the end state is exact again.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup schema_drift --topic order-events:2

"$ORDERS_GEN" --events 4000 --ndjson "$WORK/events.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
produce() { sed -n "$1,$2p" "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'; }
produce 1 1000
port=$((21000 + RANDOM % 10000))
API=http://127.0.0.1:$port
projector_start run --http "127.0.0.1:$port" --retry-backoff-max-ms 500 -X session.timeout.ms=6000
pid=$LAST_PID
wait_caught_up orders 1000 120

# Waits until /readyz answers 503 with error code $1.
wait_readyz_code() {
    for _ in $(seq 1 150); do
        [ "$(http_get "$API/readyz")" = 503 ] && [ "$(body_json 'd["error"]["code"]')" = "$1" ] && return 0
        sleep 0.2
    done
    fail "/readyz did not answer 503 $1: $(cat "$WORK/body")"
}
wait_ready() {
    for _ in $(seq 1 150); do [ "$(http_get "$API/readyz")" = 200 ] && return 0; sleep 0.2; done
    fail "/readyz is not 200: $(cat "$WORK/body")"
}
status() {
    "$PROJECTOR" status --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" \
        --views "$PROJECT_ROOT/views" >"$WORK/status.txt" || fail "projector status failed"
}

# A renamed column: schema_mismatch at once (well before stall.after.ms).
sql "ALTER TABLE order_detail RENAME COLUMN status TO order_status"
produce 1001 2000
wait_readyz_code schema_mismatch
[[ "$(body_json 'd["error"]["message"]')" == *42703*status* ]] || fail "/readyz message: $(cat "$WORK/body")"
[ "$(http_get "$API/v1/projections/orders")" = 200 ] || fail "GET /v1/projections/orders"
[ "$(body_json 'd["state"]')" = stalled ] && [ "$(body_json 'd["stalled"]["cause"]')" = schema_mismatch ] \
    || fail "projection: $(cat "$WORK/body")"
curl -s "$API/metrics" >"$WORK/metrics.txt"
grep -qx 'projector_stalled{projection="orders",cause="schema_mismatch"} 1' "$WORK/metrics.txt" \
    || fail "metric: $(grep stalled "$WORK/metrics.txt")"
status
grep -q '^projection orders: generation 1, stalled$' "$WORK/status.txt" || fail "status: $(cat "$WORK/status.txt")"
grep -q '^  stalled: the views no longer fit the mapping: .*42703.* (schema_mismatch since ' "$WORK/status.txt" \
    || fail "status: $(cat "$WORK/status.txt")"
n=$(applied_total orders)
sleep 2 # retries go on meanwhile
[ "$(applied_total orders)" = "$n" ] || fail "events were applied while a column was missing"
[ "$n" -lt 2000 ] || fail "the batch was applied despite the missing column"
[ "$(grep -c 'the views no longer fit the mapping' "$WORK/run.log")" = 1 ] \
    || { grep 'no longer fit\|retrying' "$WORK/run.log" >&2; fail "the mismatch was not logged exactly once"; }
grep -q 'error projection=orders the views no longer fit the mapping: .*42703' "$WORK/run.log" \
    || fail "the mismatch was not logged as an error"
! grep -q 'views error, .* events wait (retrying' "$WORK/run.log" || fail "the mismatch was logged as a retried outage"
sql "ALTER TABLE order_detail RENAME COLUMN order_status TO status"
wait_caught_up orders 2000 120
wait_ready
[ "$(http_get "$API/v1/projections/orders")" = 200 ] && [ "$(body_json 'd["state"]')" = live ] \
    || fail "after the column is back: $(cat "$WORK/body")"
grep -q 'projection=orders no longer stalled' "$WORK/run.log" || fail "the recovery was not logged"

# A dropped table: schema_mismatch; re-created empty by migrate: refused until a rebuild.
sql "DROP TABLE customer_summary"
produce 2001 3000
wait_readyz_code schema_mismatch
[[ "$(body_json 'd["error"]["message"]')" == *42P01* ]] || fail "/readyz message: $(cat "$WORK/body")"
"$PROJECTOR" migrate --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" >"$WORK/migrate.out" 2>&1 \
    || { cat "$WORK/migrate.out"; fail "migrate"; }
wait_readyz_code table_recreated
[ "$(sql "SELECT count(*) FROM customer_summary")" = 0 ] || fail "events were applied to the re-created table"
status
grep -q '^  stalled: .*customer_summary.* (table_recreated since ' "$WORK/status.txt" \
    || fail "status: $(cat "$WORK/status.txt")"
"$PROJECTOR" rebuild orders --in-place --wait --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" \
    --views "$PROJECT_ROOT/views" >"$WORK/rebuild.txt" 2>&1 || { cat "$WORK/rebuild.txt"; fail "rebuild"; }
produce 3001 100000
wait_caught_up orders "$total" 120
wait_ready
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
echo "schema drift: ok"
