#!/usr/bin/env bash
# An update relayed along a share carries that share's label and range
# (the tighter of the share's and the update's), and the forward rules
# apply to it as to the share (issue 14, item 3).  NISC shares an
# anonymised voluntary report with bank-b at TLP:AMBER, tightened from
# the reporter's GREEN and with its range narrowed, and with tel-a as it
# is; the reporter's updates then reach bank-b at AMBER (not GREEN) in the
# narrowed range, and bank-b may pass them on no more than the share;
# tel-a's copy stays as the update is; a RED update stays RED.
. "$(dirname "$0")/lib.sh"
start_hub

chain=$(cat /proc/sys/kernel/random/uuid)
make_voluntary "$WORK/v.json" "$chain"
# GREEN, for the finance CEPTOAR and the telecom sector.
report() {
	python3 - "$WORK/v.json" "$@" <<'PY'
import json, sys, uuid
r = json.load(open(sys.argv[1]))
r["tlp"] = sys.argv[2]
r["report"]["sharing"] = {"scope": "named_sectors", "sectors": ["telecom"]}
if len(sys.argv) > 3:
    r["uuid"] = str(uuid.uuid4())
    r["report"]["chain_id"] = r["report"].get("chain_id", sys.argv[3])
    r["report"]["revision"] = int(sys.argv[4])
    r["report"]["title"] = "Update %s" % sys.argv[4]
print(json.dumps(r))
PY
}
# The JSON line of $OUT whose report has revision $1 (none: the first),
# and field $2 of it: tlp, hub_id, form, or scope (of its sharing range).
pick() {
	client_worked
	python3 -c 'import json, sys
want = sys.argv[1]
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    d = json.loads(line)
    m = d.get("message", d)
    r = m.get("report", {})
    if str(r.get("revision", "")) != want:
        continue
    if sys.argv[2] == "scope":
        print(r.get("sharing", {}).get("scope", ""))
    elif sys.argv[2] in d:
        print(d[sys.argv[2]])
    else:
        print(m.get(sys.argv[2], ""))
    break' "$1" "$2" <<<"$OUT"
}
# Have the secretariat release what it holds of revision $1.
release() {
	cli_json banks-sec inbox
	expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
	local id
	id=$(pick "$1" hub_id)
	[ -n "$id" ] || fail "the secretariat holds no revision '$1': $OUT"
	cli_json banks-sec forward "$id"
	expect_eq "$RC" 0 "the secretariat releases revision '$1' ($ERR)"
}

report TLP:GREEN >"$WORK/r1.json"
cli_json bank-a submit --accept-warnings "$WORK/r1.json"
expect_eq "$RC" 0 "the first report ($ERR)"
release ""
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
nisc_id=$(pick "" hub_id)
expect_eq "$(pick "" tlp)" TLP:GREEN "NISC holds it at GREEN"

# NISC tightens its share with bank-b to AMBER and narrows its range.
cli_json nisc forward "$nisc_id" --to bank-b --tlp TLP:AMBER \
    --scope sector_ceptoar
expect_eq "$RC" 0 "NISC shares with bank-b at AMBER ($ERR)"
cli_json nisc forward "$nisc_id" --to tel-a
expect_eq "$RC" 0 "NISC shares with tel-a as it is ($ERR)"
cli_json bank-b inbox
expect_eq "$RC" 0 "bank-b's inbox ($ERR)"
expect_eq "$(pick "" tlp)" TLP:AMBER "bank-b's share is AMBER"
expect_eq "$(pick "" scope)" sector_ceptoar "in the narrowed range"
share_b=$(pick "" hub_id)
cli_json tel-a inbox
expect_eq "$RC" 0 "tel-a's inbox ($ERR)"
expect_eq "$(pick "" tlp)" TLP:GREEN "tel-a's share is GREEN"

# bank-b may not pass the share on (AMBER: an operator has no clients).
cli_json bank-b forward "$share_b" --to fsa-liaison
expect_eq "$RC" 1 "bank-b cannot pass the share on"
expect_contains "$ERR" "tlp-refused" "refused by its label"
share_refusal=$ERR

# The reporter's update, at GREEN; its preview shows the labels it gets.
report TLP:GREEN "$chain" 2 >"$WORK/r2.json"
cli_json bank-a preview "$WORK/r2.json"
expect_eq "$RC" 0 "preview of the update ($ERR)"
expect_eq "$(python3 -c 'import json, sys
p = json.loads(sys.stdin.read())
print(" ".join(sorted("%s/%s" % (r["as_received"]["tlp"],
    r["as_received"]["report"]["sharing"]["scope"])
    for r in p["routes"] if r.get("hop") == 3)))' <<<"$OUT")" \
    "TLP:AMBER/sector_ceptoar TLP:GREEN/named_sectors" \
    "the preview shows each share's form as it will go"
cli_json bank-a submit --accept-warnings "$WORK/r2.json"
expect_eq "$RC" 0 "the update ($ERR)"
release 2
cli_json bank-b inbox
expect_eq "$RC" 0 "bank-b's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "bank-b gets the update"
expect_eq "$(pick 2 form)" anonymised "still de-identified"
expect_eq "$(pick 2 tlp)" TLP:AMBER "bank-b's update is AMBER, as its share"
expect_eq "$(pick 2 scope)" sector_ceptoar "in the share's narrowed range"
upd_b=$(pick 2 hub_id)
cli_json tel-a inbox
expect_eq "$RC" 0 "tel-a's inbox ($ERR)"
expect_eq "$(count_lines)" 1 "tel-a gets the update"
expect_eq "$(pick 2 tlp)" TLP:GREEN "tel-a's update stays GREEN"
expect_eq "$(pick 2 scope)" named_sectors "in the reporter's range"
upd_t=$(pick 2 hub_id)
cli_json nisc inbox
expect_eq "$RC" 0 "NISC's inbox ($ERR)"
expect_eq "$(pick 2 tlp)" TLP:GREEN "NISC's own copy is the update's GREEN"

# The forward rules apply to the update as to the share.
cli_json bank-b forward "$upd_b" --to fsa-liaison
expect_eq "$RC" 1 "bank-b cannot pass the update on"
expect_contains "$ERR" "tlp-refused" "refused by its label"
expect_eq "${ERR//$upd_b/ID}" "${share_refusal//$share_b/ID}" \
    "refused as the share is"
cli_json bank-b forward "$upd_b" --to fsa-liaison --tlp TLP:GREEN
expect_eq "$RC" 1 "nor loosen its label"
expect_contains "$ERR" "never loosen" "refusal reason"
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
expect_eq "$(grep -c "\"sender\": *\"bank-b\"" <<<"$OUT" || true)" 0 \
    "nothing of bank-b's reached the liaison"
cli_json tel-a forward "$upd_t" --to mic-liaison
expect_eq "$RC" 0 "tel-a passes its GREEN update on within the range ($ERR)"

# A tighter update stays as tight.
report TLP:RED "$chain" 3 >"$WORK/r3.json"
cli_json bank-a submit --accept-warnings "$WORK/r3.json"
expect_eq "$RC" 0 "the RED update ($ERR)"
release 3
cli_json bank-b inbox
expect_eq "$RC" 0 "bank-b's inbox ($ERR)"
expect_eq "$(pick 3 tlp)" TLP:RED "bank-b's RED update stays RED"
cli_json tel-a inbox
expect_eq "$RC" 0 "tel-a's inbox ($ERR)"
expect_eq "$(pick 3 tlp)" TLP:RED "tel-a's RED update stays RED"
pass "updates keep the label and range of the share they travel"
