#!/usr/bin/env bash
# `projector dlq`: dead letters listed and shown; after a mapping fix, `dlq replay` applies the
# fixed ones exactly once (a second replay changes nothing), keeps the ones that still fail with
# their new error, and moves the replayed events from dead-lettered to applied in the counters.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup dlq --topic acct-events:2

mkdir -p "$WORK/v1" "$WORK/v2" "$WORK/views"
cat >"$WORK/views/acct.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS acct (id text PRIMARY KEY, total numeric NOT NULL, label text);
SQL
mapping() { # LABEL_SPEC
    cat <<JSON
{"version": 1, "projection": "acct", "topics": ["acct-events"],
 "events": {"Put": [{"upsert": "acct", "key": {"id": "\$.id"},
   "columns": {"total": {"path": "\$.amount", "op": "add"}, "label": $1}}]}}
JSON
}
mapping '"$.label"' >"$WORK/v1/acct.json"                            # label required
mapping '{"path": "$.label", "optional": true}' >"$WORK/v2/acct.json" # the fix
export MAPPINGS=$WORK/v1 VIEWS=$WORK/views

printf '%s\n' \
    'k	{"type":"Put","id":"a","amount":"1.5","label":"A"}' \
    'k	{"type":"Put","id":"b","amount":"2.25"}' \
    'k	not json' \
    'k	{"type":"Put","id":"c","amount":"xyz","label":"C"}' \
    'k	{"type":"Put","id":"a","amount":"1","label":"A"}' |
    kcat -b "$BROKERS" -P -t acct-events -K $'\t'

projector_start run
wait_caught_up acct 5 60
stop_clean "$LAST_PID"
[ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 3 ] || fail "expected 3 dead letters"

dlq() { "$PROJECTOR" dlq "$@" --mappings "$MAPPINGS" --views "$VIEWS"; }
dlq list >"$WORK/list.txt"
grep -q '(3 dead letter(s) not replayed)' "$WORK/list.txt" || { cat "$WORK/list.txt"; fail "dlq list"; }
for stage in map decode apply; do
    grep -q " $stage " "$WORK/list.txt" || fail "dlq list lacks a $stage dead letter"
done
id_b=$(sql "SELECT id FROM projector.dead_letters WHERE stage = 'map'")
dlq show --id "$id_b" >"$WORK/show.txt"
grep -q 'required field \$.label is missing' "$WORK/show.txt" || fail "dlq show: error"
grep -q '"id":"b"' "$WORK/show.txt" || fail "dlq show: value"

# Replay with the fixed mapping: b applies; the others fail again (exit code 1).
export MAPPINGS=$WORK/v2
rc=0
dlq replay >"$WORK/replay1.txt" || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/replay1.txt"; fail "dlq replay exited $rc, expected 1 (two still fail)"; }
grep -q "id $id_b: replayed" "$WORK/replay1.txt" || fail "b was not replayed"
grep -q '1 replayed, 2 still dead-lettered' "$WORK/replay1.txt" || fail "replay summary"
[ "$(sql "SELECT total || '/' || coalesce(label, '-') FROM acct WHERE id = 'b'")" = "2.25/-" ] \
    || fail "b is not applied once"

# A second replay does not apply b again, and the counters stay consistent.
rc=0
dlq replay >"$WORK/replay2.txt" || rc=$?
grep -q '0 replayed, 2 still dead-lettered' "$WORK/replay2.txt" || { cat "$WORK/replay2.txt"; fail "second replay"; }
[ "$(sql "SELECT total FROM acct WHERE id = 'b'")" = "2.25" ] || fail "b applied twice"
[ "$(sql "SELECT total FROM acct WHERE id = 'a'")" = "2.5" ] || fail "a changed"
[ "$(sql "SELECT sum(applied) || '/' || sum(dead_lettered) FROM projector.positions")" = "3/2" ] \
    || fail "counters: $(sql "SELECT sum(applied) || '/' || sum(dead_lettered) FROM projector.positions")"
dlq list | grep -q '(2 dead letter(s) not replayed)' || fail "dlq list after replay"
dlq list --all | grep -q '(3 dead letter(s))' || fail "dlq list --all"
dlq list --projection nope | grep -q '(0 dead letter(s)' || fail "dlq list --projection"
echo "dlq: ok"
