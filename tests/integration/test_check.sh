#!/usr/bin/env bash
# `projector check` and `run` refuse bad settings, mappings and views with every problem listed
# as "file: json.path: message" and exit code 2; a good setup checks clean and changes nothing.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup check

# A good setup: exit 0, and the check leaves no table behind (it runs in a rolled-back
# transaction).
expect_exit 0 "$WORK/good.out" "$PROJECTOR" check --mappings "$PROJECT_ROOT/mappings" \
    --views "$PROJECT_ROOT/views"
expect_text "$WORK/good.out" "ok: 1 projection(s)"
[ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'order_detail'")" = 0 ] \
    || fail "check created tables"

# Broken mappings: every problem listed, each with its file and JSON path.
mkdir -p "$WORK/bad"
cat >"$WORK/bad/a.json" <<'JSON'
{"version": 1, "projection": "a", "topics": ["t"], "colour": "red",
 "events": {"E": [
   {"upsert": "order_detail", "key": {"order_id": "$.id"},
    "columns": {"status": {"path": "$.s", "op": "plus"}, "nope": "$.x", "total_amount": "CREATED"}},
   {"sql": "UPDATE order_detail SET status = $1 WHERE order_id = $2", "params": ["$.s"]}
 ]}}
JSON
cat >"$WORK/bad/b.json" <<'JSON'
{"version": 1, "projection": "b", "topics": ["t"],
 "events": {"E": [{"upsert": "no_such_table", "key": {"id": "$.id"}, "columns": {"v": "$.v"}}]}}
