#!/usr/bin/env bash
# Event schema evolution: a topic holding OrderCreated v1 (total in cents, no version field),
# v2 (totalAmount a decimal string, currency), v3 (lines instead of items) and the old name
# OrderPlaced, interleaved, projects through the mapping's upcasters into the read table that
# upcast_gen.py computes from the orders themselves; the events no upcaster can bring to the
# current version are dead-lettered at stage "upcast" (and fail again on replay). Then a fourth
# version (customer {id}, channel) is added with its upcaster and a changed mapping, v4 events
# are produced, and a blue/green rebuild brings every row to the new shape, exact.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup upcast --topic order-events:2
GEN=$PROJECT_ROOT/tests/integration/upcast_gen.py
export MAPPINGS=$WORK/m VIEWS=$WORK/v
mkdir -p "$MAPPINGS" "$VIEWS"

cat >"$VIEWS/010_orders.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS order_read (order_id text PRIMARY KEY, customer_id text NOT NULL,
  total_amount numeric NOT NULL, currency text NOT NULL, line_count integer NOT NULL,
  quantity integer NOT NULL);
SQL
# The mapping at version CURRENT (3 or 4) of OrderCreated.
mapping() {
    python3 - "$1" <<'PY'
import json, sys
current = int(sys.argv[1])
cents = [{"set": "$.totalAmount", "value": {"divide": ["$.total", 100], "scale": 2}},
         {"drop": "$.total"}, {"default": "$.currency", "value": {"literal": "EUR"}}]
columns = {"customer_id": "$.customerId", "total_amount": "$.totalAmount",
           "currency": "$.currency", "line_count": {"count": "$.lines"},
           "quantity": {"sum": "$.lines[*].qty"}}
m = {"version": 1, "projection": "orders", "topics": ["order-events"],
     "versions": {"field": "$.schemaVersion", "default": 1,
                  "current": {"OrderCreated": current, "OrderPlaced": 2}},
     "upcasters": {"OrderPlaced": {"1": [{"type": "OrderCreated"}] + cents},
                   "OrderCreated": {"1": cents, "2": [{"rename": "$.items", "to": "$.lines"}]}},
     "events": {"OrderCreated": [{"upsert": "order_read", "key": {"order_id": "$.orderId"},
                                  "columns": columns}]}}
if current == 4:
    m["upcasters"]["OrderCreated"]["3"] = [
        {"rename": "$.customerId", "to": "$.customer.id"},
        {"default": "$.channel", "value": {"literal": "web"}}]
    columns["customer_id"] = "$.customer.id"
    columns["channel"] = "$.channel"
print(json.dumps(m, indent=2))
PY
}
# check refuses a gap in the chain (the v3 mapping without its upcaster from version 2).
mkdir -p "$WORK/bad"
mapping 3 | python3 -c '
import json, sys
m = json.load(sys.stdin)
del m["upcasters"]["OrderCreated"]["2"]
print(json.dumps(m))' >"$WORK/bad/orders.json"
expect_exit 2 "$WORK/check.txt" "$PROJECTOR" check --offline --mappings "$WORK/bad" --views "$VIEWS"
expect_text "$WORK/check.txt" "$WORK/bad/orders.json: \$.upcasters.OrderCreated: a gap: no upcaster for version 2"
mapping 3 >"$MAPPINGS/orders.json"
"$PROJECTOR" check --offline --mappings "$MAPPINGS" --views "$VIEWS" >"$WORK/check.txt" 2>&1 \
    || { cat "$WORK/check.txt"; fail "check of the v3 mapping"; }

# Rows of order_read as upcast_gen.py writes them; with channel when $1 is 4.
dump() {
    local cols="order_id||'|'||customer_id||'|'||total_amount||'|'||currency||'|'||line_count||'|'||quantity"
    [ "$1" = 4 ] && cols="$cols||'|'||coalesce(channel, '-')"
    sql "SELECT $cols FROM order_read ORDER BY order_id COLLATE \"C\""
}
assert_rows() { # SHAPE EXPECTED_FILE
    dump "$1" >"$WORK/actual.txt"
    if ! cmp -s "$2" "$WORK/actual.txt"; then
        diff "$2" "$WORK/actual.txt" | head -n 20 >&2
        fail "order_read differs from $2 ($(wc -l <"$2") expected, $(wc -l <"$WORK/actual.txt") actual)"
    fi
    echo "order_read matches: $(wc -l <"$2") orders"
}

python3 "$GEN" --start 0 --orders 3000 --seed 1 "$WORK/w1.tsv"
python3 "$GEN" --start 0 --orders 3000 --seed 1 --expected 3 "$WORK/w1.exp3"
cut -f2 "$WORK/w1.tsv" | python3 -c '
import json, sys
vs = {}
for line in sys.stdin:
    e = json.loads(line)
    k = (e["type"], e.get("schemaVersion"))
    vs[k] = vs.get(k, 0) + 1
