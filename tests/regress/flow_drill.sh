#!/usr/bin/env bash
# A drill is marked as one at every hop and in every view.
. "$(dirname "$0")/lib.sh"
start_hub

DRILL_JSON='"drill": true,' make_voluntary "$WORK/d.json"
cli_json bank-a submit --accept-warnings "$WORK/d.json"
expect_eq "$RC" 0 "drill submit ($ERR)"
cli_json banks-sec inbox
expect_contains "$OUT" '"drill": true' "hop 0 is marked"
cli_json banks-sec forward "$(json_field hub_id)"
for org in fsa-liaison nisc; do
	cli_json "$org" inbox --no-ack
	expect_contains "$OUT" '"drill": true' "$org's form is marked"
	cli "$org" inbox --no-ack
	expect_contains "$OUT" "DRILL" "$org's text view says DRILL"
done
cli_json nisc inbox --no-ack
cli_json nisc reply "$(json_field hub_id)" "Drill question."
cli_json banks-sec inbox
expect_contains "$OUT" '"drill": true' "an answer to a drill is a drill"
pass "drills"
