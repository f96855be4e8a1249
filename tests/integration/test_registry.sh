#!/usr/bin/env bash
# The Schema Registry formats: the sample order domain as registry-avro (Avro binary, decoded
# with the writer's schema fetched from the registry stand-in) and as registry-json, each
# projected into its own database: the read tables and documents equal orders_gen's expected
# state, as in the JSON run. Values without the wire header, and an id the registry does not
# hold, are dead-lettered with the reason. The registry down while events arrive: nothing is
# dead-lettered, nothing applied past the events, and once it is back every event is applied
# exactly once.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
PRODUCE=$(dirname "$ORDERS_GEN")/produce_lines
REG_PY=$PROJECT_ROOT/tests/integration/registry_formats.py
PY=/usr/bin/python3 # Debian's, with python3-avro
itest_setup registry --topic reg-avro:4 --topic reg-json:4 --topic reg-bad:1 --topic reg-outage:4
DATABASES=()
CLEANUP_HOOK=drop_databases
drop_databases() { for d in "${DATABASES[@]:-}"; do [ -n "$d" ] && dropdb --if-exists "$d"; done; }

# Starts the registry stand-in with the schemas of $WORK/schemas, basic auth and a fault file.
registry_start() {
    registry_standin_start --dir "$WORK/schemas" --user reg --password s3cret
    export PROJECTOR_REGISTRY_USER=reg PROJECTOR_REGISTRY_PASSWORD=s3cret
}

"$ORDERS_GEN" --events 3000 --ndjson "$WORK/orders.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
good=$(count_of good "$WORK/expected") unknown=$(count_of unknown "$WORK/expected")
mkdir -p "$WORK/schemas"
"$PY" "$REG_PY" schema avro <"$WORK/orders.ndjson" >"$WORK/schemas/1.avsc" || fail "avro schema"
"$PY" "$REG_PY" schema json <"$WORK/orders.ndjson" >"$WORK/schemas/2.json" || fail "json schema"
echo none >"$WORK/registry.fault"
registry_start

