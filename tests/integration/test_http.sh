#!/usr/bin/env bash
# The HTTP API over real HTTP against real PostgreSQL: health, the declared views, a row by key,
# filtered lists with keyset pagination across pages while rows are inserted concurrently (none
# missed or repeated), rejection of undeclared tables, columns and injection attempts, status
# codes and error bodies, projection status, the metrics text checked against known counts,
# and the OpenAPI document.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup http --topic order-events:4

"$ORDERS_GEN" --events 5000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
port=$((21000 + RANDOM % 20000))
projector_start run --http "127.0.0.1:$port"
pid=$LAST_PID
wait_caught_up orders "$total" 120
API=http://127.0.0.1:$port

get() { # PATH [EXPECTED_STATUS] -> body in $WORK/body
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$API$1")
    [ "$code" = "${2:-200}" ] || { cat "$WORK/body" >&2; fail "GET $1: status $code, expected ${2:-200}"; }
}

get /healthz
[ "$(body_json 'd["status"]')" = ok ] || fail "healthz body"
get /readyz
get /v1/openapi.json
[ "$(body_json 'd["openapi"][:2]')" = "3." ] || fail "openapi document"
[ "$(body_json '"/v1/search/{index}" in d["paths"]')" = True ] || fail "openapi: the search endpoint"
get /v1/views
[ "$(body_json '",".join(sorted(v["table"] + ":" + "+".join(v["key"]) for v in d["views"]))')" = \
    "customer_summary:customer_id,order_detail:order_id" ] || fail "views list"

# One row by key equals the table's row.
id=$(sql "SELECT order_id FROM order_detail ORDER BY order_id OFFSET 17 LIMIT 1")
get "/v1/views/order_detail/$id"
[ "$(body_json 'json.dumps(d, sort_keys=True)')" = \
  "$(sql "SELECT row_to_json(t) FROM order_detail t WHERE order_id = '$id'" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')" ] \
    || fail "row by key differs from the table"
get /v1/views/order_detail/no-such-order 404
[ "$(body_json 'd["error"]["code"]')" = not_found ] || fail "404 error body"
get /v1/views/order_detail/a/b 400
get /v1/views/pg_authid 404
get "/v1/views/order_detail?nosuchcol=1" 400
[ "$(body_json 'd["error"]["code"]')" = unknown_column ] || fail "unknown column code"
get "/v1/views/order_detail?order_by=password" 400
get "/v1/views/order_detail?limit=0" 400
get "/v1/views/order_detail?after=not-a-cursor" 400
get "/v1/views/order_detail?created_at.gt=yesterday-ish" 400
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$API/v1/views")" = 405 ] || fail "POST allowed"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$API/v1/projections/orders")" = 405 ] || fail "DELETE allowed"
# Injection attempts are values, never SQL.
get "/v1/views/order_detail?status=x'%20OR%20'1'='1"
[ "$(body_json 'len(d["items"])')" = 0 ] || fail "an injection attempt matched rows"
get "/v1/views/order_detail/x'%3B%20DROP%20TABLE%20order_detail%3B--" 404
[ "$(sql "SELECT count(*) > 0 FROM order_detail")" = t ] || fail "order_detail is gone"

# Filters match what SQL says.
get "/v1/views/order_detail?status=SHIPPED&total_amount.gte=500&limit=1000"
[ "$(body_json 'len(d["items"])')" = "$(sql "SELECT count(*) FROM order_detail WHERE status = 'SHIPPED' AND total_amount >= 500")" ] \
    || fail "filtered count"

# Keyset pagination while rows are inserted concurrently: every row present at the start is
# seen exactly once.
sql "SELECT order_id FROM order_detail ORDER BY total_amount DESC, order_id" >"$WORK/before.txt"
( for i in $(seq 1 40); do
      sql "INSERT INTO order_detail (order_id, customer_id, status, total_amount, item_count, items,
           created_at, updated_at) VALUES ('o-new-$i', 'c-x', 'CREATED', $((i * 37 % 3000)).5, 1,
           '[]', now(), now())" >/dev/null
      sleep 0.02
  done ) &
inserter=$!
: >"$WORK/pages.txt"
cursor=""
pages=0
while :; do
    get "/v1/views/order_detail?order_by=total_amount&order=desc&limit=97${cursor:+&after=$cursor}"
    body_json '"\n".join(r["order_id"] for r in d["items"])' >>"$WORK/pages.txt"
    cursor=$(body_json 'd["next"] or ""')
    pages=$((pages + 1))
    [ -n "$cursor" ] || break
