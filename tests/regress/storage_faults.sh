#!/usr/bin/env bash
# A failing sync, a failing commit and a full filesystem each make submits
# fail with a clear error, while what is stored is still delivered and
# nothing stored is corrupted; once the fault is gone, submits work again.
. "$(dirname "$0")/lib.sh"

# Submit one report titled $1 as bank-a: its uuid in $UUID, added to
# acked.txt if the hub acknowledged it; status and stderr in $RC, $ERR.
submit_one() {
	UUID=$(cat /proc/sys/kernel/random/uuid)
	make_report "$WORK/s.json" "$UUID" "$1"
	cli_json bank-a submit "$WORK/s.json"
	if [ "$RC" -eq 0 ]; then
		echo "$UUID" >>"$WORK/acked.txt"
	fi
}

# Submit n reports as bank-a; a refusal must be a clear store-failed.
submit_some() {
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		submit_one "${TITLE:-Fault test report}"
		if [ "$RC" -ne 0 ]; then
			expect_eq "$RC" 1 "a refused submit ($ERR)"
			expect_contains "$ERR" "store-failed" "the refusal names the code"
			expect_contains "$ERR" "NOT accepted" "and says it was not taken"
			echo "$UUID" >>"$WORK/refused.txt"
		fi
	done
}

# Every acked uuid reached the liaison; no refused one did.
check_delivered() {
	local what=$1
	cli_json fsa-liaison inbox
	expect_eq "$RC" 0 "$what: reads go on ($ERR)"
	printf '%s\n' "$OUT" >>"$WORK/got.txt"
	python3 - "$WORK" <<'PY' || fail "$what: deliveries do not match the acks"
import json, sys
w = sys.argv[1]
read = lambda f: [l.strip() for l in open(w + "/" + f) if l.strip()] if __import__("os").path.exists(w + "/" + f) else []
acked, refused = set(read("acked.txt")), set(read("refused.txt"))
got = {json.loads(l)["message"]["uuid"] for l in read("got.txt") if l.startswith("{")}
assert acked <= got, ("lost", acked - got)
assert not (refused & got), ("delivered but refused", refused & got)
print("acked %d refused %d delivered %d" % (len(acked), len(refused), len(got)))
PY
}

# Fault injection (a -Dtest_hooks=true build): the 3rd and 4th sync
# after start fail; then the 2nd commit.
specs="sync:3:2 commit:2:1"
if ! have_test_hooks; then
	echo "skip [$SCENARIO]: fault injection needs -Dtest_hooks=true"
	specs=
fi
for spec in $specs; do
	rm -f "$WORK/acked.txt" "$WORK/refused.txt" "$WORK/got.txt"
	CEPTOARD_FAULT=$spec start_hub
	submit_some 8
	[ -s "$WORK/refused.txt" ] || fail "$spec: no submit failed"
	[ -s "$WORK/acked.txt" ] || fail "$spec: no submit succeeded"
	expect_log "store.fault .*op=${spec%%:*}"
	expect_log "store.error op=commit"
	check_delivered "$spec"
	# After the fault: a clean restart, and the store is sound.
	stop_hub
	start_hub
	check_delivered "$spec after restart"
	if command -v sqlite3 >/dev/null; then
		expect_eq "$(sqlite3 "$WORK/store/hub.db" 'PRAGMA integrity_check;')" ok \
		    "$spec: the store is intact"
	fi
	stop_hub
	rm -rf "$WORK/store"
	mkdir -p "$WORK/store"
	HUB_PORT=0
done

# A real full filesystem: a 1 MiB tmpfs, nearly filled.
if [ "$(id -u)" -ne 0 ]; then
	echo "skip [$SCENARIO]: the full-filesystem part needs root to mount a tmpfs"
	[ -n "$specs" ] || exit 77
	pass "storage faults (fault injection only)"
	exit 0
fi
mkdir -p "$WORK/full"
mount -t tmpfs -o size=1m tmpfs "$WORK/full" ||
    fail "cannot mount a tmpfs for the full-filesystem test"
CLEANUP_EXTRA="umount '$WORK/full'"
rm -f "$WORK/acked.txt" "$WORK/refused.txt" "$WORK/got.txt"
HUB_STORE=$WORK/full/hub.db start_hub
TITLE="Before the disk is full" submit_some 3
[ ! -s "$WORK/refused.txt" ] || fail "submits failed before the disk filled"
avail=$(df -k --output=avail "$WORK/full" | tail -n 1)
dd if=/dev/zero of="$WORK/full/filler" bs=1k count=$((avail - 24)) 2>/dev/null || true
TITLE="The disk is full" submit_some 6
[ -s "$WORK/refused.txt" ] || fail "no submit failed on a full filesystem"
check_delivered "full filesystem"
rm -f "$WORK/full/filler"
: >"$WORK/refused.txt"
TITLE="Space again" submit_some 2
[ ! -s "$WORK/refused.txt" ] || fail "submits still fail once space is back"
check_delivered "space again"
stop_hub
expect_eq "$(sqlite3 "$WORK/full/hub.db" 'PRAGMA integrity_check;')" ok \
    "the store on the full filesystem is intact"

# The audit trail on the full filesystem, the store elsewhere: once an
# entry cannot be written the hub refuses what it had not acknowledged,
# stops, and exits with status 1; every acknowledged submit is in the
# trail.
rm -f "$WORK/full/"* "$WORK/acked.txt" "$WORK/refused.txt"
start_hub "audit_log: $WORK/full/audit.log"
TITLE="Audited" submit_some 1
[ -s "$WORK/acked.txt" ] || fail "the audited submit was not acknowledged"
avail=$(df -k --output=avail "$WORK/full" | tail -n 1)
dd if=/dev/zero of="$WORK/full/filler" bs=1k count="$avail" 2>/dev/null || true
refused=
for ((i = 0; i < 60; i++)); do
	submit_one "Audit trail full"
	if [ "$RC" -ne 0 ]; then
		refused=$ERR
		break
	fi
done
[ -n "$refused" ] || fail "no submit was refused with the audit trail full"
expect_contains "$refused" "not acknowledged" \
    "the submit whose entry could not be written is refused"
wait_gone "$HUB_PID" 20 || fail "the hub did not stop when its audit trail failed"
status=0
wait "$HUB_PID" 2>/dev/null || status=$?
HUB_PID=
expect_eq "$status" 1 "the hub exits with status 1 after audit.failed"
expect_log "audit.failed path=$WORK/full/audit.log op=write"
while read -r uuid; do
	grep -q "uuid=$uuid " "$WORK/full/audit.log" ||
	    fail "acknowledged submit $uuid is not in the audit trail"
done <"$WORK/acked.txt"

umount "$WORK/full"
CLEANUP_EXTRA=
pass "storage faults: fsync, write, full filesystem, full audit trail"
