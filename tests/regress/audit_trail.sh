#!/usr/bin/env bash
# The audit trail: a hub with audit_log records a report's acceptance,
# its routing, its delivery and its acknowledgement, and a refusal; after
# a clean stop ceptoard -A finds the chain intact, with the head the hub
# logged.  A torn last line (a crash while writing) is kept and recorded
# at the next start.  One byte flipped in an entry is named by -A, by -n,
# and by the hub, which refuses to start.  What is audited is recorded
# whatever the log level.
. "$(dirname "$0")/lib.sh"

AUDIT=$WORK/audit.log

# Run ceptoard -A on the trail; output in $OUT, status in $RC.
verify_trail() {
	set +e
	OUT=$("$CEPTOARD" -A "$AUDIT" 2>&1)
	RC=$?
	set -e
}

start_hub "audit_log: $AUDIT"
expect_log "audit.open path=$AUDIT entries=0 "
[ "$(stat -c %a "$AUDIT")" = 600 ] || fail "the trail is not mode 600"

make_report "$WORK/r1.json"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "submit ($ERR)"
id1=$(json_field hub_id)
# Acknowledged means already in the trail (fsynced before the ack).
grep -Eq "^[0-9]+ [0-9]+ submit.accepted .*hub_id=$id1 " "$AUDIT" ||
    fail "the acknowledged submit is not in the trail"

cli_json fsa-liaison inbox
expect_eq "$RC" 0 "fsa-liaison inbox ($ERR)"
expect_eq "$(count_hub_id "$id1")" 1 "the liaison received the report"
wait_log "deliver.ack .*org=fsa-liaison"

# A refusal: a certificate from the right CA naming no organisation.
client_conf stranger "$PKI/orgs/stranger.crt"
cli stranger ping
expect_eq "$RC" 77 "unknown organisation refused ($OUT)"
wait_log "session.close .*org=- "

stop_hub
expect_log "ceptoard.stopped"
closed=$(grep 'audit.close' "$HUB_LOG" | tail -n 1)
[ -n "$closed" ] || fail "no audit.close line in the hub's log"
entries=$(sed -E 's/.* entries=([0-9]+) .*/\1/' <<<"$closed")
head=$(sed -E 's/.* head=([0-9a-f]{64}).*/\1/' <<<"$closed")

verify_trail
expect_eq "$RC" 0 "ceptoard -A on the trail: $OUT"
expect_contains "$OUT" "audit: $entries entries, chain intact; head $head" \
    "-A agrees with the head the hub logged"
trail=$(cat "$AUDIT")
expect_contains "$(head -n 1 "$AUDIT")" "ceptoard-audit 1 blake2b-256 id=" \
    "the header names the format"
for ev in "ceptoard.ready" "session.tls" "session.hello .*org=bank-a" \
    "submit.accepted .*hub_id=$id1" "route.recipient .*org=fsa-liaison" \
    "route.recipient .*org=nisc" "deliver.sent .*org=fsa-liaison" \
    "deliver.ack .*org=fsa-liaison" "session.error .*code=unknown-organisation" \
    "session.close .*org=-" "ceptoard.stopping" "ceptoard.stopped"; do
	grep -Eq "^[0-9]+ [0-9]+ $ev" <<<"$trail" ||
	    fail "the trail has no entry matching: $ev"
done
expect_not_contains "$trail" "session.open" "session.open is not audited"
expect_not_contains "$trail" "deliver.subscribe" "subscriptions are not audited"

# A crash tears the last line: -A says so; the next start keeps the bytes
# and records them, and the chain is intact again.
python3 - "$AUDIT" <<-'PY'
	import os, sys
	p = sys.argv[1]
	os.truncate(p, os.path.getsize(p) - 20)
	PY
verify_trail
expect_eq "$RC" 1 "-A on a torn trail"
expect_contains "$OUT" "entry $entries (line $((entries + 1))) is broken: the last line is cut short" \
    "-A names the torn line"
start_hub "audit_log: $AUDIT"
expect_log "audit.torn path=$AUDIT line=$((entries + 1)) "
make_report "$WORK/r2.json"
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$RC" 0 "submit after the torn restart ($ERR)"
stop_hub
verify_trail
expect_eq "$RC" 0 "-A after the torn line was recorded: $OUT"
expect_contains "$OUT" "chain intact" "intact again"
expect_contains "$OUT" "1 torn line(s)" "-A reports the torn line"

# What is audited reaches the trail whatever the log shows: at log_level
# info the hub logs no route.recipient line, and the trail still has one
# for each recipient.
logged=$(wc -l <"$HUB_LOG")
HUB_LOG_LEVEL=info start_hub "audit_log: $AUDIT"
make_report "$WORK/r3.json"
cli_json bank-a submit "$WORK/r3.json"
expect_eq "$RC" 0 "submit at log_level info ($ERR)"
id3=$(json_field hub_id)
for org in fsa-liaison nisc; do
	grep -Eq "^[0-9]+ [0-9]+ route.recipient .*(hub_id|origin)=$id3 .*org=$org " \
	    "$AUDIT" || fail "the trail has no route.recipient of $id3 for $org"
done
expect_not_contains "$(tail -n +"$((logged + 1))" "$HUB_LOG")" \
    "route.recipient" \
    "log_level info keeps route.recipient out of the log"
stop_hub

# Flip one byte in the middle of an entry: the first acceptance.
target=$(python3 - "$AUDIT" <<-'PY'
	import sys
	p = sys.argv[1]
	data = bytearray(open(p, "rb").read())
	lines = data.split(b"\n")
	for i, l in enumerate(lines):
	    if b" submit.accepted " in l and i > 2:
	        off = sum(len(x) + 1 for x in lines[:i]) + len(l) // 2
	        data[off] ^= 0x01
	        open(p, "wb").write(bytes(data))
	        print(l.split(b" ")[0].decode(), i + 1)
	        break
	PY
)
read -r seq line <<<"$target"
[ -n "$seq" ] || fail "no entry to tamper with"
verify_trail
expect_eq "$RC" 1 "-A on the tampered trail: $OUT"
expect_contains "$OUT" "audit: entry $seq (line $line) is broken: its hash does not match" \
    "-A names the changed entry"

set +e
out=$("$CEPTOARD" -n -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "-n refuses the tampered trail ($out)"
expect_contains "$out" "entry $seq (line $line) is broken" "-n names the entry"

before=$(grep -c 'ceptoard.ready' "$HUB_LOG")
set +e
out=$(timeout 20 "$CEPTOARD" -d -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 1 "the hub refuses to start on a tampered trail ($out)"
expect_contains "$out" "entry $seq (line $line) is broken" \
    "the refusal names the entry"
expect_not_contains "$out" "ceptoard.ready" "the hub did not start"
# The evidence is left as it was found: nothing appended.
verify_trail
expect_contains "$OUT" "audit: entry $seq (line $line) is broken" \
    "the tampered trail is left alone"
pass "audit trail: recorded, verified, torn line kept, tampering named"
