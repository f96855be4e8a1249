#!/usr/bin/env bash
# A blue/green rebuild while events keep being produced: the running instance builds generation
# 2 beside the live tables and switches; a reader polling the stable names all along never sees
# an error, an empty table or fewer rows than before; the end state is exact for every event,
# and events produced after the switch land in the new tables (the live workers' prepared
# statements follow the names). Then a changed mapping (a new column) takes effect through a
# blue/green rebuild with --keep-old: the old generation's tables are kept and get no writes
# after the switch, and a reader held up by the switch's lock reads the new generation without
# an error. Rebuild progress through the HTTP API and the metrics.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup bluegreen --topic order-events:4

gen_wave() { # NAME START EVENTS [orders_gen args...]
    local name=$1 start=$2 events=$3; shift 3
    "$ORDERS_GEN" --events "$events" --start-order "$start" --brokers "$BROKERS" --topic order-events \
        --expect-dir "$WORK/$name" --quiet "$@"
}
gen_wave w1 0 20000
export MAPPINGS=$WORK/m VIEWS=$WORK/v
mkdir -p "$MAPPINGS" "$VIEWS"
cp "$PROJECT_ROOT/mappings/orders.json" "$MAPPINGS/"
cp "$PROJECT_ROOT/views/"* "$VIEWS/"
port=$((21000 + RANDOM % 20000))
API=http://127.0.0.1:$port
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500 --batch-max-events 500)
projector_start run "${group_args[@]}" --http "127.0.0.1:$port"
pid=$LAST_PID
wait_caught_up orders "$(count_of messages "$WORK/w1")" 120

# The rebuild while a second wave is produced (paced, so it goes on during the build).
read -r count0 sum0 < <(sql "SELECT (SELECT count(*) FROM order_detail), (SELECT sum(orders_created) FROM customer_summary)" | tr '|' ' ')
[ "$count0" -gt 0 ] || fail "nothing projected before the rebuild"
sleep 0.5 # the index refreshes
docs0=$(search_count)
[ "$docs0" = "$count0" ] || fail "$docs0 documents searchable for $count0 orders before the rebuild"
index0=$(alias_indices)
reader_start
"$ORDERS_GEN" --events 8000 --start-order 100000 --rate 2000 --brokers "$BROKERS" \
    --topic order-events --expect-dir "$WORK/w2" --quiet &
producer=$!
PIDS+=("$producer")
sleep 1
"$PROJECTOR" rebuild orders --wait --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" \
    >"$WORK/r1.txt" 2>&1 || { cat "$WORK/r1.txt"; fail "blue/green rebuild --wait failed"; }
cat "$WORK/r1.txt"
grep -q 'switched to generation 2' "$WORK/r1.txt" || fail "rebuild --wait did not report the switch"
grep -q 'building: [0-9]*/[0-9]* events' "$WORK/r1.txt" || fail "rebuild --wait showed no progress"
# The last progress line is of a rebuild that is over: no stale lag, no time left.
last=$(grep '^rebuild orders blue-green generation 2' "$WORK/r1.txt" | tail -n 1)
case "$last" in *done:*) ;; *) fail "the last progress line is not the finished rebuild: $last" ;; esac
case "$last" in *"lag at most"* | *"s left"*) fail "the finished rebuild's line shows a lag or time left: $last" ;; esac
! grep -q '? s left' "$WORK/r1.txt" || fail "rebuild --wait printed an unknown time left"
wait "$producer" || fail "the second wave was not produced"
# After the switch: a third wave, applied by the live workers to the new tables.
gen_wave w3 200000 2000
combine_expected "$WORK/expected" "$WORK/w1" "$WORK/w2" "$WORK/w3"
total=$(count_of messages "$WORK/expected")
wait_caught_up orders "$total" 120
reader_check "$count0" "$sum0" "$docs0"
assert_orders_match "$WORK/expected"
# The documents: generation 2's index behind the alias, the old index gone.
[ "$(alias_indices)" = orders-g2 ] \
    || fail "alias orders does not point at orders-g2 alone"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ES_URL/$index0")" = 404 ] || fail "the old index $index0 was not deleted"
