#!/usr/bin/env bash
# The HTTP API against hostile and unlucky requests, over raw sockets: invalid UTF-8, NUL
# bytes and names that a bounded message would cut mid-character get a 400 with the JSON
# error object and the process stays up; oversized bodies and requests libevent refuses
# itself are JSON too; bounds on parameters and positions; admin requests from another
# site (Origin, Host) are refused without a token and a long token is compared whole;
# /healthz and other reads are answered while a read waits on a lock held by psql; reads
# reconnect after the server closed the API's connections; a table named "My Orders" is
# served.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup http_hostile --topic order-events:2 --topic weird-events:1

"$ORDERS_GEN" --events 300 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
port=$((21000 + RANDOM % 11000)) # below the ephemeral ports (32768-)
projector_start run --http "127.0.0.1:$port"
pid=$LAST_PID
wait_caught_up orders "$total" 120
API=http://127.0.0.1:$port
RAW=$PROJECT_ROOT/tests/integration/http_raw.py
id=$(sql "SELECT order_id FROM order_detail ORDER BY order_id LIMIT 1")

alive() { kill -0 "$pid" 2>/dev/null || fail "the process died after: $1"; }
# raw STATUS CODE WHAT: sends the request on stdin as it is; the answer must be STATUS with
# the JSON error object of CODE, and the process must live on.
raw() {
    python3 "$RAW" "$port" "$1" "$2" >"$WORK/body" || fail "$3"
    alive "$3"
}
get_raw() { # STATUS CODE TARGET
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$3" | raw "$1" "$2" "GET $3"
}
post_raw() { # STATUS CODE TARGET BODY-FILE [HEADER]
    { printf 'POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%sContent-Length: %d\r\n\r\n' \
          "$3" "${5:+$5$'\r\n'}" "$(stat -c %s "$4")"; cat "$4"; } | raw "$1" "$2" "POST $3"
}
e200=$(python3 -c 'print("é" * 200)')
pe200=$(python3 -c 'print("%C3%A9" * 200)')

# Bytes that are not UTF-8, or UTF-8 a bounded message would cut mid-character.
printf 'GET /v1/views/order_detail?\xff=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw 400 invalid_parameter 'a parameter name of byte 0xff'
get_raw 400 invalid_parameter '/v1/views/order_detail?%FF=1'
get_raw 400 unknown_column "/v1/views/order_detail?$pe200=1"
[ "$(body_json '"é" * 200 in d["error"]["message"]')" = True ] || fail "the parameter's name is not in the message whole"
get_raw 400 unknown_column "/v1/views/order_detail?$e200=1"
python3 -c 'import json; print(json.dumps({"é" * 200: 1}))' >"$WORK/key.json"
post_raw 400 invalid_body /v1/search/orders "$WORK/key.json"
[ "$(body_json '"é" * 200 in d["error"]["message"]')" = True ] || fail "the body key is not in the message whole"
get_raw 400 invalid_parameter '/v1/search/orders?filter.status=%FF'
get_raw 400 invalid_parameter '/v1/search/orders?status=%C3'
get_raw 400 invalid_parameter '/v1/search/orders?q=%ED%A0%80' # a surrogate
printf 'GET /v1/views/order_detail/o\xc3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw 400 invalid_path 'a key of invalid UTF-8'
printf 'GET /v1/views/order_detail HTTP/1.1\r\nHost: x\r\nX-Min-Position: \xff:0:1\r\nConnection: close\r\n\r\n' |
    raw 400 invalid_position 'X-Min-Position of invalid UTF-8'

# NUL bytes never truncate a key or a value.
get_raw 400 invalid_path "/v1/views/order_detail/$id%00junk"
get_raw 400 invalid_parameter '/v1/views/order_detail?status=SHIPPED%00junk'
get_raw 400 invalid_parameter '/v1/search/orders?filter.status=PAID%00junk'
get_raw 400 invalid_path '/v1/search/orders%00junk'
get_raw 200 - "/v1/views/order_detail/$id" # the key itself is fine

