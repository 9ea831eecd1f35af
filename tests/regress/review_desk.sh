#!/usr/bin/env bash
# The secretariat's review desk over real TLS: what waits for review is
# listed (reporter, kind, severity, TLP, age) and stays listed after the
# inbox has acknowledged it; "show" puts the original beside exactly what
# would go up, with what the scrubber replaced and could not vouch for
# marked; release as sent, release with edited text (scrubbed again),
# reject with a reason the reporter reads; each decision in the audit
# trail and in the reporter's receipts.
. "$(dirname "$0")/lib.sh"
AUDIT=$WORK/audit.log
start_hub "audit_log: $AUDIT"

# Three near misses from bank-a, and one more that stays waiting.
submit_voluntary() {
	cli_json bank-a submit --accept-warnings "$1"
	expect_eq "$RC" 0 "submit $1 ($ERR)"
	expect_eq "$(json_field held)" True "$1 waits for the secretariat"
	expect_contains "$OUT$ERR" "easy to trace back" \
	    "the submit itself carries the anonymity-set warning"
}
make_voluntary "$WORK/v1.json"
submit_voluntary "$WORK/v1.json"
id1=$(json_field hub_id)
python3 - "$WORK/v1.json" "$WORK/v2.json" <<'PY'
import json, sys, uuid
m = json.load(open(sys.argv[1]))
m["uuid"] = str(uuid.uuid4())
m["report"]["title"] = "VPN left open after a vendor visit"
m["report"]["free_text"] = ("Sato Hanako found it; the vendor 株式会社ミナミ "
    "left the VPN open. Call +81-3-5555-0101.")
json.dump(m, open(sys.argv[2], "w"), ensure_ascii=False)
PY
submit_voluntary "$WORK/v2.json"
id2=$(json_field hub_id)
make_voluntary "$WORK/v3.json"
submit_voluntary "$WORK/v3.json"
id3=$(json_field hub_id)
make_voluntary "$WORK/v4.json"
submit_voluntary "$WORK/v4.json"
id4=$(json_field hub_id)

# The inbox acknowledges what it prints; the desk keeps listing it.
cli_json banks-sec inbox
expect_eq "$RC" 0 "secretariat inbox ($ERR)"
expect_eq "$(count_lines)" 4 "the secretariat receives the four reports"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 0 "the inbox has nothing left once acknowledged"
for round in 1 2; do
	cli_json banks-sec review
	expect_eq "$RC" 0 "review list, round $round ($ERR)"
	expect_eq "$(count_lines)" 4 "four items wait, round $round"
done
expect_eq "$(json_field hub_id)" "$id1" "oldest first"
expect_eq "$(json_field reporter)" bank-a "the secretariat sees its member"
expect_eq "$(json_field kind)" report/near_miss "the kind"
expect_eq "$(json_field tlp)" TLP:AMBER "the label"
expect_eq "$(json_field severity)" 1 "the overall severity"
python3 -c 'import json,sys
for l in sys.stdin:
    j=json.loads(l); assert j["held_since"].endswith("Z"), j
    assert 0 <= j["age_seconds"] < 600, j' <<<"$OUT" || fail "age and since"
cli banks-sec review
expect_eq "$RC" 0 "review list as text"
expect_contains "$OUT" "reporter  bank-a" "the text list names the reporter"
expect_contains "$OUT" "waiting " "the text list gives the age"

# Nobody else has a desk for these.
for org in bank-b fsa-liaison nisc; do
	cli_json "$org" review
	expect_eq "$RC" 0 "$org review list ($ERR)"
	expect_eq "$(count_lines)" 0 "nothing waits for $org"
	cli_json "$org" review show "$id1"
	expect_eq "$RC" 2 "$org cannot look at bank-a's report"
done

# Show: the original beside the exact form that would go up.
cli_json banks-sec review show "$id2"
expect_eq "$RC" 0 "review show ($ERR)"
expect_eq "$(json_field vouched)" False "the scrubber cannot vouch for v2"
expect_eq "$(json_field next_form_kind)" anonymised "it goes up anonymised"
printf '%s\n' "$OUT" >"$WORK/show2.json"
python3 - "$WORK/show2.json" <<'PY' || fail "show's spans"
import json, sys
sys.stdin = open(sys.argv[1])
j = json.loads(sys.stdin.readline())
orig = j["original"]["report"]["free_text"].encode()
anon = j["next_form"]["report"]["free_text"].encode()
spans = [s for s in j["spans"] if s["field"] == "report.free_text"]
def text(s):
    return (orig if s["side"] == "original" else anon)[s["start"]:s["end"]].decode()
got = {(s["side"], s["what"], text(s)) for s in spans}
assert ("original", "replaced", "Sato Hanako") in got, got
assert ("anonymised", "replaced", "[person]") in got, got
assert ("original", "replaced", "+81-3-5555-0101") in got, got
assert ("anonymised", "unvouched", "株式会社") in got, got
assert "Sato" not in anon.decode() and "bank-a" not in json.dumps(j["next_form"])
assert set(j["next_hop"]) == {"fsa-liaison"}, j["next_hop"]
PY
cli banks-sec review show "$id2"
expect_eq "$RC" 0 "review show as text"
expect_contains "$OUT" "[-Sato Hanako-]" "taken out of the original, marked"
expect_contains "$OUT" "{+[person]+}" "put in its place, marked"
expect_contains "$OUT" "{?株式会社?}" "what it cannot vouch for, marked"
expect_contains "$OUT" "cannot vouch" "says why it would be held"
cli_json banks-sec review show "$id1"
expect_eq "$(json_field vouched)" True "v1 is vouched for"
printf '%s\n' "$OUT" >"$WORK/show1.json"