JSON
cat >"$WORK/bad/c.json" <<'JSON'
{"version": 1, "projection": "c", "topics": ["t"], "events": {"E": [{"upsert": "order_detail",
JSON
expect_exit 2 "$WORK/bad.out" "$PROJECTOR" check --mappings "$WORK/bad" --views "$PROJECT_ROOT/views"
expect_text "$WORK/bad.out" "$WORK/bad/a.json: \$.colour: unknown field"
expect_text "$WORK/bad.out" "$WORK/bad/a.json: \$.events.E[0].columns.status: unknown op"
expect_text "$WORK/bad.out" "$WORK/bad/a.json: \$.events.E[0].columns.total_amount: a string value is a JSON path"
expect_text "$WORK/bad.out" "$WORK/bad/a.json: \$.events.E[1].params: the statement uses 2 parameter(s)"
expect_text "$WORK/bad.out" "$WORK/bad/c.json: line 2"

# Mappings that parse but do not fit the database.
rm "$WORK/bad/a.json" "$WORK/bad/c.json"
cat >"$WORK/bad/d.json" <<'JSON'
{"version": 1, "projection": "d", "topics": ["t"],
 "events": {"E": [{"update": "order_detail", "key": {"order_id": "$.id"},
                   "columns": {"nope": "$.x", "status": {"path": "$.i", "op": "append"}}}]}}
JSON
cat >"$WORK/bad/e.json" <<'JSON'
{"version": 1, "projection": "e", "topics": ["t"],
 "events": {"E": [{"update": "order_detail", "key": {"order_id": "$.id"}, "columns": {"status": "$.s"}}],
            "F": [{"upsert": "customer_summary", "key": {"orders_created": "$.id"},
                   "columns": {"customer_id": "$.c"}}]}}
JSON
expect_exit 2 "$WORK/db.out" "$PROJECTOR" check --mappings "$WORK/bad" --views "$PROJECT_ROOT/views"
expect_text "$WORK/db.out" "$WORK/bad/b.json: \$.events.E[0]: table no_such_table does not exist in the database"
expect_text "$WORK/db.out" "$WORK/bad/d.json: \$.events.E[0].columns.nope: column order_detail.nope does not exist"
expect_text "$WORK/db.out" "$WORK/bad/d.json: \$.events.E[0].columns.status: op \"append\" needs a jsonb column; order_detail.status is text"
expect_text "$WORK/db.out" "$WORK/bad/e.json: \$.events.F[0]: the statement does not run: there is no unique or exclusion constraint matching the ON CONFLICT specification"
# run refuses the same way, before consuming anything.
expect_exit 2 "$WORK/run.out" "$PROJECTOR" run --brokers "$BROKERS" --mappings "$WORK/bad" \
    --views "$PROJECT_ROOT/views"
expect_text "$WORK/run.out" "column order_detail.nope does not exist"

# A broken view file is named with its line.
mkdir -p "$WORK/views"
printf 'CREATE TABLE IF NOT EXISTS ok_table (id int);\n\nCREATE TABLEE broken (id int);\n' \
    >"$WORK/views/001_broken.sql"
expect_exit 2 "$WORK/views.out" "$PROJECTOR" check --mappings "$PROJECT_ROOT/mappings" --views "$WORK/views"
expect_text "$WORK/views.out" "$WORK/views/001_broken.sql:3: syntax error"
expect_exit 2 "$WORK/migrate.out" "$PROJECTOR" migrate --views "$WORK/views"
expect_text "$WORK/migrate.out" "001_broken.sql:3: syntax error"
[ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'ok_table'")" = 0 ] \
    || fail "a failed view file left part of itself behind"

# Settings: unknown flag, out-of-range value, unknown key in the config file, bad env value.
expect_exit 2 "$WORK/s1.out" "$PROJECTOR" run --no-such-flag 1
expect_text "$WORK/s1.out" "--no-such-flag: unknown option"
expect_exit 2 "$WORK/s2.out" "$PROJECTOR" run --batch-max-events 0
expect_text "$WORK/s2.out" "batch.max.events: 0 is out of range 1..100000"
printf '{"brokers": "x:1", "batch.max.event": 5}\n' >"$WORK/cfg.json"
expect_exit 2 "$WORK/s3.out" "$PROJECTOR" check --config "$WORK/cfg.json"
expect_text "$WORK/s3.out" "$WORK/cfg.json: \$.batch.max.event: unknown setting"
expect_exit 2 "$WORK/s4.out" env PROJECTOR_LOG_LEVEL=loud "$PROJECTOR" check
expect_text "$WORK/s4.out" "PROJECTOR_LOG_LEVEL: log.level: \"loud\" is not one of error|warn|info|debug"
expect_exit 2 "$WORK/s5.out" "$PROJECTOR" check -X no.such.property=1 --mappings "$PROJECT_ROOT/mappings"
expect_text "$WORK/s5.out" "kafka property no.such.property"

# Migrate is idempotent: read tables, and the search index behind its alias.
m=(--views "$PROJECT_ROOT/views" --mappings "$PROJECT_ROOT/mappings")
expect_exit 0 "$WORK/m1.out" "$PROJECTOR" migrate "${m[@]}"
index1=$(alias_indices)
expect_exit 0 "$WORK/m2.out" "$PROJECTOR" migrate "${m[@]}"
[ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename IN ('order_detail', 'customer_summary')")" = 2 ] \
    || fail "migrate did not create the read tables"
case "$index1" in orders-[0-9]*) ;; *) fail "migrate did not create index orders-<time> behind alias orders: '$index1'" ;; esac
[ "$(alias_indices)" = "$index1" ] || fail "a second migrate replaced the index"
curl -s "$ES_URL/$index1/_mapping" | grep -q '"totalAmount":{"type":"scaled_float"' \
    || fail "the index lacks the field mappings of views/orders.es.json"
# Search settings: a mapping with index actions needs a URL, and each index its definition.
expect_exit 2 "$WORK/e1.out" env PROJECTOR_ES_URL= "$PROJECTOR" check "${m[@]}"
expect_text "$WORK/e1.out" "orders.json: writes documents (index orders) but no Elasticsearch URL is set"
mkdir -p "$WORK/noes"
cp "$PROJECT_ROOT/views/"*.sql "$WORK/noes/"
expect_exit 2 "$WORK/e2.out" "$PROJECTOR" check --views "$WORK/noes" --mappings "$PROJECT_ROOT/mappings"
expect_text "$WORK/e2.out" "writes index orders, but its definition $WORK/noes/orders.es.json cannot be read"
printf '{"settings": {}, "mapping": {}}' >"$WORK/noes/orders.es.json"
expect_exit 2 "$WORK/e3.out" "$PROJECTOR" check --views "$WORK/noes" --mappings "$PROJECT_ROOT/mappings"
expect_text "$WORK/e3.out" "orders.es.json: \$.mapping: an index definition holds"
expect_exit 2 "$WORK/e4.out" env PROJECTOR_ES_URL=ftp://x "$PROJECTOR" migrate "${m[@]}"
expect_exit 2 "$WORK/e5.out" "$PROJECTOR" check "${m[@]}" --es-timeout-ms 5
expect_text "$WORK/e5.out" "es.timeout.ms"
# --help and --version
"$PROJECTOR" --version | grep -q '^projector ' || fail "--version"
# (Through a file: grep -q stops reading at the first match, and a help text longer than a
# pipe write would then die of SIGPIPE under pipefail.)
for c in run migrate check broker rebuild status; do
    "$PROJECTOR" "$c" --help >"$WORK/help.txt" || fail "$c --help exited non-zero"
    grep -q "usage: projector $c" "$WORK/help.txt" || fail "$c --help"
done
echo "check: ok"
