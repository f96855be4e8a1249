#!/usr/bin/env bash
# dashboards/projector.json queries what /metrics really exposes: a running projector applies
# events (one of them dead-lettered) and an in-place rebuild, its scrape passes promtool, and
# every metric and label each panel's expression names is in that scrape (dashboard_check.py).
# The scrape also carries projector_build_info with the versions --version prints.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup dashboard --topic order-events:2

"$ORDERS_GEN" --events 2000 --poison 5 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
port=$((21000 + RANDOM % 10000))
API=http://127.0.0.1:$port
projector_start run --http "127.0.0.1:$port" -X session.timeout.ms=6000
pid=$LAST_PID
wait_caught_up orders "$(count_of messages "$WORK/expected")" 120
"$PROJECTOR" rebuild orders --in-place --wait --brokers "$BROKERS" --mappings "$PROJECT_ROOT/mappings" \
    --views "$PROJECT_ROOT/views" >"$WORK/rebuild.txt" 2>&1 \
    || { cat "$WORK/rebuild.txt"; fail "rebuild"; }
curl -sf "$API/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 \
    || { cat "$WORK/promtool.txt"; fail "promtool check metrics"; }
grep -q "^projector_build_info{version=\"$("$PROJECTOR" --version | awk 'NR == 1 { print $2 }')\",librdkafka=\"" \
    "$WORK/metrics.txt" || { grep build_info "$WORK/metrics.txt"; fail "projector_build_info"; }
python3 "$PROJECT_ROOT/tests/integration/dashboard_check.py" "$PROJECT_ROOT/dashboards/projector.json" \
    "$WORK/metrics.txt" || fail "the dashboard queries what /metrics does not expose (above)"
stop_clean "$pid"
echo "dashboard: ok"
