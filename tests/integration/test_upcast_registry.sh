#!/usr/bin/env bash
# Versions from the Schema Registry: OrderCreated in two Avro schemas, versions 1 and 2 of
# subject upreg-value (their ids are not their versions), interleaved on one topic, project
# through the v1 upcaster into exactly the rows upcast_registry.py computes. The registry fails
# while versions are read (first the versions alone, then all of it): nothing is applied or
# dead-lettered meanwhile, and afterwards every event is applied once; each id's versions are
# fetched once. A schema registered under two subjects the event's version could come from,
# and one under no subject of the topic or record, are dead-lettered at stage upcast with the
# reason, and the event after them is applied, as is an event when the registry does not serve
# the versions of ids; and the same with registry-json (JSON Schemas, their titles the record
# names), checked against the schemas' properties; `projector dlq replay` with a mapping naming the strategy then projects the first.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
PRODUCE=$(dirname "$ORDERS_GEN")/produce_lines
GEN=$PROJECT_ROOT/tests/integration/upcast_registry.py
PY=/usr/bin/python3 # Debian's, with python3-avro
itest_setup upcast_registry --topic upreg:2 --topic upreg-bad:1 --topic upreg-old:1 \
    --topic upreg-json:1
export MAPPINGS=$WORK/m VIEWS=$WORK/v
mkdir -p "$MAPPINGS" "$VIEWS"

echo none >"$WORK/registry.fault"
registry_standin_start

# Registers schema KIND under SUBJECT (POST /subjects/{subject}/versions); prints its id.
register() {
    local body
    body=$("$PY" "$GEN" schema "$1" | python3 -c 'import json,sys; print(json.dumps({"schema": sys.stdin.read()}))')
    curl -sS -f -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' -d "$body" \
        "$PROJECTOR_REGISTRY_URL/subjects/$2/versions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' \
        || fail "register $1 under $2"
}
[ "$(register unrelated unrelated-value)" = 1 ] || fail "unrelated: id"
[ "$(register v1 upreg-value)" = 2 ] || fail "v1: id"
[ "$(register v2 upreg-value)" = 3 ] || fail "v2: id"
[ "$(register ambiguous upreg-bad-value)" = 4 ] || fail "ambiguous: id"
[ "$(register ambiguous example.orders.OrderCreated)" = 4 ] || fail "ambiguous: the same id"
[ "$(register stray elsewhere-value)" = 5 ] || fail "stray: id"
[ "$(register v2 upreg-bad-value)" = 3 ] || fail "v2: the same id under upreg-bad-value"

cat >"$VIEWS/010_orders.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS order_read (order_id text PRIMARY KEY, customer_id text NOT NULL,
  total_amount numeric NOT NULL, currency text NOT NULL, item_count integer NOT NULL);
SQL
# The mapping, its versions from the registry as $1 (JSON) says.
mapping() {
    python3 - "$1" >"$MAPPINGS/orders.json" <<'PY'
import json, sys
print(json.dumps({
    "version": 1, "projection": "orders", "topics": ["upreg", "upreg-bad"],
    "format": "registry-avro",
    "versions": {"registry": json.loads(sys.argv[1]), "current": {"OrderCreated": 2}},
    "upcasters": {"OrderCreated": {"1": [
        {"set": "$.totalAmount", "value": {"divide": ["$.total", 100], "scale": 2}},
        {"drop": "$.total"}, {"default": "$.currency", "value": {"literal": "EUR"}}]}},
    "events": {"OrderCreated": [{"upsert": "order_read", "key": {"order_id": "$.orderId"},
        "columns": {"customer_id": "$.customerId", "total_amount": "$.totalAmount",
                    "currency": "$.currency", "item_count": {"count": "$.items"}}}]}}, indent=2))
PY
}
mapping true

N=400
"$PY" "$GEN" events "$N" 2 3 "$WORK/events.ndjson" "$WORK/expected.txt" || fail "events"
"$PRODUCE" "$BROKERS" upreg <"$WORK/events.ndjson" || fail "produce upreg"
{
    "$PY" "$GEN" one ambiguous 4 o-amb
    "$PY" "$GEN" one stray 5 o-stray
    "$PY" "$GEN" one v2 3 o-after
} | "$PRODUCE" "$BROKERS" upreg-bad || fail "produce upreg-bad"
total=$((N + 3))
grep -c '|EUR|' "$WORK/expected.txt" >/dev/null || fail "no v1 order drawn"