done
wait "$inserter"
[ "$pages" -gt 5 ] || fail "only $pages pages"
dups=$(sort "$WORK/pages.txt" | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups rows repeated across pages"
missing=$(sort "$WORK/pages.txt" | comm -23 <(sort "$WORK/before.txt") - | wc -l)
[ "$missing" = 0 ] || fail "$missing rows missed across pages"
echo "paged $(wc -l <"$WORK/pages.txt") rows in $pages pages while inserting: none missed or repeated"

# Projection status and metrics agree with the exact counts.
get /v1/projections/orders
[ "$(body_json 'd["applied"]')" = "$(count_of good "$WORK/expected")" ] || fail "projection applied"
[ "$(body_json 'd["skipped"]')" = "$(count_of unknown "$WORK/expected")" ] || fail "projection skipped"
[ "$(body_json 'sum(p["next_offset"] for p in d["partitions"])')" = "$total" ] || fail "positions"
get /v1/projections/nope 404
curl -s "$API/metrics" >"$WORK/metrics.txt"
metric_sum() { awk -v m="$1" '$1 ~ "^"m"\\{" { s += $2 } END { print s + 0 }' "$WORK/metrics.txt"; }
[ "$(metric_sum projector_events_applied_total)" = "$(count_of good "$WORK/expected")" ] || fail "applied metric"
[ "$(metric_sum projector_events_skipped_total)" = "$(count_of unknown "$WORK/expected")" ] || fail "skipped metric"
[ "$(metric_sum projector_position)" = "$total" ] || fail "position metric"
grep -q '^# TYPE projector_events_applied_total counter$' "$WORK/metrics.txt" || fail "metric TYPE line"
# The live statistics of the running worker: every applied event's latency was observed once,
# batches add up to the events polled, no database error.
[ "$(metric_sum projector_event_latency_seconds_count)" = "$(count_of good "$WORK/expected")" ] \
    || fail "event latency count"
[ "$(metric_sum projector_batch_events_sum)" = "$total" ] || fail "batch events sum"
[ "$(awk '$1 ~ /^projector_batch_seconds_bucket\{.*le="\+Inf"/ { print $2 }' "$WORK/metrics.txt")" = \
  "$(metric_sum projector_batch_seconds_count)" ] || fail "batch seconds +Inf bucket"
[ "$(metric_sum projector_database_errors_total)" = 0 ] || fail "database errors metric"
grep -q '^# TYPE projector_event_latency_seconds histogram$' "$WORK/metrics.txt" || fail "histogram TYPE"
get /v1/projections/orders
[ "$(body_json 'd["last_event_ms"] > 0')" = True ] || fail "last_event_ms"
# events/s is a whole number as text, not 51.619999999999997
grep -qE '"events_per_s":[0-9]+(\.0)?[,}]' "$WORK/body" || { cat "$WORK/body"; fail "events_per_s is not rounded"; }
# Read-your-writes: a writer that produced to partition 0 at offset N reads with
# min_position=order-events:0:N and gets the row as soon as it is applied; a position that is
# never reached times out with 504 and the current positions.
n0=$(sql "SELECT next_offset FROM projector.positions WHERE partition = 0")
printf 'o-ryw\t{"eventId":"e-ryw","type":"OrderCreated","orderId":"o-ryw","customerId":"c-ryw","items":[{"sku":"S","quantity":2,"price":"1.25"}],"totalAmount":"2.50","occurredAt":"2026-02-01T00:00:00Z"}\n' |
    kcat -b "$BROKERS" -P -t order-events -p 0 -K $'\t'
get "/v1/views/order_detail/o-ryw?min_position=order-events:0:$n0"
[ "$(body_json 'd["item_count"]')" = 2 ] || fail "read-your-writes row"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "X-Min-Position: order-events:0:$n0" \
    "$API/v1/views/customer_summary/c-ryw")
[ "$code" = 200 ] || fail "X-Min-Position: status $code"
get "/v1/views/order_detail/o-ryw?min_position=order-events:0:99999999&wait_ms=300" 504
[ "$(body_json 'd["error"]["code"]')" = position_timeout ] || fail "504 body"
[ "$(body_json 'd["error"]["current"][0]["next_offset"]')" = $((n0 + 1)) ] || fail "504 current position"
get "/v1/views/order_detail?min_position=bogus" 400
# A waiting request does not block others: /healthz is answered while it still waits.
curl -s -o /dev/null "$API/v1/views/order_detail/o-ryw?min_position=order-events:0:99999999&wait_ms=5000" &
slow=$!
sleep 0.3
get /healthz
kill -0 "$slow" 2>/dev/null || fail "the waiting request ended before /healthz was answered"
wait "$slow"

