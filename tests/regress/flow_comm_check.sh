#!/usr/bin/env bash
# NISC checks the chain of a sector: every party answers, and the result
# lists each party and hop with its answer time, and who did not answer.
. "$(dirname "$0")/lib.sh"
start_hub

cli_json nisc check start --deadline 30 --sector finance
expect_eq "$RC" 0 "check started ($ERR)"
check=$(json_field hub_id)
for org in fsa-liaison banks-sec bank-a; do
	cli_json "$org" inbox
	expect_eq "$(count_lines)" 1 "$org receives the check"
	cli_json "$org" check answer "$(json_field hub_id)"
	expect_eq "$RC" 0 "$org answers ($ERR)"
done
# bank-b answers automatically while following its inbox.
cli_json bank-b inbox --answer-checks
expect_eq "$(count_lines)" 1 "bank-b receives the check"

cli_json nisc check status "$check"
expect_eq "$RC" 0 "status ($ERR)"
python3 - "$OUT" <<'PY' || fail "check status is wrong: $OUT"
import json, sys
parties = {}
for line in sys.argv[1].splitlines():
    if line.strip():
        p = json.loads(line)
        parties[p["organisation"]] = p
want = {"fsa-liaison": 0, "banks-sec": 1, "sec-sec": 1, "bank-a": 2, "bank-b": 2, "broker-a": 2}
assert set(parties) == set(want), parties.keys()
for org, hop in want.items():
    assert parties[org]["hop"] == hop, (org, parties[org])
for org in ("fsa-liaison", "banks-sec", "bank-a", "bank-b"):
    assert parties[org]["answered_at"], org
for org in ("sec-sec", "broker-a"):
    assert not parties[org].get("answered_at"), org
PY
cli nisc check status "$check"
expect_contains "$OUT" "6 parties, 4 answered" "the summary counts answers"
cli_json bank-a check status "$check"
expect_eq "$RC" 2 "only the checker sees the result"
pass "communication check"