# The versions of ids fail (500) while the schemas answer, then the whole registry is down.
echo "500 versions" >"$WORK/registry.fault"
projector_start run --retry-backoff-max-ms 500
for _ in $(seq 1 300); do
    grep -qF "the versions of schema id" "$WORK/run.log" && break
    sleep 0.1
done
expect_text "$WORK/run.log" "schema registry unreachable (the versions of schema id"
sleep 2
echo down >"$WORK/registry.fault"
sleep 3
[ "$(applied_total orders)" = 0 ] || fail "events applied while the versions could not be read"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "dead letters while the registry failed"
echo none >"$WORK/registry.fault"
wait_caught_up orders "$total" 180
stop_clean "$LAST_PID"
expect_text "$WORK/run.log" "decoded: going on"
echo "registry outage: ok"

sql "SELECT order_id || '|' || customer_id || '|' || total_amount || '|' || currency || '|' || item_count
     FROM order_read WHERE order_id LIKE 'o-0%' ORDER BY order_id" >"$WORK/actual.txt"
if ! cmp -s "$WORK/expected.txt" "$WORK/actual.txt"; then
    diff "$WORK/expected.txt" "$WORK/actual.txt" | head -n 20 >&2
    fail "order_read differs from the expected rows"
fi
[ "$(sql "SELECT currency FROM order_read WHERE order_id = 'o-after'")" != "" ] || fail "o-after is not applied"
got=$(sql "SELECT sum(applied) || '/' || sum(dead_lettered) FROM projector.positions WHERE projection = 'orders'")
[ "$got" = "$((N + 1))/2" ] || fail "applied/dead_lettered $got, expected $((N + 1))/2"
echo "two schema versions through the upcaster: ok ($N orders, $(grep -c '|EUR|' "$WORK/expected.txt") in EUR)"

# Each id's schema and versions fetched once for the process.
stats=$(curl -sS "$PROJECTOR_REGISTRY_URL/_standin/stats")
python3 -c 'import json,sys; f=json.loads(sys.argv[1])["fetches"]; sys.exit(0 if all(f.get(k) == 1 for k in ["2", "3", "versions/2", "versions/3", "versions/4", "versions/5"]) else 1)' \
    "$stats" || fail "fetches: $stats, expected one per id"

# The dead letters: the reasons name the id, the subjects found and what to set.
sql "SELECT key || ' ' || stage || ' ' || error FROM (SELECT convert_from(key, 'UTF8') AS key, stage, error
     FROM projector.dead_letters) d ORDER BY key" >"$WORK/dead.txt"
cat "$WORK/dead.txt"
[ "$(wc -l <"$WORK/dead.txt")" = 2 ] || fail "expected 2 dead letters"
expect_text "$WORK/dead.txt" "o-amb upcast $MAPPINGS/orders.json: \$.versions.registry: schema id 4 is registered under 2 subjects this event's version could be read from: example.orders.OrderCreated version 1 ({\"strategy\": \"record\"}), upreg-bad-value version 1 ({\"strategy\": \"topic\"}): set \$.versions.registry to the strategy, or to {\"subject\": ...}, that names one"
expect_text "$WORK/dead.txt" "o-stray upcast $MAPPINGS/orders.json: \$.versions.registry: schema id 5 has no version under the subjects upreg-bad-value, example.orders.OrderCreated, upreg-bad-example.orders.OrderCreated (its subjects: elsewhere-value (version 1)): set \$.versions.registry to {\"subject\": ...}"
echo "ambiguous and unknown subjects: ok"

# The strategy named, a replay projects the ambiguous one (version 1 of upreg-bad-value: through
# the upcaster); the stray one fails again, at the topic's subject.
mapping '{"strategy": "topic"}'
expect_exit 1 "$WORK/replay.out" "$PROJECTOR" dlq replay --projection orders --mappings "$MAPPINGS" --views "$VIEWS"
cat "$WORK/replay.out"
expect_text "$WORK/replay.out" "replayed (upreg-bad/0/0)"
expect_text "$WORK/replay.out" "fails again (upcast): $MAPPINGS/orders.json: \$.versions.registry: schema id 5 has no version under subject upreg-bad-value (its subjects: elsewhere-value (version 1))"
[ "$(sql "SELECT total_amount || ' ' || currency FROM order_read WHERE order_id = 'o-amb'")" != "" ] \
    || fail "o-amb is not in order_read after the replay"
echo "replay with the strategy named: ok"

