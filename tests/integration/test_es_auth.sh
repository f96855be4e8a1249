#!/usr/bin/env bash
# The search engine's connection settings against stand-ins that require them: basic auth with
# the OpenSearch flavour and gzip request bodies, an API key, and HTTPS verified with a CA file.
# A wrong password is retried, never dead-lettered, and a restart with the right one catches up.
# Each run ends with the exact documents.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup es_auth --topic order-events:2

"$ORDERS_GEN" --events 3000 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)

# A fresh database, stand-in and group for each run; ES_DIRS to clean up.
ES_DIRS=()
cleanup_es() { for d in "${ES_DIRS[@]:-}"; do [ -n "$d" ] && rm -rf "$d"; done; }
CLEANUP_HOOK=cleanup_es
fresh() { # NAME STAND-IN-ARGS...
    local name=$1; shift
    export PGDATABASE=t_es_auth_$name
    dropdb --if-exists "$PGDATABASE" && createdb "$PGDATABASE"
    es_start --refresh-interval-ms 200 "$@"
    PIDS+=("$ES_PID")
    ES_DIRS+=("$ES_DIR")
}

# Basic auth, OpenSearch, gzip; first with a wrong password.
fresh basic --basic projector:s3cret --flavor opensearch
projector_start basic_wrong --group g1 --es-user projector --es-password wrong "${group_args[@]}"
for _ in $(seq 1 100); do grep -q 'search engine error' "$WORK/basic_wrong.log" && break; sleep 0.1; done
grep -q 'search engine error.*401' "$WORK/basic_wrong.log" \
    || fail "a wrong password was not logged as a retried search engine error"
grep -q 'wrong' "$WORK/basic_wrong.log" && fail "the password appears in the log"
[ "$(applied_total orders)" = 0 ] || fail "events were applied without the search engine"
stop_clean "$LAST_PID"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "authentication failures were dead-lettered"
projector_start basic --group g1 --es-user projector --es-password s3cret --es-gzip true "${group_args[@]}"
wait_caught_up orders "$total" 120
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"

# An API key.
fresh apikey --api-key a2V5OnNlY3JldA==
projector_start apikey --group g2 --es-api-key a2V5OnNlY3JldA== "${group_args[@]}"
wait_caught_up orders "$total" 120
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"

# HTTPS with a certificate for 127.0.0.1, verified with its CA file.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null \
    || fail "openssl could not make a certificate"
fresh tls --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
ES_URL=https://${ES_URL#http://}
projector_start tls_unverified --group g3 --es-url "$ES_URL" "${group_args[@]}"
for _ in $(seq 1 100); do grep -q 'search engine' "$WORK/tls_unverified.log" && break; sleep 0.1; done
grep -qi 'search engine.*certificate' "$WORK/tls_unverified.log" \
    || fail "an unverifiable certificate was not reported"
stop_clean "$LAST_PID"
projector_start tls --group g3 --es-url "$ES_URL" --es-ca-file "$WORK/cert.pem" "${group_args[@]}"
wait_caught_up orders "$total" 120
stop_clean "$LAST_PID"
ES_CA_FILE=$WORK/cert.pem assert_orders_match "$WORK/expected"
echo "es auth: ok"
