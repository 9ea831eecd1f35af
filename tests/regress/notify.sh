#!/usr/bin/env bash
# systemd readiness: a datagram socket as NOTIFY_SOCKET receives READY=1
# once the hub is ready, RELOADING=1 then READY=1 around a SIGHUP reload,
# WATCHDOG=1 at half of WATCHDOG_USEC, and STOPPING=1 on SIGTERM; both a
# socket path and an abstract name (@...) work.  Started as root, the hub
# is confined (user, chroot, seccomp) and still notifies, because it
# connected the socket before confining itself; its metrics listener
# still answers too.
. "$(dirname "$0")/lib.sh"

# Receive datagrams on $1 (a path, or @name), one line each ("|" for
# newlines) appended to $2, until stopped.
notify_listen() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
if not name.startswith("@"):
    os.chmod(name, 0o666)
open(out + ".bound", "w").close()
while True:
    msg = s.recv(4096).decode(errors="replace").replace("\n", "|")
    with open(out, "a") as f:
        f.write(msg + "\n")
PY
	BG_PIDS+=($!)
	for ((i = 0; i < 200; i++)); do
		[ -e "$2.bound" ] && return 0
		sleep 0.05
	done
	fail "the notify socket $1 was not bound"
}

# Wait up to $3 seconds (default 20) for a line of file $1 matching $2.
wait_line() {
	local file=$1 pattern=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no notification matching '$pattern' within ${secs}s (got: $(tr '\n' ' ' <"$file" 2>/dev/null))"
}

CONFINE=
if [ "$(id -u)" -eq 0 ]; then
	HUBUSER=ceptoard-test
	id "$HUBUSER" >/dev/null 2>&1 ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin \
	    "$HUBUSER" || fail "cannot create the user $HUBUSER"
	JAIL=$WORK/jail
	mkdir -p "$JAIL/store"
	chmod 755 "$JAIL"
	chown "$HUBUSER" "$JAIL/store"
	chmod 700 "$JAIL/store"
	export HUB_STORE=$JAIL/store/hub.db
	CONFINE="user: $HUBUSER
chroot: $JAIL"
else
	echo "note [$SCENARIO]: not root, so the hub runs unconfined"
fi

# 1. An abstract socket name, a watchdog, a reload, a stop.
N=$WORK/notify-abstract
NAME=@ceptoard-notify-$$-$RANDOM
notify_listen "$NAME" "$N"
NOTIFY_SOCKET=$NAME WATCHDOG_USEC=400000 start_hub "metrics_listen: 127.0.0.1:0
$CONFINE"
wait_line "$N" "^READY=1"
# READY=1 comes after the hub said it was ready, never before.
expect_log "ceptoard.ready"
if [ -n "$CONFINE" ]; then
	wait_log "ceptoard.sandbox uid=[1-9][0-9]* .*seccomp=on"
	expect_eq "$(awk '/^Seccomp:/ {print $2}' "/proc/$(worker_pid)/status")" 2 \
	    "the notifying hub's worker runs under seccomp"
fi
expect_contains "$(grep '^READY=1' "$N" | head -n 1)" "MAINPID=$HUB_PID" \
    "READY=1 names the main pid"
wait_line "$N" "^WATCHDOG=1"
# At half of 0.4 s: several pings come while the hub idles.
for ((i = 0; i < 400; i++)); do
	[ "$(grep -c '^WATCHDOG=1' "$N")" -ge 3 ] && break
	sleep 0.05
done
[ "$(grep -c '^WATCHDOG=1' "$N")" -ge 3 ] || fail "the watchdog is not pinged"
expect_log "notify.watchdog interval_usec=200000"

# The confined hub's metrics listener still answers.
METRICS=$(grep -oE 'metrics.listen address=[^ ]+' "$HUB_LOG" | tail -n 1 |
    cut -d= -f2)
python3 - "http://$METRICS" <<'PY' || fail "metrics of the notifying hub"
import sys, urllib.request
for path, want in (("/readyz", "ok"), ("/healthz", "ok"),
                   ("/metrics", "ceptoard_store_bytes{file=\"db\"}")):
    with urllib.request.urlopen(sys.argv[1] + path, timeout=10) as r:
        body = r.read().decode()
        assert r.status == 200 and want in body, (path, r.status, body)
PY

before=$(grep -c 'config.reload' "$HUB_LOG" || true)
kill -HUP "$HUB_PID"
wait_line "$N" "^RELOADING=1"
for ((i = 0; i < 400; i++)); do
	[ "$(grep -c 'config.reload' "$HUB_LOG" || true)" -gt "$before" ] && break
	sleep 0.05
done
# After RELOADING=1, a READY=1 again: the second one in the file.
for ((i = 0; i < 400; i++)); do
	[ "$(grep -c '^READY=1' "$N")" -ge 2 ] && break
	sleep 0.05
done
expect_eq "$(grep -E '^(READY|RELOADING)=1' "$N" | cut -c1-11 | tr '\n' ' ')" \
    "READY=1|MAI RELOADING=1 READY=1 " "ready, reloading, ready again"

kill -TERM "$HUB_PID"
wait_line "$N" "^STOPPING=1"
stop_hub
expect_log "ceptoard.stopped"
pass "notify over an abstract socket: ready, watchdog, reload, stop"

# 2. A socket path.
P=$WORK/notify.sock
notify_listen "$P" "$WORK/notify-path"
NOTIFY_SOCKET=$P start_hub "$CONFINE"
wait_line "$WORK/notify-path" "^READY=1"
stop_hub
wait_line "$WORK/notify-path" "^STOPPING=1"
[ "$(grep -c '^WATCHDOG=1' "$WORK/notify-path")" -eq 0 ] ||
    fail "a watchdog ping without WATCHDOG_USEC"
pass "notify over a socket path: ready, stop"
