#!/usr/bin/env bash
# A report reaches exactly the sector's liaison and NISC, nobody else.
. "$(dirname "$0")/lib.sh"
start_hub

uuid=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/report.json" "$uuid"
cli_json bank-a submit "$WORK/report.json"
expect_eq "$RC" 0 "submit exit status ($ERR)"
hub_id=$(json_field hub_id)
[ -n "$hub_id" ] || fail "submit printed no hub_id: $OUT"
expect_contains "$OUT" "fsa-liaison" "the ack lists the liaison"
expect_contains "$OUT" "nisc" "the ack lists NISC"
expect_log "submit.accepted .*org=bank-a hub_id=$hub_id .*forms=2 recipients=2"

# The liaison holds hop 0; NISC gets hop 1, passed on in the liaison's name.
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "fsa-liaison inbox exit status ($ERR)"
expect_eq "$(count_lines)" 1 "fsa-liaison receives exactly one delivery"
expect_eq "$(count_hub_id "$hub_id")" 1 "fsa-liaison receives the report"
expect_eq "$(json_field sender)" bank-a "fsa-liaison sees the sender"
expect_eq "$(json_field hop)" 0 "fsa-liaison holds hop 0"
expect_contains "$OUT" "Payment gateway unreachable" "fsa-liaison sees the title"
cli_json nisc inbox
expect_eq "$(count_lines)" 1 "nisc receives exactly one delivery"
expect_eq "$(count_uuid "$uuid")" 1 "nisc receives the report"
expect_eq "$(json_field sender)" fsa-liaison "nisc gets it from the liaison"
expect_eq "$(json_field hop)" 1 "nisc is hop 1"
expect_contains "$OUT" "bank-a" "a mandatory report names its reporter to nisc"
expect_contains "$OUT" "Payment gateway unreachable" "nisc sees the title"

for org in mic-liaison bank-b banks-sec tel-a jpcert bank-lone; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org inbox exit status ($ERR)"
	expect_eq "$(count_lines)" 0 "$org receives nothing"
done
# A telecom outage at the legal threshold is flagged for its recipients.
python3 - "$WORK/report.json" >"$WORK/tel.json" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["impact"] = {"users_affected": 30000, "duration_minutes": 120}
print(json.dumps(r))
PY
cli_json tel-a submit "$WORK/tel.json"
expect_eq "$RC" 0 "telecom report ($ERR)"
cli_json mic-liaison inbox
expect_contains "$OUT" "threshold reached: telecom: 30,000 users for 2 hours" \
    "the liaison sees the threshold flag"
pass "report routed to fsa-liaison and nisc only"
