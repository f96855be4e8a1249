#!/usr/bin/env bash
# `projector test`: mapping test cases run against a scratch database, set-based and one event
# per batch. Passing cases exit 0; a wrong expectation exits 1 with the diff lines; a mapping
# whose result depends on batching exits 1 saying the modes disagree; --update writes golden
# files a rerun passes; --junit writes XML with the right counts; invalid cases exit 2 naming
# the file and line; a role without CREATEDB is refused with exit 1; and the user's database
# is left as it was, with no scratch database behind.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
[ -n "${PGHOST:-}" ] || fail "PGHOST is not set: run through scripts/test, which starts PostgreSQL"
WORK=$(mktemp -d /tmp/projector-it.XXXXXX)
trap 'rc=$?; [ $rc -ne 0 ] || rm -rf "$WORK"; [ $rc -eq 0 ] || echo "work dir: $WORK" >&2; exit $rc' EXIT
export PGDATABASE=t_projector_test
dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1 || true
createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
M=$PROJECT_ROOT/mappings V=$PROJECT_ROOT/views
ptest() { "$PROJECTOR" test --mappings "$M" --views "$V" "$@"; }
user_tables() {
    sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
}
scratch_dbs() { sql "SELECT count(*) FROM pg_database WHERE datname LIKE 'projector_test_%'"; }
[ "$(user_tables)" = 0 ] || fail "the database is not empty to start with"

# The shipped sample cases pass (a directory of cases stands for each case in it); a URI
# conninfo has its database replaced by the scratch one.
expect_exit 0 "$WORK/sample.out" ptest --pg "postgresql:///$PGDATABASE" "$M/tests"
expect_text "$WORK/sample.out" "case order_lifecycle: ok (set-based and one event per batch)"
expect_text "$WORK/sample.out" "1 case(s): 1 passed, 0 failed"

# A wrong expectation: a changed column, a row too many, a row too few, a changed document
# field, a dead letter at the wrong stage; 125.50 for the stored 125.5 is no difference.
cp -r "$M/tests/order_lifecycle" "$WORK/wrong"
python3 - "$WORK/wrong/expected.json" <<'PY'
import json, sys
p = sys.argv[1]; e = json.load(open(p))
od = e["tables"]["order_detail"]
next(r for r in od if r["order_id"] == "o-1")["status"] = "PAID"
od.append(dict(od[0], order_id="o-9"))
cs = e["tables"]["customer_summary"]
e["tables"]["customer_summary"] = [r for r in cs if r["customer_id"] != "c-2"]
e["documents"]["orders"]["o-2"]["status"] = "PAID"
next(d for d in e["dead_letters"] if d["line"] == 8)["stage"] = "map"
next(d for d in e["dead_letters"] if d["line"] == 8).pop("error")
text = json.dumps(e, indent=2).replace('"total_ordered": 125.5', '"total_ordered": 125.50')
assert '125.50' in text
open(p, "w").write(text)
PY
expect_exit 1 "$WORK/wrong.out" ptest "$WORK/wrong"
for line in 'case wrong: FAILED' \
    '  both modes (set-based and one event per batch):' \
    '    table order_detail: row {"order_id": "o-1"}: status: expected "PAID", got "SHIPPED"' \
    '    table order_detail: missing row {"order_id": "o-9"}' \
    '    table customer_summary: extra row {"customer_id": "c-2"}' \
    '    index orders: document o-2: status: expected "PAID", got "CANCELLED"' \
    '    dead letters: missing line 8 (stage map)' \
    '    dead letters: extra line 8 (stage decode): invalid JSON' \
    '1 case(s): 0 passed, 1 failed'; do
    expect_text "$WORK/wrong.out" "$line"
done
expect_no_text "$WORK/wrong.out" "total_ordered"
expect_no_text "$WORK/wrong.out" "disagree"
[ "$(grep -c '^    ' "$WORK/wrong.out")" = 6 ] || { cat "$WORK/wrong.out"; fail "expected 6 diff lines"; }

