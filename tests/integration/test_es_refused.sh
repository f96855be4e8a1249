#!/usr/bin/env bash
# A document the search engine refuses for good (a field its mapping types as integer holds
# text: 400 mapper_parsing_exception) dead-letters exactly its event, with the engine's error in
# the dead letter's headers; its row is not written either (rows and documents agree), and every
# other event, before and after it in the same batch, is applied to both stores once. After a
# mapping fix, `projector dlq replay` applies it to both. A document already at a newer version
# answers 409, which counts as written.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup es_refused --topic item-events:2 --topic item-events.dlq:1

mkdir -p "$WORK/v1" "$WORK/v2" "$WORK/views"
cat >"$WORK/views/items.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS items (id text PRIMARY KEY, qty text NOT NULL);
SQL
cat >"$WORK/views/items.es.json" <<'JSON'
{"mappings": {"dynamic": "strict", "properties": {"id": {"type": "keyword"},
                                                  "qty": {"type": "integer"}}}}
JSON
mapping() { # QTY_SPEC
    cat <<JSON
{"version": 1, "projection": "items", "topics": ["item-events"],
 "events": {"Put": [{"upsert": "items", "key": {"id": "\$.id"}, "columns": {"qty": "\$.qty"}},
                    {"index": "items", "id": "\$.id",
                     "from_row": {"table": "items", "key": {"id": "\$.id"}},
                     "fields": {"id": "id", "qty": $1}}]}}
JSON
}
mapping '"qty"' >"$WORK/v1/items.json"
# the fix: text that is not a number is indexed as 0
mapping '{"sql": "CASE WHEN qty ~ '"'"'^[0-9]+$'"'"' THEN qty::int ELSE 0 END"}' >"$WORK/v2/items.json"
export MAPPINGS=$WORK/v1 VIEWS=$WORK/views

{
    for i in $(seq 1 40); do printf 'k%d\t{"type":"Put","id":"i%d","qty":"%d"}\n' $((i % 7)) "$i" "$i"; done
    printf 'k3\t{"type":"Put","id":"bad","qty":"many"}\n'
    for i in $(seq 41 80); do printf 'k%d\t{"type":"Put","id":"i%d","qty":"%d"}\n' $((i % 7)) "$i" "$i"; done
} | kcat -b "$BROKERS" -P -t item-events -K $'\t'

# A document that already holds a newer version than any the projector will take (another
# writer got there first): its write is refused with 409 and counted as written, not an error.
"$PROJECTOR" migrate --mappings "$MAPPINGS" --views "$VIEWS" >/dev/null || fail "migrate"
curl -sf -X PUT "$ES_URL/items/_doc/i5?version=1000000000000&version_type=external" \
    -H 'Content-Type: application/json' -d '{"id": "i5", "qty": "5"}' >/dev/null \
    || fail "cannot write the newer document"
port=$((21000 + RANDOM % 20000))
projector_start run --http "127.0.0.1:$port"
wait_caught_up items 81 60
curl -s "http://127.0.0.1:$port/metrics" >"$WORK/metrics.txt"
stop_clean "$LAST_PID"
metric() { awk -v n="$1{projection=\"items\"}" '$1 == n { print $2 }' "$WORK/metrics.txt"; }
[ "$(metric projector_search_version_conflicts_total)" -ge 1 ] \
    || fail "the 409 on the newer document was not counted: $(metric projector_search_version_conflicts_total)"
[ "$(metric projector_search_refused_documents_total)" -ge 1 ] || fail "the refused document was not counted"
[ "$(curl -s "$ES_URL/items/_doc/i5" | python3 -c 'import json, sys; print(json.load(sys.stdin)["_version"])')" = 1000000000000 ] \
    || fail "the newer document was overwritten"

[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 1 ] || fail "expected exactly one dead letter"
[ "$(sql "SELECT stage FROM projector.dead_letters")" = index ] || fail "dead letter stage"
sql "SELECT error FROM projector.dead_letters" | grep -q 'mapper_parsing_exception' \
    || fail "the dead letter lacks the search engine's error: $(sql "SELECT error FROM projector.dead_letters")"
[ "$(sql "SELECT count(*) FROM items")" = 80 ] || fail "rows: $(sql "SELECT count(*) FROM items"), expected 80"
[ "$(sql "SELECT count(*) FROM items WHERE id = 'bad'")" = 0 ] || fail "the refused event's row was written"
[ "$(sql "SELECT sum(applied) || '/' || sum(dead_lettered) FROM projector.positions")" = 80/1 ] \
    || fail "counters: $(sql "SELECT sum(applied) || '/' || sum(dead_lettered) FROM projector.positions")"
docs() { curl -s "$ES_URL/_standin/dump/items" | python3 -c "
import json, sys
d = json.load(sys.stdin)['docs']
print(len(d), sum(int(v['_source']['qty']) if v['_source']['qty'] != 'many' else 0 for v in d.values()), 'bad' in d)"; }
[ "$(docs)" = "80 3240 False" ] || fail "documents: $(docs), expected 80 summing to 3240, none for bad"

# The dead letter on the topic carries the stage and the engine's error.
kcat -b "$BROKERS" -C -t item-events.dlq -o beginning -c 1 -e -f '%h\n' >"$WORK/dlq_headers.txt"
grep -q 'projector.stage=index' "$WORK/dlq_headers.txt" || fail "dlq header stage: $(cat "$WORK/dlq_headers.txt")"
grep -q 'mapper_parsing_exception' "$WORK/dlq_headers.txt" || fail "dlq header error"

# Replayed after the fix: row and document, once.
export MAPPINGS=$WORK/v2
"$PROJECTOR" dlq replay --mappings "$MAPPINGS" --views "$VIEWS" >"$WORK/replay.txt" \
    || { cat "$WORK/replay.txt"; fail "dlq replay"; }
[ "$(sql "SELECT qty FROM items WHERE id = 'bad'")" = many ] || fail "replay: row"
[ "$(docs)" = "81 3240 True" ] || fail "replay: documents $(docs)"
echo "es refused: ok"
