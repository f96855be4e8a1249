#!/usr/bin/env bash
# Rebuilds of a mapping with `sql` actions (README "Rebuilds"): the tables its sql statements
# write (as PostgreSQL plans them) are the projection's tables like those of its other actions,
# whether another action declares them (counters) or not (hit_log): a blue/green rebuild
# rebuilds and switches both, an in-place rebuild truncates and refills both, and neither
# applies an event twice (the live workers' catch-up after the switch included).
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup bluegreen_sql --topic tally-events:2

export MAPPINGS=$WORK/m VIEWS=$WORK/v
mkdir -p "$MAPPINGS" "$VIEWS"
cat >"$MAPPINGS/tally.json" <<'JSON'
{"version": 1, "projection": "tally", "topics": ["tally-events"],
 "events": {"Hit": [
   {"upsert": "counters", "key": {"id": "$.id"}, "columns": {"hits": {"literal": 1, "op": "add"}}},
   {"sql": "UPDATE counters SET last_note = $1 WHERE id = $2", "params": ["$.note", "$.id"]},
   {"sql": "INSERT INTO hit_log (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = hit_log.n + 1",
    "params": ["$.id"]}
 ]}}
JSON
cat >"$VIEWS/010_tally.sql" <<'SQL'
CREATE TABLE IF NOT EXISTS counters (id text PRIMARY KEY, hits bigint NOT NULL DEFAULT 0, last_note text);
CREATE TABLE IF NOT EXISTS hit_log (id text PRIMARY KEY, n bigint NOT NULL);
SQL

produce() { # FROM TO: events FROM..TO-1, over ids x0..x9
    for i in $(seq "$1" $(($2 - 1))); do
        printf 'x%d\t{"type":"Hit","id":"x%d","note":"n%d"}\n' $((i % 10)) $((i % 10)) "$i"
    done | kcat -b "$BROKERS" -P -t tally-events -K $'\t' -z none
}
produce 0 200
projector_start run -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 --batch-max-events 50
pid=$LAST_PID
wait_caught_up tally 200 120

expect_state() { # WHAT EXPECTED-SQL-OUTPUT QUERY
    local got
    got=$(sql "$3" | tr '\n' ' ')
    [ "$got" = "$2" ] || fail "$1: got '$got', expected '$2'"
}
counters_q="SELECT id || ':' || hits || ':' || last_note FROM counters ORDER BY id"
log_q="SELECT id || ':' || n FROM hit_log ORDER BY id"
expect_state "counters before" "x0:20:n190 x1:20:n191 x2:20:n192 x3:20:n193 x4:20:n194 x5:20:n195 x6:20:n196 x7:20:n197 x8:20:n198 x9:20:n199 " "$counters_q"
expect_state "hit_log before" "x0:20 x1:20 x2:20 x3:20 x4:20 x5:20 x6:20 x7:20 x8:20 x9:20 " "$log_q"

# Corrupt a row of each table, then rebuild blue/green.
sql "UPDATE counters SET hits = 0, last_note = 'corrupt' WHERE id = 'x3'" >/dev/null
sql "UPDATE hit_log SET n = 999 WHERE id = 'x3'" >/dev/null
"$PROJECTOR" rebuild tally --wait --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" \
    >"$WORK/rebuild.txt" 2>&1 || { cat "$WORK/rebuild.txt"; fail "blue/green rebuild --wait failed"; }
grep -q 'switched to generation 2' "$WORK/rebuild.txt" || { cat "$WORK/rebuild.txt"; fail "no switch"; }
[ "$(sql "SELECT generation FROM projector.projections WHERE name = 'tally'")" = 2 ] \
    || fail "tally is not at generation 2"
[ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'projector_build_tally'")" = 0 ] \
    || fail "the build schema is left over"

# Both tables rebuilt: the corrupted rows are repaired, nothing counted twice.
expect_state "counters after the rebuild" "x0:20:n190 x1:20:n191 x2:20:n192 x3:20:n193 x4:20:n194 x5:20:n195 x6:20:n196 x7:20:n197 x8:20:n198 x9:20:n199 " "$counters_q"
expect_state "hit_log after the rebuild" "x0:20 x1:20 x2:20 x3:20 x4:20 x5:20 x6:20 x7:20 x8:20 x9:20 " "$log_q"

# After the switch the live workers write both tables as before.
produce 200 210
wait_caught_up tally 210 120
expect_state "counters after the switch" "x0:21:n200 x1:21:n201 x2:21:n202 x3:21:n203 x4:21:n204 x5:21:n205 x6:21:n206 x7:21:n207 x8:21:n208 x9:21:n209 " "$counters_q"
expect_state "hit_log after the switch" "x0:21 x1:21 x2:21 x3:21 x4:21 x5:21 x6:21 x7:21 x8:21 x9:21 " "$log_q"

# In place: both tables truncated and refilled.
sql "UPDATE hit_log SET n = 999 WHERE id = 'x5'" >/dev/null
"$PROJECTOR" rebuild tally --in-place --wait --brokers "$BROKERS" --mappings "$MAPPINGS" --views "$VIEWS" \
    >"$WORK/inplace.txt" 2>&1 || { cat "$WORK/inplace.txt"; fail "in-place rebuild --wait failed"; }
wait_caught_up tally 210 120
expect_state "counters after the in-place rebuild" "x0:21:n200 x1:21:n201 x2:21:n202 x3:21:n203 x4:21:n204 x5:21:n205 x6:21:n206 x7:21:n207 x8:21:n208 x9:21:n209 " "$counters_q"
expect_state "hit_log after the in-place rebuild" "x0:21 x1:21 x2:21 x3:21 x4:21 x5:21 x6:21 x7:21 x8:21 x9:21 " "$log_q"
stop_clean "$pid"
echo "bluegreen_sql: ok"
