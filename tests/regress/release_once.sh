#!/usr/bin/env bash
# A held form is released once.  Five releases of one held report sent
# at once, each with its own label (and its own uuid, as the client
# makes one), once gave the liaison five copies; now the first release
# goes out and every other, then or later, is answered with what the
# first did: the same hub id, marked as a duplicate.
. "$(dirname "$0")/lib.sh"
start_hub

SCOPE=sector_ceptoar make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "voluntary report ($ERR)"
cli_json banks-sec inbox
expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
held=$(json_field hub_id)
[ -n "$held" ] || fail "the secretariat holds nothing"

labels=(TLP:AMBER TLP:AMBER+STRICT TLP:RED "" TLP:AMBER+STRICT)
pids=()
for i in 0 1 2 3 4; do
	args=()
	[ -z "${labels[$i]}" ] || args=(--tlp "${labels[$i]}")
	(
		set +e
		timeout 90 "$CEPTOAR" -c "$WORK/clients/banks-sec.conf" --json \
		    forward "$held" "${args[@]}" --note "release $i" \
		    >"$WORK/fw$i" 2>"$WORK/fwerr$i"
		echo $? >"$WORK/fwrc$i"
	) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || true
done
kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died"
ids=()
for i in 0 1 2 3 4; do
	expect_eq "$(cat "$WORK/fwrc$i")" 0 "release $i ($(cat "$WORK/fwerr$i"))"
	OUT=$(cat "$WORK/fw$i")
	ids+=("$(json_field hub_id)")
done
expect_eq "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" 1 \
    "every release answered with the same hub id (${ids[*]})"
dups=$(cat "$WORK"/fw[0-4] | grep -c '"duplicate": *true' || true)
expect_eq "$dups" 4 "four of them as duplicates"

cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "the liaison gets one copy"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "NISC gets one copy"

# Later, once the first is durable: the same answer.
cli_json banks-sec forward "$held" --tlp TLP:RED
expect_eq "$RC" 0 "a later release ($ERR)"
expect_eq "$(json_field hub_id)" "${ids[0]}" "answered with the first's hub id"
expect_contains "$OUT" '"duplicate": true' "as a duplicate"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(count_lines)" 0 "and nothing more went out"
pass "a held form is released once"
