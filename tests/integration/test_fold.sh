#!/usr/bin/env bash
# Folding the operations on one row within a batch changes nothing in the result: random
# operations (upserts, set-only and add updates, max, deletes, guarded upserts, an event with
# two actions on its row; adds of decimal strings, some negative or NULL, max of timestamps with
# offsets, min of integers and appends of JSON values from upserts and updates; adds after an
# upsert that does not write the column, whose default is 0 or 7) on twelve rows, applied in batches of 5000 (folded) and of one event
# (nothing to fold), must both leave the state fold_gen.py computes by applying them one by one;
# and the batched run writes fewer rows than it has row operations.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup fold --topic fold-events:2

for seed in 1 2 3; do
    python3 "$PROJECT_ROOT/tests/integration/fold_gen.py" "$WORK/s$seed" "$seed" 3000
    export MAPPINGS=$WORK/s$seed/mappings VIEWS=$WORK/s$seed/views
    topic=fold-events-$seed
    sed -i "s/\"fold-events\"/\"$topic\"/" "$MAPPINGS/fold.json"
    kcat -b "$BROKERS" -P -t "$topic" -K $'\t' -z none <"$WORK/s$seed/events.ndjson"
    for batch in 5000 1; do
        dropdb "$PGDATABASE" && createdb "$PGDATABASE"
        projector_start "fold$seed-$batch" --batch-max-events "$batch" --group "fold-$seed-$batch"
        wait_caught_up fold 3000 120
        stop_clean "$LAST_PID"
        psql -X -At -F'|' -v ON_ERROR_STOP=1 -c \
            "SELECT id, a, b::text, c, v, d::text, extract(epoch FROM m)::bigint, n, j::text, e, f
             FROM fold_row ORDER BY id" >"$WORK/actual.txt"
        diff -u "$WORK/s$seed/expected.txt" "$WORK/actual.txt" >&2 \
            || fail "seed $seed, batches of $batch: the rows differ from applying one by one"
        [ "$(sql "SELECT count(*) FROM projector.dead_letters")" = 0 ] || fail "dead letters"
        written=$(grep -o 'rows_written=[0-9]*' "$WORK/fold$seed-$batch.log" | tail -1 | cut -d= -f2)
        eval "written_$batch=$written"
    done
    # shellcheck disable=SC2154
    [ "$written_5000" -lt "$written_1" ] \
        || fail "seed $seed: batches wrote $written_5000 rows, one event per batch $written_1"
    echo "seed $seed: $written_5000 row writes in batches, $written_1 one event at a time"
done
echo "fold: ok"
