#!/usr/bin/env bash
# The command line as a new user meets it: versions, per-command help, messages that name the
# flag or argument at fault, dlq on a database that was never migrated, and dlq --since forms.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1
itest_setup cli

expect_exit() { # CODE OUTFILE -- command...
    local code=$1 out=$2; shift 2
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    [ $rc -eq "$code" ] || { cat "$out" >&2; fail "expected exit $code from: $*, got $rc"; }
}
expect_text() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "missing in output: $2"; }; }
expect_no_text() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "unexpected in output: $2"; }; }

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
expect_text "$WORK/nofile.out" "config file $WORK/nosuch.json: No such file or directory"
expect_no_text "$WORK/nofile.out" ":-1:-1:"

# dlq on a database that was never migrated says what to do, not raw SQL.
for action in list show; do
    expect_exit 1 "$WORK/dlq_fresh.out" "$PROJECTOR" dlq $action --id 1
    expect_text "$WORK/dlq_fresh.out" "run 'projector migrate'"
    expect_no_text "$WORK/dlq_fresh.out" "relation \"projector.dead_letters\" does not exist"
done

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
echo "cli: ok"
