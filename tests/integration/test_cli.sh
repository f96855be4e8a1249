#!/usr/bin/env bash
# The command line as a new user meets it: versions, per-command help, messages that name the
# flag, argument or file at fault, check and start-up exit codes, logging of libpq's messages,
# dlq on a database that was never migrated and its --since forms, -X properties per client,
# the group join, and projector status with and without instances and brokers.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup cli

# --version and -V name the libraries too.
for v in --version -V; do
    expect_exit 0 "$WORK/version.out" "$PROJECTOR" $v
    expect_text "$WORK/version.out" "projector 0."
    for lib in librdkafka libpq jansson libcurl libevent; do
        grep -qE "^  $lib [0-9]" "$WORK/version.out" || { cat "$WORK/version.out" >&2; fail "$v: no $lib version"; }
    done
done

# A command's --help lists the settings it reads and points to the full table.
expect_exit 0 "$WORK/status_help.out" "$PROJECTOR" status --help
expect_text "$WORK/status_help.out" "--pg "
expect_text "$WORK/status_help.out" "--brokers "
expect_no_text "$WORK/status_help.out" "--es-bulk-max-docs"
expect_no_text "$WORK/status_help.out" "--batch-max-events"
expect_text "$WORK/status_help.out" "'projector help settings' lists all"
expect_exit 0 "$WORK/settings.out" "$PROJECTOR" help settings
for f in --es-bulk-max-docs --batch-max-events --http-token --rebuild-max-lag; do
    expect_text "$WORK/settings.out" "$f "
done
expect_exit 0 "$WORK/run_help.out" "$PROJECTOR" run --help
expect_text "$WORK/run_help.out" "--es-bulk-max-docs"
expect_exit 0 "$WORK/dlq_help.out" "$PROJECTOR" dlq --help
[ "$(grep -c '^usage:' "$WORK/dlq_help.out")" = 1 ] || { cat "$WORK/dlq_help.out" >&2; fail "dlq --help has more than one usage line"; }
expect_no_text "$WORK/dlq_help.out" "--http "

# Messages name what is wrong: an argument, the flag, the config file.
expect_exit 2 "$WORK/extra.out" "$PROJECTOR" run extra
expect_text "$WORK/extra.out" "extra: unexpected argument"
expect_exit 2 "$WORK/range.out" "$PROJECTOR" run --batch-max-events 0
expect_text "$WORK/range.out" "--batch-max-events: batch.max.events: 0 is out of range 1..100000"
expect_exit 2 "$WORK/range2.out" "$PROJECTOR" run --batch-max-events=0
expect_text "$WORK/range2.out" "--batch-max-events: batch.max.events: 0 is out of range"
expect_exit 2 "$WORK/nofile.out" "$PROJECTOR" check --config "$WORK/nosuch.json"
expect_text "$WORK/nofile.out" "$WORK/nosuch.json: cannot read the config file: No such file or directory"
expect_no_text "$WORK/nofile.out" ":-1:-1:"

# dlq on a database that was never migrated says what to do, not raw SQL.
for action in list show; do
    expect_exit 1 "$WORK/dlq_fresh.out" "$PROJECTOR" dlq $action --id 1
    expect_text "$WORK/dlq_fresh.out" "run 'projector migrate'"
    expect_no_text "$WORK/dlq_fresh.out" "relation \"projector.dead_letters\" does not exist"
done

# A rebuild on a database without the views says the mappings failed validation (exit 2).
expect_exit 2 "$WORK/rebuild_fresh.out" "$PROJECTOR" rebuild orders --brokers "$BROKERS" \
    --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views"
expect_text "$WORK/rebuild_fresh.out" "failed validation"
expect_no_text "$WORK/rebuild_fresh.out" "no projection"

# --since: a usage error (exit 2) naming the accepted forms; durations and RFC 3339 times work.
expect_exit 2 "$WORK/since_bad.out" "$PROJECTOR" dlq list --since garbage
expect_text "$WORK/since_bad.out" "--since garbage: expected an RFC 3339 time"
expect_text "$WORK/since_bad.out" "1h"
"$PROJECTOR" migrate --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" \
    >"$WORK/migrate.out" 2>&1 || { cat "$WORK/migrate.out" >&2; fail "migrate"; }
sql "INSERT INTO projector.dead_letters (projection, topic, partition, \"offset\", stage, error, dlq_topic,
     created_at) VALUES ('orders', 'order-events', 0, 7, 'map', 'old', 'order-events.dlq', now() - interval '3 hours'),
     ('orders', 'order-events', 0, 9, 'map', 'recent', 'order-events.dlq', now() - interval '10 minutes')" >/dev/null