assert_applied_exactly "$WORK/expected"
assert_generation 2
[ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'projector_old_orders%'")" = 0 ] \
    || fail "the old generation was not dropped"
[ "$(sql "SELECT state FROM projector.rebuilds ORDER BY id DESC LIMIT 1")" = done ] || fail "rebuild state"
grep -q 'projection=orders#g2 topic=order-events partition=[0-9] assigned' "$WORK/run.log" \
    || fail "no build worker ran"
grep -q 'switched to generation 2' "$WORK/run.log" || fail "the switch was not logged"
curl -s "$API/v1/projections/orders" >"$WORK/p.json"
python3 - "$WORK/p.json" "$total" <<'PY' || fail "GET /v1/projections/orders after the rebuild"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rebuild"]
assert d["generation"] == 2 and d["state"] == "live", d
assert r["state"] == "done" and r["mode"] == "blue-green" and r["generation"] == 2, r
assert r["events_replayed"] == r["events_total"] > 0 and not r["active"], r
assert len(r["partitions"]) == 4, r
PY

# A changed mapping: a new column, filled for every order through a blue/green rebuild that
# keeps the old generation. The instance restarts with the new mapping first (the live tables
# get the column too, empty).
stop_clean "$pid"
printf 'ALTER TABLE order_detail ADD COLUMN IF NOT EXISTS first_sku text;\n' >"$VIEWS/020_first_sku.sql"
python3 - "$MAPPINGS/orders.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["events"]["OrderCreated"][0]["columns"]["first_sku"] = {"path": "$.items[0].sku", "optional": True}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
projector_start run2 "${group_args[@]}" --http "127.0.0.1:$port"
pid=$LAST_PID
for _ in $(seq 1 100); do grep -q 'projection=orders topic=.* assigned' "$WORK/run2.log" && break; sleep 0.1; done
[ "$(sql "SELECT count(*) FROM order_detail WHERE first_sku IS NOT NULL")" = 0 ] || fail "first_sku filled before the rebuild"
# A reader blocked by the switch: a session holds a read lock on order_detail across the
# switch, so the switch waits for it and a reader arriving meanwhile queues behind the switch.
# Once the session ends the switch commits, and the queued reader reads the new generation (it
# counts first_sku, empty in the old one) without an error.
coproc BLOCKER { psql -X -At -q -v ON_ERROR_STOP=1 -f - 2>&1; }
PIDS+=("$BLOCKER_PID")
printf 'BEGIN;\nSELECT count(*) FROM order_detail;\n' >&"${BLOCKER[1]}"
read -r -t 30 _ <&"${BLOCKER[0]}" || fail "the blocking session did not answer"
waiters() {
    sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
         WHERE c.relname = 'order_detail' AND NOT l.granted"
}
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST "$API/v1/projections/orders/rebuild?keep_old=true")
[ "$code" = 202 ] || { cat "$WORK/body"; fail "POST rebuild: $code"; }
id=$(python3 -c "import json; print(json.load(open('$WORK/body'))['id'])")
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST "$API/v1/projections/orders/rebuild?mode=in-place")
[ "$code" = 409 ] || { cat "$WORK/body"; fail "a second rebuild while one is active: $code"; }
grep -q 'already active' "$WORK/body" || fail "409 body"
for _ in $(seq 1 1200); do [ "$(waiters)" -ge 1 ] && break; sleep 0.1; done
[ "$(waiters)" -ge 1 ] || fail "the switch never waited for the blocking session"
psql -X -At -c "SELECT count(first_sku) FROM order_detail" >"$WORK/blocked.txt" 2>&1 &
blocked=$!
for _ in $(seq 1 50); do [ "$(waiters)" -ge 2 ] && break; sleep 0.1; done
[ "$(waiters)" -ge 2 ] || fail "the reader did not queue behind the switch"
# Meanwhile (the switch waits) the rebuild is building and says how far it got.
curl -s "$API/metrics" >"$WORK/metrics.txt"
curl -s "$API/v1/projections/orders" >"$WORK/p.json"
printf 'COMMIT;\n' >&"${BLOCKER[1]}"
wait "$blocked" || { cat "$WORK/blocked.txt"; fail "the reader blocked by the switch failed"; }
[ "$(cat "$WORK/blocked.txt")" -gt 0 ] || { cat "$WORK/blocked.txt"; fail "the reader blocked by the switch read the old generation"; }
echo "a reader blocked by the switch read the new generation: $(cat "$WORK/blocked.txt") orders with first_sku"
grep -q '^projector_rebuild_active{projection="orders",generation="3",mode="blue-green"} 1$' "$WORK/metrics.txt" \
    || { grep rebuild "$WORK/metrics.txt"; fail "rebuild metrics while building"; }
