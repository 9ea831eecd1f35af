#!/usr/bin/env bash
# Follow-ups, corrections and a retraction reach everyone who got the first
# report, and only them; nobody else can add to another's chain.
. "$(dirname "$0")/lib.sh"
start_hub

first=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r0.json" "$first" "Outage, first notice"
python3 - "$WORK/r0.json" >"$WORK/r1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["report"]["sharing"] = {"scope": "sector_ceptoar"}
print(json.dumps(r))
PY
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "first report ($ERR)"
# NISC shares the first report with bank-b (same CEPTOAR, within range).
cli_json nisc inbox
cli_json nisc forward "$(json_field hub_id)" --to bank-b
expect_eq "$RC" 0 "NISC shares the report ($ERR)"

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

cli_json fsa-liaison inbox
expect_eq "$(count_lines)" 3 "the liaison gets the whole chain"
expect_contains "$OUT" '"retracted": true' "the liaison sees the retraction"
expect_contains "$OUT" "\"chain_id\": \"$first\"" "linked by the chain"
cli_json nisc inbox
expect_eq "$(count_lines)" 2 "NISC gets the follow-up and the retraction"
cli_json bank-b inbox
expect_eq "$(count_lines)" 3 "where it was shared, the whole chain follows"
expect_not_contains "$OUT" "Sato Hanako" "still in the form the share allowed"
cli_json broker-a inbox
expect_eq "$(count_lines)" 0 "nobody else"

follow "$first" 2 intermediate "" >"$WORK/other.json"
cli_json bank-b submit "$WORK/other.json"
expect_eq "$RC" 1 "another operator cannot add to the chain"
expect_contains "$ERR" "no earlier report of yours" "refusal reason"
pass "report chains"
