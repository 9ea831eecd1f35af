#!/usr/bin/env bash
# NISC asks the pseudonym of an anonymised report a question: it reaches
# the reporter through its secretariat, and the answer comes back the same
# way, without NISC learning who it is.
. "$(dirname "$0")/lib.sh"
start_hub

make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
cli_json banks-sec inbox
cli_json banks-sec forward "$(json_field hub_id)"
cli_json nisc inbox
nisc_id=$(json_field hub_id)

cli_json nisc reply "$nisc_id" "Which firewall product was involved?"
expect_eq "$RC" 0 "NISC asks the pseudonym ($ERR)"
expect_not_contains "$OUT" "bank-a" "NISC's ack does not name the reporter"
cli_json nisc receipts "$(json_field hub_id)"
expect_not_contains "$OUT" "bank-a" "NISC's receipts do not name the reporter"

cli_json banks-sec inbox
expect_contains "$OUT" "Which firewall product" "the secretariat relays it"
cli_json bank-a inbox
expect_eq "$(count_lines)" 1 "the reporter receives the question"
expect_contains "$OUT" "Which firewall product" "with its text"
qid=$(json_field hub_id)

cli_json bank-a reply "$qid" "Vendor X, version 9. Contact csirt@bank-a.example or Bank A Holdings."
expect_eq "$RC" 0 "the reporter answers ($ERR)"
expect_eq "$(json_field held)" True "the answer waits for the secretariat's review"
cli_json nisc inbox
expect_eq "$(count_lines)" 0 "nothing reaches NISC before the review"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 1 "the secretariat holds the answer"
cli_json banks-sec forward "$(json_field hub_id)" --note "Relayed for our member."
expect_eq "$RC" 0 "the secretariat passes the answer on ($ERR)"
cli_json nisc inbox
expect_contains "$OUT" "Vendor X" "NISC receives the answer"
for leak in bank-a "Bank A Holdings" "csirt@bank-a.example"; do
	expect_not_contains "$OUT" "$leak" "NISC must not see '$leak'"
done
pass "questions to a pseudonym"
