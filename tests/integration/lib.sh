# Shared by the integration tests: each test gets its own database, broker and work directory.
# Usage: source lib.sh; itest_setup NAME [broker args...]. Needs PG* variables (scripts/test).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

PROJECTOR=${PROJECTOR:-$PROJECT_ROOT/build/projector}
ORDERS_GEN=${ORDERS_GEN:-$PROJECT_ROOT/build/orders_gen}
PIDS=()

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

itest_cleanup() {
    local rc=$?
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] || continue
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    broker_stop
    if [ $rc -ne 0 ] && [ -n "${ES_DIR:-}" ] && [ -f "$ES_DIR/log" ]; then
        { echo "=== Elasticsearch stand-in (last 20 lines)"; tail -n 20 "$ES_DIR/log"; } >&2
    fi
    [ -n "${ES_DIR:-}" ] && rm -rf "$ES_DIR"
    if [ $rc -ne 0 ] && [ -n "${WORK:-}" ]; then
        for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "=== $f (last 40 lines)"; tail -n 40 "$f"; }; done >&2
    fi
    [ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
    [ -n "${CLEANUP_HOOK:-}" ] && $CLEANUP_HOOK
    exit $rc
}

# Creates database t_NAME (fresh), a work dir, and starts a broker with the given arguments.
itest_setup() {
    local name=$1; shift
    [ -n "${PGHOST:-}" ] || fail "PGHOST is not set: run through scripts/test, which starts PostgreSQL"
    WORK=$(mktemp -d /tmp/projector-it.XXXXXX)
    trap itest_cleanup EXIT
    export PGDATABASE=t_$name
    dropdb --if-exists "$PGDATABASE" >/dev/null 2>&1 || true
    createdb "$PGDATABASE" || fail "createdb $PGDATABASE"
    broker_start "$PROJECTOR" "$@"
    es_start --refresh-interval-ms 200
    PIDS+=("$ES_PID")
}

# Sends a control request to the stand-in: es_ctl fail '{"status": 429, "count": 5}'.
es_ctl() {
    curl -sS -f -X POST "$ES_URL/_standin/$1" -H 'Content-Type: application/json' -d "${2:-{\}}" \
        >/dev/null || fail "stand-in control $1 failed"
}

# Compares the documents of index orders with orders_gen's expected order_docs.txt in DIR.
assert_docs_match() {
    local expected=$1 actual=$WORK/actual
    mkdir -p "$actual"
    python3 "$PROJECT_ROOT/tests/integration/es_docs.py" "$ES_URL" orders >"$actual/order_docs.txt" \
        || fail "cannot read the documents of index orders"
    if ! cmp -s "$expected/order_docs.txt" "$actual/order_docs.txt"; then
        diff "$expected/order_docs.txt" "$actual/order_docs.txt" | head -n 20 >&2
        fail "documents differ from the expected state ($(wc -l <"$expected/order_docs.txt") expected, $(wc -l <"$actual/order_docs.txt") actual)"
    fi
    echo "documents match: $(wc -l <"$expected/order_docs.txt") orders"
}

# Starts `projector run` in the background with extra arguments; log in $WORK/NAME.log.
# Sets LAST_PID.
projector_start() {
    local name=$1; shift
    "$PROJECTOR" run --brokers "$BROKERS" --mappings "${MAPPINGS:-$PROJECT_ROOT/mappings}" \
        --views "${VIEWS:-$PROJECT_ROOT/views}" --log-level "${LOG_LEVEL:-info}" "$@" \
        >>"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

sql() { psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }

# Runs a command, checking its exit code; its output goes to OUTFILE.
expect_exit() { # CODE OUTFILE -- command...
    local code=$1 out=$2; shift 2
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    [ $rc -eq "$code" ] || { cat "$out" >&2; fail "expected exit $code from: $*, got $rc"; }
}
expect_text() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "missing in output: $2"; }; }
expect_no_text() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "unexpected in output: $2"; }; }

# GET URL: prints the status code; the body goes to $WORK/body.
http_get() { curl -s -o "$WORK/body" -w '%{http_code}' "$1"; }
# Prints the Python expression EXPR over the JSON of $WORK/body, bound to d.
body_json() { python3 -c "import json,sys; d=json.load(open('$WORK/body')); print($1)"; }

# Prints the sum of stored next offsets of a projection (0 before anything is stored).
applied_total() {
    sql "SELECT coalesce(sum(next_offset), 0) FROM projector.positions WHERE projection = '$1'" 2>/dev/null || echo 0
}

# Waits until the projection's stored positions add up to TOTAL messages (or TIMEOUT s).
wait_caught_up() {
    local projection=$1 total=$2 timeout=${3:-120} n=0
    for _ in $(seq 1 $((timeout * 5))); do
        n=$(applied_total "$projection")
        [ "$n" = "$total" ] && return 0
        sleep 0.2
    done
    fail "projection $projection applied $n of $total messages within ${timeout}s"
}

