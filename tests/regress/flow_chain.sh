#!/usr/bin/env bash
# Follow-ups, corrections and a retraction reach everyone who got the first
# report, and only them; nobody else can add to another's chain.
. "$(dirname "$0")/lib.sh"
start_hub

first=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r1.json" "$first" "Outage, first notice"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "first report ($ERR)"

follow() {
	python3 - "$WORK/r1.json" "$1" "$2" "$3" "$4" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["chain_id"] = sys.argv[2]
r["report"]["revision"] = int(sys.argv[3])
r["report"]["stage"] = sys.argv[4]
if sys.argv[5] == "retract":
    r["report"]["retracted"] = True
print(json.dumps(r))
PY
}
follow "$first" 2 intermediate "" >"$WORK/r2.json"
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$RC" 0 "follow-up ($ERR)"
follow "$first" 3 final retract >"$WORK/r3.json"
cli_json bank-a submit "$WORK/r3.json"
expect_eq "$RC" 0 "retraction ($ERR)"

for org in fsa-liaison nisc; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 3 "$org gets the whole chain"
	expect_contains "$OUT" '"retracted": true' "$org sees the retraction"
	expect_contains "$OUT" "\"chain_id\": \"$first\"" "linked by the chain"
done
cli_json bank-b inbox
expect_eq "$(count_lines)" 0 "nobody else"

follow "$first" 2 intermediate "" >"$WORK/other.json"
cli_json bank-b submit "$WORK/other.json"
expect_eq "$RC" 1 "another operator cannot add to the chain"
expect_contains "$ERR" "no earlier report of yours" "refusal reason"
pass "report chains"
