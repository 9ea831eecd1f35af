#!/usr/bin/env bash
# Issue 12, item 5 and "No oracle": every request a party above the
# secretariat can make about an anonymised report, naming an
# organisation, gets the same answer whether that organisation is the
# reporter or another member of the reporter's CEPTOAR.  For each holder
# (the liaison, NISC), each sharing range and label, each request is run
# naming every member of CEPTOAR banks (from the test directory), and
# the answers (exit status, error code, field and position, sentence,
# output and its size) must be byte-identical once the named
# organisation and what changes on every run (ids, times, sequence
# numbers) are replaced by placeholders.
. "$(dirname "$0")/lib.sh"
start_hub

reporter=bank-a
# The members of the reporter's CEPTOAR, from the directory itself, and
# the name of each.
members=$(python3 - "$DIRECTORY" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
print(" ".join(sorted(o["id"] for o in d["organisations"]
                      if "banks" in o.get("ceptoars", []))))
PY
)
expect_contains " $members " " $reporter " "the reporter is a member of banks"
[ "$(wc -w <<<"$members")" -ge 2 ] || fail "banks has other members: $members"

# The name the directory gives each member.
declare -A NAME
while read -r id name; do
	NAME[$id]=$name
done < <(python3 - "$DIRECTORY" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for o in d["organisations"]:
    print(o["id"], o["name"])
PY
)

# The hub id of the first line of OUT whose message is a report.
report_in_out() {
	python3 -c 'import json,sys
for line in sys.stdin:
    if line.strip():
        d = json.loads(line)
        if d.get("message", {}).get("type") == "report":
            print(d["hub_id"]); break' <<<"$OUT"
}

# Submit a voluntary report from the reporter (label $1, range JSON $2),
# release it at the secretariat; the liaison's and NISC's ids in LIAISON_ID
# and NISC_ID.
release() {
	local tlp=$1 range=$2 held
	make_voluntary "$WORK/v.json"
	python3 - "$WORK/v.json" "$tlp" "$range" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
v["tlp"] = sys.argv[2]
v["report"]["sharing"] = json.loads(sys.argv[3])
json.dump(v, open(sys.argv[1], "w"))
PY
	cli_json "$reporter" submit --accept-warnings "$WORK/v.json"
	expect_eq "$RC" 0 "submit ($ERR)"
	cli_json banks-sec inbox
	held=$(report_in_out)
	cli_json banks-sec forward "$held"
	expect_eq "$RC" 0 "the secretariat releases it ($ERR)"
	cli_json fsa-liaison inbox
	LIAISON_ID=$(report_in_out)
	cli_json nisc inbox
	NISC_ID=$(report_in_out)
	[ -n "$LIAISON_ID" ] && [ -n "$NISC_ID" ] || fail "the report went up"
}

# The answer in OUT, ERR and RC with organisation $1 (named $2) and
# everything that differs on every run replaced.
normalised() {
	printf 'rc=%s\nout=%s\nerr=%s\n' "$RC" "$OUT" "$ERR" | sed -E \
	    -e "s/$1/ORG/g" -e "s/$2/NAME/g" \
	    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/ID/g' \
	    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
	    -e 's/"(sequence|seq)": [0-9]+/"\1": N/g'
}

# Run request $2.. as holder $1 once per member, with ORG and NAME in
# the arguments standing for the member; all answers must be the same.
differential() {
	local holder=$1 what=$2 c name first="" firstorg="" a args=()
	shift 2
	for c in $members; do
		name=${NAME[$c]}
		args=()
		for a in "$@"; do
			a=${a//ORG/$c}
			a=${a//SHARED/${SHARE_ID[$c]:-none}}
			args+=("${a//NAME/$name}")
		done
		cli_json "$holder" "${args[@]}"
		# What a share to this member made, for its receipts.
		[ "$what" != "forward --to ORG" ] || SHARE_ID[$c]=$(json_field hub_id)
		now=$(normalised "$c" "$name")
		if [ -z "$first" ]; then
			first=$now
			firstorg=$c
		elif [ "$now" != "$first" ]; then
			fail "$holder $what: the answer naming $c differs from" \
			    "the one naming $firstorg:"$'\n'"$firstorg: $first"$'\n'"$c: $now"
		fi
	done
	CHECKED=$((CHECKED + 1))
}

CHECKED=0
declare -A SHARE_ID
for case in 'TLP:AMBER|{"scope": "liaison_and_nisc"}' \
    'TLP:GREEN|{"scope": "sector_ceptoar"}' \
    'TLP:CLEAR|{"scope": "named_organisations", "organisations": ["broker-a"]}'; do
	release "${case%%|*}" "${case#*|}"
	for holder in fsa-liaison nisc; do
		if [ "$holder" = nisc ]; then id=$NISC_ID; else id=$LIAISON_ID; fi
		differential "$holder" "forward --to ORG --to no-such-org" \
		    forward "$id" --to ORG --to no-such-org
		differential "$holder" "forward --to ORG" forward "$id" --to ORG
		differential "$holder" "forward --to ORG --note" \
		    forward "$id" --to ORG --note "Ask NAME (ORG) to check."
		printf 'NAME (ORG) should patch now.\n' >"$WORK/t.txt"
		differential "$holder" "forward --to ORG --text-file" \
		    forward "$id" --to ORG --text-file "$WORK/t.txt"
		differential "$holder" "forward --scope named_organisations --org ORG" \
		    forward "$id" --scope named_organisations --org ORG --to ORG
		differential "$holder" "widen --org ORG" \
		    widen "$id" --scope named_organisations --org ORG \
		    --reason "NAME (ORG) runs the same firewall."
		differential "$holder" "reply naming ORG" \
		    reply "$id" "Are you NAME (ORG)?"
		differential "$holder" "show" show "$id"
		differential "$holder" "receipts of a share" receipts SHARED
	done
done
pass "$CHECKED requests answered alike for every member of banks ($members)"