expect_exit 0 "$WORK/since_1h.out" "$PROJECTOR" dlq list --since 1h
expect_text "$WORK/since_1h.out" "order-events/0/9"
expect_no_text "$WORK/since_1h.out" "order-events/0/7"
expect_text "$WORK/since_1h.out" "(1 dead letter(s) not replayed)"
expect_exit 0 "$WORK/since_date.out" "$PROJECTOR" dlq list --since "$(date -u -d '5 hours ago' +%Y-%m-%dT%H:%MZ)"
expect_text "$WORK/since_date.out" "(2 dead letter(s) not replayed)"
expect_exit 0 "$WORK/since_future.out" "$PROJECTOR" dlq list --since "$(date -u -d 'tomorrow' +%Y-%m-%d)"
expect_text "$WORK/since_future.out" "(0 dead letter(s) not replayed)"

# Settings run refuses, check refuses too; --brokers '' is not "run forever".
expect_exit 2 "$WORK/brokers.out" "$PROJECTOR" run --brokers ''
expect_text "$WORK/brokers.out" "--brokers: brokers: empty"
m=(--mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views")
expect_exit 2 "$WORK/c_http.out" "$PROJECTOR" check "${m[@]}" --http 8080
expect_text "$WORK/c_http.out" "http.listen: expected host:port"
expect_exit 2 "$WORK/c_es.out" "$PROJECTOR" check "${m[@]}" --es-url htp:/x
expect_text "$WORK/c_es.out" "es.url: Elasticsearch URL \"htp:/x\": the scheme must be http:// or https://"

# check says what it checked; an unreachable database fails it (exit 1) unless --offline.
expect_exit 0 "$WORK/c_ok.out" "$PROJECTOR" check "${m[@]}"
expect_text "$WORK/c_ok.out" "against the database checked"
expect_exit 1 "$WORK/c_nodb.out" "$PROJECTOR" check "${m[@]}" --pg "host=$WORK/nosocket"
expect_text "$WORK/c_nodb.out" "cannot connect to PostgreSQL"
expect_text "$WORK/c_nodb.out" "--offline"
expect_exit 0 "$WORK/c_off.out" "$PROJECTOR" check "${m[@]}" --pg "host=$WORK/nosocket" --offline
expect_text "$WORK/c_off.out" "files and settings checked (--offline"

# The server refusing the connection for good ends run and serve with exit 1 at once; a
# database that cannot be reached is waited out.
sql "DROP ROLE IF EXISTS cli_nopriv" >/dev/null
sql "CREATE ROLE cli_nopriv LOGIN" >/dev/null
sql "REVOKE CONNECT ON DATABASE $PGDATABASE FROM PUBLIC" >/dev/null
for pg in "dbname=cli_no_such_db" "user=cli_no_such_role" "user=cli_nopriv"; do
    for cmd in run serve; do
        expect_exit 1 "$WORK/refused.out" timeout 60 "$PROJECTOR" $cmd "${m[@]}" --brokers "$BROKERS" --pg "$pg"
        expect_text "$WORK/refused.out" "not retried: the server refused the connection"
    done
done
expect_text "$WORK/refused.out" "permission denied for database"
"$PROJECTOR" run "${m[@]}" --brokers "$BROKERS" --pg "host=$WORK/nosocket" 2>"$WORK/waiting.log" &
wait_pid=$!
PIDS+=("$wait_pid")
for _ in $(seq 1 100); do grep -q "retrying in" "$WORK/waiting.log" && break; sleep 0.1; done
grep -q "retrying in" "$WORK/waiting.log" || fail "run did not wait for an unreachable database"
kill -0 "$wait_pid" 2>/dev/null || fail "run gave up on an unreachable database"
kill -TERM "$wait_pid"
rc=0; wait "$wait_pid" || rc=$?
[ $rc -eq 0 ] || fail "run waiting for the database exited $rc on SIGTERM"
# libpq's multi-line messages stay on one log line each.
bad_lines=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$WORK/waiting.log" || true)
[ "$bad_lines" = 0 ] || { cat "$WORK/waiting.log" >&2; fail "$bad_lines log line(s) without a timestamp"; }

# The server's notices ("already exists, skipping") go through the logger: none on stderr as
# raw libpq lines, and with --log-format json every line is JSON.
for i in 1 2; do
    "$PROJECTOR" migrate "${m[@]}" --log-format json >"$WORK/mig$i.out" 2>"$WORK/mig$i.err" || true
done
expect_no_text "$WORK/mig2.err" "NOTICE:"
python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    json.loads(line)
' "$WORK/mig2.err" || { cat "$WORK/mig2.err" >&2; fail "a stderr line of migrate --log-format json is not JSON"; }
"$PROJECTOR" check "${m[@]}" >"$WORK/chk.out" 2>"$WORK/chk.err" || true
expect_no_text "$WORK/chk.err" "NOTICE:"
# projector status: no instance consuming (nothing runs yet); brokers that do not answer are
# said once, with a hint, instead of librdkafka's errors per partition (exit 1: lags unknown).
rc=0
"$PROJECTOR" status "${m[@]}" --brokers "$BROKERS" >"$WORK/st0.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$WORK/st0.out"; fail "status exited $rc"; }
expect_text "$WORK/st0.out" "projection orders: generation 1, no instance consuming"
rc=0
"$PROJECTOR" status "${m[@]}" --brokers 127.0.0.1:9 >"$WORK/st1.out" 2>&1 || rc=$?
[ $rc -eq 1 ] || { cat "$WORK/st1.out"; fail "status with unreachable brokers exited $rc, expected 1"; }
expect_text "$WORK/st1.out" "the brokers at 127.0.0.1:9 do not answer"
expect_text "$WORK/st1.out" "--brokers (PROJECTOR_BROKERS)"
expect_no_text "$WORK/st1.out" "kafka="

