#!/usr/bin/env bash
# An urgent early warning reaches the named recipients with a handling
# agreement and the liaisons of their sectors; one invalid recipient stops
# the whole list, and nobody receives anything.
. "$(dirname "$0")/lib.sh"
start_hub

ew() {
	cat >"$WORK/ew.json" <<JSON
{ "type": "early_warning", "uuid": "$(cat /proc/sys/kernel/random/uuid)",
  "tlp": "TLP:AMBER",
  "early_warning": { "title": "DDoS announced for tonight",
    "text": "A group announced an attack on payment systems at 22:00 JST.",
    "recipients": [$1] } }
JSON
}
ew '"bank-a", "bank-b"'
cli_json nisc submit "$WORK/ew.json"
expect_eq "$RC" 1 "a recipient without a handling agreement stops it"
expect_contains "$ERR" "bank-b has no handling agreement" "the refusal names it"
expect_contains "$ERR" "nothing was sent" "and says nothing went out"
for org in bank-a fsa-liaison bank-b; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 0 "$org received nothing"
done

ew '"bank-a", "tel-a"'
cli_json nisc submit "$WORK/ew.json"
expect_eq "$RC" 0 "valid recipients ($ERR)"
for org in bank-a tel-a fsa-liaison mic-liaison; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 1 "$org receives the warning"
	expect_contains "$OUT" "DDoS announced" "$org sees it"
done
for org in bank-b banks-sec broker-a; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 0 "$org receives nothing"
done
cli_json bank-a submit "$WORK/ew.json"
expect_eq "$RC" 1 "operators do not send early warnings"
pass "early warning"
