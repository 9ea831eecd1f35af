#!/usr/bin/env bash
# Per-peer fairness (issue 13, item 7).  Unauthenticated connections from
# one address cannot take every slot: max_handshakes_per_addr caps those
# that have not said hello, max_conn_per_addr all of them; another
# address is served meanwhile, and a slot is given back when its
# connection says hello or closes.  Other loopback addresses play other
# hosts.  And a subscriber that reads nothing is dropped after
# slow_consumer seconds, a one-off inbox as well as a follower, not at
# idle_timeout.
. "$(dirname "$0")/lib.sh"
HUB_HELLO_TIMEOUT=300 start_hub "max_handshakes_per_addr: 3
max_conn_per_addr: 5
max_output: 1048576
slow_consumer: 2
idle_timeout: 3600"

# Connections from 127.0.0.2 that say nothing, held until killed.
hold_silent() {
	python3 - "$HUB_PORT" "$1" <<'PY' &
import socket, sys, time
socks = []
for i in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", int(sys.argv[1])))
    socks.append(s)
time.sleep(3600)
PY
	BG_PIDS+=("$!")
	HOLDER=$!
}

# The hub's session.open lines from address $1.
opened_from() {
	grep -c "session.open .*peer=$1:" "$HUB_LOG" || true
}

# Wait (bounded) until $2 session.open lines from address $1.
wait_opened() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(opened_from "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$2 connections from $1 were not opened"
}

# Connect from $1 and say nothing: "refused" if the hub closes at once.
probe() {
	python3 - "$HUB_PORT" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.bind((sys.argv[2], 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(60)
try:
    print("refused" if s.recv(1) == b"" else "answered")
except socket.timeout:
    print("open")
except OSError:
    print("refused")
PY
}

# --- Handshakes in progress from one address. ---
hold_silent 3
wait_opened 127.0.0.2 3
out=$(probe 127.0.0.2)
expect_eq "$out" refused "a 4th silent connection from 127.0.0.2"
wait_log "session.refused peer=127.0.0.2:[0-9]+ reason=\"max_handshakes_per_addr 3 reached for this address"
# Another address is served meanwhile.
cli bank-a ping
expect_eq "$RC" 0 "bank-a from 127.0.0.1 while 127.0.0.2 is full ($OUT)"
# Closed connections give their slots back.
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
for ((i = 0; i < 1200; i++)); do
	[ "$(grep -c 'session.close .*peer=127.0.0.2:.*state=handshake' "$HUB_LOG" || true)" -ge 3 ] && break
	sleep 0.05
done
out=$(raw bank-a "" --source 127.0.0.2 --hello --timeout 60 --expect 1)
expect_contains "$out" "body 11" "127.0.0.2 is welcomed once its slots are free"
pass "max_handshakes_per_addr: the 4th refused, another address served, slots given back"

# --- Connections from one address, authenticated ones included. ---
# Five sessions past the hello from 127.0.0.3: each gave its handshake
# slot back (there are 3), and they fill max_conn_per_addr.
# Start a session of bank-b from 127.0.0.3 that says hello and a ping,
# then reads nothing; its pid (python's own, for kill) in pids.
pids=()
hold_ready() {
	python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" --ca "$PKI/ca.crt" \
	    --cert "$PKI/orgs/bank-b.crt" --key "$PKI/orgs/bank-b.key" \
	    --hex 000000050801aa0100 --source 127.0.0.3 --hello --stall 3600 \
	    --timeout 3600 >/dev/null 2>&1 &
	pids+=("$!")
	BG_PIDS+=("$!")
}
# Wait (bounded) for $1 hellos of bank-b.
wait_hellos() {
	local j
	for ((j = 0; j < 1200; j++)); do
		[ "$(grep -c 'session.hello .*org=bank-b' "$HUB_LOG" || true)" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 sessions of bank-b did not say hello"
}
# Three at once (max_handshakes_per_addr), then two more.
hold_ready; hold_ready; hold_ready
wait_hellos 3
hold_ready; hold_ready
wait_hellos 5
expect_eq "$(grep -c 'session.hello .*org=bank-b' "$HUB_LOG")" 5 \
    "five sessions from 127.0.0.3 said hello"
out=$(raw bank-b "" --source 127.0.0.3 --hello --timeout 60 --expect 1)
expect_not_contains "$out" "body 11" "a 6th connection from 127.0.0.3 is not welcomed"
wait_log "session.refused peer=127.0.0.3:[0-9]+ reason=\"max_conn_per_addr 5 reached for this address"
cli bank-a ping
expect_eq "$RC" 0 "bank-a from 127.0.0.1 while 127.0.0.3 is full ($OUT)"
for p in "${pids[@]}"; do
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
pass "max_conn_per_addr: the 6th refused, another address served"

# --- A one-off inbox that never reads: dropped after slow_consumer. ---
# Thirty reports of 200 KB wait for fsa-liaison: more than the socket
# buffers (4 MB) of a reader that reads nothing.  The hub queues one at
# a time while its output is under max_output / 4, so max_output alone
# never drops this reader: once the kernel is full it waits, until
# idle_timeout (an hour here) before, slow_consumer seconds now.
make_report "$WORK/base.json"
python3 - "$WORK" <<'PY'
import json, sys, uuid
base = json.load(open(sys.argv[1] + "/base.json"))
for i in range(1, 31):
    r = json.loads(json.dumps(base))
    r["uuid"] = str(uuid.uuid4())
    r["report"]["title"] = "Bulk %d" % i
    r["report"]["free_text"] = "x" * 200000
    json.dump(r, open("%s/b%d.json" % (sys.argv[1], i), "w"))
PY
orgs=(bank-a bank-b broker-a)
for i in $(seq 1 30); do
	cli_json "${orgs[$((i % 3))]}" submit "$WORK/b$i.json"
	expect_eq "$RC" 0 "bulk submit $i ($ERR)"
done
# Subscribe{follow: false}, then read nothing.
python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" --ca "$PKI/ca.crt" \
    --cert "$PKI/orgs/fsa-liaison.crt" --key "$PKI/orgs/fsa-liaison.key" \
    --hello --hex 00000006080110077200 --rcvbuf 4096 --stall 3600 \
    --timeout 3600 >/dev/null &
slow=$!
BG_PIDS+=("$slow")
wait_log "deliver.subscribe .*org=fsa-liaison .*follow=no"
sid=$(grep -E "deliver.subscribe .*org=fsa-liaison .*follow=no" "$HUB_LOG" |
    tail -n 1 | sed -E 's/.*session=([0-9a-f]+).*/\1/')
# Bounded generously for valgrind; idle_timeout is an hour.
wait_log "session.error session=$sid org=fsa-liaison .*code=overloaded .*fatal=yes" 120
wait_log "session.close session=$sid .*reason=\"overloaded: slow consumer: " 60
kill "$slow" 2>/dev/null || true
wait "$slow" 2>/dev/null || true
# What it did not read is delivered on the next connection.
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "fsa-liaison inbox after the drop ($ERR)"
expect_eq "$(grep -c '"title": "Bulk' <<<"$OUT")" 30 "every report delivered later"
kill -0 "$HUB_PID" || fail "the hub died"
pass "a one-off inbox that reads nothing is dropped after slow_consumer"