# `projector check` reads the schema of each upcaster's version from the registry: the fields
# the upcasters read must be ones it can have.
expect_exit 0 "$WORK/check-ok.out" "$PROJECTOR" check --mappings "$MAPPINGS" --views "$VIEWS"
expect_text "$WORK/check-ok.out" "the fields the upcasters read checked against the Schema Registry's schemas of their versions"
mkdir -p "$WORK/m-bad"
python3 - "$MAPPINGS/orders.json" >"$WORK/m-bad/orders.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["versions"]["current"]["OrderCreated"] = 4
m["upcasters"]["OrderCreated"] = {
    "1": [{"set": "$.totalAmount", "value": {"divide": ["$.totl", 100], "scale": 2}},
          {"drop": "$.total"},
          {"set": "$.firstSku", "value": "$.items[0].sku"},
          {"set": "$.firstPrice", "value": "$.items[0].price"},
          {"default": "$.currency", "value": {"literal": "EUR"}},
          {"rename": "$.currency", "to": "$.money.currency"}],
    "2": [{"rename": "$.itemz", "to": "$.lines"},
          {"rename": "$.nothing", "to": "$.n", "optional": True},
          {"set": "$.note", "value": {"concat": ["$.currency", {"path": "$.missing", "optional": True}]}}],
    "3": [{"set": "$.x", "value": "$.anything"}]}
print(json.dumps(m, indent=2))
PY
expect_exit 2 "$WORK/check-bad.out" "$PROJECTOR" check --mappings "$WORK/m-bad" --views "$VIEWS"
cat "$WORK/check-bad.out"
F=$WORK/m-bad/orders.json
expect_text "$WORK/check-bad.out" "$F: \$.upcasters.OrderCreated.1[0].value.divide[0]: reads \$.totl, which version 1 of OrderCreated cannot have: the schema of subject upreg-value version 1 has no such field"
expect_text "$WORK/check-bad.out" "$F: \$.upcasters.OrderCreated.1[3].value: reads \$.items[0].price, which version 1 of OrderCreated cannot have"
expect_text "$WORK/check-bad.out" "$F: \$.upcasters.OrderCreated.2[0]: reads \$.itemz, which version 2 of OrderCreated cannot have: the schema of subject upreg-value version 2 has no such field"
expect_text "$WORK/check-bad.out" "projector check: $F: the fields upcaster OrderCreated.3 reads were not checked against a schema: the registry has no version 3 of the subjects upreg-value, upreg-bad-value"
[ "$(grep -c 'cannot have' "$WORK/check-bad.out")" = 3 ] || fail "check: expected 3 problems"
# The registry down: check says the fields were not checked, and exits 1; without a registry
# URL it says so too (and exits 2: the format needs one); --offline says it did not look.
echo down >"$WORK/registry.fault"
expect_exit 1 "$WORK/check-down.out" "$PROJECTOR" check --mappings "$MAPPINGS" --views "$VIEWS"
expect_text "$WORK/check-down.out" "projector check: the fields the upcasters read were not checked against the schemas of their versions: the schema registry at $PROJECTOR_REGISTRY_URL did not answer"
expect_exit 2 "$WORK/check-nourl.out" env -u PROJECTOR_REGISTRY_URL "$PROJECTOR" check --mappings "$MAPPINGS" --views "$VIEWS"
expect_text "$WORK/check-nourl.out" "projector check: the fields the upcasters read were not checked against the schemas of their versions: no registry URL is set (--registry-url)"
expect_text "$WORK/check-nourl.out" "\$.format: format registry-avro reads the writer's schemas from a schema registry, but no registry URL is set"
expect_exit 0 "$WORK/check-offline.out" "$PROJECTOR" check --offline --mappings "$MAPPINGS" --views "$VIEWS"
expect_text "$WORK/check-offline.out" "the fields the upcasters read were not checked against the Schema Registry's schemas (--offline)"
echo none >"$WORK/registry.fault"
echo "check against the registry's schemas: ok"

# A registry that does not serve the versions of ids (404 without Confluent's 40403): the event
# is dead-lettered at stage upcast, saying so (a database and a process of their own).
export PGDATABASE=t_upcast_registry_old
dropdb --if-exists "$PGDATABASE" && createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
CLEANUP_HOOK=drop_old
drop_old() { dropdb --if-exists t_upcast_registry_old; }
mkdir -p "$WORK/m-old"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["topics"]=["upreg-old"]; print(json.dumps(m))' \
    "$MAPPINGS/orders.json" >"$WORK/m-old/orders.json"