# -X properties reach only the clients they apply to: no "ignored by this producer" warnings
# for a consumer property (the README advises -X session.timeout.ms=...).
port=$((20000 + RANDOM % 20000))
"$PROJECTOR" run "${m[@]}" --brokers "$BROKERS" --http "127.0.0.1:$port" \
    -X session.timeout.ms=6000 -X producer.linger.ms=1 2>"$WORK/xprops.log" &
x_pid=$!
PIDS+=("$x_pid")
for _ in $(seq 1 200); do grep -q "running 1 projection" "$WORK/xprops.log" && break; sleep 0.1; done
grep -q "running 1 projection" "$WORK/xprops.log" || { cat "$WORK/xprops.log" >&2; fail "run did not start"; }
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || fail "the HTTP API did not answer"
# The join is logged when the brokers assign partitions, not at subscribing.
for _ in $(seq 1 200); do grep -q "joined group projector.orders: [0-9]* partition(s) assigned" "$WORK/xprops.log" && break; sleep 0.1; done
grep -q "joined group projector.orders: [0-9]* partition(s) assigned" "$WORK/xprops.log" \
    || { cat "$WORK/xprops.log" >&2; fail "no join logged once partitions were assigned"; }
# while it runs, status names it and the partitions it consumes
for _ in $(seq 1 100); do
    "$PROJECTOR" status "${m[@]}" --brokers "$BROKERS" >"$WORK/st2.out" 2>&1 || true
    grep -q "consumed by .*:$x_pid: order-events/" "$WORK/st2.out" && break
    sleep 0.2
done
expect_text "$WORK/st2.out" "projection orders: generation 1, live"
grep -q "^  consumed by .*:$x_pid: order-events/0" "$WORK/st2.out" || { cat "$WORK/st2.out"; fail "status does not name the consuming instance"; }
kill -TERM "$x_pid"
wait "$x_pid" || fail "run with -X properties did not stop cleanly"
"$PROJECTOR" status "${m[@]}" --brokers "$BROKERS" >"$WORK/st3.out" 2>&1 || true
expect_text "$WORK/st3.out" "projection orders: generation 1, no instance consuming"
expect_no_text "$WORK/xprops.log" "will be ignored"
expect_no_text "$WORK/xprops.log" "is a consumer property"
# With brokers that do not answer, run says it subscribed and waits, but not that it joined.
"$PROJECTOR" run "${m[@]}" --brokers 127.0.0.1:9 2>"$WORK/nobroker.log" &
nb_pid=$!
PIDS+=("$nb_pid")
for _ in $(seq 1 100); do grep -q "subscribed as group" "$WORK/nobroker.log" && break; sleep 0.1; done
grep -q "subscribed as group projector.orders; waiting for the brokers" "$WORK/nobroker.log" \
    || { cat "$WORK/nobroker.log" >&2; fail "run did not say it waits for the brokers"; }
sleep 2
kill -TERM "$nb_pid"
wait "$nb_pid" || true
expect_no_text "$WORK/nobroker.log" "joined group"
echo "cli: ok"
