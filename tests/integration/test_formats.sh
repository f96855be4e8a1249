#!/usr/bin/env bash
# The sample order domain in every event format: the same orders_gen events published as
# CloudEvents (binary and structured mode), as Debezium outbox router messages (expanded, a JSON
# string, wrapped by the JsonConverter) and as plain JSON with tombstones, each projected by a copy
# of mappings/orders.json with that "format" into its own database and search engine: the read
# tables and documents equal orders_gen's expected state whatever the format. Tombstones without a
# "$tombstone" rule are skipped and counted; with one, the row of their key is deleted.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
PRODUCE=$(dirname "$ORDERS_GEN")/produce_lines
FORMATS_PY=$PROJECT_ROOT/tests/integration/formats.py
VARIANTS=(ce-binary ce-structured outbox-expanded outbox-string outbox-wrapped)
topics=()
for v in "${VARIANTS[@]}" tomb-skip tomb-rule; do topics+=(--topic "$v:4"); done
itest_setup formats "${topics[@]}"
DATABASES=()
CLEANUP_HOOK=drop_databases
drop_databases() { for d in "${DATABASES[@]:-}"; do [ -n "$d" ] && dropdb --if-exists "$d"; done; }

"$ORDERS_GEN" --events 3000 --ndjson "$WORK/orders.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
TOMBSTONES=o-00000003,o-00000010,o-00000042

# Projects VARIANT's events (FORMAT as formats.py names it, topic VARIANT) into database
# t_formats_VARIANT with a fresh search engine; extra arguments go to formats.py mapping.
# Leaves PGDATABASE set to that database.
project() {
    local variant=$1 format=$2 tombstones=$3; shift 3
    export PGDATABASE=t_formats_${variant//-/_}
    DATABASES+=("$PGDATABASE")
    dropdb --if-exists "$PGDATABASE" && createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
    mkdir -p "$WORK/m-$variant"
    python3 "$FORMATS_PY" mapping "$format" "$variant" "$PROJECT_ROOT/mappings/orders.json" "$@" \
        >"$WORK/m-$variant/orders.json" || fail "formats.py mapping $format"
    python3 "$FORMATS_PY" events "$format" ${tombstones:+--tombstones "$tombstones"} \
        <"$WORK/orders.ndjson" | "$PRODUCE" "$BROKERS" "$variant" || fail "produce $variant"
    local n=$total
    [ -z "$tombstones" ] || n=$((total + $(tr ',' '\n' <<<"$tombstones" | wc -l)))
    es_stop
    es_start --refresh-interval-ms 200
    PIDS+=("$ES_PID")
    # a group of its own: the previous variant's member is not waited for
    MAPPINGS=$WORK/m-$variant projector_start "$variant" --group "formats-$variant"
    wait_caught_up orders "$n" 180
    stop_clean "$LAST_PID"
}

# Checks the positions' counters of the last projection: applied, skipped, dead-lettered.
assert_counts() {
    local got
    got=$(sql "SELECT sum(applied) || '/' || sum(skipped) || '/' || sum(dead_lettered)
        FROM projector.positions WHERE projection = 'orders'")
    [ "$got" = "$1" ] || fail "$PGDATABASE: applied/skipped/dead_lettered $got, expected $1"
    [ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "$PGDATABASE: dead letters"
}

good=$(count_of good "$WORK/expected") unknown=$(count_of unknown "$WORK/expected")
for v in "${VARIANTS[@]}"; do
    project "$v" "$v" ""
    assert_orders_match "$WORK/expected"
    assert_counts "$good/$unknown/0"
    echo "format $v: ok"
done

# `projector test` (the test kit's headers): the sample mapping's lifecycle case in each format
# has the same tables and documents as the JSON case's expected.json.
LIFECYCLE=$PROJECT_ROOT/mappings/tests/order_lifecycle
for v in "${VARIANTS[@]}"; do
    mkdir -p "$WORK/case-$v/tests/lifecycle"
    python3 "$FORMATS_PY" mapping "$v" order-events "$PROJECT_ROOT/mappings/orders.json" \
        >"$WORK/case-$v/orders.json" || fail "formats.py mapping $v"
    python3 "$FORMATS_PY" case "$v" <"$LIFECYCLE/events.ndjson" \
        >"$WORK/case-$v/tests/lifecycle/events.ndjson" || fail "formats.py case $v"
    expect_exit 0 "$WORK/case-$v.out" "$PROJECTOR" test --mappings "$WORK/case-$v" \
        --views "$PROJECT_ROOT/views" --update "$WORK/case-$v/tests/lifecycle"
    python3 - "$LIFECYCLE/expected.json" "$WORK/case-$v/tests/lifecycle/expected.json" <<'PY' \
        || fail "projector test, format $v: the tables or documents differ from the JSON case's"
import json, sys
want, got = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("tables", "documents"):
    if want[k] != got[k]:
        sys.exit("%s differ:\n%s\n%s" % (k, json.dumps(want[k], sort_keys=True), json.dumps(got[k], sort_keys=True)))
if len(got["dead_letters"]) != len(want["dead_letters"]):
    sys.exit("dead letters: %s" % got["dead_letters"])
PY
done
echo "projector test in every format: ok"

# Tombstones without a rule: skipped and counted, nothing dead-lettered, nothing changed.
project tomb-skip json "$TOMBSTONES"
assert_orders_match "$WORK/expected"
assert_counts "$good/$((unknown + 3))/0"
echo "tombstones skipped: ok"

# With a "$tombstone" rule: the row (and document) of each tombstone's key is deleted.
project tomb-rule json "$TOMBSTONES" --tombstone-rule
mkdir -p "$WORK/expected-tomb"
cp "$WORK/expected/customer_summary.txt" "$WORK/expected/counts.txt" "$WORK/expected-tomb/"
for f in order_detail order_docs; do
    grep -v -E "^(${TOMBSTONES//,/|})\|" "$WORK/expected/$f.txt" >"$WORK/expected-tomb/$f.txt"
done
[ "$(wc -l <"$WORK/expected-tomb/order_detail.txt")" = $(($(wc -l <"$WORK/expected/order_detail.txt") - 3)) ] \
    || fail "the tombstones' keys are not orders of the expected state"
assert_orders_match "$WORK/expected-tomb"
assert_counts "$((good + 3))/$unknown/0"
echo "tombstone rule: ok"

# A mapping naming an unknown format, or a ce.* attribute with another format: check refuses it.
mkdir -p "$WORK/bad"
python3 - "$PROJECT_ROOT/mappings/orders.json" "$WORK/bad/orders.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["format"] = "avro"
json.dump(m, open(sys.argv[2], "w"))
PY
expect_exit 2 "$WORK/check.out" "$PROJECTOR" check --mappings "$WORK/bad" --views "$PROJECT_ROOT/views"
expect_text "$WORK/check.out" "$WORK/bad/orders.json: \$.format: unknown format \"avro\": the known formats are \"json\", \"cloudevents\", \"debezium-outbox\""
python3 - "$PROJECT_ROOT/mappings/orders.json" "$WORK/bad/orders.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["events"]["OrderPaid"][0]["columns"]["payment_id"] = {"meta": "ce.id"}
json.dump(m, open(sys.argv[2], "w"))
PY
expect_exit 2 "$WORK/check.out" "$PROJECTOR" check --mappings "$WORK/bad" --views "$PROJECT_ROOT/views"
expect_text "$WORK/check.out" "\$.events.OrderPaid[0].columns.payment_id: meta \"ce.id\" is an attribute of format cloudevents, but this mapping's \$.format is json"
echo "formats: ok"
