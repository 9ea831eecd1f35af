#!/usr/bin/env bash
# NISC's question about a mandatory report and its request to widen it
# reach the reporter naming the report by the reporter's own hub id, one
# the reporter can open; NISC's own copy keeps the id NISC named.
. "$(dirname "$0")/lib.sh"
start_hub

make_report "$WORK/r.json"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "mandatory report ($ERR)"
report=$(json_field hub_id)
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "NISC gets the report"
nisc_id=$(json_field hub_id)
[ "$nisc_id" != "$report" ] || fail "NISC's copy has the original's hub id"

cli_json nisc reply "$nisc_id" "Which resolver software was it?"
expect_eq "$RC" 0 "NISC asks ($ERR)"
cli_json nisc widen "$nisc_id" --scope named_organisations --org bank-b \
    --reason "Bank B runs the same front end."
expect_eq "$RC" 0 "NISC asks to widen ($ERR)"

cli_json bank-a inbox
expect_eq "$RC" 0 "the reporter's inbox ($ERR)"
expect_eq "$(count_lines)" 2 "the reporter gets the question and the request"
inbox=$OUT
# Every hub id in what the reporter received that names the report is
# the reporter's own.
refs=$(python3 -c 'import json, sys
ids = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("in_reply_to", "hub_id") and isinstance(x, str):
                ids.add(x)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
for line in sys.stdin:
    if line.strip():
        d = json.loads(line)
        own = d.get("hub_id")
        walk(d)
        ids.discard(own)
print(" ".join(sorted(ids)))' <<<"$OUT")
expect_not_contains "$refs" "$nisc_id" "NISC's hub id does not reach the reporter"
expect_contains "$refs" "$report" "the report is named by the reporter's hub id"
for r in $refs; do
	cli_json bank-a show "$r"
	expect_eq "$RC" 0 "the reporter opens $r ($ERR)"
done

# The reporter consents to the request it can read; NISC may then share.
req=$(python3 -c 'import json, sys
for line in sys.stdin:
    d = json.loads(line) if line.strip() else {}
    if "widen_request" in json.dumps(d):
        print(d["hub_id"]); break' <<<"$inbox")
[ -n "$req" ] || fail "no widen request in the reporter's inbox: $OUT"
cli_json bank-a consent "$req" --approve --note "Agreed."
expect_eq "$RC" 0 "the reporter consents ($ERR)"
expect_log "route.widened .*report=$report"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_contains "$OUT" "consent" "NISC gets the answer"
cli_json nisc forward "$nisc_id" --to bank-b
expect_eq "$RC" 0 "within the widened range ($ERR)"

# NISC's sent copy still names its own.
cli_json nisc show "$nisc_id"
expect_eq "$RC" 0 "NISC opens its copy ($ERR)"
pass "answers name messages by ids their recipients can open"
