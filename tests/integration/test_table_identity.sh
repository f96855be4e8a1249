#!/usr/bin/env bash
# A read table dropped under a running projection and created again by `projector migrate`
# would otherwise resume empty, missing every row written before, with no signal: the
# projection's positions were written with the old table. The projection refuses to apply to
# it: it reports stalled with the reason (logged once as an error) and applies nothing further
# (the new table stays empty), until `projector rebuild orders --in-place --wait` resets it;
# then every event is applied once into it. A blue/green rebuild afterwards (its switch moves
# the tables, new OIDs) goes on projecting into the new tables.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup table_identity --topic order-events:2

"$ORDERS_GEN" --events 3000 --ndjson "$WORK/events.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
head -n 1500 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
port=$((21000 + RANDOM % 20000))
API=http://127.0.0.1:$port
cmd_args=(--brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
projector_start run --http "127.0.0.1:$port" --stall-after-ms 60000 --retry-backoff-max-ms 500 \
    -X session.timeout.ms=6000
pid=$LAST_PID
wait_caught_up orders 1500 120
[ "$(sql "SELECT count(*) FROM projector.table_identity WHERE projection = 'orders'
    AND oid = to_regclass(table_name)::oid")" = 2 ] || fail "table identity not recorded: $(sql "SELECT * FROM projector.table_identity")"
before=$(sql "SELECT count(*) FROM customer_summary")
[ "$before" -gt 0 ] || fail "no customers before the drop"

sql "DROP TABLE customer_summary"
"$PROJECTOR" migrate "${cmd_args[@]}" >"$WORK/migrate.log" 2>&1 || fail "migrate: $(cat "$WORK/migrate.log")"
[ "$(sql "SELECT count(*) FROM customer_summary")" = 0 ] || fail "re-created table not empty"
sed -n 1501,2500p "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
code=
for _ in $(seq 1 300); do
    code=$(http_get "$API/readyz")
    [ "$code" = 503 ] && break
    sleep 0.2
done
[ "$code" = 503 ] && [ "$(body_json 'd["error"]["code"]')" = table_recreated ] || fail "/readyz $code: $(cat "$WORK/body")"
[[ "$(body_json 'd["error"]["message"]')" == *"table customer_summary was re-created since events were applied to it"*"projector rebuild orders"* ]] \
    || fail "/readyz reason: $(cat "$WORK/body")"
[ "$(http_get "$API/v1/projections/orders")" = 200 ] && [ "$(body_json 'd["state"]')" = stalled ] \
    || fail "state: $(cat "$WORK/body")"
"$PROJECTOR" status "${cmd_args[@]}" >"$WORK/status.txt" || fail "projector status failed"
grep -q '^  stalled: table customer_summary was re-created' "$WORK/status.txt" || fail "status: $(cat "$WORK/status.txt")"
refusals() { grep -c 'error projection=orders table customer_summary was re-created' "$WORK/run.log"; }
sleep 2 # retries go on meanwhile; the refusal is logged once, as an error
[ "$(refusals)" = 1 ] || fail "refusal logged $(refusals) times as an error"
[ "$(applied_total orders)" = 1500 ] || fail "applied past the refusal: $(applied_total orders)"
[ "$(sql "SELECT count(*) FROM customer_summary")" = 0 ] || fail "events were applied to the re-created table"

"$PROJECTOR" rebuild orders --in-place --wait "${cmd_args[@]}" >"$WORK/r1.txt" 2>&1 \
    || fail "rebuild --in-place --wait: $(tail -n 5 "$WORK/r1.txt")"
wait_caught_up orders 2500 120
[ "$(sql "SELECT count(*) FROM customer_summary")" -ge "$before" ] || fail "customers missing after the rebuild"
for _ in $(seq 1 100); do [ "$(http_get "$API/readyz")" = 200 ] && break; sleep 0.2; done
[ "$(http_get "$API/readyz")" = 200 ] || fail "/readyz after the rebuild: $(cat "$WORK/body")"
[ "$(sql "SELECT count(*) FROM projector.table_identity WHERE projection = 'orders'
    AND oid = to_regclass(table_name)::oid")" = 2 ] || fail "identity not recorded anew: $(sql "SELECT * FROM projector.table_identity")"

"$PROJECTOR" rebuild orders --wait "${cmd_args[@]}" >"$WORK/r2.txt" 2>&1 \
    || fail "blue/green rebuild: $(tail -n 5 "$WORK/r2.txt")"
tail -n +2501 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
wait_caught_up orders "$total" 120
[ "$(sql "SELECT count(*) FROM projector.table_identity WHERE projection = 'orders'
    AND oid = to_regclass(table_name)::oid")" = 2 ] || fail "identity after the switch: $(sql "SELECT * FROM projector.table_identity")"
[ "$(http_get "$API/readyz")" = 200 ] || fail "/readyz after the switch: $(cat "$WORK/body")"
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
echo "table identity: ok"
