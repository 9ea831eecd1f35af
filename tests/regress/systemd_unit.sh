#!/usr/bin/env bash
# The shipped unit: Type=notify, and hardened so that systemd-analyze
# security scores it 2.5 or better.  Then, when root, the hub started
# with only the unit's capability bounding set still confines itself
# (chroot, user, seccomp) and serves: the set holds what it needs.
. "$(dirname "$0")/lib.sh"
UNIT=$CEPTOAR_SRCDIR/config/ceptoard.service

grep -qx 'Type=notify' "$UNIT" || fail "the unit is not Type=notify"
grep -q '^WatchdogSec=' "$UNIT" || fail "the unit sets no watchdog"

if ! command -v systemd-analyze >/dev/null; then
	echo "skip [$SCENARIO]: systemd-analyze is not installed (package" \
	    "systemd), so the unit's exposure cannot be scored here"
	exit 77
fi
out=$(systemd-analyze security --offline=yes "$UNIT" 2>&1) ||
    true
score=$(sed -nE 's/.*Overall exposure level for ceptoard.service: ([0-9.]+).*/\1/p' \
    <<<"$out")
[ -n "$score" ] || fail "no score from systemd-analyze: $out"
python3 -c "import sys; sys.exit(0 if float('$score') <= 2.5 else 1)" ||
    fail "the unit's exposure is $score, above 2.5: $(grep '✗' <<<"$out")"
pass "systemd-analyze security scores the unit $score"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "skip [$SCENARIO]: the capability check needs root and setpriv"
	exit 0
fi
caps=$(sed -nE 's/^CapabilityBoundingSet=(.*)/\1/p' "$UNIT" |
    tr 'A-Z' 'a-z' | sed -E 's/cap_/+/g; s/ +/,/g')
[ -n "$caps" ] || fail "the unit has no CapabilityBoundingSet"
HUBUSER=ceptoard-test
id "$HUBUSER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$HUBUSER" ||
    fail "cannot create the user $HUBUSER"
JAIL=$WORK/jail
mkdir -p "$JAIL/store"
chmod 755 "$JAIL"
# As a packager would: the store's folder belongs to the hub's user.
chown "$HUBUSER" "$JAIL/store"
chmod 700 "$JAIL/store"
HUB_WRAPPER="setpriv --bounding-set=-all,$caps ${HUB_WRAPPER:-}" \
    HUB_STORE=$JAIL/store/hub.db start_hub "user: $HUBUSER
chroot: $JAIL"
wait_log "ceptoard.sandbox uid=[1-9][0-9]* gid=[0-9]+ chroot=\"$JAIL\" seccomp=on"
expect_eq "$(awk '/^CapBnd:/ {print $2}' "/proc/$HUB_PID/status")" \
    "$(setpriv --bounding-set=-all,$caps grep '^CapBnd:' /proc/self/status |
    awk '{print $2}')" "the hub ran with the unit's bounding set"
# The worker, which parses what the network sends, keeps none; the
# parent keeps the unit's set to read tls_key again and start workers.
expect_eq "$(awk '/^CapEff:/ {print $2}' "/proc/$(worker_pid)/status")" \
    0000000000000000 "no capability is left to the worker once it is its user"
make_report "$WORK/r.json"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "a submit to the hub under the unit's capabilities ($ERR)"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "a delivery from it"
stop_hub
pass "the unit's capabilities ($caps) are enough to confine and serve"
