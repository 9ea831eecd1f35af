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
pass "routing preview"
