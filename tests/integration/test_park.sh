#!/usr/bin/env bash
# The park policy with `projector dlq`: events that follow a dead-lettered event of the same key
# wait with it; discarding a head releases what is parked behind it, and replaying after a
# mapping fix applies a head and then its parked followers, in order, each once.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup park --topic park-events:2

mkdir -p "$WORK/v1" "$WORK/v2" "$WORK/views"
printf 'CREATE TABLE IF NOT EXISTS parked_rows (id text PRIMARY KEY, total numeric NOT NULL, label text);\n' \
    >"$WORK/views/rows.sql"
mapping() { # LABEL_SPEC
    cat <<JSON
{"version": 1, "projection": "parking", "topics": ["park-events"], "on_dead_letter": "park",
 "events": {"Put": [{"upsert": "parked_rows", "key": {"id": "\$.id"},
   "columns": {"total": {"path": "\$.amount", "op": "add"}, "label": $1}}]}}
JSON
}
mapping '"$.label"' >"$WORK/v1/m.json"                            # label required
mapping '{"path": "$.label", "optional": true}' >"$WORK/v2/m.json" # the fix
export MAPPINGS=$WORK/v1 VIEWS=$WORK/views

printf '%s\n' \
    'k1	{"type":"Put","id":"x","amount":1,"label":"A"}' \
    'k1	{"type":"Put","id":"x","amount":7}' \
    'k1	{"type":"Put","id":"x","amount":2,"label":"B"}' \
    'k3	{"type":"Put","id":"z"}' \
    'k1	{"type":"Put","id":"x","amount":3,"label":"C"}' \
    'k3	{"type":"Put","id":"z","amount":4,"label":"Q"}' |
    kcat -b "$BROKERS" -P -t park-events -K $'\t'

projector_start run
wait_caught_up parking 6 60
stop_clean "$LAST_PID"
[ "$(sql "SELECT count(*) FILTER (WHERE stage = 'map') || '/' || count(*) FILTER (WHERE stage = 'parked') FROM projector.dead_letters")" = "2/3" ] \
    || fail "expected 2 heads and 3 parked: $(sql "SELECT string_agg(stage, ',') FROM projector.dead_letters")"
[ "$(sql "SELECT total || '/' || label FROM parked_rows WHERE id = 'x'")" = "1/A" ] || fail "x moved past its dead event"
[ "$(sql "SELECT count(*) FROM parked_rows WHERE id = 'z'")" = 0 ] || fail "z applied while parked"

dlq() { "$PROJECTOR" dlq "$@" --mappings "$MAPPINGS" --views "$VIEWS"; }
head_z=$(sql "SELECT id FROM projector.dead_letters WHERE key = 'k3' AND stage = 'map'")
dlq discard --id "$head_z" >"$WORK/discard.txt" || fail "dlq discard"

# Still the old mapping: x's head fails again and its followers stay parked; z's follower applies.
rc=0
dlq replay >"$WORK/replay1.txt" || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/replay1.txt"; fail "replay 1 exited $rc"; }
grep -q '1 replayed, 3 still dead-lettered' "$WORK/replay1.txt" || { cat "$WORK/replay1.txt"; fail "replay 1"; }
[ "$(grep -c 'still parked behind' "$WORK/replay1.txt")" = 2 ] || fail "x's followers were not held"
[ "$(sql "SELECT total || '/' || label FROM parked_rows WHERE id = 'z'")" = "4/Q" ] || fail "z after discard"

# The fix: x's head applies, then its followers in order.
export MAPPINGS=$WORK/v2
dlq replay >"$WORK/replay2.txt" || { cat "$WORK/replay2.txt"; fail "replay 2 failed"; }
grep -q '3 replayed, 0 still dead-lettered' "$WORK/replay2.txt" || { cat "$WORK/replay2.txt"; fail "replay 2"; }
[ "$(sql "SELECT total || '/' || label FROM parked_rows WHERE id = 'x'")" = "13/C" ] \
    || fail "x after replay: $(sql "SELECT total || '/' || coalesce(label, '-') FROM parked_rows WHERE id = 'x'")"
dlq list --all | grep -q 'discarded' || fail "dlq list shows no discarded dead letter"
echo "park: ok"
