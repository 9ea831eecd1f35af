#!/usr/bin/env bash
# TAXII 2.1 writing: an operator POSTs a STIX incident (by certificate
# and by HTTP Basic) and the hub routes it exactly as `ceptoar submit`
# (the liaison and NISC read the same message, anonymised where it
# should be, no byte of the reporter); the same incident posted again
# files once; a bad object fails naming its property; a non-operator's
# collection says can_write false and a POST gets 403; a status is
# readable by its poster only.  /metrics counts the requests by endpoint
# and status.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# bank-a gets a TAXII password for the Basic half.
pw_out=$("$CEPTOARD" -P)
PASSWORD=$(sed -n 's/^password: //p' <<<"$pw_out")
HASH=$(sed -n 's/^taxii_basic: "\(.*\)"$/\1/p' <<<"$pw_out")
[ -n "$PASSWORD" ] && [ -n "$HASH" ] || fail "ceptoard -P printed: $pw_out"
python3 - "$DIRECTORY" "$WORK/directory.yaml" "$HASH" <<'PY'
import sys
src, dst, h = sys.argv[1:]
text = open(src).read()
old = "    name_ja: エー銀行\n"
assert text.count(old) == 1
text = text.replace(old, old + '    taxii_basic: "%s"\n' % h)
open(dst, "w").write(text)
PY
HUB_DIRECTORY=$WORK/directory.yaml
start_hub "taxii_listen: 127.0.0.1:0
metrics_listen: 127.0.0.1:0"
wait_log "taxii.listen address=127\.0\.0\.1:[0-9]+"
wait_log "metrics.listen address=127\.0\.0\.1:[0-9]+"
METRICS=$(grep -oE 'metrics.listen address=[^ ]+' "$HUB_LOG" | tail -n 1 |
    cut -d= -f2)
TAXII_PORT=$(grep -o 'taxii.listen address=[^ ]*' "$HUB_LOG" | tail -n 1 |
    sed 's/.*://')
BASE=https://localhost:$TAXII_PORT/ceptoar/

# taxii METHOD PATH AUTH [BODYFILE]: AUTH is an organisation (its
# certificate) or basic:ORG:PASSWORD; "STATUS" in CODE, the body in OUT.
taxii() {
	set +e
	OUT=$(timeout 60 "$PY" - "$BASE" "$PKI" "$@" <<'PY' 2>&1
import sys, requests
base, pki, method, path, auth = sys.argv[1:6]
body = open(sys.argv[6], "rb").read() if len(sys.argv) > 6 else None
kw = {"verify": pki + "/ca.crt", "timeout": 30, "headers": {
    "Accept": "application/taxii+json;version=2.1",
    "Content-Type": "application/taxii+json;version=2.1"}}
if auth.startswith("basic:"):
    _, org, pw = auth.split(":", 2)
    kw["auth"] = (org, pw)
else:
    kw["cert"] = (pki + "/orgs/%s.crt" % auth, pki + "/orgs/%s.key" % auth)
r = requests.request(method, base + path, data=body, **kw)
print(r.status_code)
print(r.text)
PY
)
	RC=$?
	set -e
	CODE=$(head -n 1 <<<"$OUT")
	OUT=$(tail -n +2 <<<"$OUT")
}

# A field of the JSON in $OUT: python expression $1 over j.
jq_py() {
	python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}

# The collection id of bank-a (the one it may write to).
taxii GET collections/ bank-a
expect_eq "$CODE" 200 "bank-a lists its collections ($OUT)"
COLL=$(jq_py 'j["collections"][0]["id"]')
expect_eq "$(jq_py 'j["collections"][0]["can_write"]')" True \
    "an operator's collection says can_write true"

# incident FILE UUID: the STIX incident of make_voluntary's near miss.
incident() {
	cat >"$1" <<-JSON
	{"objects": [
	 {"type": "marking-definition", "spec_version": "2.1",
	  "id": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	  "created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER",
	  "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
	    {"extension_type": "property-extension", "tlp_2_0": "amber"}}},
	 {"type": "incident", "spec_version": "2.1", "id": "incident--$2",
	  "created": "2026-11-21T00:00:00.000Z",
	  "modified": "2026-11-21T00:00:00.000Z",
	  "name": "Firewall rule pushed to the wrong cluster",
	  "description": "A change to the payment cluster was applied to the wrong firewall; caught within 4 minutes.",
	  "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],
	  "extensions": {
	   "extension-definition--ef765651-680c-498d-9894-99799f2fa126":
	    {"extension_type": "property-extension"},
	   "extension-definition--6d3c1f0e-8a57-4b0f-9c2e-5f1d7a9b3e41": {
	    "extension_type": "property-extension",
	    "kind": "near_miss",
	    "contact": {"name": "Sato Hanako", "phone": "+81-3-5555-0101",
	                "email": "hanako.sato@bank-a.example"},
	    "legally_mandated": false, "cause": "unintentional",
	    "event_type": "threat_worth_sharing",
	    "severity": {"continuity": 1, "safety": 0, "trust": 1},
	    "sharing_scope": "liaison_and_nisc",
	    "occurred_at": "2026-11-20T18:17:00.000Z"}}}
	]}
	JSON
}

