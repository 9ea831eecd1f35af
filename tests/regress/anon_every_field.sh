#!/usr/bin/env bash
# Issue 12, "Prove it for every message type": the reporter's identifiers
# (its id, names in Latin and Japanese, domain, a host and URL on it,
# mail, phone, an address in its network, its contact person's name, and
# its report's contact, not the directory's) are planted in every string
# field of every message that goes up on an anonymised form, the paths
# listed by anon-fields from the protobuf-c descriptors, so a field added
# to the protocol is planted without this file changing.  Each message
# takes its real path over TLS: a voluntary report released by the
# secretariat to the liaison and NISC, a reply and a consent answer
# relayed up to NISC.  No byte of any planted form may reach them.  A
# field whose planted value the hub refuses outright (an id that must
# name something, a uuid) carries nothing anywhere, and is listed.
. "$(dirname "$0")/lib.sh"
: "${ANON_FIELDS:=$CEPTOAR_BUILDDIR/tests/regress/anon-fields}"
PLANTPY=$REGRESS_DIR/anon_plant.py
start_hub

"$ANON_FIELDS" report reply consent_answer >"$WORK/fields.json"
# Submit the message of content $2 as $1, based on file $3, with every
# string field planted; a field the hub refuses by name is planted no
# more and noted in REFUSED.  The accepted answer is in OUT.
plant_submit() {
	local org=$1 content=$2 base=$3 field tries=0
	SKIP=(report.contact)
	while :; do
		python3 "$PLANTPY" plant "$base" "$WORK/fields.json" "$content" \
		    "$WIDE" "${SKIP[@]}" >"$WORK/planted.json"
		cli_json "$org" submit --accept-warnings "$WORK/planted.json"
		[ "$RC" -ne 0 ] || return 0
		field=$(python3 "$PLANTPY" field "$ERR")
		[ -n "$field" ] || fail "$content: refused, naming no field: $ERR"
		for f in $field; do
			case " ${SKIP[*]} " in
			*" $f "*) fail "$content: $f refused again: $ERR" ;;
			esac
			SKIP+=("$f")
			REFUSED="$REFUSED $content:$f"
		done
		tries=$((tries + 1))
		[ "$tries" -lt 40 ] || fail "$content: too many refusals"
	done
}

# The JSON lines of OUT without the message each entry of ids $@ is.
nothing_leaked() {
	local what=$1 leaks
	leaks=$(python3 "$PLANTPY" leaks "$WIDE" "$WORK"/up-*.json)
	[ -z "$leaks" ] || fail "$what: planted identifiers went up:"$'\n'"$leaks"
}

# Plant every field with the forms of WIDE (narrow or full-width), send
# each message its way up, and check what the liaison and NISC got.
plant_all() {
	WIDE=$1
REFUSED=
# 1. A voluntary report, released with the secretariat's reviewed text
# (which takes the review's hold off every other field).
make_voluntary "$WORK/report.json"
python3 - "$WORK/report.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
# What a planted field that must be valid falls back to.
v["report"]["indicators"] = [{"type": "domain", "value": "evil.example"}]
# The contact is planted with the identifiers one by one: planted whole,
# the scrubber would take the whole planted text for the contact's.
v["report"]["contact"] = {"name": "Kato Ichiro", "phone": "+81-3-5555-0177",
                          "email": "ichiro.kato@bank-a.example",
                          "unit": "bank-a CSIRT"}
json.dump(v, open(sys.argv[1], "w"))
PY
plant_submit bank-a report "$WORK/report.json"
cli_json banks-sec inbox
held=$(json_field hub_id)
if [ "$WIDE" = wide ]; then
	expect_contains "$OUT" "Ｓａｔｏ Ｈａｎａｋｏ" "the secretariat reads the planted report"
else
	expect_contains "$OUT" "Sato Hanako" "the secretariat reads the planted report"
fi
printf 'Reviewed by the secretariat.\n' >"$WORK/reviewed.txt"
cli_json banks-sec forward "$held" --text-file "$WORK/reviewed.txt"
expect_eq "$RC" 0 "the secretariat releases it ($ERR)"
cli_json fsa-liaison inbox
printf '%s\n' "$OUT" >"$WORK/up-liaison-report.json"
expect_contains "$OUT" '"title": "[organisation]; [organisation]' "the liaison gets the planted title, scrubbed"
cli_json nisc inbox
printf '%s\n' "$OUT" >"$WORK/up-nisc-report.json"
nisc_id=$(json_field hub_id)
expect_contains "$OUT" '"form": "anonymised"' "NISC gets the anonymised form"
nothing_leaked "report"

# 2. A reply to NISC's question, relayed by the secretariat.
cli_json nisc reply "$nisc_id" "Which firewall was it?"
expect_eq "$RC" 0 "NISC asks ($ERR)"
cli_json banks-sec inbox
cli_json bank-a inbox
question=$(json_field hub_id)
cat >"$WORK/reply.json" <<JSON
{ "type": "reply", "uuid": "$(cat /proc/sys/kernel/random/uuid)",
  "tlp": "TLP:AMBER", "reply": { "in_reply_to": "$question", "text": "x" } }
JSON
plant_submit bank-a reply "$WORK/reply.json"
cli_json banks-sec inbox
cli_json banks-sec forward "$(json_field hub_id)"
expect_eq "$RC" 0 "the secretariat passes the reply on ($ERR)"
cli_json nisc inbox
printf '%s\n' "$OUT" >"$WORK/up-nisc-reply.json"
expect_contains "$OUT" '"type": "reply"' "NISC gets the reply"
expect_contains "$OUT" "[organisation]" "with the planted text, scrubbed"
nothing_leaked "reply"

# 3. A consent answer to NISC's request to widen.
cli_json nisc widen "$nisc_id" --scope sector_ceptoar --reason "Others run it."
expect_eq "$RC" 0 "NISC asks to widen ($ERR)"
cli_json banks-sec inbox
cli_json bank-a inbox
request=$(json_field hub_id)
cat >"$WORK/consent.json" <<JSON
{ "type": "consent_answer", "uuid": "$(cat /proc/sys/kernel/random/uuid)",
  "tlp": "TLP:AMBER",
  "consent_answer": { "request": "$request", "approve": false, "note": "x" } }
JSON
plant_submit bank-a consent_answer "$WORK/consent.json"
cli_json banks-sec inbox
if [ "$(json_field review)" = True ]; then
	cli_json banks-sec forward "$(json_field hub_id)"
	expect_eq "$RC" 0 "the secretariat passes the answer on ($ERR)"
fi
cli_json nisc inbox
printf '%s\n' "$OUT" >"$WORK/up-nisc-consent.json"
expect_contains "$OUT" '"type": "consent_answer"' "NISC gets the answer"
expect_contains "$OUT" "[organisation]" "with the planted note, scrubbed"
nothing_leaked "consent answer"

}

ALL_REFUSED=
for mode in narrow wide; do
	plant_all "$mode"
	ALL_REFUSED="$ALL_REFUSED $mode:(${REFUSED# })"
done

n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(map(len, d.values())))' "$WORK/fields.json")
pass "$n string fields planted, narrow and full-width; refused outright:$ALL_REFUSED"