# A second Avro id, registered through the API (POST /subjects/{subject}/versions).
schema2=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["doc"]="v2"; print(json.dumps({"schema": json.dumps(s)}))' "$WORK/schemas/1.avsc")
id2=$(curl -sS -f -u reg:s3cret -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    -d "$schema2" "$PROJECTOR_REGISTRY_URL/subjects/order-events-value/versions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "register a schema"
[ "$id2" = 3 ] || fail "the registered schema got id $id2, expected 3"

# Makes database t_registry_NAME and a mapping of format registry-FORMAT for TOPIC in $WORK/m-NAME.
prepare() {
    local name=$1 format=$2 topic=$3
    export PGDATABASE=t_registry_$name
    DATABASES+=("$PGDATABASE")
    dropdb --if-exists "$PGDATABASE" && createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
    mkdir -p "$WORK/m-$name"
    "$PY" "$REG_PY" mapping "$format" "$topic" "$PROJECT_ROOT/mappings/orders.json" \
        >"$WORK/m-$name/orders.json" || fail "mapping $format"
    es_stop
    es_start --refresh-interval-ms 200
    PIDS+=("$ES_PID")
}

# Produces the order events as FORMAT with schema id ID (schema file SCHEMA) to TOPIC; with a
# fourth argument, only the first N events.
produce() {
    local format=$1 id=$2 schema=$3 topic=$4 n=${5:-}
    if [ -n "$n" ]; then head -n "$n" "$WORK/orders.ndjson"; else cat "$WORK/orders.ndjson"; fi |
        "$PY" "$REG_PY" events "$format" "$id" "$schema" | "$PRODUCE" "$BROKERS" "$topic" \
        || fail "produce $format to $topic"
}

assert_counts() {
    local got
    got=$(sql "SELECT sum(applied) || '/' || sum(skipped) || '/' || sum(dead_lettered)
        FROM projector.positions WHERE projection = 'orders'")
    [ "$got" = "$1" ] || fail "$PGDATABASE: applied/skipped/dead_lettered $got, expected $1"
}

# `projector check`: a registry format without registry.url is an error at the mapping's $.format.
mkdir -p "$WORK/m-check"
"$PY" "$REG_PY" mapping json reg-json "$PROJECT_ROOT/mappings/orders.json" >"$WORK/m-check/orders.json"
expect_exit 2 "$WORK/check.out" env -u PROJECTOR_REGISTRY_URL "$PROJECTOR" check --offline \
    --mappings "$WORK/m-check" --views "$PROJECT_ROOT/views"
expect_text "$WORK/check.out" "m-check/orders.json: \$.format: format registry-json reads the writer's schemas from a schema registry, but no registry URL is set"
expect_exit 2 "$WORK/check-url.out" "$PROJECTOR" check --offline --registry-url localhost:8081 \
    --mappings "$WORK/m-check" --views "$PROJECT_ROOT/views"
expect_text "$WORK/check-url.out" "expected http[s]://host:port"
expect_exit 0 "$WORK/check-ok.out" "$PROJECTOR" check --offline --mappings "$WORK/m-check" \
    --views "$PROJECT_ROOT/views"
echo "check: ok"

# registry-json.
prepare json json reg-json
produce json 2 "$WORK/schemas/2.json" reg-json
MAPPINGS=$WORK/m-json projector_start json --group reg-json
wait_caught_up orders "$total" 180
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"
assert_counts "$good/$unknown/0"
echo "format registry-json: ok"

# One fetch per id for the process (the stand-in counts them).
fetches=$(curl -sS "$PROJECTOR_REGISTRY_URL/_standin/stats")
python3 -c 'import json,sys; f=json.loads(sys.argv[1])["fetches"]; sys.exit(0 if f == {"2": 1} else 1)' \
    "$fetches" || fail "schema fetches: $fetches, expected one per id"

# Dead letters: an id the registry does not hold, a value without the magic byte, a short one.
prepare bad json reg-bad
{
    head -n 1 "$WORK/orders.ndjson" | "$PY" "$REG_PY" events json 2 "$WORK/schemas/2.json"
    head -n 1 "$WORK/orders.ndjson" | "$PY" "$REG_PY" events json 99 "$WORK/schemas/2.json"
    echo '{"key": "o-x", "value": "{\"type\": \"OrderPaid\"}"}'
    echo '{"key": "o-y", "value_hex": "0000"}'
    head -n 1 "$WORK/orders.ndjson" | "$PY" "$REG_PY" events avro 1 "$WORK/schemas/1.avsc"
} | "$PRODUCE" "$BROKERS" reg-bad || fail "produce reg-bad"
MAPPINGS=$WORK/m-bad projector_start bad --group reg-bad
wait_caught_up orders 5 60
stop_clean "$LAST_PID"
sql "SELECT \"offset\" || ' ' || stage || ' ' || error FROM projector.dead_letters ORDER BY \"offset\"" >"$WORK/dead.txt"
cat "$WORK/dead.txt"
expect_text "$WORK/dead.txt" "1 decode schema id 99 is not in the registry"
expect_text "$WORK/dead.txt" "2 decode the value does not start with the schema registry's magic byte 0"
expect_text "$WORK/dead.txt" "3 decode the value is 2 bytes, shorter than the schema registry's 5-byte header"
expect_text "$WORK/dead.txt" "4 decode schema id 1 is of type AVRO, not JSON"
[ "$(wc -l <"$WORK/dead.txt")" = 4 ] || fail "expected 4 dead letters"
echo "dead letters: ok"

# The registry down while events arrive (a new process: nothing cached): nothing dead-lettered,
# nothing applied, a stop is prompt; back up, every event applied exactly once.
prepare outage json reg-outage
echo down >"$WORK/registry.fault"
MAPPINGS=$WORK/m-outage projector_start outage --group reg-outage --retry-backoff-max-ms 500
produce json 2 "$WORK/schemas/2.json" reg-outage
sleep 4
echo 500 >"$WORK/registry.fault"
sleep 2
[ "$(applied_total orders)" = 0 ] || fail "events applied while the registry was down"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "dead letters while the registry was down"
expect_text "$WORK/outage.log" "schema registry unreachable"
[ "$(grep -c 'schema registry unreachable' "$WORK/outage.log")" -le 4 ] || fail "the outage is logged at every retry"
# A stop while waiting is prompt and clean; a new process goes on where nothing was applied.
started=$(date +%s)
stop_clean "$LAST_PID"
[ $(($(date +%s) - started)) -le 10 ] || fail "stopping while the registry is down took too long"
# (a group of its own: the embedded broker would wait for the stopped member's session to end)
MAPPINGS=$WORK/m-outage projector_start outage-2 --group reg-outage-2 --retry-backoff-max-ms 500
for _ in $(seq 1 300); do
    grep -qF "schema registry unreachable" "$WORK/outage-2.log" && break
    sleep 0.1
done
expect_text "$WORK/outage-2.log" "schema registry unreachable"
echo none >"$WORK/registry.fault"
wait_caught_up orders "$total" 180
stop_clean "$LAST_PID"
expect_text "$WORK/outage-2.log" "decoded: going on"
assert_orders_match "$WORK/expected"
assert_counts "$good/$unknown/0"
assert_applied_exactly "$WORK/expected"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "dead letters after the outage"
echo "registry outage: ok"

# registry-avro (a new process): the first half of the events under id 1, the rest under id 3
# (the schema changed between records: both decoded), then one corrupt datum (dead-lettered).
prepare avro avro reg-avro
half=$((total / 2))
head -n "$half" "$WORK/orders.ndjson" | "$PY" "$REG_PY" events avro 1 "$WORK/schemas/1.avsc" |
    "$PRODUCE" "$BROKERS" reg-avro || fail "produce avro"
tail -n +"$((half + 1))" "$WORK/orders.ndjson" |
    "$PY" "$REG_PY" events avro 3 "$WORK/schemas/1.avsc" | "$PRODUCE" "$BROKERS" reg-avro \
    || fail "produce avro (id 3)"
echo '{"key": "o-corrupt", "value_hex": "000000000106652d30"}' | "$PRODUCE" "$BROKERS" reg-avro \
    || fail "produce a corrupt datum"
MAPPINGS=$WORK/m-avro projector_start avro --group reg-avro
wait_caught_up orders "$((total + 1))" 180
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"
assert_counts "$good/$unknown/1"
sql "SELECT error FROM projector.dead_letters" >"$WORK/dead-avro.txt"
expect_text "$WORK/dead-avro.txt" "schema id 1: the payload does not decode with the writer's schema"
python3 -c 'import json,sys; f=json.loads(sys.argv[1])["fetches"]; sys.exit(0 if f.get("3") == 1 else 1)' \
    "$(curl -sS "$PROJECTOR_REGISTRY_URL/_standin/stats")" || fail "schema id 3 fetched more than once"
echo "format registry-avro: ok"