# A mapping whose result depends on batching: a statement-level trigger counts the statements
# that wrote the table (an upsert fires its INSERT and its UPDATE triggers: two per statement),
# so one batch (one statement) and three batches (three) differ.
mkdir -p "$WORK/hits/mappings" "$WORK/hits/views" "$WORK/hits/cases/three_hits"
cat >"$WORK/hits/mappings/hits.json" <<'JSON'
{"version": 1, "projection": "hits", "topics": ["hits"],
 "events": {"Hit": [{"upsert": "hits", "key": {"id": "$.id"},
                     "columns": {"n": {"literal": 1, "op": "add"}}}]}}
JSON
cat >"$WORK/hits/views/010_hits.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS hits (id text PRIMARY KEY, n int NOT NULL DEFAULT 0,
                                 statements int NOT NULL DEFAULT 0);
CREATE OR REPLACE FUNCTION hits_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() = 1 THEN UPDATE hits SET statements = statements + 1; END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS hits_statements ON hits;
CREATE TRIGGER hits_statements AFTER INSERT OR UPDATE ON hits
    FOR EACH STATEMENT EXECUTE FUNCTION hits_count_statement();
SQL
for id in a b c; do echo "{\"value\": {\"type\": \"Hit\", \"id\": \"$id\"}}"; done \
    >"$WORK/hits/cases/three_hits/events.ndjson"
hits() { "$PROJECTOR" test --mappings "$WORK/hits/mappings" --views "$WORK/hits/views" "$@"; }
expect_exit 1 "$WORK/hits_update.out" hits --update "$WORK/hits/cases/three_hits"
expect_text "$WORK/hits_update.out" "expected.json written (3 rows, 0 documents, 0 dead letters)"
expect_text "$WORK/hits_update.out" "set-based and one event per batch disagree"
expect_exit 1 "$WORK/hits.out" hits "$WORK/hits/cases/three_hits"
for line in 'case three_hits: FAILED' \
    '  one event per batch:' \
    '    table hits: row {"id": "a"}: statements: expected 2, got 6' \
    '  set-based and one event per batch disagree (the read model depends on how events are batched):' \
    '    table hits: row {"id": "a"}: statements: set-based 2, one event per batch 6' \
    '    table hits: row {"id": "b"}: statements: set-based 2, one event per batch 4'; do
    expect_text "$WORK/hits.out" "$line"
done
expect_no_text "$WORK/hits.out" "  set-based:"
expect_no_text "$WORK/hits.out" 'row {"id": "c"}'

# --update writes the golden file from the actual state; a rerun passes, and what it wrote is
# the shipped expected.json (the state is deterministic).
mkdir -p "$WORK/golden/lifecycle"
cp "$M/tests/order_lifecycle/events.ndjson" "$WORK/golden/lifecycle/"
expect_exit 2 "$WORK/no_expected.out" ptest "$WORK/golden/lifecycle"
expect_text "$WORK/no_expected.out" "$WORK/golden/lifecycle/expected.json: cannot be read ('projector test --update' writes it"
expect_exit 0 "$WORK/update.out" ptest --update "$WORK/golden/lifecycle"
expect_text "$WORK/update.out" "expected.json written (5 rows, 3 documents, 2 dead letters)"
expect_exit 0 "$WORK/rerun.out" ptest "$WORK/golden/lifecycle"
expect_text "$WORK/rerun.out" "case lifecycle: ok"
cmp -s "$WORK/golden/lifecycle/expected.json" "$M/tests/order_lifecycle/expected.json" \
    || fail "--update wrote another state than the shipped expected.json"