# Waits until the orders projection has applied at least N messages (60 s at most).
wait_progress() {
    for _ in $(seq 1 600); do
        [ "$(applied_total orders)" -ge "$1" ] && return 0
        sleep 0.1
    done
    fail "no progress past $1 messages"
}

# Writes the two sample read tables in orders_gen's expected format into DIR.
dump_orders() {
    local dir=$1
    psql -X -At -F'|' -v ON_ERROR_STOP=1 -c "SELECT order_id, customer_id, status, total_amount::text,
        item_count, (SELECT string_agg((e->>'sku')||':'||(e->>'quantity')||':'||(e->>'price'), ','
        ORDER BY o) FROM jsonb_array_elements(items) WITH ORDINALITY x(e, o)),
        coalesce(payment_id, ''), coalesce(tracking_number, ''), coalesce(cancel_reason, ''),
        extract(epoch FROM created_at)::bigint, extract(epoch FROM updated_at)::bigint
        FROM order_detail ORDER BY order_id COLLATE \"C\"" >"$dir/order_detail.txt"
    psql -X -At -F'|' -v ON_ERROR_STOP=1 -c "SELECT customer_id, orders_created, orders_cancelled,
        total_ordered::text, extract(epoch FROM last_order_at)::bigint
        FROM customer_summary ORDER BY customer_id COLLATE \"C\"" >"$dir/customer_summary.txt"
}

# Compares the read tables with orders_gen's expected files in DIR.
assert_orders_match() {
    local expected=$1 actual=$WORK/actual
    mkdir -p "$actual"
    dump_orders "$actual"
    for t in order_detail customer_summary; do
        [ -s "$expected/$t.txt" ] || fail "expected $t is empty"
        if ! cmp -s "$expected/$t.txt" "$actual/$t.txt"; then
            diff "$expected/$t.txt" "$actual/$t.txt" | head -n 20 >&2
            fail "$t differs from the expected state ($(wc -l <"$expected/$t.txt") expected rows, $(wc -l <"$actual/$t.txt") actual)"
        fi
    done
    echo "read tables match: $(wc -l <"$expected/order_detail.txt") orders, $(wc -l <"$expected/customer_summary.txt") customers"
    [ -z "${ES_URL:-}" ] || assert_docs_match "$expected"
}

count_of() { awk -v k="$1" '$1 == k { print $2 }' "$2/counts.txt"; }

# Checks the stored applied counter equals the good events of orders_gen's expected DIR: every
# event applied once, none twice.
assert_applied_exactly() {
    local applied
    applied=$(sql "SELECT sum(applied) FROM projector.positions WHERE projection = 'orders'")
    [ "$applied" = "$(count_of good "$1")" ] \
        || fail "applied=$applied, expected exactly the $(count_of good "$1") good events"
}

# Starts the Schema Registry stand-in on a free port with the fault file $WORK/registry.fault and
# any further arguments (--dir, --user, --password), waits for it, and exports
# PROJECTOR_REGISTRY_URL.
registry_standin_start() {
    rm -f "$WORK/registry.port"
    python3 "$PROJECT_ROOT/tests/registry_standin/registry_standin.py" --listen 127.0.0.1:0 \
        --port-file "$WORK/registry.port" --fault-file "$WORK/registry.fault" "$@" \
        >>"$WORK/registry.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 200); do
        [ -s "$WORK/registry.port" ] && break
        sleep 0.05
    done
    [ -s "$WORK/registry.port" ] || fail "the registry stand-in did not start"
    export PROJECTOR_REGISTRY_URL=http://127.0.0.1:$(cat "$WORK/registry.port")
}

# Stops a projector with SIGTERM and checks it exits 0.
stop_clean() {
    local pid=$1
    kill -TERM "$pid"
    local rc=0
    wait "$pid" || rc=$?
    [ $rc -eq 0 ] || fail "projector exited $rc after SIGTERM"
}

