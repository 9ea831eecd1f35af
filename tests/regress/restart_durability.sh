#!/usr/bin/env bash
# Every acknowledged report survives the hub being killed (SIGKILL) and
# being stopped cleanly, and is delivered after the restart.
. "$(dirname "$0")/lib.sh"
start_hub

ids=()
for i in $(seq 1 15); do
	make_report "$WORK/r$i.json" "" "Report $i"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
	ids+=("$(json_field hub_id)")
done
kill_hub
start_hub
expect_eq "$(grep -c ceptoard.ready "$HUB_LOG")" 2 "hub restarted"

cli_json fsa-liaison inbox --no-ack
expect_eq "$(count_lines)" 15 "all acknowledged reports after SIGKILL"
for id in "${ids[@]}"; do
	expect_eq "$(count_hub_id "$id")" 1 "report $id present once"
done

# A repeat of an acknowledged submit after the restart is a duplicate.
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$(json_field hub_id)" "${ids[0]}" "idempotency survives the restart"

stop_hub
expect_log "ceptoard.stopped"
start_hub
cli_json nisc inbox
expect_eq "$(count_lines)" 15 "NISC has every report after a clean restart"
pass "acknowledged reports survive SIGKILL and restart"
