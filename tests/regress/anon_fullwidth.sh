#!/usr/bin/env bash
# Issue 12, items 1 and 4: a voluntary report whose text spells the
# reporter's names in full-width Latin (what Japanese input methods type
# by default) and capitals, and its own address defanged, reached the
# liaison and NISC as written.  The scrubber now
# compares after NFKC and case folding and reads defanged forms: what
# goes up carries none of it, in any width or case, and the rest of the
# text is kept as written.  An indicator's type outside the documented
# set is refused with the field named.
. "$(dirname "$0")/lib.sh"
start_hub

# No string of the JSON lines in $OUT, after NFKC and case folding,
# carries one of bank-a's identifiers (ASCII ones as words); prints them.
leaks() {
	python3 -c 'import json,re,sys,unicodedata
needles = ["bank a", "bank a holdings", "エー銀行", "sato hanako", "sato",
    "hanako", "bank-a.example", "bank-a", "198.51.100", "5555-0101"]
found = set()
def norm(s):
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())
def walk(v):
    if isinstance(v, dict):
        for x in v.values(): walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, str):
        t = norm(v)
        for n in needles:
            if n.isascii():
                if re.search(r"(?<![0-9a-z])" + re.escape(n) + r"(?![0-9a-z])", t):
                    found.add(n)
            elif n in t:
                found.add(n)
for line in sys.stdin:
    if line.strip():
        walk(json.loads(line))
print(" ".join(sorted(found)))' <<<"$OUT"
}

# A string field of the report in the first JSON line of $OUT.
report_field() {
	python3 -c 'import json,sys
for line in sys.stdin:
    if line.strip():
        print(json.loads(line)["message"]["report"].get(sys.argv[1], "")); break' "$1" <<<"$OUT"
}

uuid=$(cat /proc/sys/kernel/random/uuid)
cat >"$WORK/v.json" <<JSON
{
  "type": "report",
  "uuid": "$uuid",
  "tlp": "TLP:AMBER",
  "report": {
    "kind": "near_miss",
    "contact": { "name": "Sato Hanako", "phone": "+81-3-5555-0101",
                 "email": "hanako.sato@bank-a.example" },
    "legally_mandated": false,
    "cause": "intentional",
    "event_type": "threat_worth_sharing",
    "severity": { "continuity": 1, "safety": 0, "trust": 1 },
    "sharing": { "scope": "liaison_and_nisc" },
    "title": "ＢＡＮＫ Ａ ＶＰＮ装置への不審な通信",
    "free_text": "ＢＡＮＫ Ａ Ｈｏｌｄｉｎｇｓ本社のＶＰＮ装置で発見。Ｂａｎｋ Ａ ＣＳＩＲＴ（ＳＡＴＯ Ｈａｎａｋｏ）が確認、Ｓａｔｏが対応。198.51.100[.]161 と ｗｗｗ．ｂａｎｋ－ａ．ｅｘａｍｐｌｅ。",
    "indicators": [
      { "type": "ipv4", "value": "198.51.100[.]161" },
      { "type": "ipv4", "value": "203.0.113.7", "comment": "the scanner" }
    ]
  }
}
JSON

cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "the voluntary report is accepted ($ERR)"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 1 "the secretariat holds the report"
held=$(json_field hub_id)
cli_json banks-sec forward "$held"
expect_eq "$RC" 0 "the secretariat forwards it ($ERR)"

for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$RC" 0 "$org reads its inbox ($ERR)"
	expect_eq "$(count_lines)" 1 "$org receives the anonymised report"
	expect_eq "$(json_field form)" anonymised "$org gets the anonymised form"
	expect_eq "$(leaks)" "" "$org sees none of the reporter's identifiers, in any width"
	text=$(report_field free_text)
	expect_contains "$text" "本社のＶＰＮ装置で発見" "$org gets the rest of the text as written"
	expect_contains "$text" "[organisation]" "$org sees where a name was"
	expect_contains "$OUT" "203.0.113.7" "$org gets the attacker's address"
done

# An indicator's type is one of the documented set: words go elsewhere.
sed -e 's/"type": "ipv4", "value": "203/"type": "Bank A fw", "value": "203/' \
    -e "s/$uuid/$(cat /proc/sys/kernel/random/uuid)/" "$WORK/v.json" >"$WORK/t.json"
cli_json bank-a submit --accept-warnings "$WORK/t.json"
expect_eq "$RC" 65 "an indicator type outside the set is refused ($ERR)"
expect_contains "$ERR" "report.indicators[1].type" "the refusal names the field"
pass "full-width and defanged identifiers do not go up"
