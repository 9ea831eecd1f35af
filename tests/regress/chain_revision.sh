#!/usr/bin/env bash
# Every follow-up carries the next revision of its chain: none, a repeat
# or a gap is refused naming report.revision and the revision expected,
# also when two follow-ups of a chain are in flight at once; a retry of a
# stored follow-up is still a duplicate.  A hub id put where the chain's
# uuid belongs is named as such, by submit and by preview alike.
. "$(dirname "$0")/lib.sh"
start_hub

first=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r1.json" "$first" "Outage, first notice"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "first report ($ERR)"
first_hub=$(json_field hub_id)

# follow FILE REVISION (empty: none) [CHAIN]: a follow-up with a new uuid.
follow() {
	python3 - "$WORK/r1.json" "${3:-$first}" "$2" >"$1" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["chain_id"] = sys.argv[2]
r["report"]["stage"] = "intermediate"
if sys.argv[3]:
    r["report"]["revision"] = int(sys.argv[3])
print(json.dumps(r))
PY
}

follow "$WORK/none.json" ""
cli_json bank-a submit "$WORK/none.json"
expect_eq "$RC" 1 "a follow-up without a revision is refused"
expect_contains "$ERR" "report.revision" "the refusal names the field"
expect_contains "$ERR" "the next is 2" "and the revision expected"
cli_json bank-a preview "$WORK/none.json"
expect_eq "$RC" 1 "preview refuses it too"
expect_contains "$ERR" "report.revision" "preview names the field"

follow "$WORK/r2.json" 2
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$RC" 0 "revision 2 ($ERR)"
expect_eq "$(json_field duplicate)" False "filed"
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$RC" 0 "a retry of revision 2 ($ERR)"
expect_eq "$(json_field duplicate)" True "is a duplicate, not a refusal"

follow "$WORK/r2b.json" 2
cli_json bank-a submit "$WORK/r2b.json"
expect_eq "$RC" 1 "a second revision 2 is refused"
expect_contains "$ERR" "report.revision" "the refusal names the field"
expect_contains "$ERR" "the next is 3" "and the revision expected"

follow "$WORK/r4.json" 4
cli_json bank-a preview "$WORK/r4.json"
expect_eq "$RC" 1 "preview refuses a gap"
expect_contains "$ERR" "the next is 3" "preview names the revision expected"
cli_json bank-a submit "$WORK/r4.json"
expect_eq "$RC" 1 "a gap is refused"
expect_contains "$ERR" "report.revision" "the refusal names the field"
expect_contains "$ERR" "the next is 3" "and the revision expected"

# Two revisions 3 at once: whatever groups they share, one is filed.
follow "$WORK/r3a.json" 3
follow "$WORK/r3b.json" 3
set +e
timeout 60 "$CEPTOAR" -c "$WORK/clients/bank-a.conf" submit "$WORK/r3a.json" \
    >"$WORK/a.out" 2>&1 &
pa=$!
timeout 60 "$CEPTOAR" -c "$WORK/clients/bank-a.conf" submit "$WORK/r3b.json" \
    >"$WORK/b.out" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
set -e
expect_eq "$((ra + rb))" 1 "exactly one of two revisions 3 is filed: \
$(cat "$WORK/a.out" "$WORK/b.out")"
expect_contains "$(cat "$WORK/a.out" "$WORK/b.out")" "report.revision" \
    "the other is refused naming the field"
cli_json bank-a preview "$WORK/r4.json"
expect_eq "$RC" 0 "now revision 4 is next ($ERR)"

# The liaison reads the chain as 1, 2, 3.
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
revs=$(python3 -c 'import json,sys
print(" ".join(str(json.loads(l)["message"]["report"].get("revision", "-"))
    for l in sys.stdin if l.strip()))' <<<"$OUT" 2>/dev/null ||
    python3 -c 'import json,sys
print(" ".join(str(json.loads(l)["report"].get("revision", "-"))
    for l in sys.stdin if l.strip()))' <<<"$OUT")
expect_eq "$revs" "- 2 3" "the liaison's view of the chain"

# A hub id where the chain's uuid belongs.
follow "$WORK/byhub.json" 4 "$first_hub"
cli_json bank-a submit "$WORK/byhub.json"
expect_eq "$RC" 1 "a hub id as chain_id is refused"
expect_contains "$ERR" "report.chain_id: $first_hub is a hub id; a chain is \
named by the uuid of its first report ($first)" "the refusal says so"
cli_json bank-a preview "$WORK/byhub.json"
expect_eq "$RC" 1 "preview refuses it too"
expect_contains "$ERR" "is a hub id; a chain is named by the uuid of its \
first report ($first)" "preview says so too"
pass "report chain revisions"