# The messages of org $1's inbox as comparable text: what every
# recipient reads, without the ids and times each submit has its own of.
inbox_forms() {
	cli_json "$1" inbox --no-ack
	expect_eq "$RC" 0 "$1's inbox ($ERR)"
	python3 -c 'import json, sys
out = []
for line in sys.stdin:
    if not line.strip():
        continue
    d = json.loads(line)
    m = d["message"]
    for k in ("uuid", "hub_id", "submitted_at", "received_at", "chain_id"):
        m.pop(k, None)
    for n in m.get("hop_notes", []):
        n.pop("at", None)
    r = m.get("report", {})
    for k in ("chain_id", "pseudonym", "received_at"):
        r.pop(k, None)
    for k in ("hub_id", "seq", "received_at", "delivered_at", "visible_at",
              "uuid", "chain_id", "in_reply_to", "via_hub_id",
              "original_hub_id"):
        d.pop(k, None)
    out.append(json.dumps(d, sort_keys=True, ensure_ascii=False))
print("\n".join(out))' <<<"$OUT"
}

# 1. The same near miss by `ceptoar submit` and by TAXII (certificate).
make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "ceptoar submit ($ERR)"
wait_inbox banks-sec 1
held_cli=$(json_field hub_id)
uuid_t=$(cat /proc/sys/kernel/random/uuid)
incident "$WORK/inc.json" "$uuid_t"
taxii POST "collections/$COLL/objects/" bank-a "$WORK/inc.json"
expect_eq "$CODE" 202 "an operator's POST is accepted ($OUT)"
STATUS=$(jq_py 'j["id"]')
expect_eq "$(jq_py 'j["total_count"]')" 2 "the status counts both objects"
expect_eq "$(jq_py 'j["failure_count"]')" 0 "nothing failed ($OUT)"
# The submit is durable when the status says so.
for ((i = 0; i < 100; i++)); do
	taxii GET "status/$STATUS/" bank-a
	[ "$(jq_py 'j["status"]')" != complete ] || break
	sleep 0.1
done
expect_eq "$CODE" 200 "the poster reads its status"
expect_eq "$(jq_py 'j["status"]')" complete "the status completes ($OUT)"
expect_eq "$(jq_py 'j["success_count"]')" 2 "both objects succeed ($OUT)"
expect_contains "$OUT" "incident--$uuid_t" "the incident is among successes"
wait_inbox banks-sec 2
expect_eq "$(count_lines)" 2 "the secretariat holds both forms"
forms=$(inbox_forms banks-sec)
expect_eq "$(sed -n 1p <<<"$forms")" "$(sed -n 2p <<<"$forms")" \
    "the secretariat receives the TAXII incident as the ceptoar submit"
