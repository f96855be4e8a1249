#!/usr/bin/env bash
# The HTTP API's limits: with a low descriptor limit, more idle connections than the cap
# neither make the process spin on accept() nor flood its log, the consumers go on, the idle
# connections are closed and a new client is answered; a client that sends its headers one
# byte a second is disconnected; 256 reads held for their positions (64 each) leave /healthz
# and other reads answered, a 257th is refused, and each held one gets its 504.
source "$(dirname "$0")/lib.sh"
PROJECTOR=$1 ORDERS_GEN=$2
itest_setup http_limits --topic order-events:2

"$ORDERS_GEN" --events 200 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
port=$((21000 + RANDOM % 11000)) # below the ephemeral ports (32768-)
API=http://127.0.0.1:$port
# 512 descriptors (fewer than the 600 connections below): connections are capped at 384 (128 kept for the database, brokers, search).
bash -c 'ulimit -n 512 && exec "$@"' _ "$PROJECTOR" run --brokers "$BROKERS" \
    --mappings "$PROJECT_ROOT/mappings" --views "$PROJECT_ROOT/views" \
    --http "127.0.0.1:$port" >>"$WORK/run.log" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_caught_up orders "$total" 120

# 600 idle connections: more than the cap. The server stops accepting at the cap (the rest
# wait in the backlog), closes the idle ones after the request deadline, and answers anew.
python3 - "$port" >"$WORK/flood.txt" <<'PY' || fail "the idle connections were not closed"
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(600):
    s = socket.socket()
    s.settimeout(0.2)  # past the cap and a full backlog, connect() waits
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    socks.append(s)
time.sleep(2)
print("open", len(socks))
# The server accepted up to the cap; those are closed once the request deadline passes.
closed, end = 0, time.time() + 60
for s in socks:
    s.settimeout(max(0.1, end - time.time()))
    try:
        if s.recv(1) == b"":
            closed += 1
    except OSError:
        pass
print("closed", closed)
for s in socks:
    s.close()
sys.exit(0 if closed >= 300 else 1)
PY
cat "$WORK/flood.txt"
kill -0 "$pid" 2>/dev/null || fail "the process died under the flood"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 30 "$API/healthz") || true
[ "$code" = 200 ] || fail "/healthz on a new connection after the flood: status $code"
lines=$(grep -c -i 'accept' "$WORK/run.log" || true)
[ "$lines" -le 3 ] || fail "$lines log lines about accepting connections"
grep -q 'not accepting connections for now' "$WORK/run.log" || fail "the cap was never reached"
grep -q 'connections while descriptors stay below 384' "$WORK/run.log" || fail "the cap is not 384"
# The consumers went on meanwhile.
printf 'o-after\t{"type":"OrderCreated","orderId":"o-after","customerId":"c-a","items":[],"totalAmount":"1.00","occurredAt":"2026-02-02T00:00:00Z"}\n' |
    kcat -b "$BROKERS" -P -t order-events -p 0 -K $'\t'
wait_caught_up orders $((total + 1)) 60
total=$((total + 1))

# Slowloris: a header byte a second is never a request; the server closes the connection.
python3 - "$port" <<'PY' || fail "a client sending a header byte a second was not disconnected"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
s.settimeout(1)
for i in range(40):
    try:
        s.sendall(b"a")
        if s.recv(1) == b"":
            print(f"closed after {i + 1} bytes")
            sys.exit(0)
    except socket.timeout:
        continue
    except OSError:
        print(f"closed after {i + 1} bytes")
        sys.exit(0)
sys.exit(1)
PY
kill -0 "$pid" 2>/dev/null || fail "the process died"

# 256 held reads of 64 positions each: the 257th is refused, other requests are answered,
# every held one gets its 504 with the JSON error object.
positions=$(python3 -c 'print(",".join("order-events:%d:%d" % (i % 2, 10**9 + i) for i in range(64)))')
python3 - "$port" "$positions" >"$WORK/held.txt" <<'PY' &
import json, sys, threading, urllib.request, urllib.error
port, positions = sys.argv[1], sys.argv[2]
codes = []
def read():
    url = f"http://127.0.0.1:{port}/v1/views/order_detail/o-after?min_position={positions}&wait_ms=8000"
    try:
        urllib.request.urlopen(url, timeout=60)
        codes.append("200")
    except urllib.error.HTTPError as e:
        body = json.load(e)
        codes.append(f"{e.code}:{body['error']['code']}")
    except Exception as e:
        codes.append(f"error:{e}")
threads = [threading.Thread(target=read) for _ in range(256)]
for t in threads: t.start()
for t in threads: t.join()
print("\n".join(codes))
PY
held=$!
sleep 2
refused=0
for _ in $(seq 1 50); do # wait_ms=0: a probe held before the 256 are is answered at once
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 \
        "$API/v1/views/order_detail/o-after?min_position=order-events:0:999999999&wait_ms=0") || true
    [ "$code" = 503 ] && refused=1 && break
    sleep 0.2
done
[ "$refused" = 1 ] || fail "a 257th held read was not refused"
python3 -c "import json; assert json.load(open('$WORK/body'))['error']['code'] == 'too_many_waiting'" \
    || fail "the 503 body"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$API/healthz") || true
[ "$code" = 200 ] || fail "/healthz while 256 reads are held: status $code"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$API/v1/views/order_detail/o-after") || true
[ "$code" = 200 ] || fail "a read while 256 reads are held: status $code"
kill -0 "$held" 2>/dev/null || fail "the held reads were answered before the checks"
wait "$held"
[ "$(grep -c '^504:position_timeout$' "$WORK/held.txt")" = 256 ] \
    || { sort "$WORK/held.txt" | uniq -c >&2; fail "the held reads did not all time out with 504"; }
stop_clean "$pid"
echo "http_limits: ok"
