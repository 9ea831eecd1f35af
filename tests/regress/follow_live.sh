#!/usr/bin/env bash
# A following inbox receives a report as soon as it is committed, and what
# it acknowledged is not delivered again.  A follower that does not
# acknowledge gets, from memory, exactly what a later read from the store
# gives.
. "$(dirname "$0")/lib.sh"
start_hub

timeout 60 "$CEPTOAR" -c "$WORK/clients/fsa-liaison.conf" --json inbox \
    --follow >"$WORK/follow.out" 2>"$WORK/follow.err" &
follower=$!
BG_PIDS+=("$follower")
wait_log "deliver.subscribe .*org=fsa-liaison .*follow=yes"
timeout 60 "$CEPTOAR" -c "$WORK/clients/nisc.conf" --json inbox \
    --follow --no-ack >"$WORK/nisc-live.out" 2>"$WORK/nisc-live.err" &
nisc_follower=$!
BG_PIDS+=("$nisc_follower")
wait_log "deliver.subscribe .*org=nisc .*follow=yes"

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
# No submit follows the last acknowledgement: it is stored on its own
# once its wait for a group ends, while the follower stays connected.
acked=no
for ((i = 0; i < 200; i++)); do
	if [ "$(grep -Ec 'deliver.ack .*org=fsa-liaison' "$HUB_LOG")" -ge 3 ]
	then
		acked=yes
		break
	fi
	sleep 0.05
done
expect_eq "$acked" yes "acknowledgements with no group to join are stored"
stop_bg "$follower"

cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 0 "acknowledged live deliveries are not resent"
pass "live delivery"

for ((i = 0; i < 100; i++)); do
	[ "$(grep -c hub_id "$WORK/nisc-live.out" || true)" -ge 3 ] && break
	sleep 0.05
done
stop_bg "$nisc_follower"
expect_eq "$(grep -c hub_id "$WORK/nisc-live.out")" 3 "three live deliveries to nisc"
cli_json nisc inbox --no-ack
expect_eq "$RC" 0 "nisc reads its inbox from the store ($ERR)"
expect_eq "$OUT" "$(cat "$WORK/nisc-live.out")" \
    "live deliveries are byte for byte what the store gives"
pass "live and stored deliveries agree"

# A clean stop writes what still waits for a group: here the sent time of
# a delivery that a connected follower never acknowledged.
make_report "$WORK/r4.json" "" "Live report 4"
cli_json bank-a submit "$WORK/r4.json"
expect_eq "$RC" 0 "submit 4 ($ERR)"
r4=$(json_field hub_id)
timeout 60 "$CEPTOAR" -c "$WORK/clients/nisc.conf" --json inbox \
    --follow --no-ack >"$WORK/nisc-stop.out" 2>"$WORK/nisc-stop.err" &
stopping_follower=$!
BG_PIDS+=("$stopping_follower")
# The three it left unacknowledged come again, then report 4's form.
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c hub_id "$WORK/nisc-stop.out" || true)" -ge 4 ] && break
	sleep 0.05
done
expect_eq "$(grep -c hub_id "$WORK/nisc-stop.out")" 4 "nisc follows report 4"
stop_hub
stop_bg "$stopping_follower"
start_hub
cli_json bank-a receipts "$r4"
expect_eq "$RC" 0 "receipts of report 4 ($ERR)"
nisc_sent=$(grep '"recipient": "nisc"' <<<"$OUT" | python3 -c \
    'import json,sys; print(json.loads(sys.stdin.readline())["delivered_at"])')
expect_eq "$([ "$nisc_sent" != None ] && echo yes || echo no)" yes \
    "the sent time queued as the hub stopped is stored ($nisc_sent)"
pass "a clean stop stores queued delivery marks"
