#!/usr/bin/env bash
# Related agencies and the CEPTOAR Council (DOMAIN.md, flows 4 and 6): an
# agency with an agreement on record warns operators and CEPTOARs as NISC
# does, with a copy to the liaisons and to NISC; its advisories feed NISC
# alone.  A CEPTOAR that takes part in the Council shares through it with
# the other CEPTOARs that take part, which pass it to their members.
. "$(dirname "$0")/lib.sh"
start_hub

# notice FILE TYPE TLP FIELD VALUES...: an advisory (FIELD sectors) or an
# early warning (FIELD recipients), with a fresh uuid.
notice() {
	local file=$1 type=$2 tlp=$3 field=$4
	shift 4
	python3 - "$file" "$type" "$tlp" "$field" "$@" <<'PY'
import json, sys, uuid
f, t, tlp, field = sys.argv[1:5]
body = {"title": "Exploited VPN appliance flaw",
        "text": "Patch the appliance; look for the listed address.",
        "severity": {"continuity": 2, "safety": 0, "trust": 1},
        field: sys.argv[5:]}
json.dump({"type": t, "uuid": str(uuid.uuid4()), "tlp": tlp, t: body},
          open(f, "w"))
PY
}

# inbox_has ORG N: ORG's inbox answers and holds N messages.
inbox_has() {
	cli_json "$1" inbox
	expect_eq "$RC" 0 "$1's inbox answers ($ERR)"
	expect_eq "$(count_lines)" "$2" "$1 holds $2 message(s)"
}

# An agency with an agreement warns a bank and a CEPTOAR.
notice "$WORK/ew.json" early_warning TLP:AMBER recipients bank-a banks-sec
cli_json ipa submit "$WORK/ew.json"
expect_eq "$RC" 0 "the agency's early warning is accepted ($ERR)"
expect_contains "$OUT" "copy of an early warning from a related agency" \
    "NISC's copy is named with its reason"
for org in bank-a banks-sec fsa-liaison nisc; do
	inbox_has "$org" 1
	expect_contains "$OUT" "Exploited VPN appliance flaw" "$org reads it"
done
inbox_has bank-b 0
# Without an agreement on record, refused with the reason.
notice "$WORK/ew2.json" early_warning TLP:AMBER recipients bank-a
cli_json jpcert submit "$WORK/ew2.json"
expect_eq "$RC" 1 "an agency without an agreement is refused"
expect_contains "$ERR" "no agreement with NISC on record" "why"
inbox_has bank-a 0

# An agency's advisory feeds NISC, and nobody else.
notice "$WORK/feed.json" advisory TLP:AMBER sectors finance
cli_json jpcert submit "$WORK/feed.json"
expect_eq "$RC" 0 "the agency's advisory is accepted ($ERR)"
inbox_has nisc 1
for org in fsa-liaison banks-sec bank-a; do
	inbox_has "$org" 0
done

# The banks' CEPTOAR shares with the telecom CEPTOAR through the Council.
notice "$WORK/share.json" advisory TLP:GREEN sectors telecom finance
cli_json banks-sec submit "$WORK/share.json"
expect_eq "$RC" 0 "a CEPTOAR shares through the Council ($ERR)"
inbox_has council 1
inbox_has tel-sec 1
expect_contains "$OUT" "CEPTOAR Council" "tel-sec sees how it came"
held=$(json_field hub_id)
# The securities CEPTOAR is outside the Council: it neither gets it ...
inbox_has sec-sec 0
for org in mic-liaison nisc tel-a bank-b; do
	inbox_has "$org" 0
done
# ... nor shares through it.
notice "$WORK/share2.json" advisory TLP:GREEN sectors telecom
cli_json sec-sec submit "$WORK/share2.json"
expect_eq "$RC" 1 "a CEPTOAR outside the Council is refused"
expect_contains "$ERR" "does not take part in the CEPTOAR Council" "why"
# The receiving CEPTOAR passes it on to its member.
cli_json tel-sec forward "$held" --to tel-a
expect_eq "$RC" 0 "tel-sec passes it to its member ($ERR)"
inbox_has tel-a 1
expect_contains "$OUT" "Exploited VPN appliance flaw" "tel-a reads it"
# A label that forbids onward sharing does not go through the Council.
notice "$WORK/strict.json" advisory TLP:AMBER+STRICT sectors telecom
cli_json banks-sec submit "$WORK/strict.json"
expect_eq "$RC" 1 "TLP:AMBER+STRICT through the Council is refused"
expect_contains "$ERR" "tlp-refused" "the code"
pass "related agencies and the CEPTOAR Council"
