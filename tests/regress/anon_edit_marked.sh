#!/usr/bin/env bash
# Issue 12, item 6: a holder's rewritten text never travels as the
# reporter's words.  A liaison shares the anonymised form with its own
# text; the recipient reads it marked as the liaison's (who, which
# fields), in --json and in the text view, and so does NISC when the
# secretariat's reviewed text replaces the reporter's.
. "$(dirname "$0")/lib.sh"
start_hub

SCOPE=sector_ceptoar make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "submit ($ERR)"
cli_json banks-sec inbox
printf 'Reviewed: a firewall change reached the wrong cluster.\n' >"$WORK/sec.txt"
cli_json banks-sec forward "$(json_field hub_id)" --text-file "$WORK/sec.txt"
expect_eq "$RC" 0 "the secretariat releases it with reviewed text ($ERR)"
cli_json nisc inbox
expect_contains "$OUT" '"edits": [{"by": "banks-sec"' "NISC sees who rewrote it"
expect_contains "$OUT" '"fields": ["report.free_text"]' "and which field"
cli_json fsa-liaison inbox
liaison_id=$(json_field hub_id)
expect_contains "$OUT" "Reviewed: a firewall change" "the liaison reads it"

printf 'Do not patch.\n' >"$WORK/liaison.txt"
cli_json fsa-liaison forward "$liaison_id" --to bank-b --text-file "$WORK/liaison.txt"
expect_eq "$RC" 0 "the liaison shares its own text ($ERR)"
cli_json bank-b inbox
expect_eq "$(count_lines)" 1 "bank-b receives the share"
shared=$(json_field hub_id)
expect_contains "$OUT" '"free_text": "Do not patch.' "with the liaison's words"
expect_contains "$OUT" '{"by": "fsa-liaison"' "marked as the liaison's"
expect_contains "$OUT" '"hop": 2, "fields"' "at the hop it made"
cli bank-b show "$shared"
expect_eq "$RC" 0 "the text view ($OUT)"
expect_contains "$OUT" "by fsa-liaison at hop 2" "the text view says who"
expect_contains "$OUT" "report.free_text: the holder's words, not the author's" \
    "and that they are not the reporter's"
expect_contains "$OUT" "by banks-sec at hop 1" "the secretariat's edit stays listed"
pass "a holder's text is marked as the holder's"
