#!/usr/bin/env bash
# A voluntary report goes to the reporter's CEPTOAR secretariat, which
# reviews it; once forwarded, the liaison and NISC get the anonymised form
# with the secretariat's note, and nothing that names the reporter.
. "$(dirname "$0")/lib.sh"
start_hub

uuid=$(cat /proc/sys/kernel/random/uuid)
make_voluntary "$WORK/v.json" "$uuid"

# CEPTOAR banks has two members: the reporter is warned before sending.
cli_json bank-a submit "$WORK/v.json"
expect_eq "$RC" 3 "a small anonymity set stops the submit ($ERR)"
expect_contains "$ERR" "easy to trace back" "the warning says why"
expect_contains "$ERR" "--accept-warnings" "the warning says how to go on"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 0 "nothing was sent"

cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit with the warning accepted ($ERR)"
hub_id=$(json_field hub_id)
expect_eq "$(json_field held)" True "the report waits for the secretariat"
expect_contains "$OUT" "banks-sec" "the ack names the secretariat"

# Only the secretariat has it, as sent, and it must act.
for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 0 "$org has nothing before the review"
done
cli_json banks-sec inbox
expect_eq "$(count_lines)" 1 "the secretariat receives the report"
expect_eq "$(json_field review)" True "the secretariat holds it for review"
expect_eq "$(json_field sender)" bank-a "the secretariat knows its member"
held=$(json_field hub_id)
cli banks-sec inbox --no-ack
cli banks-sec show "$held"
expect_contains "$OUT" "ceptoar forward" "the text view says what to do"

# A member that is not the holder cannot forward it.
cli_json bank-b forward "$held"
expect_eq "$RC" 1 "only the holder forwards"
expect_contains "$ERR" "not-holder" "refusal code"

cli_json banks-sec forward "$held" --note "Checked with the member; shared as a near miss."
expect_eq "$RC" 0 "the secretariat forwards ($ERR)"
released=$(json_field hub_id)
# Released once: a second release is answered with what the first did.
cli_json banks-sec forward "$held"
expect_eq "$RC" 0 "a second forward ($ERR)"
expect_eq "$(json_field hub_id)" "$released" "is the first one"
expect_contains "$OUT" '"duplicate": true' "marked as a duplicate"

for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 1 "$org receives the anonymised report"
	expect_eq "$(json_field form)" anonymised "$org gets the anonymised form"
	for leak in bank-a "Bank A" "エー銀行" "Sato Hanako" "hanako.sato" "5555-0101" "$uuid" "$hub_id"; do
		expect_not_contains "$OUT" "$leak" "$org must not see '$leak'"
	done
	expect_contains "$OUT" "anon-" "$org sees a pseudonym"
	expect_contains "$OUT" "Checked with the member" "$org sees the note"
	expect_contains "$OUT" "Firewall rule pushed" "$org sees the title"
	expect_contains "$OUT" "banks-sec" "$org sees the relaying secretariat"
	[ "$org" != nisc ] || nisc_id=$(json_field hub_id)
done

# The holder of the anonymised form cannot reach the original.
cli_json nisc show "$hub_id"
expect_eq "$RC" 2 "the original is not visible above the secretariat"
not_there=$(cat /proc/sys/kernel/random/uuid)
err_original=${ERR//$hub_id/X}
cli_json nisc show "$not_there"
expect_eq "${ERR//$not_there/X}" "$err_original" "the same answer as for no message"

# The reporter sees every hop of its report.
cli_json bank-a receipts "$hub_id"
expect_eq "$RC" 0 "receipts ($ERR)"
expect_contains "$OUT" '"recipient": "banks-sec"' "hop 0 receipt"
expect_contains "$OUT" '"recipient": "fsa-liaison"' "hop 1 receipt"
expect_contains "$OUT" '"recipient": "nisc"' "hop 2 receipt"
expect_contains "$OUT" '"acked_at": "' "acknowledged times are shown"
expect_log "route.forward .*org=banks-sec"
expect_log "route.recipient .*org=nisc hop=2 form=anonymised"
[ -n "$nisc_id" ] || fail "nisc has a hub id"
pass "voluntary report, review, anonymised forward"
