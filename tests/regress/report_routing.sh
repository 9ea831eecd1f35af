#!/usr/bin/env bash
# A report reaches exactly the sector's liaison and NISC, nobody else.
. "$(dirname "$0")/lib.sh"
start_hub

make_report "$WORK/report.json"
cli_json bank-a submit "$WORK/report.json"
expect_eq "$RC" 0 "submit exit status ($ERR)"
hub_id=$(json_field hub_id)
[ -n "$hub_id" ] || fail "submit printed no hub_id: $OUT"
expect_contains "$OUT" "fsa-liaison" "the ack lists the liaison"
expect_contains "$OUT" "nisc" "the ack lists NISC"
expect_log "submit.accepted .*org=bank-a hub_id=$hub_id .*recipients=2"

for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org inbox exit status ($ERR)"
	expect_eq "$(count_lines)" 1 "$org receives exactly one delivery"
	expect_eq "$(count_hub_id "$hub_id")" 1 "$org receives the report"
	expect_eq "$(json_field sender)" bank-a "$org sees the sender"
	expect_contains "$OUT" "Payment gateway unreachable" "$org sees the title"
done

for org in mic-liaison bank-b banks-sec tel-a jpcert bank-lone; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org inbox exit status ($ERR)"
	expect_eq "$(count_lines)" 0 "$org receives nothing"
done
pass "report routed to fsa-liaison and nisc only"