# A dead letter named by its offset (partition 1, offset 1: line 7) with part of its error.
cp -r "$M/tests/order_lifecycle" "$WORK/by_offset"
python3 - "$WORK/by_offset/expected.json" <<'PY'
import json, sys
p = sys.argv[1]; e = json.load(open(p))
e["dead_letters"] = [d for d in e["dead_letters"] if d["line"] != 7]
e["dead_letters"].append({"partition": 1, "offset": 1, "stage": "map", "error": "$.paymentId is missing"})
json.dump(e, open(p, "w"))
PY
expect_exit 0 "$WORK/by_offset.out" ptest "$WORK/by_offset"
sed -i 's/\$.paymentId is missing/$.customerId is missing/' "$WORK/by_offset/expected.json"
expect_exit 1 "$WORK/by_offset.out" ptest "$WORK/by_offset"
expect_text "$WORK/by_offset.out" 'dead letter line 7 (stage map): error: expected "$.customerId is missing", got "orders.json: $.events.OrderPaid[0].columns.payment_id: required field $.paymentId is missing"'

# SIGTERM between cases (SIGINT alike; a background job of a script ignores SIGINT): the run
# stops, says so, exits 1 and drops its scratch database.
mkdir -p "$WORK/many"
for i in $(seq -w 1 40); do cp -r "$M/tests/order_lifecycle" "$WORK/many/c$i"; done
"$PROJECTOR" test --mappings "$M" --views "$V" "$WORK/many" >"$WORK/many.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '^case ' "$WORK/many.out" && break; sleep 0.05; done
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc = 1 ] || { cat "$WORK/many.out"; fail "SIGTERM: exit $rc, expected 1"; }
expect_text "$WORK/many.out" "interrupted: "
expect_text "$WORK/many.out" "case(s) not run"
[ "$(scratch_dbs)" = 0 ] || fail "the scratch database was left behind after SIGTERM"

# --junit: one testcase per case and mode, failures counted, the diff in the failure.
expect_exit 1 "$WORK/junit.out" ptest --junit "$WORK/report.xml" "$M/tests/order_lifecycle" \
    "$WORK/wrong"
python3 - "$WORK/report.xml" <<'PY' || fail "the JUnit report is wrong"
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("errors") == "0", suite.attrib
cases = suite.findall("testcase")
names = [(c.get("classname"), c.get("name")) for c in cases]
assert names == [("order_lifecycle", "set-based"), ("order_lifecycle", "one event per batch"),
                 ("wrong", "set-based"), ("wrong", "one event per batch")], names
assert cases[0].find("failure") is None and cases[1].find("failure") is None
for c in cases[2:]:
    f = c.find("failure")
    assert f is not None and f.get("message") == "6 difference(s) from expected.json", f.attrib
    assert 'table order_detail: missing row {"order_id": "o-9"}' in f.text, f.text
PY