# Bounds: parameters per request (search terms included) and positions per read.
many=$(python3 -c 'print("&".join("filter.status=S%d" % i for i in range(700)))')
get_raw 400 too_many_parameters "/v1/search/orders?$many"
body_json 'd["error"]["message"]' | grep -q 'more than 64 parameters' || fail "the bound is not named"
many=$(python3 -c 'print("&".join("status=S%d" % i for i in range(65)))')
get_raw 400 too_many_parameters "/v1/views/order_detail?$many"
many=$(python3 -c 'print(",".join("order-events:0:%d" % i for i in range(65)))')
get_raw 400 invalid_position "/v1/views/order_detail/$id?min_position=$many"
body_json 'd["error"]["message"]' | grep -q 'more than 64 positions' || fail "the positions bound is not named"
get_raw 400 invalid_position "/v1/views/order_detail/$id?min_position=order-events:0:1&wait_ms=5x"

# Every error is the JSON error object: our body limit, libevent's, bad HTTP, bad methods.
head -c 100000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
post_raw 413 body_too_large /v1/search/orders "$WORK/big.json"
head -c 300000 /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
post_raw 413 too_large /v1/search/orders "$WORK/huge.json"
printf 'GARBAGE\r\n\r\n' | raw 400 bad_request 'a request line that is not HTTP'
# curl sends "Expect: 100-continue" with these bodies: libevent's 100 Continue is not an error.
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST --data-binary @"$WORK/big.json" "$API/v1/search/orders")
[ "$code" = 413 ] && [ "$(body_json 'd["error"]["code"]')" = body_too_large ] || fail "curl, 100 KiB: status $code"
python3 -c 'import json; print(json.dumps({"query": {"match_all": {}}, "size": 0, "_source": ["x" * 2000]}))' >"$WORK/ok.json"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST --data-binary @"$WORK/ok.json" "$API/v1/search/orders")
[ "$code" = 200 ] || fail "curl, a 2 KiB search body: status $code"
# Two requests on one kept-alive connection.
[ "$(curl -s -o /dev/null -o /dev/null -w '%{http_code}%{num_connects}\n' "$API/healthz" "$API/v1/views/order_detail/$id" | tr '\n' ' ')" = "2001 2000 " ] \
    || fail "two requests on one connection"
printf 'PATCH /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | raw 501 not_implemented 'PATCH'
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 20000 /dev/zero | tr '\0' a
  printf '\r\nConnection: close\r\n\r\n'; } | raw 400 bad_request 'headers over 16 KiB'
get_raw 404 not_found '/nowhere'
get_raw 200 - /healthz

# Admin without a token: a page on another site cannot pause a projection, neither by a
# cross-site POST (Origin) nor through DNS rebinding (Host); a loopback page can.
printf '' >"$WORK/empty"
post_raw 403 forbidden /v1/projections/orders/pause "$WORK/empty" 'Origin: http://evil.example'
post_raw 403 forbidden /v1/projections/orders/pause "$WORK/empty" 'Origin: null'
{ printf 'POST /v1/projections/orders/pause HTTP/1.1\r\nHost: evil.example:%s\r\n' "$port"
  printf 'Content-Length: 0\r\nConnection: close\r\n\r\n'; } | raw 403 forbidden 'a rebinding Host'
[ "$(sql "SELECT count(*) FROM projector.projections WHERE name = 'orders' AND paused")" = 0 ] \
    || fail "a refused admin request paused the projection"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "Origin: http://localhost:$port" \
    "$API/v1/projections/orders/pause")
[ "$code" = 200 ] || fail "a loopback Origin: status $code"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H 'Host: [::1]' "$API/v1/projections/orders/resume")
[ "$code" = 200 ] || fail "Host [::1]: status $code"

# A read waiting on a lock does not hold up /healthz or other reads: psql holds the table,
# the read is seen waiting on it in pg_stat_activity, and meanwhile the others answer.
psql -X -q -c "BEGIN; LOCK TABLE order_detail IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60)" \
    >/dev/null 2>&1 &
locker=$!
PIDS+=("$locker")
for _ in $(seq 1 100); do
    [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE
        c.relname = 'order_detail' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] && break
    sleep 0.1
done
curl -s -o "$WORK/blocked.json" -w '%{http_code}' --max-time 30 "$API/v1/views/order_detail/$id" \
    >"$WORK/blocked.code" &
blocked=$!
waiting=0
for _ in $(seq 1 100); do
    waiting=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'projector-http'
        AND wait_event_type = 'Lock'")
    [ "$waiting" = 1 ] && break
    sleep 0.1