# Release as sent: the liaison gets exactly the form shown.
cli_json banks-sec review release "$id1" --note "Checked with the member."
expect_eq "$RC" 0 "release as sent ($ERR)"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "the liaison receives v1"
printf '%s\n' "$OUT" >"$WORK/got1.json"
python3 - "$WORK/show1.json" "$WORK/got1.json" <<'PY' || fail "what went up is what show showed"
import json, sys
shown = json.load(open(sys.argv[1]))["next_form"]
got = json.load(open(sys.argv[2]))["message"]
for m in (shown, got):
    m.pop("hop_notes", None)
assert shown == got, (shown, got)
PY

# v2 cannot go up as it is; with edited text, checked again, it can.
cli_json banks-sec review release "$id2"
expect_eq "$RC" 1 "unvouched text is not released as is"
expect_contains "$ERR" "needs review" "the refusal says why"
# Edited text that still names the reporter is refused, the span named.
printf 'A vendor of Bank A Holdings left the VPN open after a visit.\n' \
    >"$WORK/naming.txt"
cli_json banks-sec review release "$id2" --text-file "$WORK/naming.txt"
expect_eq "$RC" 1 "edited text naming the reporter is refused"
expect_contains "$ERR" "forward.free_text: bytes 12 to 27" "the span is named"
expect_contains "$ERR" "[organisation]" "and what the scrubber saw"
printf 'A vendor of one member left the VPN open after a visit.\n' \
    >"$WORK/edited.txt"
cli_json banks-sec review show "$id2" --text-file "$WORK/edited.txt"
expect_eq "$RC" 0 "show as it would go up with the edited text ($ERR)"
printf '%s\n' "$OUT" >"$WORK/show2e.json"
cli_json banks-sec review release "$id2" --text-file "$WORK/edited.txt"
expect_eq "$RC" 0 "release with edited text ($ERR)"
cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 1 "the liaison receives v2"
printf '%s\n' "$OUT" >"$WORK/got2.json"
python3 - "$WORK/show2e.json" "$WORK/got2.json" <<'PY' || fail "the edited text went up as show showed it"
import json, sys
shown = json.load(open(sys.argv[1]))["next_form"]
got = json.load(open(sys.argv[2]))["message"]
assert shown["report"]["free_text"] == got["report"]["free_text"], (shown, got)
PY
expect_contains "$OUT" "left the VPN open after a visit" "the edited text"
expect_not_contains "$OUT" "Bank A Holdings" "the refused text never went up"
expect_not_contains "$OUT" "株式会社" "the unvouched original text is gone"

# Reject: the reporter is told why, nobody above the secretariat anything.
cli_json banks-sec review reject "$id3"
expect_eq "$RC" 64 "a rejection needs a reason"
cli_json banks-sec review reject "$id3" --reason "A test change, not a near miss; please resend with the timeline."
expect_eq "$RC" 0 "reject ($ERR)"
cli_json banks-sec review reject "$id3" --reason "again"
expect_eq "$RC" 1 "a second decision is refused"
expect_contains "$ERR" "already decided" "and says so"
cli_json bank-a inbox
expect_eq "$RC" 0 "reporter inbox ($ERR)"
expect_eq "$(count_lines)" 1 "the reporter gets the rejection notice"
expect_eq "$(json_any notice)" rejected "marked as a rejection"
expect_eq "$(json_any in_reply_to)" "$id3" "it names the reporter's own report"
expect_contains "$OUT" "please resend with the timeline" "with the reason"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "liaison inbox ($ERR)"
expect_eq "$(count_lines)" 0 "nothing of the rejected report goes up"
cli_json nisc inbox
expect_eq "$RC" 0 "nisc inbox ($ERR)"
expect_eq "$(count_lines)" 2 "NISC has the two released reports, not the rejected one"

# Decided items leave the desk; the undecided one stays.
cli_json banks-sec review
expect_eq "$RC" 0 "review list after the decisions ($ERR)"
expect_eq "$(count_lines)" 1 "one item still waits"
expect_eq "$(json_field hub_id)" "$id4" "the undecided one"

# The reporter's receipts: released, rejected (why), waiting (since).
cli_json bank-a receipts "$id1"
expect_eq "$RC" 0 "receipts v1 ($ERR)"
expect_contains "$OUT" '"released_at": "' "v1 was released"
cli_json bank-a receipts "$id3"
expect_contains "$OUT" '"rejected_at": "' "v3 was rejected"
expect_contains "$OUT" "please resend with the timeline" "with the reason"
expect_not_contains "$OUT" "released_at" "v3 was not released"
cli_json bank-a receipts "$id4"
expect_contains "$OUT" '"waiting_since": "' "v4 waits, since when"
cli bank-a receipts "$id4"
expect_contains "$OUT" "waiting for review since" "the text receipts say so"

# Every decision is in the audit trail.
wait_log "route.review.reject"
grep -q "route.review.release .*hub_id=$id1 .*text=as-sent" "$AUDIT" ||
    fail "the audit trail records the release as sent"
grep -q "route.review.release .*hub_id=$id2 .*text=edited" "$AUDIT" ||
    fail "the audit trail records the release with edited text"
grep -q "route.review.reject .*hub_id=$id3 .*notice_to=bank-a" "$AUDIT" ||
    fail "the audit trail records the rejection"
pass "review desk: list, show, release, edited release, reject, receipts, audit"