# Search: GET with field=value matches (keyword fields exact, text fields analysed), POST with a
# search body; totals and ids equal what the table holds. Documents are searchable once the
# index refreshes (the stand-in refreshes every 200 ms here).
sleep 0.5
sqlc() { sql "SELECT count(*) FROM order_detail WHERE order_id NOT LIKE 'o-new-%' AND $1"; } # not the rows inserted by hand
get "/v1/search/orders?status=PAID&size=0"
[ "$(body_json 'd["total"]')" = "$(sqlc "status = 'PAID'")" ] || fail "search: status=PAID total $(body_json 'd["total"]')"
cust=$(sql "SELECT customer_id FROM order_detail WHERE customer_id <> 'c-x' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
get "/v1/search/orders?customerId=$cust&size=100&sort=orderId"
[ "$(body_json '",".join(h["id"] for h in d["hits"])')" = \
  "$(sql "SELECT string_agg(order_id, ',' ORDER BY order_id) FROM order_detail WHERE customer_id = '$cust'")" ] \
    || fail "search: the orders of $cust"
[ "$(body_json 'd["hits"][0]["document"]["customerId"]')" = "$cust" ] || fail "search: hit document"
get "/v1/search/orders?skus=SKU-0042&size=0"
[ "$(body_json 'd["total"]')" = "$(sqlc "jsonb_path_exists(items, '\$[*] ? (@.sku == \"SKU-0042\")')")" ] \
    || fail "search: skus=SKU-0042"
get "/v1/search/orders?cancelReason=stock&status=CANCELLED&size=0"
[ "$(body_json 'd["total"]')" = "$(sqlc "cancel_reason = 'out of stock'")" ] || fail "search: text match"
# q= over every text and keyword field, filter.FIELD= exact, limit=
get "/v1/search/orders?q=stock&filter.status=CANCELLED&limit=0"
[ "$(body_json 'd["total"]')" = "$(sqlc "cancel_reason = 'out of stock'")" ] || fail "search: q=stock"
get "/v1/search/orders?q=$cust&limit=0"
[ "$(body_json 'd["total"]')" = "$(sqlc "customer_id = '$cust'")" ] || fail "search: q=customer id"
get "/v1/search/orders?filter.customerId=$cust&filter.status=SHIPPED&limit=100&sort=orderId:desc"
[ "$(body_json '",".join(h["id"] for h in d["hits"])')" = \
  "$(sql "SELECT string_agg(order_id, ',' ORDER BY order_id DESC) FROM order_detail WHERE customer_id = '$cust' AND status = 'SHIPPED'")" ] \
    || fail "search: filter.customerId and filter.status"
get "/v1/search/orders?filter.status=shipped&limit=0"
[ "$(body_json 'd["total"]')" = 0 ] || fail "search: filter is exact (keyword, case-sensitive)"
get "/v1/search/orders?limit=-1" 400
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"query": {"range": {"totalAmount": {"gte": 500}}}, "size": 0}' "$API/v1/search/orders")
[ "$code" = 200 ] || fail "POST search: status $code"
[ "$(body_json 'd["total"]')" = "$(sqlc "total_amount >= 500")" ] || fail "POST search: range total"
get /v1/search/nosuch 404
get "/v1/search/orders?size=20000" 400
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -d '{"script": {}}' "$API/v1/search/orders")
[ "$code" = 400 ] && [ "$(body_json 'd["error"]["code"]')" = invalid_body ] || fail "POST search: unknown key"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -d '{"query": {"nope": {}}}' "$API/v1/search/orders")
[ "$code" = 400 ] && [ "$(body_json 'd["error"]["code"]')" = invalid_search ] || fail "POST search: engine's 400"

# Pause and resume (no token configured: loopback clients may): while paused nothing is
# applied and the state says so; after resume the events apply.
post() { # PATH EXPECTED_STATUS [HEADER]
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST ${3:+-H "$3"} "$API$1")
    [ "$code" = "$2" ] || { cat "$WORK/body" >&2; fail "POST $1: status $code, expected $2"; }
}
post /v1/projections/orders/pause 200
[ "$(body_json 'd["state"]')" = paused ] || fail "pause answer"
get /v1/projections/orders
[ "$(body_json 'd["state"]')" = paused ] || fail "state after pause"
before=$(applied_total orders)
for i in 1 2 3 4 5; do
    printf 'o-p%s\t{"type":"OrderCreated","orderId":"o-p%s","customerId":"c-p","items":[],"totalAmount":"1.00","occurredAt":"2026-02-02T00:00:00Z"}\n' "$i" "$i"
done | kcat -b "$BROKERS" -P -t order-events -p 1 -K $'\t'
sleep 2
[ "$(applied_total orders)" = "$before" ] || fail "events were applied while paused"
grep -q 'projection=orders paused' "$WORK/run.log" || fail "the pause was not logged"
post /v1/projections/orders/resume 200
wait_caught_up orders $((before + 5)) 30
get /v1/projections/orders
[ "$(body_json 'd["state"]')" = live ] || fail "state after resume"
post /v1/projections/nope/pause 404
post /v1/projections/orders/explode 404
total=$((before + 5))
wait_caught_up orders "$total" 30