done
[ "$waiting" = 1 ] || fail "the read never waited on the lock"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$API/healthz") || true
[ "$code" = 200 ] || fail "/healthz was not answered while a read waits on a lock (status $code)"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$API/v1/projections/orders") || true
[ "$code" = 200 ] || fail "a read of another table was not answered meanwhile (status $code)"
kill -0 "$blocked" 2>/dev/null || fail "the blocked read ended before the others were answered"
[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'projector-http'
    AND wait_event_type = 'Lock'")" = 1 ] || fail "the read stopped waiting on the lock too early"
kill "$locker"
sql "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted
     AND relation = 'order_detail'::regclass
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" >/dev/null || true
wait "$blocked" || true
[ "$(cat "$WORK/blocked.code")" = 200 ] || fail "the blocked read: status $(cat "$WORK/blocked.code")"

# The server closes the API's connections (as a restart does): the next reads reconnect. Only
# this test's database: the tests run two at a time on one cluster.
[ "$(sql "SELECT count(pg_terminate_backend(pid)) > 0 FROM pg_stat_activity
    WHERE application_name = 'projector-http' AND datname = current_database()")" = t ] \
    || fail "no API connection to close"
sleep 0.5
for i in $(seq 1 8); do
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$API/v1/views/order_detail/$id")
    [ "$code" = 200 ] || { cat "$WORK/body" >&2; fail "read $i after the connections closed: status $code"; }
done
stop_clean "$pid"

# A token longer than any fixed buffer is compared whole.
token=$(python3 -c 'print("t" * 600)')
wrong=$(python3 -c 'print("t" * 504 + "x" * 96)')
port=$((port + 1))
API=http://127.0.0.1:$port
"$PROJECTOR" serve --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" \
    --http "127.0.0.1:$port" --http-token "$token" >>"$WORK/serve.log" 2>&1 &
pid=$!
PIDS+=("$pid")
for _ in $(seq 1 100); do curl -s -o /dev/null "$API/healthz" && break; sleep 0.1; done
post_raw 401 unauthorized /v1/projections/orders/pause "$WORK/empty" "Authorization: Bearer $wrong"
post_raw 401 unauthorized /v1/projections/orders/pause "$WORK/empty" "Authorization: Bearer ${token}t"
post_raw 200 - /v1/projections/orders/pause "$WORK/empty" "Authorization: Bearer $token"
post_raw 200 - /v1/projections/orders/resume "$WORK/empty" "Authorization: Bearer $token"
stop_clean "$pid"

# Table and column names with upper case and spaces.
mkdir -p "$WORK/weird/mappings" "$WORK/weird/views"
cat >"$WORK/weird/views/010_weird.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS "My Orders" ("Order Id" text PRIMARY KEY, "Total" numeric);
SQL
cat >"$WORK/weird/mappings/weird.json" <<'JSON'
{"version": 1, "projection": "weird", "topics": ["weird-events"],
 "event_type": {"field": "$.type"},
 "events": {"Placed": [{"upsert": "My Orders", "key": {"Order Id": "$.id"},
                        "columns": {"Total": "$.total"}}]}}
JSON
for i in 1 2 3; do printf 'w-%s\t{"type":"Placed","id":"w-%s","total":"%s.50"}\n' "$i" "$i" "$i"; done |
    kcat -b "$BROKERS" -P -t weird-events -p 0 -K $'\t'
port=$((port + 1))
API=http://127.0.0.1:$port
MAPPINGS=$WORK/weird/mappings VIEWS=$WORK/weird/views projector_start weird --http "127.0.0.1:$port"
pid=$LAST_PID
wait_caught_up weird 3 60
kill -0 "$pid" 2>/dev/null || fail "run with a table named \"My Orders\" exited"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$API/v1/views/My%20Orders/w-2")
[ "$code" = 200 ] || { cat "$WORK/body" >&2; fail "GET a row of \"My Orders\": status $code"; }
[ "$(body_json 'd["Total"] == 2.5')" = True ] || fail "the row of \"My Orders\""
code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$API/v1/views/My%20Orders?Total.gt=1.6")
[ "$code" = 200 ] && [ "$(body_json 'len(d["items"])')" = 2 ] || fail "list \"My Orders\" with a filter"
stop_clean "$pid"
echo "http_hostile: ok"
