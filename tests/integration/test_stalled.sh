#!/usr/bin/env bash
# A projection that keeps failing the same batch is reported stalled, with the reason, and
# recovers by itself. Another session holds a read table locked while the projector runs with
# lock_timeout set (PostgreSQL error 55P03, retried) and stall.after.ms=1500: /readyz answers 503
# "stalled" on this instance and on another one (projector serve, through projector.stalls),
# /v1/projections says "stalled" with {cause, since, reason}, projector_stalled{cause="stalled"}
# is 1 and `projector status` prints the reason. The lock released, the batch goes through:
# live, /readyz 200, metric 0, no stall recorded, and every event applied once. A stall recorded
# by an instance that stopped refreshing it (crashed) is ignored once expired.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup stalled --topic order-events:2

"$ORDERS_GEN" --events 3000 --ndjson "$WORK/events.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
head -n 1500 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
port=$((21000 + RANDOM % 20000))
PGOPTIONS="-c lock_timeout=200" projector_start run --http "127.0.0.1:$port" --stall-after-ms 1500 \
    --retry-backoff-max-ms 500 -X session.timeout.ms=6000
pid=$LAST_PID
wait_caught_up orders 1500 120
API=http://127.0.0.1:$port
projector_start serve --http "127.0.0.1:$((port + 1))"
OTHER=http://127.0.0.1:$((port + 1))

for _ in $(seq 1 100); do [ "$(http_get "$OTHER/healthz")" = 200 ] && break; sleep 0.1; done
[ "$(http_get "$API/readyz")" = 200 ] || fail "not ready before the drift: $(cat "$WORK/body")"
[ "$(http_get "$OTHER/readyz")" = 200 ] || fail "serve not ready before the drift: $(cat "$WORK/body")"

psql -X -q -c "BEGIN; LOCK TABLE order_detail IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600); COMMIT;" \
    >/dev/null 2>&1 &
locker=$!
PIDS+=("$locker")
for _ in $(seq 1 100); do
    [ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'order_detail' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] && break
    sleep 0.1
done
tail -n +1501 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
code=
for _ in $(seq 1 300); do
    code=$(http_get "$API/readyz")
    [ "$code" = 503 ] && [ "$(body_json 'd["error"]["code"]')" = stalled ] && break
    sleep 0.2
done
[ "$code" = 503 ] || fail "/readyz answered $code while the batch failed: $(cat "$WORK/body")"
[ "$(body_json 'd["error"]["code"]')" = stalled ] || fail "/readyz: $(cat "$WORK/body")"
[[ "$(body_json 'd["error"]["message"]')" == *"database: "*"55P03"* ]] || fail "/readyz reason: $(cat "$WORK/body")"
n=$(applied_total orders)
[ "$n" -lt "$total" ] || fail "everything was applied although a column was missing"

[ "$(http_get "$API/v1/projections/orders")" = 200 ] || fail "GET /v1/projections/orders"
[ "$(body_json 'd["state"]')" = stalled ] || fail "state $(body_json 'd["state"]'), expected stalled"
[[ "$(body_json 'd["stalled"]["reason"]')" == *55P03* ]] || fail "stalled reason: $(body_json 'd["stalled"]')"
[ "$(body_json 'd["stalled"]["cause"]')" = stalled ] || fail "stalled cause: $(body_json 'd["stalled"]')"
[ "$(body_json 'd["stalled"]["since"][:2]')" = 20 ] || fail "stalled since: $(body_json 'd["stalled"]')"
curl -s "$API/metrics" >"$WORK/metrics.txt"
grep -qx 'projector_stalled{projection="orders",cause="stalled"} 1' "$WORK/metrics.txt" || fail "metric: $(grep stalled "$WORK/metrics.txt")"
# another instance sees it through projector.stalls
for _ in $(seq 1 100); do
    [ "$(http_get "$OTHER/readyz")" = 503 ] && break
    sleep 0.2
done
[ "$(body_json 'd["error"]["code"]')" = stalled ] || fail "serve's /readyz: $(cat "$WORK/body")"
[ "$(http_get "$OTHER/v1/projections/orders")" = 200 ] && [ "$(body_json 'd["state"]')" = stalled ] \
    || fail "serve's state: $(cat "$WORK/body")"
"$PROJECTOR" status --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" >"$WORK/status.txt" || fail "projector status failed"
grep -q '^projection orders: generation 1, stalled$' "$WORK/status.txt" || fail "status: $(cat "$WORK/status.txt")"
grep -q '^  stalled: database: .*55P03.* (stalled since ' "$WORK/status.txt" || fail "status reason: $(cat "$WORK/status.txt")"
[ "$(applied_total orders)" = "$n" ] || fail "events were applied while stalled"

sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE order_detail%'" >/dev/null
wait "$locker" 2>/dev/null || true
wait_caught_up orders "$total" 120
for _ in $(seq 1 100); do [ "$(http_get "$API/readyz")" = 200 ] && break; sleep 0.2; done
[ "$(http_get "$API/readyz")" = 200 ] || fail "/readyz after the fix: $(cat "$WORK/body")"
[ "$(http_get "$API/v1/projections/orders")" = 200 ] && [ "$(body_json 'd["state"]')" = live ] \
    && [ "$(body_json 'd["stalled"]')" = None ] || fail "after the fix: $(cat "$WORK/body")"
[ "$(http_get "$OTHER/readyz")" = 200 ] || fail "serve's /readyz after the fix: $(cat "$WORK/body")"
curl -s "$API/metrics" >"$WORK/metrics.txt"
grep -qx 'projector_stalled{projection="orders",cause="stalled"} 0' "$WORK/metrics.txt" || fail "metric after the fix"
[ "$(sql "SELECT count(*) FROM projector.stalls")" = 0 ] || fail "a stall is still recorded"
"$PROJECTOR" status --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" | grep -q '^projection orders: generation 1, live$' \
    || fail "status after the fix"
grep -q 'projection=orders stalled: a batch of' "$WORK/run.log" || fail "the stall was not logged"
grep -q 'projection=orders no longer stalled' "$WORK/run.log" || fail "the recovery was not logged"
# a row its instance stopped refreshing (crashed) is ignored once expired; an unexpired one of
# another instance counts
sql "INSERT INTO projector.stalls (projection, instance, since, reason, updated_at, expires_at)
    VALUES ('orders', 'crashed:1', now() - interval '2 min', 'database: gone', now() - interval '1 min',
    now() - interval '1 s')" >/dev/null
[ "$(http_get "$API/readyz")" = 200 ] || fail "an expired stall counts: $(cat "$WORK/body")"
[ "$(http_get "$OTHER/readyz")" = 200 ] || fail "an expired stall counts on serve: $(cat "$WORK/body")"
sql "UPDATE projector.stalls SET expires_at = now() + interval '1 hour'" >/dev/null
[ "$(http_get "$OTHER/readyz")" = 503 ] && [[ "$(body_json 'd["error"]["message"]')" == *"(crashed:1): database: gone"* ]] \
    || fail "another instance's stall: $(cat "$WORK/body")"
sql "DELETE FROM projector.stalls" >/dev/null
stop_clean "$pid"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
echo "stalled: ok"
