#!/usr/bin/env bash
# Submitting the same report (same uuid) again returns the original id
# and delivers nothing twice; the same uuid for other content is refused.
. "$(dirname "$0")/lib.sh"
start_hub

uuid=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r.json" "$uuid"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "first submit ($ERR)"
id1=$(json_field hub_id)
expect_eq "$(json_field duplicate)" False "first submit is not a duplicate"

cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "repeated submit ($ERR)"
expect_eq "$(json_field hub_id)" "$id1" "repeat returns the original id"
expect_eq "$(json_field duplicate)" True "repeat is marked duplicate"
expect_log "submit.duplicate .*hub_id=$id1"

make_report "$WORK/changed.json" "$uuid" "Different title"
cli_json bank-a submit "$WORK/changed.json"
expect_eq "$RC" 1 "reused uuid with other content is refused"
expect_contains "$ERR" "idempotency-conflict" "the error names the code"
expect_contains "$ERR" "$uuid" "the error names the uuid"

# Another operator may use the same uuid: keys are per sender.
sed 's/Sato Hanako/Suzuki Ichiro/' "$WORK/r.json" >"$WORK/b.json"
cli_json bank-b submit "$WORK/b.json"
expect_eq "$RC" 0 "same uuid from another sender ($ERR)"
[ "$(json_field hub_id)" != "$id1" ] || fail "another sender got the same id"

cli_json fsa-liaison inbox
expect_eq "$(count_hub_id "$id1")" 1 "the liaison got the first report once"
expect_eq "$(count_lines)" 2 "the liaison got one report from each bank"
cli_json nisc inbox
expect_eq "$(count_uuid "$uuid")" 2 "NISC got each bank's report once"
pass "idempotent submits"
