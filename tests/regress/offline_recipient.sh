#!/usr/bin/env bash
# A recipient that was offline gets the report when it connects; what it
# has not acknowledged comes again; what it acknowledged does not.
. "$(dirname "$0")/lib.sh"
start_hub

make_report "$WORK/one.json" "" "First report"
make_report "$WORK/two.json" "" "Second report"
cli_json bank-a submit "$WORK/one.json"
expect_eq "$RC" 0 "first submit ($ERR)"
first=$(json_field hub_id)
cli_json bank-a submit "$WORK/two.json"
expect_eq "$RC" 0 "second submit ($ERR)"
second=$(json_field hub_id)

# Read without acknowledging: both arrive, in order.
cli_json fsa-liaison inbox --no-ack
expect_eq "$RC" 0 "inbox --no-ack ($ERR)"
expect_eq "$(count_lines)" 2 "both reports delivered"
expect_eq "$(json_field hub_id)" "$first" "delivered in order"
seq1=$(json_field seq)

# Not acknowledged, so delivered again; resuming after the first cursor
# skips it.
cli_json fsa-liaison inbox --no-ack --after "$seq1"
expect_eq "$(count_lines)" 1 "resume after the first cursor"
expect_eq "$(json_field hub_id)" "$second" "resumed delivery is the second"

cli_json fsa-liaison inbox --limit 1
expect_eq "$(count_lines)" 1 "limit 1 gives one"
expect_eq "$(json_field hub_id)" "$first" "limit gives the oldest"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "the first was acknowledged, the second remains"
expect_eq "$(json_field hub_id)" "$second" "the second remains"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 0 "everything acknowledged"
expect_log "deliver.ack .*org=fsa-liaison"

# NISC, which never connected, still has both.
cli_json nisc inbox
expect_eq "$(count_lines)" 2 "NISC's inbox is independent"
pass "offline delivery, redelivery and cursors"
