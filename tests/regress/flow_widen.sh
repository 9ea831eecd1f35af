#!/usr/bin/env bash
# NISC asks to widen a report's range; only the reporter can agree; once
# it has, NISC may share where it could not before.
. "$(dirname "$0")/lib.sh"
start_hub

make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
report=$(json_field hub_id)
cli_json banks-sec inbox
cli_json banks-sec forward "$(json_field hub_id)"
cli_json nisc inbox
nisc_id=$(json_field hub_id)

cli_json nisc forward "$nisc_id" --to broker-a
expect_eq "$RC" 1 "outside the range before consent"
expect_contains "$ERR" "range-refused" "refusal code"

cli_json nisc widen "$nisc_id" --scope named_organisations --org broker-a --reason "Broker A runs the same firewall."
expect_eq "$RC" 0 "NISC asks ($ERR)"
cli_json banks-sec inbox
cli_json bank-a inbox
expect_eq "$(count_lines)" 1 "the reporter receives the request"
req=$(json_field hub_id)
cli_json banks-sec consent "$req" --approve
expect_eq "$RC" 2 "the secretariat cannot consent for its member"
cli_json bank-a consent "$req" --approve --note "Agreed."
expect_eq "$RC" 0 "the reporter consents ($ERR)"
expect_log "route.widened .*report=$report"

cli_json nisc forward "$nisc_id" --to broker-a
expect_eq "$RC" 0 "within the widened range ($ERR)"
cli_json broker-a inbox
expect_eq "$(count_lines)" 1 "broker-a receives it"
expect_not_contains "$OUT" "bank-a" "still anonymised"
pass "widening by consent"