"$PY" "$GEN" one v2 3 o-old | "$PRODUCE" "$BROKERS" upreg-old || fail "produce upreg-old"
echo "404 versions" >"$WORK/registry.fault"
MAPPINGS=$WORK/m-old projector_start old --group upreg-old
wait_caught_up orders 1 60
stop_clean "$LAST_PID"
sql "SELECT stage || ' ' || error FROM projector.dead_letters" >"$WORK/dead-old.txt"
expect_text "$WORK/dead-old.txt" "upcast $WORK/m-old/orders.json: \$.versions.registry: the registry does not serve GET /schemas/ids/3/versions (HTTP 404: HTTP 404 Not Found): it cannot say the versions of schema ids"
echo none >"$WORK/registry.fault"
echo "a registry without the versions of ids: ok"

# registry-json, RecordNameStrategy: JSON Schema versions 1 and 2 of subject OrderCreated (their
# title); the v1 event is upcast.
export PGDATABASE=t_upcast_registry_json
dropdb --if-exists "$PGDATABASE" && createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
drop_old() { dropdb --if-exists t_upcast_registry_old; dropdb --if-exists t_upcast_registry_json; }
json_schema() { # VERSION: the JSON Schema of OrderCreated at it, as a registration body
    python3 - "$1" <<'PY'
import json, sys
props = {"type": {"type": "string"}, "orderId": {"type": "string"},
         "customerId": {"type": "string"},
         "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}}
if sys.argv[1] == "1":
    props["total"] = {"type": "integer"}
else:
    props.update({"totalAmount": {"type": "string"}, "currency": {"type": "string"}})
s = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "OrderCreated",
     "type": "object", "properties": props}
print(json.dumps({"schema": json.dumps(s), "schemaType": "JSON"}))
PY
}
for v in 1 2; do
    curl -sS -f -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' -d "$(json_schema $v)" \
        "$PROJECTOR_REGISTRY_URL/subjects/OrderCreated/versions" >"$WORK/json-id-$v" || fail "register JSON v$v"
done
jid1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/json-id-1")
jid2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/json-id-2")
python3 - "$jid1" "$jid2" <<'PY' | "$PRODUCE" "$BROKERS" upreg-json || fail "produce upreg-json"
import json, sys
for sid, ev in [(int(sys.argv[1]), {"type": "OrderCreated", "orderId": "j-1", "customerId": "c-1",
                                     "total": 1999, "items": [{"sku": "a"}]}),
                (int(sys.argv[2]), {"type": "OrderCreated", "orderId": "j-2", "customerId": "c-2",
                                     "totalAmount": "5.00", "currency": "GBP", "items": []})]:
    value = b"\0" + sid.to_bytes(4, "big") + json.dumps(ev).encode()
    print(json.dumps({"key": ev["orderId"], "value_hex": value.hex()}))
PY
mkdir -p "$WORK/m-json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m["topics"]=["upreg-json"]; m["format"]="registry-json"; m["versions"]["registry"]={"strategy": "record"}; print(json.dumps(m))' \
    "$MAPPINGS/orders.json" >"$WORK/m-json/orders.json"
MAPPINGS=$WORK/m-json projector_start json --group upreg-json
wait_caught_up orders 2 60
stop_clean "$LAST_PID"
got=$(sql "SELECT string_agg(order_id || '|' || total_amount || '|' || currency || '|' || item_count, ' ' ORDER BY order_id) FROM order_read")
[ "$got" = "j-1|19.99|EUR|1 j-2|5.00|GBP|0" ] || fail "registry-json rows: $got"
expect_exit 0 "$WORK/check-json.out" "$PROJECTOR" check --mappings "$WORK/m-json" --views "$VIEWS"
expect_text "$WORK/check-json.out" "checked against the Schema Registry's schemas of their versions"
sed 's/"\$.total"/"$.totalCents"/' "$WORK/m-json/orders.json" >"$WORK/m-json/bad.json.tmp"
mkdir -p "$WORK/m-json-bad" && mv "$WORK/m-json/bad.json.tmp" "$WORK/m-json-bad/orders.json"
expect_exit 2 "$WORK/check-json-bad.out" "$PROJECTOR" check --mappings "$WORK/m-json-bad" --views "$VIEWS"
expect_text "$WORK/check-json-bad.out" "$WORK/m-json-bad/orders.json: \$.upcasters.OrderCreated.1[0].value.divide[0]: reads \$.totalCents, which version 1 of OrderCreated cannot have: the schema of subject OrderCreated version 1 has no such field"
echo "registry-json versions and check: ok"