# Invalid cases: exit 2, naming the file and line; nothing runs.
mkdir -p "$WORK/bad/no_events" "$WORK/bad/bad_lines" "$WORK/bad/bad_expected"
cat >"$WORK/bad/bad_lines/events.ndjson" <<'EOF2'
{"value": {"type": "OrderPaid", "orderId": "o-1", "paymentId": "p", "occurredAt": "2026-11-27T10:00:00Z"}}
{"value": {"type": "OrderPaid",
{"value": null, "colour": "red"}

{"key": "k"}
{"value": {}, "timestamp": "yesterday"}
{"value": {}, "topic": "elsewhere"}
EOF2
echo '{}' >"$WORK/bad/bad_lines/expected.json"
cp "$M/tests/order_lifecycle/events.ndjson" "$WORK/bad/bad_expected/"
echo '{"tables": {"nosuch": [], "order_detail": [{"status": "PAID"}]}, "dead_letters": [{"line": 99, "stage": "map"}]}' \
    >"$WORK/bad/bad_expected/expected.json"
expect_exit 2 "$WORK/no_events.out" ptest "$WORK/bad/no_events"
expect_text "$WORK/no_events.out" "$WORK/bad/no_events/events.ndjson: cannot be read"
expect_exit 2 "$WORK/bad_lines.out" ptest "$WORK/bad/bad_lines"
f=$WORK/bad/bad_lines/events.ndjson
expect_text "$WORK/bad_lines.out" "$f: line 2: invalid JSON"
expect_text "$WORK/bad_lines.out" "$f: line 3: unknown field \"colour\""
expect_text "$WORK/bad_lines.out" "$f: line 5: no \"value\" (null for a tombstone)"
expect_text "$WORK/bad_lines.out" "$f: line 6: \"timestamp\" must be ms since the epoch or an RFC 3339 time"
sed -i '2,6d' "$f"
expect_exit 2 "$WORK/bad_topic.out" ptest "$WORK/bad/bad_lines"
expect_text "$WORK/bad_topic.out" "$f: line 2: no mapping consumes topic elsewhere"
expect_exit 2 "$WORK/bad_expected.out" ptest "$WORK/bad/bad_expected"
e=$WORK/bad/bad_expected/expected.json
expect_text "$WORK/bad_expected.out" "$e: \$.dead_letters[0]: no event of events.ndjson is at that line"
echo '{"tables": {"nosuch": [], "order_detail": [{"status": "PAID"}]}}' >"$e"
expect_exit 2 "$WORK/bad_expected.out" ptest "$WORK/bad/bad_expected"
expect_text "$WORK/bad_expected.out" "$e: \$.tables: nosuch is not a table the mappings write"
expect_text "$WORK/bad_expected.out" "$e: \$.tables.order_detail[0]: the row lacks a key column of order_detail"
echo '{"dead_letters": [{"line": 7, "stage": "map", "colour": "red"}]}' >"$e"
expect_exit 2 "$WORK/bad_dead.out" ptest "$WORK/bad/bad_expected"
expect_text "$WORK/bad_dead.out" "$e: \$.dead_letters[0]: unknown field \"colour\""

# Mappings that do not fit the views and views that do not run (found in the scratch database,
# which is dropped): exit 2 with the file at fault.
mkdir -p "$WORK/badmap" "$WORK/badviews"
echo '{"version": 1, "projection": "x", "topics": ["t"], "events": {"E": [{"upsert": "nosuch", "key": {"id": "$.id"}, "columns": {"v": "$.v"}}]}}' \
    >"$WORK/badmap/x.json"
expect_exit 2 "$WORK/badmap.out" "$PROJECTOR" test --mappings "$WORK/badmap" --views "$V" "$M/tests"
expect_text "$WORK/badmap.out" "x.json"
expect_text "$WORK/badmap.out" "nosuch"
[ "$(scratch_dbs)" = 0 ] || fail "the scratch database was left behind after invalid mappings"
echo 'CREATE TABLE order_detail (;' >"$WORK/badviews/010_bad.sql"
expect_exit 2 "$WORK/badviews.out" "$PROJECTOR" test --mappings "$M" --views "$WORK/badviews" "$M/tests"
expect_text "$WORK/badviews.out" "010_bad.sql"
[ "$(scratch_dbs)" = 0 ] || fail "the scratch database was left behind after invalid views"

# A server that cannot be reached: exit 1 with libpq's message.
expect_exit 1 "$WORK/unreachable.out" ptest --pg "host=/nonexistent port=1" "$M/tests"
expect_text "$WORK/unreachable.out" "projector test: "

expect_exit 2 "$WORK/no_case.out" "$PROJECTOR" test --mappings "$M"
expect_text "$WORK/no_case.out" "projector test: name the case directories"

# A role that may not create databases: exit 1, saying which privilege is needed.
sql "DROP ROLE IF EXISTS projector_test_nocreate" >/dev/null 2>&1
sql "CREATE ROLE projector_test_nocreate LOGIN NOCREATEDB" >/dev/null
expect_exit 1 "$WORK/nocreate.out" ptest --pg "user=projector_test_nocreate" "$M/tests"
expect_text "$WORK/nocreate.out" "the role may not create databases"
expect_text "$WORK/nocreate.out" "CREATEDB privilege"
sql "DROP ROLE projector_test_nocreate" >/dev/null

# Nothing of it is left: no table in the user's database, no scratch database.
[ "$(user_tables)" = 0 ] || fail "projector test left $(user_tables) relations in the user's database"
[ "$(scratch_dbs)" = 0 ] || fail "projector test left a scratch database behind"
dropdb "$PGDATABASE"
echo "projector test: ok"
