#!/usr/bin/env bash
# The HTTP API across a PostgreSQL restart: while the server is down /healthz answers and reads
# get 503 with the JSON error object; once it is up again every read answers on its first try
# (each worker reconnects on the request that finds its connection gone; nobody calls /readyz).
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
# A cluster of this test's own, since it is stopped and started.
pg_start -c fsync=off
CLEANUP_HOOK=pg_stop
itest_setup http_restart --topic order-events:2

"$ORDERS_GEN" --events 200 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
port=$((21000 + RANDOM % 11000)) # below the ephemeral ports (32768-)
API=http://127.0.0.1:$port
projector_start run --http "127.0.0.1:$port" --retry-backoff-max-ms 1000
pid=$LAST_PID
wait_caught_up orders "$total" 120
id=$(sql "SELECT order_id FROM order_detail ORDER BY order_id LIMIT 1")
reads=("/v1/views/order_detail/$id" "/v1/views/order_detail?limit=5" /v1/projections/orders /metrics)
status_of() { curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 "$API$1" || true; }
for r in "${reads[@]}" "${reads[@]}"; do # every worker has served
    [ "$(status_of "$r")" = 200 ] || fail "GET $r before the restart"
done

as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -m fast -w stop >/dev/null
[ "$(status_of /healthz)" = 200 ] || fail "/healthz while the database is down"
code=$(status_of "/v1/views/order_detail/$id")
[ "$code" = 503 ] || fail "a read while the database is down: status $code"
python3 -c "import json; e = json.load(open('$WORK/body'))['error']; assert e['code'] and e['message']" \
    || fail "the 503 is not the JSON error object"
as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w start \
    -o "-p $PGPORT -k $PG_ROOT -c listen_addresses='' -c fsync=off" >/dev/null

for round in 1 2 3; do
    for r in "${reads[@]}"; do
        code=$(status_of "$r")
        [ "$code" = 200 ] || { cat "$WORK/body" >&2; fail "GET $r after the restart (round $round): status $code"; }
    done
done
grep -q '"status"' <(curl -s "$API/readyz") || fail "/readyz after the restart"
stop_clean "$pid"
echo "http_restart: ok"
