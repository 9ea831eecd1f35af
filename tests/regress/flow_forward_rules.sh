#!/usr/bin/env bash
# A hop holder may tighten the label, never loosen it; shares beyond the
# path are checked against TLP and the reporter's range; re-provision by
# NISC produces the de-identified form.
. "$(dirname "$0")/lib.sh"
start_hub

SCOPE=sector_ceptoar make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit ($ERR)"
cli_json banks-sec inbox
held=$(json_field hub_id)

cli_json banks-sec forward "$held" --tlp TLP:GREEN
expect_eq "$RC" 1 "loosening the label is refused"
expect_contains "$ERR" "tlp-refused" "refusal code"
expect_contains "$ERR" "never loosen" "refusal reason"
cli_json banks-sec forward "$held" --tlp TLP:AMBER+STRICT --note "Tightened."
expect_eq "$RC" 0 "tightening is allowed ($ERR)"
cli_json fsa-liaison inbox
expect_contains "$OUT" "TLP:AMBER+STRICT" "the liaison gets the tightened label"
liaison_id=$(json_field hub_id)
cli_json nisc inbox
expect_contains "$OUT" "TLP:AMBER+STRICT" "NISC gets the tightened label too"

# AMBER+STRICT: the liaison may not pass it to anyone.
cli_json fsa-liaison forward "$liaison_id" --to bank-b
expect_eq "$RC" 1 "AMBER+STRICT stays in the liaison's organisation"
expect_contains "$ERR" "tlp-refused" "refusal code"
expect_contains "$ERR" "bank-b" "the refusal names the recipient"

# NISC holds it at AMBER+STRICT too; a fresh AMBER report for re-provision.
SCOPE=sector_ceptoar make_voluntary "$WORK/w.json"
cli_json bank-a submit --accept-warnings "$WORK/w.json"
cli_json banks-sec inbox
cli_json banks-sec forward "$(json_field hub_id)"
expect_eq "$RC" 0 "forward ($ERR)"
cli_json nisc inbox
nisc_id=$(json_field hub_id)

# Range sector_ceptoar: bank-b (same CEPTOAR) yes, tel-a (telecom) no.
cli_json nisc forward "$nisc_id" --to tel-a
expect_eq "$RC" 1 "outside the reporter's range"
expect_contains "$ERR" "range-refused" "refusal code"
expect_contains "$ERR" "only the reporter can widen it" "refusal reason"
cli_json nisc forward "$nisc_id" --to bank-b --to tel-a
expect_eq "$RC" 1 "one bad recipient refuses the whole list"
cli_json bank-b inbox
expect_eq "$(count_lines)" 0 "nothing went out"
cli_json nisc forward "$nisc_id" --to bank-b --note "Re-provision: check your firewall change process."
expect_eq "$RC" 0 "re-provision within the range ($ERR)"
cli_json bank-b inbox
expect_eq "$(count_lines)" 1 "bank-b receives the re-provision"
expect_eq "$(json_field form)" anonymised "in de-identified form"
expect_not_contains "$OUT" "bank-a" "the reporter is not named"
expect_not_contains "$OUT" "Sato" "the contact is not named"
expect_contains "$OUT" "Re-provision" "with NISC's note"
pass "tighten, never loosen; shares within TLP and range"
