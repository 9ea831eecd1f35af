#!/usr/bin/env bash
# Submitting the same report (same uuid) again returns the original id
# and delivers nothing twice; the same uuid for other content is refused.
. "$(dirname "$0")/lib.sh"
start_hub

uuid=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r.json" "$uuid"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "first submit ($ERR)"
id1=$(json_field hub_id)
expect_eq "$(json_field duplicate)" False "first submit is not a duplicate"

cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "repeated submit ($ERR)"
expect_eq "$(json_field hub_id)" "$id1" "repeat returns the original id"
expect_eq "$(json_field duplicate)" True "repeat is marked duplicate"
expect_log "submit.duplicate .*hub_id=$id1"

make_report "$WORK/changed.json" "$uuid" "Different title"
cli_json bank-a submit "$WORK/changed.json"
expect_eq "$RC" 1 "reused uuid with other content is refused"
expect_contains "$ERR" "idempotency-conflict" "the error names the code"
expect_contains "$ERR" "$uuid" "the error names the uuid"

# Another operator may use the same uuid: keys are per sender.
sed 's/Sato Hanako/Suzuki Ichiro/' "$WORK/r.json" >"$WORK/b.json"
cli_json bank-b submit "$WORK/b.json"
expect_eq "$RC" 0 "same uuid from another sender ($ERR)"
[ "$(json_field hub_id)" != "$id1" ] || fail "another sender got the same id"

cli_json fsa-liaison inbox
expect_eq "$(count_hub_id "$id1")" 1 "the liaison got the first report once"
expect_eq "$(count_lines)" 2 "the liaison got one report from each bank"
cli_json nisc inbox
expect_eq "$(count_uuid "$uuid")" 2 "NISC got each bank's report once"

# A file without a uuid, sent twice as it is (a retried script): filed once.
make_report "$WORK/nouuid.json" "" "No uuid in the file"
python3 - "$WORK/nouuid.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
del r["uuid"]
json.dump(r, open(sys.argv[1], "w"))
PY
cli_json bank-a submit "$WORK/nouuid.json"
expect_eq "$RC" 0 "a file without a uuid ($ERR)"
id2=$(json_field hub_id)
expect_eq "$(json_field duplicate)" False "its first run files it"
expect_contains "$ERR" "derived from its content" "the client says how it chose the uuid"
cli_json bank-a submit "$WORK/nouuid.json"
expect_eq "$RC" 0 "the same file again ($ERR)"
expect_eq "$(json_field hub_id)" "$id2" "the second run names the first's hub id"
expect_eq "$(json_field duplicate)" True "the second run files nothing new"
# Another organisation sending the same file files its own.
sed 's/Sato Hanako/Suzuki Ichiro/' "$WORK/nouuid.json" >"$WORK/nouuid-b.json"
cli_json bank-b submit "$WORK/nouuid-b.json"
expect_eq "$RC" 0 "bank-b sends a file without a uuid ($ERR)"
expect_eq "$(json_field duplicate)" False "bank-b's copy is its own"
# --new files a genuinely new copy.
cli_json bank-a submit --new "$WORK/nouuid.json"
expect_eq "$RC" 0 "--new ($ERR)"
[ "$(json_field hub_id)" != "$id2" ] || fail "--new named the first hub id"
expect_eq "$(json_field duplicate)" False "--new files a new copy"
cli_json bank-a submit --new "$WORK/r.json"
expect_eq "$RC" 64 "--new with a file that names its uuid is a usage error"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(grep -c 'No uuid in the file' <<<"$OUT")" 3 \
    "the liaison got bank-a's report twice (once, then --new) and bank-b's once"
pass "idempotent submits"
