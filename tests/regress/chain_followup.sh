#!/usr/bin/env bash
# A follow-up reaches exactly who got its chain's first report, along the
# path they got it, or is refused naming report.chain_id: a follow-up
# whose own route has nobody at hop 0 among them (a first report shared
# with NISC only), a consultation taken for a report chain, a mandatory
# chain continued by a voluntary update and the reverse.  Each of these
# took the hub down once.
. "$(dirname "$0")/lib.sh"
start_hub

EX=$CEPTOAR_SRCDIR/config/examples
# The README's reports, in the test directory's telecom sector.
sed -e 's/"liaison_and_nisc"/"nisc_only"/' -e 's/"info-comm"/"telecom"/' \
    "$EX/report-mandatory.json" >"$WORK/first.json"
sed -e 's/"info-comm"/"telecom"/' "$EX/report-followup.json" >"$WORK/follow.json"
chain=3b0c4e1a-7d52-4f0e-9a6b-2c8d1e5f9a07
alive() {
	kill -0 "$HUB_PID" 2>/dev/null || fail "the hub died: $1"
}

cli_json tel-a submit --uuid "$chain" "$WORK/first.json"
expect_eq "$RC" 0 "first report, NISC only ($ERR)"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "NISC got the first report"
cli_json mic-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(count_lines)" 0 "the liaison did not get it"

fu=$(cat /proc/sys/kernel/random/uuid)
cli_json tel-a submit --uuid "$fu" "$WORK/follow.json"
alive "follow-up of a report shared with NISC only"
expect_eq "$RC" 0 "the follow-up is accepted ($ERR)"
# A retry with the same uuid is a duplicate, not a second crash.
cli_json tel-a submit --uuid "$fu" "$WORK/follow.json"
alive "retry of that follow-up"
expect_eq "$RC" 0 "the retry ($ERR)"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "NISC gets the follow-up once"
expect_eq "$(json_field hop)" 0 "straight from the reporter, as the first"
expect_contains "$OUT" "\"chain_id\": \"$chain\"" "in the chain"
cli_json mic-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(count_lines)" 0 "the liaison, who did not get the first, gets no follow-up"

# A consultation is not a report chain.
cq=$(cat /proc/sys/kernel/random/uuid)
cli_json tel-a consult --to nisc "Must this be reported?"
expect_eq "$RC" 0 "consultation ($ERR)"
cq=$(json_field uuid)
[ -n "$cq" ] || {
	# The client may not print the uuid: send one of our own instead.
	cq=$(cat /proc/sys/kernel/random/uuid)
	python3 - "$EX/consultation.json" "$cq" >"$WORK/consult.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["uuid"] = sys.argv[2]
c["consultation"]["to"] = "nisc"
c["consultation"]["sector"] = "telecom"
print(json.dumps(c))
PY
	cli_json tel-a submit "$WORK/consult.json"
	expect_eq "$RC" 0 "consultation with a known uuid ($ERR)"
}
sed -e "s/$chain/$cq/" "$WORK/follow.json" >"$WORK/on-consult.json"
cli_json tel-a submit "$WORK/on-consult.json"
alive "report chained to a consultation"
expect_eq "$RC" 1 "a report cannot continue a consultation"
expect_contains "$ERR" "report.chain_id" "the refusal names the field"
expect_contains "$ERR" "consultation" "and says why"

# A mandatory chain is not continued by a voluntary update, nor the reverse.
m=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/m.json" "$m"
cli_json bank-a submit "$WORK/m.json"
expect_eq "$RC" 0 "mandatory report ($ERR)"
python3 - "$WORK/m.json" "$m" >"$WORK/m-vol.json" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["chain_id"] = sys.argv[2]
r["report"]["legally_mandated"] = False
r["report"]["kind"] = "near_miss"
del r["report"]["legal_basis"]
r["report"]["revision"] = 2
print(json.dumps(r))
PY
cli_json bank-a submit --accept-warnings "$WORK/m-vol.json"
alive "voluntary update of a mandatory report"
expect_eq "$RC" 1 "a voluntary update of a mandatory report is refused"
expect_contains "$ERR" "report.chain_id" "the refusal names the field"
expect_contains "$ERR" "mandatory" "and says why"

v=$(cat /proc/sys/kernel/random/uuid)
make_voluntary "$WORK/v.json" "$v"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "voluntary report ($ERR)"
python3 - "$WORK/v.json" "$v" >"$WORK/v-mand.json" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["chain_id"] = sys.argv[2]
r["report"]["legally_mandated"] = True
r["report"]["kind"] = "incident"
r["report"]["legal_basis"] = "Banking Act"
print(json.dumps(r))
PY
cli_json bank-a submit --accept-warnings "$WORK/v-mand.json"
alive "mandatory update of a voluntary report"
expect_eq "$RC" 1 "a mandatory update of a voluntary report is refused"
expect_contains "$ERR" "report.chain_id" "the refusal names the field"

# A voluntary chain still held by its secretariat: the update waits with
# it, and once released follows the path the first report takes.
cli_json banks-sec inbox
expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
held=$(json_field hub_id)
python3 - "$WORK/v.json" "$v" >"$WORK/v2.json" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["uuid"] = str(uuid.uuid4())
r["report"]["chain_id"] = sys.argv[2]
r["report"]["revision"] = 2
print(json.dumps(r))
PY
cli_json bank-a submit --accept-warnings "$WORK/v2.json"
alive "update of a held voluntary report"
expect_eq "$RC" 0 "update of a held voluntary report ($ERR)"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 1 "the secretariat gets the update"
held2=$(json_field hub_id)
cli_json banks-sec forward "$held"
expect_eq "$RC" 0 "the secretariat releases the first ($ERR)"
cli_json banks-sec forward "$held2"
expect_eq "$RC" 0 "and the update ($ERR)"
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
# NISC also got the consultation and the mandatory report meanwhile.
expect_eq "$(grep -c '"form": *"anonymised"' <<<"$OUT" || true)" 2 \
    "NISC gets both, anonymised"
expect_not_contains "$(grep '"anonymised"' <<<"$OUT")" "Sato" \
    "the reporter's contact is not named"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
# The liaison got the mandatory report too.
expect_eq "$(grep -c '"form": *"anonymised"' <<<"$OUT" || true)" 2 \
    "the liaison gets both anonymised"

alive "end"
make_report "$WORK/later.json"
cli_json bank-a submit "$WORK/later.json"
expect_eq "$RC" 0 "the hub still takes reports ($ERR)"
pass "follow-ups travel their chain's path, or are refused naming report.chain_id"
