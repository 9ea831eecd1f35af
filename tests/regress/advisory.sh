#!/usr/bin/env bash
# NISC's advisory for finance reaches the finance liaison, the finance
# CEPTOARs and their members, and nobody else; operators cannot send one.
. "$(dirname "$0")/lib.sh"
start_hub

uuid=$(cat /proc/sys/kernel/random/uuid)
cat >"$WORK/advisory.json" <<JSON
{
  "type": "advisory",
  "uuid": "$uuid",
  "tlp": "TLP:GREEN",
  "advisory": {
    "title": "Credential phishing against internet banking",
    "text": "Block the listed domain; report any hit to your CEPTOAR.",
    "sectors": ["finance"],
    "severity": { "continuity": 1, "safety": 0, "trust": 2 },
    "indicators": [ { "type": "domain", "value": "login-bank-a.example" } ]
  }
}
JSON
cli_json nisc submit "$WORK/advisory.json"
expect_eq "$RC" 0 "advisory submit ($ERR)"
hub_id=$(json_field hub_id)

for org in fsa-liaison banks-sec sec-sec bank-a bank-b broker-a; do
	cli_json "$org" inbox
	expect_eq "$(count_uuid "$uuid")" 1 "$org receives the advisory"
	expect_contains "$OUT" "Credential phishing" "$org sees the title"
done
for org in mic-liaison tel-sec tel-a bank-lone jpcert; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 0 "$org receives nothing"
done

sed 's/"uuid": "[^"]*"/"uuid": "'"$(cat /proc/sys/kernel/random/uuid)"'"/' \
    "$WORK/advisory.json" >"$WORK/op.json"
cli_json bank-a submit "$WORK/op.json"
expect_eq "$RC" 1 "an operator's advisory is refused"
expect_contains "$ERR" "not-permitted" "refusal code"
expect_contains "$ERR" "only NISC sends advisories" "refusal reason"
pass "advisory provision"
