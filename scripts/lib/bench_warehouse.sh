# shellcheck shell=bash
# scripts/bench --workload warehouse: the warehouse workload (tests/workloads/warehouse: stock
# levels by (sku, warehouse); ReservationReleased and ReservationFulfilled carry only the
# reservation id, so their sql actions take sku, warehouse and qty by lookup from the
# reservation row), produced by warehouse_gen, projected from an empty database until caught
# up, and the read tables compared with warehouse_gen's expected state. pg_stat_statements
# counts the lookup queries (the planner's prefetches, `SELECT u.ord, t.<column> ...`), the rows
# they returned, the sql actions' statements and the batches (position updates). Sourced by
# scripts/bench, whose measure(), projector_start and helpers it uses.

WAREHOUSE_DIR=$PROJECT_ROOT/tests/workloads/warehouse

# The lookup prefetches, the batches and the statements of the run start from zero.
warehouse_stats_reset() {
    q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
}

# Sets LOOKUP_QUERIES, LOOKUP_ROWS, SQL_CALLS (the sql actions' statements), BATCHES (position
# updates: one per committed batch) and STATEMENTS (every statement the projector's sessions ran).
warehouse_stats() {
    local out
    out=$(q -F' ' -c "SELECT
        coalesce(sum(calls) FILTER (WHERE query LIKE 'SELECT u.ord, t.%'), 0),
        coalesce(sum(rows) FILTER (WHERE query LIKE 'SELECT u.ord, t.%'), 0),
        coalesce(sum(calls) FILTER (WHERE query LIKE 'UPDATE stock_level SET reserved = reserved - \$3%'), 0),
        coalesce(sum(calls) FILTER (WHERE query LIKE 'UPDATE projector.positions p SET next_offset%'), 0),
        coalesce(sum(calls) FILTER (WHERE query NOT LIKE '%pg_stat_statements%'
                                     AND query NOT LIKE '%sum(next_offset)%'), 0)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")
    read -r LOOKUP_QUERIES LOOKUP_ROWS SQL_CALLS BATCHES STATEMENTS <<<"$out"
}

# Produces the workload; sets PRODUCE_SECONDS, MESSAGES.
warehouse_setup() {
    log "starting PostgreSQL (default durability; ${PG_SETTINGS[*]})"
    local s opts=()
    for s in "${PG_SETTINGS[@]}"; do opts+=(-c "$s"); done
    pg_start "${opts[@]}"
    PG_VERSION=$(q -c "SHOW server_version" | cut -d' ' -f1)
    createdb bench
    export PGDATABASE=bench
    log "starting the embedded broker ($TOPIC:$PARTITIONS)"
    broker_start "$BIN" --topic "$TOPIC:$PARTITIONS"
    log "producing $EVENTS events"
    local t0=${EPOCHREALTIME/./}
    "$BUILD/warehouse_gen" --events "$EVENTS" --brokers "$BROKERS" --topic "$TOPIC" \
        --expect-dir "$WORK/expected" --quiet || die "warehouse_gen failed (see above)"
    PRODUCE_SECONDS=$(calc "(b - a) / 1e6" -v a="$t0" -v b="${EPOCHREALTIME/./}")
    MESSAGES=$(count_of messages "$WORK/expected")
    log "produced $MESSAGES messages in ${PRODUCE_SECONDS}s"
}

# Compares stock_level and reservation with the expected state (both sorted bytewise) and the
# applied count with the events. Sets VERIFIED.
warehouse_verify() {
    VERIFIED=true
    mkdir -p "$WORK/actual"
    q -F'|' -c "SELECT sku, warehouse, on_hand, reserved, shipped FROM stock_level" |
        sort >"$WORK/actual/stock_level.txt"
    q -F'|' -c "SELECT reservation_id, sku, warehouse, qty, status FROM reservation" |
        sort >"$WORK/actual/reservation.txt"
    local t
    for t in stock_level reservation; do
        sort -o "$WORK/expected/$t.txt" "$WORK/expected/$t.txt"
        if ! cmp -s "$WORK/expected/$t.txt" "$WORK/actual/$t.txt"; then
            diff "$WORK/expected/$t.txt" "$WORK/actual/$t.txt" | head -n 10 >&2 || true
            log "$t differs from the expected state ($(wc -l <"$WORK/expected/$t.txt") expected rows, $(wc -l <"$WORK/actual/$t.txt") actual)"
            VERIFIED=false
        fi
    done
    local applied dead
    applied=$(q -c "SELECT sum(applied) FROM projector.positions WHERE projection = '$PROJECTION'")
    dead=$(q -c "SELECT count(*) FROM projector.dead_letters")
    if [ "$applied" != "$EVENTS" ] || [ "$dead" != 0 ]; then
        log "positions say applied=$applied (expected $EVENTS), $dead dead letters"
        VERIFIED=false
    fi
    STOCK_ROWS=$(wc -l <"$WORK/expected/stock_level.txt")
    RESERVATIONS=$(wc -l <"$WORK/expected/reservation.txt")
    LOOKUP_EVENTS=$(grep -c '' "$WORK/lookup_events.txt" 2>/dev/null || true)
    log "verified=$VERIFIED ($STOCK_ROWS stock rows, $RESERVATIONS reservations)"
}

# Prints the report, or one line of JSON with --json.
warehouse_report() {
    local cpu nproc_ eps steady_share steady_eps h1 h2 cpu_us
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    nproc_=$(nproc)
    eps=$(calc "e / s" -v e="$EVENTS" -v s="$SECONDS_TOTAL")
    steady_share=$(calc "1 - f / m" -v f="$FIRST_SUM" -v m="$MESSAGES")
    steady_eps=$(calc "e * k / s" -v e="$EVENTS" -v k="$steady_share" -v s="$SECONDS_STEADY")
    h1=$(calc "e / 2 / s" -v e="$EVENTS" -v s="$SECONDS_FIRST_HALF")
    h2=$(calc "e / 2 / s" -v e="$EVENTS" -v s="$SECONDS_SECOND_HALF")
    cpu_us=$(calc "c * 1e6 / e" -v c="$CPU_SECONDS" -v e="$EVENTS")
    local lq_ev lr_ev lq_b lr_b lq_le st_b ev_b
    lq_ev=$(calc "q / e" -v q="$LOOKUP_QUERIES" -v e="$EVENTS")
    lr_ev=$(calc "r / e" -v r="$LOOKUP_ROWS" -v e="$EVENTS")
    lq_le=$(calc "q / l" -v q="$LOOKUP_QUERIES" -v l="$LOOKUP_EVENTS")
    lq_b=$(calc "q / b" -v q="$LOOKUP_QUERIES" -v b="$BATCHES")
    lr_b=$(calc "r / b" -v r="$LOOKUP_ROWS" -v b="$BATCHES")
    st_b=$(calc "s / b" -v s="$STATEMENTS" -v b="$BATCHES")
    ev_b=$(calc "e / b" -v e="$EVENTS" -v b="$BATCHES")
    if [ "$JSON" = 1 ]; then
        cpu=${cpu//\\/\\\\}
        cpu=${cpu//\"/\\\"}
        printf '{"workload":"warehouse","events":%s,"partitions":%s,"batch_max_events":%s,"seconds":%s,"events_per_s":%.0f,"steady_events_per_s":%.0f,"first_half_events_per_s":%.0f,"second_half_events_per_s":%.0f,"cpu_seconds":%s,"cpu_us_per_event":%.1f,"lookup_events":%s,"lookup_queries":%s,"lookup_rows":%s,"lookup_queries_per_event":%s,"lookup_rows_per_event":%s,"lookup_queries_per_lookup_event":%s,"batches":%s,"events_per_batch":%s,"lookup_queries_per_batch":%s,"lookup_rows_per_batch":%s,"statements_per_batch":%s,"sql_action_calls":%s,"peak_rss_mb":%s,"verified":%s,"machine":{"nproc":%s,"cpu":"%s"}}\n' \
            "$EVENTS" "$PARTITIONS" "${BATCH_MAX:-null}" "$SECONDS_TOTAL" "$eps" "$steady_eps" \
            "$h1" "$h2" "$CPU_SECONDS" "$cpu_us" "$LOOKUP_EVENTS" "$LOOKUP_QUERIES" \
            "$LOOKUP_ROWS" "$lq_ev" "$lr_ev" "$lq_le" "$BATCHES" "$ev_b" "$lq_b" "$lr_b" "$st_b" \
            "$SQL_CALLS" "$(calc "kb / 1024" -v kb="$PEAK_RSS_KB")" "$VERIFIED" "$nproc_" "$cpu" >&3
        return
    fi
    {
        echo "projector benchmark, warehouse workload: $nproc_ x $cpu, PostgreSQL $PG_VERSION"
        printf '  %-20s %s events (%s with lookups), %s partitions, batch.max.events %s\n' \
            events "$EVENTS" "$LOOKUP_EVENTS" "$PARTITIONS" "${BATCH_MAX:-default}"
        printf '  %-20s %s s (process start to caught up)\n' seconds "$SECONDS_TOTAL"
        printf '  %-20s %.0f (steady %.0f; first half %.0f, second half %.0f)\n' events/s \
            "$eps" "$steady_eps" "$h1" "$h2"
        printf '  %-20s %.1f us (%s s of user + system CPU of the projector)\n' CPU/event \
            "$cpu_us" "$CPU_SECONDS"
        printf '  %-20s %s queries returning %s rows: %s queries and %s rows per event, %s queries per event with lookups\n' \
            lookups "$LOOKUP_QUERIES" "$LOOKUP_ROWS" "$lq_ev" "$lr_ev" "$lq_le"
        printf '  %-20s %s (%s events, %s lookup queries, %s lookup rows, %s statements per batch)\n' \
            batches "$BATCHES" "$ev_b" "$lq_b" "$lr_b" "$st_b"
        printf '  %-20s %s MiB\n' "peak RSS" "$(calc "kb / 1024" -v kb="$PEAK_RSS_KB")"
        printf '  %-20s %s (%s stock rows, %s reservations compared with warehouse_gen; applied = events, no dead letter)\n' \
            verified "$VERIFIED" "$STOCK_ROWS" "$RESERVATIONS"
    } >&3
}

warehouse_main() {
    # shellcheck disable=SC2034 # read by scripts/bench's measure() and projector_start
    TOPIC=warehouse-events PROJECTION=warehouse VIEWS_DIR=$WAREHOUSE_DIR
    PG_SETTINGS+=(shared_preload_libraries=pg_stat_statements pg_stat_statements.max=1000)
    mkdir -p "$WORK/mappings"
    cp "$WAREHOUSE_DIR/mapping.json" "$WORK/mappings/"
    build
    warehouse_setup
    measure
    warehouse_stats
    "$BUILD/warehouse_gen" --events "$EVENTS" --ndjson - --quiet |
        grep -E '"type":"Reservation(Released|Fulfilled)"' >"$WORK/lookup_events.txt" || true
    warehouse_verify
    warehouse_report
    [ "$VERIFIED" = true ]
}
