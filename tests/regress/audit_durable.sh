#!/usr/bin/env bash
# The audit trail never runs ahead of the disk.  With fsyncs failing,
# every submit.accepted in the trail was acknowledged to its sender and
# every acknowledged submit is in the trail; a submit the disk lost is
# recorded as submit.refused, never as accepted.  The same for a review
# desk's release: route.review.release is recorded once the forward is
# durable, and a release the disk refused is recorded as refused.
# Delivery acknowledgements (deliver.ack) are recorded too.
. "$(dirname "$0")/lib.sh"
need_test_hooks

AUDIT=$WORK/audit.log

# Submit one report titled $1 as bank-a: its uuid goes to acked.txt or
# (refused with a clear store-failed) to refused.txt.
submit_one() {
	UUID=$(cat /proc/sys/kernel/random/uuid)
	make_report "$WORK/s.json" "$UUID" "$1"
	cli_json bank-a submit "$WORK/s.json"
	if [ "$RC" -eq 0 ]; then
		echo "$UUID" >>"$WORK/acked.txt"
	else
		expect_eq "$RC" 1 "a refused submit ($ERR)"
		expect_contains "$ERR" "store-failed" "the refusal names the code"
		echo "$UUID" >>"$WORK/refused.txt"
	fi
}

# Check the trail (stopped hub) with ceptoard -A, then against the
# acknowledged and refused uuids.
check_trail() {
	local what=$1
	set +e
	OUT=$("$CEPTOARD" -A "$AUDIT" 2>&1)
	RC=$?
	set -e
	expect_eq "$RC" 0 "$what: ceptoard -A on the trail: $OUT"
	python3 - "$WORK" "$AUDIT" <<'PY' || fail "$what: the trail does not match what the senders were told"
import os, re, sys
w, trail = sys.argv[1], sys.argv[2]
def read(f):
    p = os.path.join(w, f)
    return {l.strip() for l in open(p) if l.strip()} if os.path.exists(p) else set()
acked, refused = read("acked.txt"), read("refused.txt")
accepted, refusals = set(), set()
for line in open(trail):
    m = re.match(r"^\d+ \d+ (submit\.\w+) (.*) [0-9a-f]{64}$", line.rstrip("\n"))
    if not m:
        continue
    u = re.search(r"(?:^| )uuid=(\S+)", m.group(2))
    if u is None:
        continue
    if m.group(1) == "submit.accepted":
        accepted.add(u.group(1))
    elif m.group(1) == "submit.refused":
        refusals.add(u.group(1))
ok = True
for msg, bad in (("accepted in the trail, never acknowledged", accepted - acked),
                 ("acknowledged, not in the trail", acked - accepted),
                 ("refused, without a submit.refused entry", refused - refusals),
                 ("refused, yet accepted in the trail", refused & accepted)):
    if bad:
        print("%s: %s" % (msg, sorted(bad)), file=sys.stderr)
        ok = False
print("acked %d refused %d; trail: accepted %d refused %d" %
      (len(acked), len(refused), len(accepted), len(refusals)))
sys.exit(0 if ok else 1)
PY
}

# 1. Submits while the 3rd and 4th sync fail: some are refused, some
# acknowledged, and the trail says exactly that.
CEPTOARD_FAULT=sync:3:2 start_hub "audit_log: $AUDIT"
for ((i = 0; i < 8; i++)); do
	submit_one "Audited under a failing disk $i"
done
[ -s "$WORK/refused.txt" ] || fail "no submit failed with the fsyncs failing"
[ -s "$WORK/acked.txt" ] || fail "no submit succeeded"
expect_log "store.fault .*op=sync"
# The recipients acknowledge what they got: deliver.ack, once durable.
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "fsa-liaison inbox ($ERR)"
[ "$(count_lines)" -ge 1 ] || fail "the liaison received nothing"
wait_log "deliver.ack .*org=fsa-liaison .*newly_acked=[1-9]"
stop_hub
check_trail "failing fsync"
grep -Eq "^[0-9]+ [0-9]+ submit.refused .*phase=sync " "$AUDIT" ||
    fail "the group the failed sync lost is not recorded as refused"
grep -Eq "^[0-9]+ [0-9]+ deliver.ack .*org=fsa-liaison .*newly_acked=[1-9]" \
    "$AUDIT" || fail "the liaison's acknowledgement is not in the trail"

# 2. A review desk's release.  A voluntary report held by the sector's
# secretariat; with every fsync failing the release is refused and the
# trail has no release, but a refusal; once the disk works the release
# is acknowledged and recorded.
rm -f "$WORK/acked.txt" "$WORK/refused.txt"
start_hub "audit_log: $AUDIT"
for v in 1 2; do
	SCOPE=sector_ceptoar make_voluntary "$WORK/v$v.json"
	cli_json bank-a submit --accept-warnings "$WORK/v$v.json"
	expect_eq "$RC" 0 "voluntary report $v ($ERR)"
	cli_json banks-sec inbox
	expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
	expect_eq "$(count_lines)" 1 "the secretariat holds report $v"
	printf -v "held$v" %s "$(json_field hub_id)"
done
[ -n "$held1" ] && [ -n "$held2" ] && [ "$held1" != "$held2" ] ||
    fail "the secretariat does not hold two reports ($held1, $held2)"
stop_hub

CEPTOARD_FAULT=sync:1:100000 start_hub "audit_log: $AUDIT"
cli_json banks-sec forward "$held1" --note "release under a failing disk"
expect_eq "$RC" 1 "the release is refused while the disk fails ($OUT)"
expect_contains "$ERR" "store-failed" "the refusal names the code"
stop_hub
set +e
OUT=$("$CEPTOARD" -A "$AUDIT" 2>&1)
RC=$?
set -e
expect_eq "$RC" 0 "ceptoard -A after the refused release: $OUT"
trail=$(cat "$AUDIT")
expect_not_contains "$trail" "route.review.release" \
    "a refused release is not recorded as released"
expect_not_contains "$trail" "route.forward session=" \
    "a refused forward is not recorded as forwarded"
grep -Eq "^[0-9]+ [0-9]+ submit.refused .*org=banks-sec .*phase=sync " \
    "$AUDIT" || fail "the refused release is not recorded as refused"

start_hub "audit_log: $AUDIT"
held=$held2
cli_json banks-sec forward "$held" --note "release once the disk works"
expect_eq "$RC" 0 "the release once the disk works ($ERR)"
fwd=$(json_field hub_id)
[ -n "$fwd" ] || fail "the release names no hub id"
stop_hub
grep -Eq "^[0-9]+ [0-9]+ route.review.release .*org=banks-sec hub_id=$held " \
    "$AUDIT" || fail "the acknowledged release is not in the trail"
grep -Eq "^[0-9]+ [0-9]+ submit.accepted .*org=banks-sec hub_id=$fwd " \
    "$AUDIT" || fail "the acknowledged forward is not in the trail"
# In the trail, the release follows the acceptance it belongs to.
awk -v f="$fwd" -v h="$held" '
	$3 == "submit.accepted" && index($0, "hub_id=" f " ") { a = NR }
	$3 == "route.review.release" && index($0, "hub_id=" h " ") { r = NR }
	END { exit !(a && r && a < r) }' "$AUDIT" ||
    fail "the release is not recorded after its forward is accepted"

pass "the audit trail follows the disk: submits, acknowledgements, releases"
