#!/usr/bin/env bash
# api/openapi.json describes what the API really answers: each endpoint is called for its
# answers (successes and errors), and each answer's status, content type and JSON body must be
# the ones the document gives, validated against its schemas (openapi_check.py). The document
# also names its servers, its root-level security and an operationId per operation.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup openapi --topic order-events:2

"$ORDERS_GEN" --events 400 --brokers "$BROKERS" --topic order-events --expect-dir "$WORK/expected" \
    --quiet
port=$((21000 + RANDOM % 10000))
API=http://127.0.0.1:$port
projector_start run --http "127.0.0.1:$port"
wait_caught_up orders "$(count_of messages "$WORK/expected")" 120
for _ in $(seq 1 100); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.1; done
sleep 1.2 # the index refreshes

CASES=$WORK/cases.txt
: >"$CASES"
n=0
call() { # TEMPLATE EXPECTED_STATUS METHOD URL-PATH [curl args...]
    local template=$1 want=$2 method=$3 path=$4; shift 4
    n=$((n + 1))
    local out
    out=$(curl -s -o "$WORK/body$n" -w '%{http_code} %{content_type}' -X "$method" "$@" "$API$path")
    local status=${out%% *} ctype=${out#* }
    [ "$status" = "$want" ] || { cat "$WORK/body$n" >&2; fail "$method $path: status $status, expected $want"; }
    echo "$method $template $status ${ctype// /} $WORK/body$n" >>"$CASES"
}
key=$(sql "SELECT order_id FROM order_detail ORDER BY order_id LIMIT 1")

call /healthz 200 GET /healthz
call /readyz 200 GET /readyz
call /metrics 200 GET /metrics
call /v1/openapi.json 200 GET /v1/openapi.json
call /v1/views 200 GET /v1/views
call /v1/views/{table} 200 GET "/v1/views/order_detail?limit=2"
call /v1/views/{table} 200 GET "/v1/views/customer_summary?order_by=orders_created&order=desc"
call /v1/views/{table} 400 GET "/v1/views/order_detail?limit=0"
call /v1/views/{table} 400 GET "/v1/views/order_detail?nosuchcolumn=1"
call /v1/views/{table} 404 GET /v1/views/nosuch
call /v1/views/{table} 504 GET "/v1/views/order_detail?min_position=order-events:0:99999999&wait_ms=50"
call /v1/views/{table}/{key} 200 GET "/v1/views/order_detail/$key"
call /v1/views/{table}/{key} 404 GET /v1/views/order_detail/no-such-order
call /v1/views/{table}/{key} 400 GET "/v1/views/order_detail/o-1%00junk"
call /v1/search/{index} 200 GET "/v1/search/orders?filter.status=CREATED&limit=3"
call /v1/search/{index} 200 GET "/v1/search/orders?q=x&sort=createdAt:desc&limit=2"
call /v1/search/{index} 400 GET "/v1/search/orders?limit=999999"
call /v1/search/{index} 404 GET /v1/search/nosuch
call /v1/search/{index} 200 POST /v1/search/orders -H 'Content-Type: application/json' \
    -d '{"query": {"match_all": {}}, "size": 2}'
call /v1/search/{index} 400 POST /v1/search/orders -H 'Content-Type: application/json' -d 'not json'
call /v1/projections 200 GET /v1/projections
call /v1/projections/{name} 200 GET /v1/projections/orders
call /v1/projections/{name} 404 GET /v1/projections/nope
call /v1/projections/{name}/pause 200 POST /v1/projections/orders/pause
call /v1/projections/{name}/resume 200 POST /v1/projections/orders/resume
call /v1/projections/{name}/pause 403 POST /v1/projections/orders/pause -H 'Origin: http://evil.example'
call /v1/projections/{name}/pause 404 POST /v1/projections/nope/pause
call /v1/projections/{name}/rebuild 400 POST "/v1/projections/orders/rebuild?mode=sideways"
call /v1/projections/{name}/rebuild 202 POST "/v1/projections/orders/rebuild?mode=blue-green"
call /v1/projections/{name} 200 GET /v1/projections/orders
call /v1/projections/{name}/rebuild 409 POST "/v1/projections/orders/rebuild"
call /v1/projections/{name}/rebuild/cancel 200 POST /v1/projections/orders/rebuild/cancel
call /v1/projections/{name}/rebuild/cancel 409 POST /v1/projections/orders/rebuild/cancel
call /v1/projections/{name} 200 GET /v1/projections/orders

# Numbers come back as the engine gave them (791.53, not 791.52999999999997).
search_body=$(awk '$2 == "/v1/search/{index}" && $3 == 200 { print $5; exit }' "$CASES")
grep -q '"totalAmount":[0-9]' "$search_body" || fail "no totalAmount in the search answer"
! grep -qE '"totalAmount":[0-9]+\.[0-9]{3,}' "$search_body" \
    || { head -c 600 "$search_body"; fail "search documents' numbers are printed with float noise"; }
python3 "$PROJECT_ROOT/tests/integration/openapi_check.py" "$PROJECT_ROOT/api/openapi.json" "$CASES" \
    || fail "answers that api/openapi.json does not describe (above)"
stop_clean "$LAST_PID"
echo "openapi: ok ($n answers)"
