#!/usr/bin/env bash
# The review desk at a liaison that reviews what goes up (forward_up:
# review): a mandatory report held there is re-announced to the liaison,
# its reporter is told it still waits and sees the hop waiting in its
# receipts; an anonymised report held there shows no reporter on the
# liaison's desk, and when the liaison rejects it the reporter is told
# through its secretariat, while the liaison learns nothing of who that
# is (not in its desk, its show, nor the acknowledgement of its decision).
. "$(dirname "$0")/lib.sh"
sed 's/ministry: fsa, sectors: \[finance\] }/ministry: fsa, sectors: [finance], forward_up: review }/' \
    "$DIRECTORY" >"$WORK/directory.yaml"
grep -q "forward_up: review" "$WORK/directory.yaml" ||
    fail "the test directory has fsa-liaison on one line"
HUB_DIRECTORY=$WORK/directory.yaml
# Mandatory reports have no CEPTOAR: the hub's times apply.
start_hub "review_reminder: 2
review_notify_sender: 4"

# A mandatory report waits at the liaison.
make_report "$WORK/m.json"
cli_json bank-a submit "$WORK/m.json"
expect_eq "$RC" 0 "submit ($ERR)"
mid=$(json_field hub_id)
expect_eq "$(json_field held)" True "it waits for the liaison"
cli_json fsa-liaison review
expect_eq "$RC" 0 "liaison review list ($ERR)"
expect_eq "$(count_lines)" 1 "one item on the liaison's desk"
expect_eq "$(json_field reporter)" bank-a "an attributable report names its reporter"
cli_json bank-a receipts "$mid"
expect_contains "$OUT" '"waiting_since": "' "the held hop shows as waiting"
wait_log "route.review.remind holder=fsa-liaison hub_id=$mid " 20
wait_log "route.review.notify_sender holder=fsa-liaison hub_id=$mid .*to=bank-a" 20
wait_inbox bank-a
expect_eq "$RC" 0 "reporter inbox ($ERR)"
expect_eq "$(json_any notice)" still_waiting "the reporter is told it waits"
expect_eq "$(json_any held_by)" fsa-liaison "at the liaison"
expect_eq "$(json_field sender)" fsa-liaison "told by the liaison that holds it"
cli_json bank-a inbox
cli_json fsa-liaison review release "$mid"
expect_eq "$RC" 0 "the liaison releases ($ERR)"
cli_json nisc inbox
expect_eq "$(count_lines)" 1 "NISC gets the mandatory report"
cli_json bank-a receipts "$mid"
expect_contains "$OUT" '"released_at": "' "released, in the receipts"

# A voluntary report: released by the secretariat, held by the liaison.
make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit voluntary ($ERR)"
vid=$(json_field hub_id)
cli_json banks-sec review release "$vid"
expect_eq "$RC" 0 "the secretariat releases ($ERR)"
cli_json fsa-liaison review
expect_eq "$RC" 0 "liaison review list ($ERR)"
expect_eq "$(count_lines)" 1 "the anonymised report waits for the liaison"
expect_eq "$(json_field reporter)" "" "no reporter above the secretariat"
expect_eq "$(json_field sender)" banks-sec "from the secretariat"
expect_eq "$(json_field form)" anonymised "held in the anonymised form"
aid=$(json_field hub_id)
for leak in bank-a "Bank A" "Sato Hanako" "$vid"; do
	expect_not_contains "$OUT" "$leak" "the liaison's desk must not show '$leak'"
done
cli_json fsa-liaison review show "$aid"
expect_eq "$RC" 0 "liaison review show ($ERR)"
for leak in bank-a "Bank A" "Sato Hanako" "$vid"; do
	expect_not_contains "$OUT" "$leak" "the liaison's show must not show '$leak'"
done
cli_json fsa-liaison review reject "$aid" --reason "Not relevant for NISC."
expect_eq "$RC" 0 "the liaison rejects ($ERR)"
for leak in bank-a "$vid"; do
	expect_not_contains "$OUT$ERR" "$leak" "the acknowledgement must not show '$leak'"
done
wait_inbox bank-a
expect_eq "$RC" 0 "reporter inbox ($ERR)"
expect_contains "$OUT" '"notice": "rejected"' "the reporter is told"
expect_contains "$OUT" "Not relevant for NISC." "with the reason"
expect_contains "$OUT" '"sender": "banks-sec"' "through its secretariat"
cli_json bank-a receipts "$vid"
expect_contains "$OUT" '"rejected_at": "' "rejected, in the receipts"
cli_json nisc inbox
expect_eq "$RC" 0 "nisc inbox ($ERR)"
expect_eq "$(count_lines)" 0 "nothing of the rejected report reaches NISC"
pass "review desk at a liaison: reminders, notices, no reporter above the secretariat"