print("wave 1:", sorted(vs.items(), key=str))
assert all(vs.get(k, 0) > 100 for k in [("OrderCreated", None), ("OrderPlaced", 1), ("OrderCreated", 2), ("OrderCreated", 3)]), vs'
kcat -b "$BROKERS" -P -t order-events -K $'\t' <"$WORK/w1.tsv"
projector_start run
pid=$LAST_PID
wait_caught_up orders 3000 120
assert_rows 3 "$WORK/w1.exp3"

# The events that cannot be upcast: dead at stage upcast, the reason naming the step.
ndead=$(wc -l <"$WORK/w1.exp3.dead")
[ "$ndead" -gt 0 ] || fail "the generator made no event that cannot be upcast"
[ "$(sql "SELECT count(*) FROM projector.dead_letters WHERE stage = 'upcast'")" = "$ndead" ] \
    || fail "expected $ndead dead letters at stage upcast"
[ "$(sql "SELECT count(*) FROM projector.dead_letters WHERE stage <> 'upcast'")" = 0 ] \
    || fail "dead letters at another stage"
bad_v2=$(awk '$2 == "bad_v2" { print $1; exit }' "$WORK/w1.exp3.dead")
bad_v9=$(awk '$2 == "bad_v9" { print $1; exit }' "$WORK/w1.exp3.dead")
err_of() { sql "SELECT error FROM projector.dead_letters WHERE convert_from(key, 'UTF8') = '$1'"; }
if [ -n "$bad_v2" ]; then
    case "$(err_of "$bad_v2")" in
    *'orders.json: $.upcasters.OrderCreated.2[0]: rename: $.items is missing (event OrderCreated version 2)') ;;
    *) fail "the reason of $bad_v2: $(err_of "$bad_v2")" ;;
    esac
fi
if [ -n "$bad_v9" ]; then
    case "$(err_of "$bad_v9")" in
    *"the version is newer than OrderCreated's current one, 3 (event OrderCreated version 9)") ;;
    *) fail "the reason of $bad_v9: $(err_of "$bad_v9")" ;;
    esac
fi
# A replay upcasts as the fetcher does: they fail again, at the same stage.
rc=0
"$PROJECTOR" dlq replay --mappings "$MAPPINGS" --views "$VIEWS" >"$WORK/replay.txt" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/replay.txt"; fail "dlq replay exited $rc"; }
[ "$(grep -c 'fails again (upcast)' "$WORK/replay.txt")" = "$ndead" ] \
    || { cat "$WORK/replay.txt"; fail "the replayed dead letters did not fail again at stage upcast"; }

# Version 4: customer {id} and channel. The instance restarts with the new mapping and view
# (the live rows keep their shape, channel empty), v4 events arrive, and a rebuild reshapes all.
stop_clean "$pid"
mapping 4 >"$MAPPINGS/orders.json"
printf 'ALTER TABLE order_read ADD COLUMN IF NOT EXISTS channel text;\n' >"$VIEWS/020_channel.sql"
projector_start run2
pid=$LAST_PID
python3 "$GEN" --start 100000 --orders 1000 --seed 2 --v4 "$WORK/w2.tsv"
python3 "$GEN" --start 100000 --orders 1000 --seed 2 --v4 --expected 4 "$WORK/w2.exp4"
grep -q '"schemaVersion":4' "$WORK/w2.tsv" || fail "no v4 event in wave 2"
kcat -b "$BROKERS" -P -t order-events -K $'\t' <"$WORK/w2.tsv"
wait_caught_up orders 4000 120
n_old=$(sql "SELECT count(*) FROM order_read WHERE channel IS NULL")
[ "$n_old" = "$(wc -l <"$WORK/w1.exp3")" ] || fail "$n_old rows without a channel before the rebuild"
"$PROJECTOR" rebuild orders --wait --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" \
    >"$WORK/rebuild.txt" 2>&1 || { cat "$WORK/rebuild.txt"; fail "blue/green rebuild --wait failed"; }
grep -q 'switched to generation 2' "$WORK/rebuild.txt" || { cat "$WORK/rebuild.txt"; fail "no switch"; }
wait_caught_up orders 4000 120
python3 "$GEN" --start 0 --orders 3000 --seed 1 --expected 4 "$WORK/w1.exp4"
LC_ALL=C sort -t'|' -k1,1 "$WORK/w1.exp4" "$WORK/w2.exp4" >"$WORK/all.exp4"
assert_rows 4 "$WORK/all.exp4"
assert_generation 2
stop_clean "$pid"
echo "upcast: ok"
