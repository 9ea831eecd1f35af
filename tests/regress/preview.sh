#!/usr/bin/env bash
# ceptoar preview shows who would receive a report, in which form, and the
# anonymised text exactly as the liaison would see it, sending nothing.
. "$(dirname "$0")/lib.sh"
start_hub

make_voluntary "$WORK/v.json"
cli_json bank-a preview "$WORK/v.json"
expect_eq "$RC" 0 "preview ($ERR)"
python3 - "$OUT" <<'PY' || fail "preview is wrong: $OUT"
import json, sys
p = json.loads(sys.argv[1])
routes = {r["organisation"]: r for r in p["routes"]}
assert set(routes) == {"banks-sec", "fsa-liaison", "nisc"}, routes.keys()
assert routes["banks-sec"]["form"] == "original"
assert routes["fsa-liaison"]["form"] == "anonymised"
assert routes["fsa-liaison"]["review"] is True
seen = json.dumps(routes["fsa-liaison"]["as_received"])
assert "Sato Hanako" not in seen and "bank-a" not in seen, seen
assert "pseudonym" in seen, seen
assert any("trace back" in w for w in p["warnings"]), p["warnings"]
PY
for org in banks-sec fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 0 "$org received nothing from a preview"
done

# Facts that cannot be true are refused with the field named, by preview
# and by submit alike, before anything is sent.
python3 - "$WORK/facts.json" <<'PY'
import json, sys
r = {"type": "report", "tlp": "TLP:AMBER", "report": {
    "kind": "incident",
    "contact": {"name": "Sato Hanako", "phone": "+81-3-0000-0000"},
    "legally_mandated": True, "legal_basis": "Banking Act",
    "cause": "intentional", "event_type": "attack_damage",
    "severity": {"continuity": 3}, "title": "Outage",
    "occurred_at": "2026-11-21T03:17:00+09:00",
    "detected_at": "2026-11-21T03:00:00+09:00"}}
json.dump(r, open(sys.argv[1], "w"))
r["report"]["detected_at"] = "2026-11-21T03:20:00+09:00"
r["report"]["occurred_at"] = "2099-01-01T00:00:00Z"
r["report"]["detected_at"] = "2099-01-01T00:00:00Z"
json.dump(r, open(sys.argv[1] + ".future", "w"))
PY
for cmd in preview submit; do
	cli bank-a "$cmd" "$WORK/facts.json"
	expect_eq "$RC" 65 "$cmd: detected before it occurred"
	expect_contains "$OUT" "report.detected_at" "$cmd names the field"
	expect_contains "$OUT" "before report.occurred_at" "$cmd says why"
	cli bank-a "$cmd" "$WORK/facts.json.future"
	expect_eq "$RC" 65 "$cmd: a report from the future"
	expect_contains "$OUT" "report.occurred_at" "$cmd names the field"
	expect_contains "$OUT" "in the future" "$cmd says why"
done
# Every mistake of a file is named at once.
python3 - "$WORK/facts.json" "$WORK/many.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["report"]["contact"] = {"name": "", "email": "not-a-mail"}
del r["report"]["legal_basis"]
json.dump(r, open(sys.argv[2], "w"))
PY
cli bank-a submit "$WORK/many.json"
expect_eq "$RC" 65 "a file with four mistakes"
expect_contains "$OUT" "4 mistakes:" "the count"
for f in report.contact.name report.contact.email report.legal_basis \
    report.detected_at; do
	expect_contains "$OUT" "  $f: " "each mistake on a line: $f"
done
pass "routing preview"
