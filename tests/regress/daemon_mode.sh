#!/usr/bin/env bash
# Without -d the hub detaches, writes its pid file, serves, and removes
# the pid file when stopped with SIGTERM.
. "$(dirname "$0")/lib.sh"
pki_ensure
mkdir -p "$WORK/store"

# A free loopback port: the detached hub logs to syslog, not to us.
HUB_PORT=$(free_port)
cat >"$WORK/ceptoard.conf" <<CONF
listen: 127.0.0.1:$HUB_PORT
tls_cert: $PKI/hub.crt
tls_key: $PKI/hub.key
tls_ca: $PKI/ca.crt
store_key: $PKI/store.key
directory: $DIRECTORY
store: $WORK/store/hub.db
pidfile: $WORK/ceptoard.pid
CONF
"$CEPTOARD" -f "$WORK/ceptoard.conf" || fail "ceptoard did not start"
for ((i = 0; i < 100; i++)); do
	[ -s "$WORK/ceptoard.pid" ] && break
	sleep 0.05
done
[ -s "$WORK/ceptoard.pid" ] || fail "no pid file"
HUB_PID=$(cat "$WORK/ceptoard.pid")
kill -0 "$HUB_PID" || fail "the detached hub is not running"
[ "$(ps -o ppid= -p "$HUB_PID" | tr -d ' ')" = 1 ] ||
    [ "$(ps -o ppid= -p "$HUB_PID" | tr -d ' ')" != "$$" ] ||
    fail "the hub did not detach"

client_conf bank-a
for ((i = 0; i < 50; i++)); do
	cli bank-a ping
	[ "$RC" -eq 0 ] && break
	sleep 0.1
done
expect_eq "$RC" 0 "the detached hub serves ($OUT)"

kill -TERM "$HUB_PID"
wait_gone "$HUB_PID" 10 || fail "the hub did not stop on SIGTERM"
HUB_PID=
[ ! -e "$WORK/ceptoard.pid" ] || fail "pid file left behind"
pass "daemon mode"
