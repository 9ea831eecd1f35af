#!/usr/bin/env bash
# An operator asks its liaison whether something must be reported and
# gets the answer in the same thread.
. "$(dirname "$0")/lib.sh"
start_hub

cli_json bank-a consult --to liaison "Must a 90-minute outage of online banking for 20,000 users be reported?"
expect_eq "$RC" 0 "consultation ($ERR)"
qid=$(json_field hub_id)
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "the liaison receives the question"
expect_contains "$OUT" "90-minute outage" "with its text"
cli_json nisc inbox
expect_eq "$(count_lines)" 0 "NISC is not asked"

cli_json fsa-liaison reply "$qid" "Yes: report it under the Banking Act within 24 hours."
expect_eq "$RC" 0 "the liaison answers ($ERR)"
cli_json bank-a inbox
expect_eq "$(count_lines)" 1 "the operator receives the answer"
expect_eq "$(json_field in_reply_to)" "$qid" "in the same thread"
expect_contains "$OUT" "Banking Act" "with its text"

cli_json bank-b reply "$qid" "I was not asked."
expect_eq "$RC" 2 "only a recipient can answer"
pass "consultation"
