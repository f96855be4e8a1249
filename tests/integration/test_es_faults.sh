#!/usr/bin/env bash
# Elasticsearch faults mid-stream, from the stand-in: whole _bulk requests answered 429 and 503,
# single items answered 429 and 503 while the rest of their request applies, a request that hangs
# past the client's timeout after applying, and connections dropped mid-response. The projector
# retries (consumption pauses), nothing that was only throttled is dead-lettered, and the rows
# and documents end exactly as computed by orders_gen, each event applied once.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup es_faults --topic order-events:4

"$ORDERS_GEN" --events 20000 --poison 6 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
port=$((21000 + RANDOM % 20000))

es_ctl fail '{"status": 429, "count": 6, "path": "_bulk"}' # throttled from the first batch on
projector_start run --batch-max-events 200 --retry-backoff-max-ms 300 --es-timeout-ms 1500 \
    --http "127.0.0.1:$port"
pid=$LAST_PID

wait_progress $((total / 5))
es_ctl fail_items '{"status": 429, "count": 700}'
wait_progress $((total * 2 / 5))
es_ctl fail '{"status": 503, "count": 5, "path": "_bulk"}'
es_ctl fail_items '{"status": 503, "count": 300}'
wait_progress $((total * 3 / 5))
es_ctl hang '{"count": 2, "seconds": 4, "apply": true}'
wait_progress $((total * 7 / 10))
es_ctl drop '{"count": 3, "apply": true}'
wait_progress $((total * 4 / 5))
es_ctl drop '{"count": 2, "apply": false}'

wait_caught_up orders "$total" 300
curl -s "$ES_URL/_standin/stats" >"$WORK/es_stats.json"
python3 - "$WORK/es_stats.json" <<'PY' || fail "not every injected fault was served"
import json, sys
st = json.load(open(sys.argv[1]))
pending = {k: v for k, v in st["pending_faults"].items() if v}
served = st["faults_served"]
print("faults served:", served)
assert not pending, f"faults left unserved: {pending}"
PY
curl -s "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt"
stop_clean "$pid"

assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
dead=$(sql "SELECT count(*) FROM projector.dead_letters")
index_dead=$(sql "SELECT count(*) FROM projector.dead_letters WHERE stage = 'index'")
[ "$dead" = "$(count_of poison "$WORK/expected")" ] \
    || fail "$dead dead letters, expected only the $(count_of poison "$WORK/expected") poison events"
[ "$index_dead" = 0 ] || fail "$index_dead events dead-lettered for search engine errors that were only throttling"
metric() { awk -v n="$1{projection=\"orders\"}" '$1 == n { print $2 }' "$WORK/metrics.txt"; }
[ "$(metric projector_search_throttled_documents_total)" -ge 1000 ] \
    || fail "throttled documents not counted: $(metric projector_search_throttled_documents_total)"
[ "$(metric projector_search_errors_total)" -ge 15 ] \
    || fail "search engine errors not counted: $(metric projector_search_errors_total)"
[ "$(metric projector_search_refused_documents_total)" = 0 ] || fail "documents refused"
grep -q 'search engine error' "$WORK/run.log" || fail "the search engine's failures were not logged"
echo "es faults: ok"