python3 - "$WORK/p.json" <<'PY' || fail "GET /v1/projections/orders while building"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rebuild"]
assert d["state"] == "rebuilding", d["state"]
assert r["state"] == "building" and r["active"] and r["generation"] == 3 and r["keep_old"], r
assert 0 < r["events_replayed"] <= r["events_total"], r
assert all(p["lag"] is not None for p in r["partitions"]), r
PY
for _ in $(seq 1 600); do
    st=$(sql "SELECT state FROM projector.rebuilds WHERE id = $id")
    [ "$st" = done ] && break
    sleep 0.1
done
[ "$st" = done ] || fail "the second rebuild ended $st"
[ "$(sql "SELECT count(*) FROM order_detail WHERE first_sku IS DISTINCT FROM items->0->>'sku'")" = 0 ] \
    || fail "first_sku is not filled for every order"
assert_generation 3
old_count=$(sql "SELECT count(*) FROM projector_old_orders_g2.order_detail")
[ "$old_count" = "$(wc -l <"$WORK/expected/order_detail.txt")" ] || fail "the kept old generation has $old_count orders"
gen_wave w4 300000 1000
combine_expected "$WORK/expected2" "$WORK/w1" "$WORK/w2" "$WORK/w3" "$WORK/w4"
wait_caught_up orders "$(count_of messages "$WORK/expected2")" 120
assert_orders_match "$WORK/expected2"
[ "$(sql "SELECT count(*) FROM projector_old_orders_g2.order_detail")" = "$old_count" ] \
    || fail "the old generation got writes after the switch"
# --keep-old keeps the old index too, out of the alias, with no writes after the switch.
[ "$(alias_indices)" = orders-g3 ] \
    || fail "alias orders does not point at orders-g3 alone"
[ "$(curl -s "$ES_URL/_standin/dump/orders-g2" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["docs"]))')" = "$old_count" ] \
    || fail "the kept old index orders-g2 does not hold the old generation's $old_count documents"
[ "$(sql "SELECT count(*) FROM order_detail WHERE first_sku IS DISTINCT FROM items->0->>'sku'")" = 0 ] \
    || fail "first_sku is not filled for the orders after the switch"
curl -s "$API/metrics" >"$WORK/metrics.txt"
grep -q '^projector_rebuild_events_replayed{projection="orders",generation="3",mode="blue-green"} [1-9]' "$WORK/metrics.txt" \
    || { grep rebuild "$WORK/metrics.txt"; fail "rebuild metrics"; }
grep -q '^projector_rebuild_events_target{projection="orders",generation="3",mode="blue-green"} [1-9]' "$WORK/metrics.txt" \
    || { grep rebuild "$WORK/metrics.txt"; fail "rebuild target metric"; }
# A scrape taken after a rebuild passes Prometheus's own linter.
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 \
    || { cat "$WORK/promtool.txt"; fail "promtool check metrics failed on a scrape after a rebuild"; }
# HEAD /metrics answers like GET, without the body; the text names its charset.
curl -sI "$API/metrics" >"$WORK/head.txt"
grep -q '^HTTP/1.1 200' "$WORK/head.txt" || { cat "$WORK/head.txt"; fail "HEAD /metrics"; }
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$WORK/head.txt" \
    || { cat "$WORK/head.txt"; fail "the metrics' Content-Type names no charset"; }
stop_clean "$pid"
echo "bluegreen: ok"