# Starts a reader in the background that queries the sample tables by their stable names in a
# loop until $WORK/stop-reader exists, appending "count|sum" (order_detail rows, sum of
# customer_summary.orders_created) or "ERROR: ..." per query to $WORK/reads.txt. Sets READER_PID.
reader_start() {
    rm -f "$WORK/stop-reader" "$WORK/reads.txt"
    (
        while [ ! -e "$WORK/stop-reader" ]; do
            out=$(psql -X -At -F'|' -v ON_ERROR_STOP=1 -c "SELECT (SELECT count(*) FROM order_detail),
                (SELECT coalesce(sum(orders_created), 0) FROM customer_summary)" 2>&1) || out="ERROR: $out"
            printf '%s\n' "$out" >>"$WORK/reads.txt"
        done
    ) &
    READER_PID=$!
    PIDS+=("$READER_PID")
    # ... and one counting the documents behind the alias orders
    rm -f "$WORK/search_reads.txt"
    (
        while [ ! -e "$WORK/stop-reader" ]; do
            curl -s -w '|%{http_code}\n' "$ES_URL/orders/_count" >>"$WORK/search_reads.txt" 2>&1 \
                || echo "connection failed|000" >>"$WORK/search_reads.txt"
            sleep 0.02
        done
    ) &
    SEARCH_READER_PID=$!
    PIDS+=("$SEARCH_READER_PID")
}

# The indices behind the alias orders, space-separated.
alias_indices() {
    curl -s "$ES_URL/_alias/orders" | python3 -c 'import json, sys; print(*json.load(sys.stdin))'
}

# The documents behind the alias orders, as a search sees them.
search_count() {
    curl -s "$ES_URL/orders/_count" | python3 -c 'import json, sys; print(json.load(sys.stdin)["count"])'
}

# Stops the readers and checks every read: no error, and neither the row count nor the sum
# below MIN_COUNT / MIN_SUM (what a read saw before the rebuild began), nor the documents'
# count below MIN_DOCS when given.
reader_check() {
    local min_count=$1 min_sum=$2 min_docs=${3:-}
    touch "$WORK/stop-reader"
    wait "$READER_PID" 2>/dev/null || true
    wait "$SEARCH_READER_PID" 2>/dev/null || true
    if [ -n "$min_docs" ]; then
        python3 - "$WORK/search_reads.txt" "$min_docs" <<'PY' || fail "the search reader saw an error or fewer documents than before the rebuild"
import json, sys
n, low = 0, int(sys.argv[2])
for line in open(sys.argv[1]):
    body, _, code = line.rstrip("\n").rpartition("|")
    assert code == "200", f"search read failed: {line.strip()}"
    count = json.loads(body)["count"]
    assert count >= low, f"search read {count} documents, fewer than the {low} before the rebuild"
    n += 1
assert n > 0, "the search reader read nothing"
print(f"search reader: {n} counts, none failed, none below {low} documents")
PY
    fi
    [ -s "$WORK/reads.txt" ] || fail "the reader read nothing"
    if grep -qv '^[0-9][0-9]*|[0-9][0-9]*$' "$WORK/reads.txt"; then
        grep -v '^[0-9][0-9]*|[0-9][0-9]*$' "$WORK/reads.txt" | head -n 5 >&2
        fail "the reader saw an error"
    fi
    awk -F'|' -v c="$min_count" -v s="$min_sum" '$1 < c || $2 < s { bad = $0 }
        END { if (bad != "") { print "below the start: " bad; exit 1 } }' "$WORK/reads.txt" \
        || fail "the reader saw fewer rows than before the rebuild (at least $min_count|$min_sum)"
    echo "reader: $(wc -l <"$WORK/reads.txt") reads, none failed, none below $min_count rows"
}

# Combines orders_gen expected dirs (waves, in order) into DIR: order_detail and order_docs
# concatenated, customer_summary summed per customer (max last order), counts added.
combine_expected() {
    local out=$1; shift
    mkdir -p "$out"
    python3 - "$out" "$@" <<'PY'
import sys, os
out, dirs = sys.argv[1], sys.argv[2:]
for name in ("order_detail.txt", "order_docs.txt"): # waves' order ids do not overlap
    with open(os.path.join(out, name), "w") as f:
        for d in dirs:
            f.write(open(os.path.join(d, name)).read())
cust, counts = {}, {}
for d in dirs:
    for line in open(os.path.join(d, "customer_summary.txt")):
        c, created, cancelled, total, last = line.rstrip("\n").split("|")
        p = cust.setdefault(c, [0, 0, 0, 0])
        p[0] += int(created); p[1] += int(cancelled)
        p[2] += int(total.replace(".", "")); p[3] = max(p[3], int(last))
    for line in open(os.path.join(d, "counts.txt")):
        k, v = line.split()
        counts[k] = counts.get(k, 0) + int(v)
with open(os.path.join(out, "customer_summary.txt"), "w") as f:
    for c in sorted(cust, key=lambda s: s.encode()):
        p = cust[c]
        f.write("%s|%d|%d|%d.%02d|%d\n" % (c, p[0], p[1], p[2] // 100, p[2] % 100, p[3]))
with open(os.path.join(out, "counts.txt"), "w") as f:
    for k in ("good", "unknown", "poison", "messages"):
        f.write("%s %d\n" % (k, counts.get(k, 0)))
PY
}

# Checks that no generation is left over once the rebuilds of the orders projection are over:
# no build schema, no build positions, and the live generation is $1.
assert_generation() {
    [ "$(sql "SELECT generation FROM projector.projections WHERE name = 'orders'")" = "$1" ] \
        || fail "the live generation is not $1"
    [ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'projector_build_orders'")" = 0 ] \
        || fail "the build schema is left over"
    [ "$(sql "SELECT count(*) FROM projector.positions WHERE projection LIKE 'orders#%'")" = 0 ] \
        || fail "build positions are left over"
}