# Its hub id, to forward it on as the secretariat does.
held_taxii=$(python3 -c 'import json, sys
for line in sys.stdin:
    if line.strip():
        d = json.loads(line)
        if d["message"].get("uuid") == sys.argv[2] or d["hub_id"] != sys.argv[1]:
            print(d["hub_id"]); break' "$held_cli" "$uuid_t" <<<"$OUT")
[ -n "$held_taxii" ] || fail "the TAXII incident is not in banks-sec's inbox"
for h in "$held_cli" "$held_taxii"; do
	cli_json banks-sec forward "$h" --note "Shared as a near miss."
	expect_eq "$RC" 0 "the secretariat forwards $h ($ERR)"
done
for org in fsa-liaison nisc; do
	wait_inbox "$org" 2
	expect_eq "$(count_lines)" 2 "$org receives both"
	raw=$OUT
	for leak in bank-a "Bank A" "エー銀行" "Sato Hanako" "hanako.sato" \
	    "5555-0101" "198.51.100" "$uuid_t"; do
		expect_not_contains "$raw" "$leak" \
		    "$org's inbox must not carry '$leak'"
	done
	forms=$(inbox_forms "$org")
	expect_contains "$forms" anonymised "$org reads the anonymised form"
	expect_eq "$(sed -n 1p <<<"$forms" | sed 's/anon-[a-z0-9]*//g')" \
	    "$(sed -n 2p <<<"$forms" | sed 's/anon-[a-z0-9]*//g')" \
	    "$org receives the TAXII incident as the ceptoar submit"
done
pass "an incident POSTed over TAXII is routed as ceptoar submit"

# 2. The same incident again, by Basic: filed once.
taxii POST "collections/$COLL/objects/" "basic:bank-a:$PASSWORD" \
    "$WORK/inc.json"
expect_eq "$CODE" 202 "a repost by Basic is accepted ($OUT)"
STATUS2=$(jq_py 'j["id"]')
for ((i = 0; i < 100; i++)); do
	taxii GET "status/$STATUS2/" "basic:bank-a:$PASSWORD"
	[ "$(jq_py 'j["status"]')" != complete ] || break
	sleep 0.1
done
expect_eq "$(jq_py 'j["success_count"]')" 2 "the repost succeeds ($OUT)"
expect_contains "$OUT" "$held_taxii" "the repost names the first filing"
cli_json banks-sec inbox --no-ack
expect_eq "$(count_lines)" 2 "a repost files nothing new"
pass "the same STIX id posted twice files once"

# 3. A bad object fails naming its property; the rest of the hub is fine.
python3 - "$WORK/inc.json" "$WORK/bad.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
inc = e["objects"][1]
inc["id"] = "incident--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12
del inc["object_marking_refs"]
json.dump(e, open(sys.argv[2], "w"))
PY
taxii POST "collections/$COLL/objects/" bank-a "$WORK/bad.json"
expect_eq "$CODE" 202 "a bad object still gets a status ($OUT)"
expect_eq "$(jq_py 'j["failure_count"]')" 1 "one failure ($OUT)"
expect_contains "$(jq_py 'j["failures"][0]["message"]')" \
    "object_marking_refs" "the failure names the property"
python3 - "$WORK/inc.json" "$WORK/bad2.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
inc = e["objects"][1]
inc["id"] = "incident--" + "1" * 8 + "-0000-4000-8000-" + "0" * 12
inc["extensions"]["extension-definition--6d3c1f0e-8a57-4b0f-9c2e-5f1d7a9b3e41"]["severity"]["trust"] = 9
json.dump(e, open(sys.argv[2], "w"))
PY
taxii POST "collections/$COLL/objects/" bank-a "$WORK/bad2.json"
expect_contains "$(jq_py 'j["failures"][0]["message"]')" \
    "severity.trust" "a bad extension value names its property ($OUT)"
pass "a bad object fails naming the property"

# 4. A non-operator cannot write; a status is its poster's alone.
taxii GET collections/ fsa-liaison
expect_eq "$(jq_py 'j["collections"][0]["can_write"]')" False \
    "a liaison's collection says can_write false"
LCOLL=$(jq_py 'j["collections"][0]["id"]')
taxii POST "collections/$LCOLL/objects/" fsa-liaison "$WORK/inc.json"
expect_eq "$CODE" 403 "a liaison's POST is forbidden ($OUT)"
taxii GET "status/$STATUS/" nisc
expect_eq "$CODE" 404 "another organisation cannot read the status"
taxii GET "status/$STATUS/" bank-b
expect_eq "$CODE" 404 "nor can another operator"
taxii GET "status/$STATUS/" bank-a
expect_eq "$CODE" 200 "the poster still can"
pass "only operators write; a status is read by its poster only"

# 5. /metrics counts TAXII requests by endpoint and status.
python3 - "http://$METRICS/metrics" >"$WORK/metrics" <<'PY' ||
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    sys.stdout.write(r.read().decode())
PY
    fail "scrape failed"
series() {
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }' \
	    "$WORK/metrics"
}
expect_eq "$(series 'ceptoard_taxii_requests_total{endpoint="objects_post",status="202"}')" \
    4 "four POSTs answered 202"
expect_eq "$(series 'ceptoard_taxii_requests_total{endpoint="objects_post",status="403"}')" \
    1 "one POST answered 403"
expect_eq "$(series 'ceptoard_taxii_requests_total{endpoint="status",status="404"}')" \
    2 "two status reads answered 404"
expect_eq "$(series 'ceptoard_taxii_requests_total{endpoint="collections",status="200"}')" \
    2 "two collection lists"
promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -n "$promtool" ] && [ -x "$promtool" ]; then
	"$promtool" check metrics <"$WORK/metrics" ||
	    fail "promtool check metrics refused the exposition"
fi
pass "/metrics counts TAXII requests by endpoint and status"
