#!/usr/bin/env bash
# Runs one projection case: tests/cases/NAME/ holds mapping.json, views.sql, events.ndjson (one
# message per line: key, a tab, the value), query.sql and expected.txt (its `psql -At -F'|'`
# output), and optionally dead.txt (how many events must be dead-lettered) and args.txt (more
# `projector run` arguments, on one line). The case runs twice,
# set-based (batches of up to 5000) and one event per batch, and both must give expected.txt.
source "$(dirname "$0")/lib.sh"
CASE=$1 PROJECTOR=$2
name=$(basename "$CASE")
topic=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["topics"][0])' "$CASE/mapping.json")
projection=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["projection"])' "$CASE/mapping.json")
itest_setup "case_$name" --topic "$topic:2"

export MAPPINGS=$WORK/mappings VIEWS=$WORK/views
mkdir -p "$MAPPINGS" "$VIEWS"
cp "$CASE/mapping.json" "$MAPPINGS/"
cp "$CASE/views.sql" "$VIEWS/"
total=$(grep -c . "$CASE/events.ndjson")
grep . "$CASE/events.ndjson" | kcat -b "$BROKERS" -P -t "$topic" -K $'\t' -z none
expected_dead=$(cat "$CASE/dead.txt" 2>/dev/null || echo 0)
read -r -a extra_args 2>/dev/null <"$CASE/args.txt" || extra_args=()

for batch in 5000 1; do
    dropdb "$PGDATABASE" && createdb "$PGDATABASE"
    projector_start "batch$batch" --batch-max-events "$batch" --group "case-$batch" \
        "${extra_args[@]}"
    wait_caught_up "$projection" "$total" 60
    stop_clean "$LAST_PID"
    psql -X -At -F'|' -v ON_ERROR_STOP=1 -f "$CASE/query.sql" >"$WORK/actual.txt"
    if ! diff -u "$CASE/expected.txt" "$WORK/actual.txt" >&2; then
        fail "case $name with batches of $batch differs from expected.txt"
    fi
    dead=$(sql "SELECT count(*) FROM projector.dead_letters")
    [ "$dead" = "$expected_dead" ] || fail "case $name: $dead dead letters, expected $expected_dead"
done
echo "case $name: ok"
