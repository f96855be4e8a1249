#!/usr/bin/env bash
# projector rebuild --in-place while the projector runs: the read tables are truncated and a new
# empty index replaces the old one behind the alias, the running instance notices its positions
# were reset and replays from the earliest offsets; it gets SIGTERM mid-replay, a new run
# finishes, and the tables and documents end exact (corruptions made by hand are gone). Then a changed mapping (a new
# column) takes effect for every row through a rebuild with --wait. A topic that lost its
# earliest events is refused (in place and blue/green). `projector status` shows the result.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup rebuild --topic order-events:4 --topic tiny-events:1

"$ORDERS_GEN" --events 20000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
export MAPPINGS=$WORK/m VIEWS=$WORK/v
mkdir -p "$MAPPINGS" "$VIEWS"
cp "$PROJECT_ROOT/mappings/orders.json" "$MAPPINGS/"
cp "$PROJECT_ROOT/views/"* "$VIEWS/"

group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
projector_start run "${group_args[@]}" --batch-max-events 200
pid=$LAST_PID
wait_caught_up orders "$total" 120
sql "UPDATE customer_summary SET orders_created = orders_created + 1000" >/dev/null
# ... and a document the rows do not have.
curl -sf -X PUT "$ES_URL/orders/_doc/o-bogus?refresh=true" -H 'Content-Type: application/json' \
    -d '{"orderId": "o-bogus", "status": "PAID"}' >/dev/null || fail "cannot write the bogus document"
index_before=$(alias_indices)

"$PROJECTOR" rebuild orders --in-place --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" >"$WORK/r1.txt" \
    || { cat "$WORK/r1.txt"; fail "rebuild failed"; }
grep -q 'positions reset' "$WORK/r1.txt" || fail "rebuild output"
index_after=$(alias_indices)
[ -n "$index_after" ] && [ "$index_after" != "$index_before" ] \
    || fail "alias orders still points at $index_before after the rebuild"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/$index_before")" = 404 ] \
    || fail "the old index $index_before was not deleted"
# SIGTERM in the middle of the replay: a clean exit, and a new run finishes it exactly.
for _ in $(seq 1 300); do
    n=$(applied_total orders)
    [ "$n" -ge $((total / 5)) ] && break
    sleep 0.1
done
[ "$n" -lt "$total" ] || fail "the replay finished before the SIGTERM; the test needs it mid-replay"
stop_clean "$pid"
grep -q 'stored position moved' "$WORK/run.log" || fail "the running instance did not notice the reset"
echo "stopped at $n of $total replayed"
projector_start run "${group_args[@]}"
pid=$LAST_PID
wait_caught_up orders "$total" 120
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"

# A changed mapping: a new column, filled for every order through a rebuild.
printf 'ALTER TABLE order_detail ADD COLUMN IF NOT EXISTS first_sku text;\n' >"$VIEWS/020_first_sku.sql"
python3 - "$MAPPINGS/orders.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["events"]["OrderCreated"][0]["columns"]["first_sku"] = {"path": "$.items[0].sku", "optional": True}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
port=$((21000 + RANDOM % 10000))
projector_start run2 "${group_args[@]}" --http "127.0.0.1:$port"
pid=$LAST_PID
for _ in $(seq 1 100); do grep -q assigned "$WORK/run2.log" && break; sleep 0.1; done
"$PROJECTOR" rebuild orders --in-place --wait --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" \
    >"$WORK/r2.txt" || { cat "$WORK/r2.txt"; fail "rebuild --wait failed"; }
grep -q 'caught up' "$WORK/r2.txt" || { cat "$WORK/r2.txt"; fail "rebuild --wait did not report catching up"; }
grep -q 'events/s' "$WORK/r2.txt" || fail "rebuild --wait showed no progress"
# Piped, it prints a line when the rebuild moved: no line twice, and an in-place rebuild still
# replaying does not read "done".
[ -z "$(grep '^rebuild orders in-place' "$WORK/r2.txt" | uniq -d)" ] \
    || { cat "$WORK/r2.txt"; fail "rebuild --wait printed the same progress line twice"; }
! grep -q 'generation 1 done: 0/' "$WORK/r2.txt" || { cat "$WORK/r2.txt"; fail "an in-place rebuild replaying read done"; }
! grep -q 's left.*?\|? s left' "$WORK/r2.txt" || { cat "$WORK/r2.txt"; fail "rebuild --wait printed an unknown time left"; }
# The replayed events are no live traffic: they stay out of the event-to-row latency (this
# instance applied nothing else), while they count as applied.
curl -s "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt"
grep -q '^projector_event_latency_seconds_count{projection="orders"} 0$' "$WORK/metrics.txt" \
    || { grep latency_seconds_count "$WORK/metrics.txt"; fail "replayed events were counted in the event-to-row latency"; }
stop_clean "$pid"
[ "$(sql "SELECT count(*) FROM order_detail WHERE first_sku IS DISTINCT FROM items->0->>'sku'")" = 0 ] \
    || fail "first_sku is not filled for every order"
assert_orders_match "$WORK/expected"

# Refusal: a topic whose earliest events are gone (the embedded broker keeps ~5 MiB a partition).
mkdir -p "$WORK/tiny"
cat >"$WORK/tiny/tiny.json" <<'JSON'
{"version": 1, "projection": "tiny", "topics": ["tiny-events"],
 "events": {"T": [{"upsert": "order_detail", "key": {"order_id": "$.id"}, "columns": {"status": "$.s"}}]}}
JSON
python3 -c 'import sys; sys.stdout.write(("x" * 1000 + "\n") * 7000)' |
    kcat -b "$BROKERS" -P -t tiny-events -p 0
rc=0
"$PROJECTOR" rebuild tiny --in-place --brokers "$BROKERS" --mappings "$WORK/tiny" --views "$VIEWS" >"$WORK/r3.txt" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$WORK/r3.txt"; fail "rebuild of a truncated topic exited $rc, expected 2"; }
grep -q 'refused: topic tiny-events partition 0 starts at offset' "$WORK/r3.txt" || fail "refusal message"
rc=0
"$PROJECTOR" rebuild tiny --brokers "$BROKERS" --mappings "$WORK/tiny" --views "$VIEWS" >"$WORK/r4.txt" 2>&1 || rc=$?
[ $rc -eq 2 ] || { cat "$WORK/r4.txt"; fail "blue/green rebuild of a truncated topic exited $rc, expected 2"; }
grep -q 'refused: topic tiny-events partition 0 starts at offset' "$WORK/r4.txt" || fail "blue/green refusal message"
[ "$(sql "SELECT count(*) FROM projector.rebuilds WHERE projection = 'tiny'")" = 0 ] || fail "a refused rebuild was recorded"

# projector status: the live generation, its partitions and the last rebuild.
"$PROJECTOR" status --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" >"$WORK/status.txt" \
    || { cat "$WORK/status.txt"; fail "projector status failed"; }
grep -q '^projection orders: generation 1, no instance consuming' "$WORK/status.txt" || { cat "$WORK/status.txt"; fail "status: live generation, none consuming"; }
grep -q 'order-events/3: next [0-9]*, lag 0' "$WORK/status.txt" || { cat "$WORK/status.txt"; fail "status: partitions"; }
grep -q "last rebuild (id 2): rebuild orders in-place generation 1 done: $total/$total events (100%)" "$WORK/status.txt" \
    || { cat "$WORK/status.txt"; fail "status: last rebuild"; }
echo "rebuild: ok"