# Rebuild through the API: in place; the running instance replays everything.
post "/v1/projections/orders/rebuild?mode=sideways" 400
sql "UPDATE order_detail SET cancel_reason = 'CORRUPT' WHERE order_id = '$id'" >/dev/null
post "/v1/projections/orders/rebuild?mode=in-place" 202
[ "$(body_json 'd["state"]')" = requested ] || fail "rebuild answer"
sleep 1
wait_caught_up orders "$total" 120
[ "$(sql "SELECT coalesce(cancel_reason, '') FROM order_detail WHERE order_id = '$id'")" != CORRUPT ] \
    || fail "the rebuild did not replay"
[ "$(sql "SELECT count(*) FROM order_detail")" = "$(( $(wc -l <"$WORK/expected/order_detail.txt") + 6 ))" ] \
    || fail "rows after the rebuild (expected orders + o-ryw + 5 paused ones)"

# Blue/green through the API, then cancelled: nothing of the partial generation is left.
post /v1/projections/orders/rebuild/cancel 409
[ "$(body_json 'd["error"]["code"]')" = nothing_to_cancel ] || fail "cancel with nothing active"
post "/v1/projections/orders/rebuild?mode=in-place&keep_old=true" 400
post "/v1/projections/orders/rebuild" 202
[ "$(body_json 'd["mode"]')" = blue-green ] || fail "the default mode is not blue-green"
post /v1/projections/orders/rebuild/cancel 200
[ "$(body_json 'd["state"]')" = cancelled ] || fail "cancel answer"
[ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'projector_build_orders'")" = 0 ] \
    || fail "the build schema is left after the cancel"
get /v1/projections/orders
[ "$(body_json 'd["rebuild"]["state"]')" = cancelled ] || fail "rebuild state after the cancel"
[ "$(body_json 'd["generation"]')" = 1 ] || fail "the live generation changed"
sleep 1
[ "$(sql "SELECT count(*) FROM projector.positions WHERE projection LIKE 'orders#%'")" = 0 ] \
    || fail "build positions are left after the cancel"

get /readyz
[ "$(body_json 'd["lag"]')" = 0 ] || fail "readyz lag after catching up"
get /v1/projections/orders
[ "$(body_json 'sum(p["lag"] for p in d["partitions"])')" = 0 ] || fail "partition lag after catching up"
stop_clean "$pid"

# projector serve: the API without consuming. Ten events nobody applies make partition 0 lag.
for i in $(seq 1 10); do
    printf 'o-lag-%s\t{"type":"OrderNoteAdded","orderId":"o-lag-%s"}\n' "$i" "$i"
done | kcat -b "$BROKERS" -P -t order-events -p 0 -K $'\t'
port=$((port + 1))
API=http://127.0.0.1:$port
"$PROJECTOR" serve --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" \
    --http "127.0.0.1:$port" --ready-max-lag 5 >>"$WORK/serve.log" 2>&1 &
serve=$!
PIDS+=("$serve")
for _ in $(seq 1 100); do curl -s -o /dev/null "$API/healthz" && break; sleep 0.1; done
get /readyz 503
[ "$(body_json 'd["error"]["code"]')" = lagging ] || fail "readyz while lagging"
[ "$(body_json 'd["error"]["lag"]')" = 10 ] || fail "readyz lag"
get /v1/projections/orders
[ "$(body_json '[p["lag"] for p in d["partitions"] if p["partition"] == 0][0]')" = 10 ] || fail "partition 0 lag"
curl -s "$API/metrics" >"$WORK/metrics.txt"
[ "$(metric_sum projector_lag)" = 10 ] || fail "lag metric"
stop_clean "$serve"

# With a token configured, the admin endpoints want it.
port=$((port + 1))
API=http://127.0.0.1:$port
"$PROJECTOR" serve --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" \
    --http "127.0.0.1:$port" --http-token s3cret >>"$WORK/serve2.log" 2>&1 &
serve=$!
PIDS+=("$serve")
for _ in $(seq 1 100); do curl -s -o /dev/null "$API/healthz" && break; sleep 0.1; done
post /v1/projections/orders/pause 401
[ "$(body_json 'd["error"]["code"]')" = unauthorized ] || fail "401 body"
post /v1/projections/orders/pause 401 "Authorization: Bearer wrong"
post /v1/projections/orders/pause 200 "Authorization: Bearer s3cret"
post /v1/projections/orders/resume 200 "Authorization: Bearer s3cret"
get /v1/projections/orders
[ "$(body_json 'd["state"]')" = live ] || fail "state after resume with a token"
stop_clean "$serve"
echo "http: ok"
