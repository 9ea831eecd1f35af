#!/usr/bin/env bash
# No form the hub makes is larger than its clients accept.  A near miss
# of about 1 MB whose contact name is short and repeated grows past the
# Deliver frame limit once anonymised (each "Ito" becomes "[person]").
# Released by the secretariat, it once made the liaison's and NISC's
# inbox exit 69 on every try, and everything after it waited behind it.
# Now the secretariat is told (the limit, by how much) or, with a
# scrubber that bounds its growth, the form fits; either way the
# inboxes work and later reports arrive.
. "$(dirname "$0")/lib.sh"
start_hub

python3 - "$WORK/big.json" <<'PY'
import json, sys, uuid
value = "a" + "Ito " * 240
r = {
  "type": "report", "uuid": str(uuid.uuid4()), "tlp": "TLP:AMBER",
  "report": {
    "kind": "near_miss",
    "contact": {"name": "Ito", "phone": "+81-3-5555-0101",
                "email": "csirt@bank-a.example"},
    "legally_mandated": False, "cause": "unintentional",
    "event_type": "threat_worth_sharing",
    "severity": {"continuity": 1, "safety": 0, "trust": 1},
    "sharing": {"scope": "liaison_and_nisc"},
    "title": "Near miss reported by Ito",
    "free_text": "Ito noticed it in time.",
    "indicators": [{"type": "other", "value": value} for _ in range(1024)],
  }
}
json.dump(r, open(sys.argv[1], "w"))
PY
cli_json bank-a submit --accept-warnings "$WORK/big.json"
expect_eq "$RC" 0 "the near miss is accepted ($ERR)"
cli_json banks-sec inbox
expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
held=$(json_field hub_id)
[ -n "$held" ] || fail "the secretariat holds nothing"
printf 'Reviewed: a near miss, caught in time.\n' >"$WORK/reviewed.txt"
cli_json banks-sec forward "$held" --text-file "$WORK/reviewed.txt"
kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died"
if [ "$RC" -ne 0 ]; then
	expect_contains "$ERR" "invalid-field" "the refusal's code"
	expect_contains "$ERR" "Deliver frame" "the refusal says what is too large"
	expect_contains "$ERR" "bytes clients accept" "and the limit"
	expect_log "relay.oversized .*hop=1 form=anonymised"
fi

# Whatever became of it, the inboxes above work and take what follows.
make_report "$WORK/later.json" "" "Later mandatory report"
cli_json bank-b submit "$WORK/later.json"
expect_eq "$RC" 0 "a later mandatory report ($ERR)"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox works ($ERR)"
expect_contains "$OUT" "Later mandatory report" "the liaison gets the later report"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox works ($ERR)"
expect_contains "$OUT" "Later mandatory report" "NISC gets the later report"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox again ($ERR)"
expect_eq "$(count_lines)" 0 "nothing is left stuck in NISC's inbox"
pass "forms fit what clients accept; no inbox stalls on one"
