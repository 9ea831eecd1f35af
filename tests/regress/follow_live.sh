#!/usr/bin/env bash
# A following inbox receives a report as soon as it is committed, and what
# it acknowledged is not delivered again.
. "$(dirname "$0")/lib.sh"
start_hub

timeout 60 "$CEPTOAR" -c "$WORK/clients/fsa-liaison.conf" --json inbox \
    --follow >"$WORK/follow.out" 2>"$WORK/follow.err" &
follower=$!
BG_PIDS+=("$follower")
wait_log "deliver.subscribe .*org=fsa-liaison .*follow=yes"

for i in 1 2 3; do
	make_report "$WORK/r$i.json" "" "Live report $i"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
done
for ((i = 0; i < 100; i++)); do
	[ "$(grep -c hub_id "$WORK/follow.out" || true)" -ge 3 ] && break
	sleep 0.05
done
expect_eq "$(grep -c hub_id "$WORK/follow.out")" 3 "three live deliveries"
wait_log "deliver.ack .*org=fsa-liaison"
for ((i = 0; i < 100; i++)); do
	[ "$(grep -Ec 'deliver.ack .*org=fsa-liaison' "$HUB_LOG")" -ge 3 ] && break
	sleep 0.05
done
kill -TERM "$follower"
wait "$follower" 2>/dev/null || true

cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 0 "acknowledged live deliveries are not resent"
pass "live delivery"
