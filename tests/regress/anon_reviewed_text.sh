#!/usr/bin/env bash
# Issue 12, item 3: the secretariat's reviewed text (forward --text-file)
# and its note go up on an anonymised form; what the scrubber would
# replace in them (the report's contact, the reporter's names, a mail
# address) refuses the forward, naming the field and the byte span and
# never logging the text, and the secretariat edits.
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
    "free_text": "Kato Ichiro caught it within 4 minutes."
  }
}
JSON
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit ($ERR)"
cli_json banks-sec inbox
held=$(json_field hub_id)

# The contact's name, which the scrubber turns into [person].
printf 'Reviewed: Kato Ichiro caught the change within 4 minutes.\n' \
    >"$WORK/bad.txt"
cli_json banks-sec forward "$held" --text-file "$WORK/bad.txt"
expect_eq "$RC" 1 "reviewed text naming the contact is refused"
expect_contains "$ERR" "invalid-field" "refusal code"
expect_contains "$ERR" "forward.free_text" "the field is named"
expect_contains "$ERR" "bytes 10 to 21" "the span is named"
expect_contains "$ERR" "[person]" "what the scrubber saw"
expect_log "anon.refused .*field=forward.free_text offset=10 length=11"
grep -q "Kato" "$HUB_LOG" && fail "the hub's log must not carry the text"

cli_json banks-sec forward "$held" --note "Our member Bank A checked it."
expect_eq "$RC" 1 "a note naming the reporter is refused"
expect_contains "$ERR" "forward.note" "the field is named"
expect_contains "$ERR" "[organisation]" "what the scrubber saw"
cli_json banks-sec forward "$held" --note "Ask desk csirt@bank-a.example."
expect_eq "$RC" 1 "a note with a mail address is refused"
expect_contains "$ERR" "bytes 9 to 29" "the span of the address"

for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org inbox ($ERR)"
	expect_eq "$(count_lines)" 0 "nothing went up while refused"
done

printf 'Reviewed: the change was caught within 4 minutes.\n' >"$WORK/ok.txt"
cli_json banks-sec forward "$held" --text-file "$WORK/ok.txt" \
    --note "Checked with the member."
expect_eq "$RC" 0 "the edited text goes up ($ERR)"
for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 1 "$org receives the report"
	expect_contains "$OUT" "the change was caught" "$org reads the reviewed text"
	for leak in Kato Ichiro "Bank A" bank-a; do
		expect_not_contains "$OUT" "$leak" "$org must not see '$leak'"
	done
done
pass "reviewed text and notes go up checked"
