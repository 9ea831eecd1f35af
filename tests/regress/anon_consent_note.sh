#!/usr/bin/env bash
# Issue 12, item 2: the reporter's consent answer goes up through the one
# gate.  Its note names the reporter, its contact (the report's, which is
# not the directory's), a mail address and a phone; what NISC receives,
# marked anonymised, carries none of it.
. "$(dirname "$0")/lib.sh"
start_hub

cat >"$WORK/v.json" <<JSON
{
  "type": "report", "uuid": "$(cat /proc/sys/kernel/random/uuid)",
  "tlp": "TLP:AMBER",
  "report": {
    "kind": "near_miss",
    "contact": { "name": "Kato Ichiro", "phone": "+81-3-5555-0177",
                 "email": "ichiro.kato@bank-a.example" },
    "legally_mandated": false, "cause": "unintentional",
    "event_type": "threat_worth_sharing",
    "severity": { "continuity": 1, "safety": 0, "trust": 1 },
    "title": "Firewall rule pushed to the wrong cluster",
    "free_text": "Caught within 4 minutes."
  }
}
JSON
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit ($ERR)"
cli_json banks-sec inbox
cli_json banks-sec forward "$(json_field hub_id)"
expect_eq "$RC" 0 "the secretariat releases the report ($ERR)"
cli_json nisc inbox
nisc_id=$(json_field hub_id)
cli_json nisc widen "$nisc_id" --scope named_organisations --org broker-a \
    --reason "Broker A runs the same firewall."
expect_eq "$RC" 0 "NISC asks to widen ($ERR)"
cli_json banks-sec inbox
cli_json bank-a inbox
req=$(json_field hub_id)
[ -n "$req" ] || fail "the reporter received the request"

note="Bank A declines; ask Kato Ichiro at csirt@bank-a.example, 03-5555-0177"
cli_json bank-a consent "$req" --decline --note "$note"
expect_eq "$RC" 0 "the reporter answers ($ERR)"
cli_json banks-sec inbox
held=$(json_field hub_id)
expect_contains "$OUT" "Kato Ichiro" "the secretariat reads its member's words"
if [ "$(json_field review)" = True ]; then
	cli_json banks-sec forward "$held"
	expect_eq "$RC" 0 "the secretariat passes the answer on ($ERR)"
fi
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_contains "$OUT" "consent_answer" "NISC receives the consent answer"
expect_contains "$OUT" "declines" "with the rest of the note"
expect_eq "$(json_field form)" anonymised "in the anonymised form"
for leak in "Bank A" bank-a "Kato" "Ichiro" "csirt@" "5555-0177"; do
	expect_not_contains "$OUT" "$leak" "NISC must not see '$leak'"
done
pass "a consent note goes up scrubbed"
