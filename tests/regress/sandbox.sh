#!/usr/bin/env bash
# Started as root with user, chroot and seccomp, the hub's worker (the
# process that parses network input) has no root, sees only its chroot
# (where neither the TLS key nor the key files are), runs under a seccomp
# filter, and still serves; its parent, which holds the TLS key, is the
# hub's pid and parses nothing.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "skip [$SCENARIO]: confinement needs the hub to start as root"
	exit 77
fi
HUBUSER=ceptoard-test
id "$HUBUSER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$HUBUSER" ||
    fail "cannot create the user $HUBUSER"
pki_ensure
JAIL=$WORK/jail
mkdir -p "$JAIL/store"
chmod 755 "$JAIL"
chown "$HUBUSER" "$JAIL/store"
chmod 700 "$JAIL/store"
HUB_STORE=$JAIL/store/hub.db start_hub "user: $HUBUSER
chroot: $JAIL"
wait_log "ceptoard.sandbox uid=[1-9][0-9]* gid=[0-9]+ chroot=\"$JAIL\" seccomp=on"

WORKER=$(worker_pid)
[ -n "$WORKER" ] && [ "$WORKER" != "$HUB_PID" ] || fail "no worker process"
expect_eq "$(ps -o ppid= -p "$WORKER" | tr -d ' ')" "$HUB_PID" "the worker is the hub's child"
status=/proc/$WORKER/status
uid=$(awk '/^Uid:/ {print $2 " " $3 " " $4 " " $5}' "$status")
[ "$uid" = "$(id -u "$HUBUSER") $(id -u "$HUBUSER") $(id -u "$HUBUSER") $(id -u "$HUBUSER")" ] ||
    fail "the worker still has another uid: $uid"
expect_eq "$(awk '/^Seccomp:/ {print $2}' "$status")" 2 "a seccomp filter is in force"
expect_eq "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" 1 "no new privileges"
expect_eq "$(readlink "/proc/$WORKER/root")" "$JAIL" "the worker's root is its chroot"
# What the hub sees as its file system holds no key file.
for key in "$PKI/hub.key" "$PKI/store.key" "$PKI/anon.key" "$PKI/ca.key"; do
	[ ! -e "/proc/$WORKER/root$key" ] || fail "$key is visible in the chroot"
done
[ -z "$(find "$JAIL" -name '*.key')" ] || fail "a key file is inside the chroot"
# And its user could not read them anyway.
for key in "$PKI/hub.key" "$PKI/store.key"; do
	if su -s /bin/sh "$HUBUSER" -c "cat '$key'" >/dev/null 2>&1; then
		fail "$HUBUSER can read $key"
	fi
done

# Confined, it still does its work.
make_report "$WORK/r.json"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "a submit to the confined hub ($ERR)"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "a delivery from the confined hub"
stop_hub
expect_log "ceptoard.stopped"
pass "confinement: uid $(id -u "$HUBUSER"), chroot, seccomp"
