#!/usr/bin/env bash
# One request's store error fails that request alone.  A secretariat
# reuses a forward's uuid for a share to more members, whose form then
# collides with the first share's in the store, while an unrelated
# operator's mandatory reports and a liaison's acknowledgements share the
# group commit: every report is accepted, no acknowledgement is lost, and
# the secretariat gets idempotency-conflict naming the uuid.
. "$(dirname "$0")/lib.sh"
start_hub

SCOPE=sector_ceptoar make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "voluntary report ($ERR)"
cli_json banks-sec inbox
expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
held=$(json_field hub_id)
[ -n "$held" ] || fail "the secretariat holds nothing"
U=$(cat /proc/sys/kernel/random/uuid)
cli_json banks-sec forward "$held" --to bank-b --uuid "$U"
expect_eq "$RC" 0 "first share ($ERR)"

# Deliveries for the liaison to acknowledge while the groups run.
for i in 1 2 3 4 5 6; do
	make_report "$WORK/pre$i.json" "" "Earlier report $i"
	cli_json broker-a submit "$WORK/pre$i.json"
	expect_eq "$RC" 0 "earlier report $i ($ERR)"
done

N=24
mkdir -p "$WORK/load"
for ((i = 0; i < N; i++)); do
	make_report "$WORK/load/r$i.json" "" "Concurrent report $i"
done
pids=()
for ((i = 0; i < N; i++)); do
	(
		set +e
		timeout 90 "$CEPTOAR" -c "$WORK/clients/broker-a.conf" --json \
		    submit "$WORK/load/r$i.json" >"$WORK/load/out$i" \
		    2>"$WORK/load/err$i"
		echo $? >"$WORK/load/rc$i"
	) &
	pids+=($!)
	if ((i % 8 == 4)); then
		(
			set +e
			timeout 90 "$CEPTOAR" -c "$WORK/clients/banks-sec.conf" \
			    --json forward "$held" --to bank-a --to bank-b \
			    --uuid "$U" >"$WORK/load/fw$i" 2>"$WORK/load/fwerr$i"
			echo $? >"$WORK/load/fwrc$i"
		) &
		pids+=($!)
	fi
	if ((i == 2)); then
		# One after the other: two inboxes at once both get what is
		# unacknowledged, which is not what this counts.
		(
			set +e
			for j in 1 2 3 4; do
				timeout 90 "$CEPTOAR" \
				    -c "$WORK/clients/fsa-liaison.conf" --json \
				    inbox >"$WORK/load/in$j" 2>"$WORK/load/inerr$j"
				echo $? >"$WORK/load/inrc$j"
			done
		) &
		pids+=($!)
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died"

failed=0
for ((i = 0; i < N; i++)); do
	rc=$(cat "$WORK/load/rc$i")
	[ "$rc" != 0 ] || continue
	# A connection lost under a slow run (valgrind, a busy machine) is
	# retried as the client advises, with the same uuid; what counts is
	# that the hub refused no report.
	if ! grep -q "hub error" "$WORK/load/err$i"; then
		cli_json broker-a submit "$WORK/load/r$i.json"
		rc=$RC
		[ "$rc" = 0 ] || printf '%s\n' "$ERR" >"$WORK/load/err$i"
	fi
	if [ "$rc" != 0 ]; then
		failed=$((failed + 1))
		echo "report $i: rc=$rc $(cat "$WORK/load/err$i")" >&2
	fi
done
expect_eq "$failed" 0 "concurrent reports refused"
expect_not_contains "$(cat "$WORK"/load/err* 2>/dev/null)" "store-failed" \
    "no store failure reached the unrelated operator"
for f in "$WORK"/load/fwrc*; do
	i=${f##*fwrc}
	# Lost on the way (not answered): asked again, with the same uuid.
	if [ "$(cat "$f")" != 1 ] || ! grep -q "hub error" "$WORK/load/fwerr$i"; then
		cli_json banks-sec forward "$held" --to bank-a --to bank-b \
		    --uuid "$U"
		printf '%s\n' "$ERR" >"$WORK/load/fwerr$i"
		echo "$RC" >"$f"
	fi
	expect_eq "$(cat "$f")" 1 "the colliding share is refused"
done
fwerr=$(cat "$WORK"/load/fwerr*)
expect_contains "$fwerr" "idempotency-conflict" "with its own code"
expect_contains "$fwerr" "$U" "naming the uuid"
expect_not_contains "$fwerr" "store-failed" "not as a store failure"

# What the liaison acknowledged stays acknowledged: nothing comes twice.
# A run whose connection was lost (a slow run) may not have acknowledged
# what it printed: only runs that ended well count.
: >"$WORK/load/inboxes"
for j in 1 2 3 4; do
	if [ "$(cat "$WORK/load/inrc$j")" = 0 ]; then
		cat "$WORK/load/in$j" >>"$WORK/load/inboxes"
	else
		expect_not_contains "$(cat "$WORK/load/inerr$j")" "hub error" \
		    "the liaison's inbox during the load"
	fi
done
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's last inbox ($ERR)"
all=$(cat "$WORK/load/inboxes"; printf '%s\n' "$OUT")
OUT=$all
total=$(grep -c '"hub_id"' <<<"$all" || true)
distinct=$(grep -o '"hub_id": *"[^"]*"' <<<"$all" | sort -u | wc -l)
expect_eq "$total" "$distinct" "deliveries sent twice (acknowledgements lost)"
if ! grep -qv '^0$' "$WORK"/load/inrc*; then
	expect_eq "$distinct" $((6 + N)) "the liaison got every report once"
fi
# The first share is as it was; bank-a got no copy from the refused one.
cli_json bank-b inbox
expect_eq "$RC" 0 "bank-b's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "bank-b has the first share only"
pass "a colliding request fails alone; the rest of its group commits"
