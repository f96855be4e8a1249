#!/usr/bin/env bash
# Dead letters that cannot be published as they are never stall a projection:
# - an invalid event of 999,902 bytes (under max.event.bytes) with 20 KB of headers is larger
#   than the producer's message.max.bytes: it reaches order-events.dlq with its value cut to fit
#   (projector.value_truncated: 999902, its own headers kept) and projector.dead_letters keeps
#   all of it; the events after it, in its partition and the other, are applied;
# - a dead letter the broker refuses for its size (Produce answers MSG_SIZE_TOO_LARGE) is
#   published once more without value and original headers (projector.headers_dropped).
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup dlq_large --topic order-events:2 --topic order-events.dlq:1

"$ORDERS_GEN" --events 2000 --ndjson "$WORK/events.ndjson" --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
head -n 1000 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
value_bytes=999902
trace=$(head -c 15000 /dev/urandom | base64 -w0 | head -c 20000)
prefix='{"type":"OrderCreated","orderId":"o-big",'
{ printf '%s' "$prefix"; head -c $((value_bytes - ${#prefix})) /dev/zero | tr '\0' x; } >"$WORK/big.txt"
[ "$(wc -c <"$WORK/big.txt")" = "$value_bytes" ] || fail "big event has $(wc -c <"$WORK/big.txt") bytes"
kcat -b "$BROKERS" -P -t order-events -p 0 -k o-big -H "trace=$trace" -X message.max.bytes=2000000 \
    "$WORK/big.txt"
tail -n +1001 "$WORK/events.ndjson" | kcat -b "$BROKERS" -P -t order-events -K $'\t'
messages=$((total + 1))

group_args=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
projector_start run "${group_args[@]}"
wait_caught_up orders "$messages" 120
stop_clean "$LAST_PID"
assert_orders_match "$WORK/expected"
assert_applied_exactly "$WORK/expected"
[ "$(sql "SELECT count(*) || ' ' || min(stage) || ' ' || min(length(value)) || ' ' || min(partition)
    FROM projector.dead_letters")" = "1 decode $value_bytes 0" ] \
    || fail "dead letters: $(sql "SELECT count(*), min(stage), min(length(value)) FROM projector.dead_letters")"
grep -q "dead letter of .* bytes is larger than message.max.bytes" "$WORK/run.log" \
    || fail "the truncation was not logged"
kcat -b "$BROKERS" -C -t order-events.dlq -e -q -f '%k|%S|%h\n' >"$WORK/dlq.txt"
[ "$(wc -l <"$WORK/dlq.txt")" = 1 ] || fail "order-events.dlq holds $(wc -l <"$WORK/dlq.txt") messages, expected 1"
IFS='|' read -r key size headers <"$WORK/dlq.txt"
[ "$key" = o-big ] || fail "dead letter key '$key'"
[ "$size" -gt 900000 ] && [ "$size" -lt "$value_bytes" ] || fail "dead letter value of $size bytes, expected it cut below $value_bytes"
[[ "$headers" == *"projector.value_truncated=$value_bytes"* ]] || fail "no projector.value_truncated header: ${headers:0:300}"
[[ "$headers" == *"trace=$trace"* ]] || fail "the event's own header was not kept"
[[ "$headers" == *"projector.stage=decode"* ]] || fail "no projector.stage header"
cmp -s <(head -c "$size" "$WORK/big.txt") \
    <(kcat -b "$BROKERS" -C -t order-events.dlq -e -q -c 1 -D '') || fail "the published value is not the event's first $size bytes"
# `projector dlq show` reads the whole value from the table
"$PROJECTOR" dlq show --id "$(sql "SELECT id FROM projector.dead_letters")" >"$WORK/show.txt" \
    || fail "dlq show failed"
[ "$(grep -o 'x*' "$WORK/show.txt" | awk '{ if (length($0) > m) m = length($0) } END { print m }')" = $((value_bytes - ${#prefix})) ] \
    || fail "dlq show does not print the whole value"

# the broker refuses the next dead letter for its size, once
printf 'o-bad\tnot json\n' | kcat -b "$BROKERS" -P -t order-events -p 1 -K $'\t' -H "trace=t1"
echo "error 0 1 10" >&"$BROKER_FD" # Produce: MESSAGE_TOO_LARGE, once
projector_start run "${group_args[@]}"
wait_caught_up orders $((messages + 1)) 120
stop_clean "$LAST_PID"
grep -q "dead letter refused by order-events.dlq" "$WORK/run.log" || fail "the broker's refusal was not met"
kcat -b "$BROKERS" -C -t order-events.dlq -o 1 -e -q -f '%k|%S|%h\n' >"$WORK/dlq2.txt"
[ "$(wc -l <"$WORK/dlq2.txt")" = 1 ] || fail "order-events.dlq holds $(wc -l <"$WORK/dlq2.txt") new messages, expected 1"
IFS='|' read -r key size headers <"$WORK/dlq2.txt"
[ "$key" = o-bad ] && [ "$size" = 0 ] || fail "refused dead letter republished as key '$key', $size bytes"
[[ "$headers" == *"projector.headers_dropped=1"* && "$headers" != *"trace="* ]] \
    || fail "refused dead letter's headers: $headers"
[ "$(sql "SELECT encode(value, 'escape') FROM projector.dead_letters WHERE key = 'o-bad'")" = "not json" ] \
    || fail "projector.dead_letters lacks the refused dead letter's value"
assert_orders_match "$WORK/expected"
echo "dlq large: ok"
