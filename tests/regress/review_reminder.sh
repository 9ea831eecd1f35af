#!/usr/bin/env bash
# Reminders of the review desk (times made small through the directory):
# an item held longer than its CEPTOAR's review_reminder is announced to
# the secretariat again, and after review_notify_sender the reporter is
# told it still waits; nobody above the secretariat hears of it.  The
# reporter's receipts show the held hop as waiting, since when.  Each
# notice is written once, also across a restart.
. "$(dirname "$0")/lib.sh"
AUDIT=$WORK/audit.log
sed 's/secretariat: banks-sec }/secretariat: banks-sec, review_reminder: 1s, review_notify_sender: 3s }/' \
    "$DIRECTORY" >"$WORK/directory.yaml"
grep -q "review_notify_sender: 3s" "$WORK/directory.yaml" ||
    fail "the test directory has the banks CEPTOAR on one line"
HUB_DIRECTORY=$WORK/directory.yaml
# The hub-wide default is long: the CEPTOAR's own times must win.
start_hub "audit_log: $AUDIT
review_reminder: 86400
review_notify_sender: 86400"

make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit ($ERR)"
id=$(json_field hub_id)
cli_json bank-a receipts "$id"
expect_eq "$RC" 0 "receipts ($ERR)"
expect_contains "$OUT" '"waiting_since": "' "the held hop shows as waiting"

# The reminder comes to the secretariat's inbox, after the report.
wait_log "route.review.remind holder=banks-sec hub_id=$id " 20
wait_inbox banks-sec 2
expect_eq "$RC" 0 "secretariat inbox ($ERR)"
expect_eq "$(count_lines)" 2 "the report and one reminder"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 2 "read and acknowledged"
expect_eq "$(json_any notice)" reminder "a reminder notice"
expect_eq "$(json_any in_reply_to)" "$id" "about the held report, by the id it holds"
cli_json banks-sec review
expect_eq "$(count_lines)" 1 "it is still on the desk"

# Later the reporter is told it still waits; nobody else.
wait_log "route.review.notify_sender holder=banks-sec hub_id=$id .*to=bank-a" 20
wait_inbox bank-a
expect_eq "$RC" 0 "reporter inbox ($ERR)"
expect_eq "$(count_lines)" 1 "the reporter is told"
expect_eq "$(json_any notice)" still_waiting "a still-waiting notice"
expect_eq "$(json_any in_reply_to)" "$id" "naming its own report"
expect_eq "$(json_any held_by)" banks-sec "and who holds it"
for org in fsa-liaison nisc bank-b; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org inbox ($ERR)"
	expect_eq "$(count_lines)" 0 "$org hears nothing of it"
done
grep -q "route.review.remind .*hub_id=$id" "$AUDIT" ||
    fail "the reminder is in the audit trail"
grep -q "route.review.notify_sender .*hub_id=$id" "$AUDIT" ||
    fail "the notice to the sender is in the audit trail"

# A restart finds the item again but writes no second notice.
stop_hub
start_hub "audit_log: $AUDIT
review_reminder: 86400
review_notify_sender: 86400"
wait_log "submit.duplicate session=hub org=banks-sec " 20
cli_json banks-sec inbox
expect_eq "$RC" 0 "secretariat inbox after the restart ($ERR)"
expect_eq "$(count_lines)" 0 "no second reminder"
cli_json bank-a inbox
expect_eq "$RC" 0 "reporter inbox after the restart ($ERR)"
expect_eq "$(count_lines)" 1 "still the one notice (unacknowledged before)"

# Released, the receipts say so and the reminders stop.
cli_json banks-sec review release "$id"
expect_eq "$RC" 0 "release ($ERR)"
cli_json bank-a receipts "$id"
expect_contains "$OUT" '"released_at": "' "the receipts show the release"
expect_not_contains "$OUT" "waiting_since" "no longer waiting"
pass "review reminders: secretariat re-announced, reporter told, once"
