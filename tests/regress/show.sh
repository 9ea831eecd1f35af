#!/usr/bin/env bash
# show: the sender sees its message with the recipients; a recipient sees
# it; anybody else is told it does not exist.
. "$(dirname "$0")/lib.sh"
start_hub
make_report "$WORK/r.json"
cli_json bank-a submit "$WORK/r.json"
hub_id=$(json_field hub_id)

cli_json bank-a show "$hub_id"
expect_eq "$RC" 0 "sender can show ($ERR)"
expect_contains "$OUT" "Payment gateway unreachable" "sender sees the report"
expect_contains "$OUT" "fsa-liaison" "sender sees the recipients"

cli_json fsa-liaison show "$hub_id"
expect_eq "$RC" 0 "recipient can show ($ERR)"
expect_contains "$OUT" "Payment gateway unreachable" "recipient sees the report"

cli_json bank-b show "$hub_id"
expect_eq "$RC" 2 "a stranger gets not found"
expect_contains "$ERR" "not-found" "the error names the code"
pass "show"
