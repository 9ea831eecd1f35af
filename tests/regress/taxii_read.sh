#!/usr/bin/env bash
# TAXII 2.1 readers, over real TLS 1.2 and 1.3, by certificate and by
# HTTP Basic, behaving as taxii2-client, OpenCTI and MISP do
# (taxii_client.py): each organisation reads exactly what `ceptoar inbox`
# shows it, an anonymised report carries no byte of its reporter, nobody
# reads another's collection, bad credentials are refused, resuming from
# X-TAXII-Date-Added-Last misses nothing, and every object validates
# against OASIS's STIX 2.1 schemas.
. "$(dirname "$0")/lib.sh"

CLIENT=$REGRESS_DIR/taxii_client.py
# Debian's python3 with python3-requests and python3-jsonschema, as CI.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
SCHEMAS=$CEPTOAR_SRCDIR/../shared/interop/stix2.1-json-schemas/schemas
[ -d "$SCHEMAS" ] || SCHEMAS=

# fsa-liaison gets a TAXII password (for MISP); nobody else has one.
pw_out=$("$CEPTOARD" -P)
PASSWORD=$(sed -n 's/^password: //p' <<<"$pw_out")
HASH=$(sed -n 's/^taxii_basic: "\(.*\)"$/\1/p' <<<"$pw_out")
[ -n "$PASSWORD" ] && [ -n "$HASH" ] || fail "ceptoard -P printed: $pw_out"
expect_not_contains "$PASSWORD" ":" "a generated password has no ':'"
python3 - "$DIRECTORY" "$WORK/directory.yaml" "$HASH" <<'PY'
import sys
src, dst, h = sys.argv[1:]
text = open(src).read()
old = "sectors: [finance] }\n  - { id: mic-liaison"
assert text.count(old) == 1
text = text.replace(old, 'sectors: [finance], taxii_basic: "%s" }\n'
                    '  - { id: mic-liaison' % h)
open(dst, "w").write(text)
PY
HUB_DIRECTORY=$WORK/directory.yaml
start_hub "taxii_listen: 127.0.0.1:0
taxii_page_size: 4"
wait_log "taxii.listen address=127\.0\.0\.1:[0-9]+"
TAXII_PORT=$(grep -o 'taxii.listen address=[^ ]*' "$HUB_LOG" | tail -n 1 |
    sed 's/.*://')
URL=https://localhost:$TAXII_PORT/taxii2/

# Read as organisation $1 (certificate) with extra client options;
# objects in $WORK/$1.json, every body in $WORK/$1.raw; RC and ERR set.
taxii_read() {
	local org=$1
	shift
	set +e
	ERR=$(timeout 120 "$PY" "$CLIENT" --url "$URL" --ca "$PKI/ca.crt" \
	    --cert "$PKI/orgs/$org.crt" --key "$PKI/orgs/$org.key" \
	    ${SCHEMAS:+--schemas "$SCHEMAS"} --out "$WORK/$org.json" \
	    --raw "$WORK/$org.raw" "$@" 2>&1)
	RC=$?
	set -e
}

# GET URL $1 with client options after it; "STATUS BODY" in OUT.
taxii_get() {
	local url=$1
	shift
	set +e
	OUT=$(timeout 60 "$PY" "$CLIENT" get --url "$url" --ca "$PKI/ca.crt" \
	    "$@" 2>&1)
	RC=$?
	set -e
}

# The names of the incidents and reports in $1 (a JSON array), sorted.
stix_names() {
	python3 -c 'import json, sys
objs = json.load(open(sys.argv[1]))
for o in sorted(o["name"] for o in objs
                if o["type"] in ("incident", "report")):
    print(o)' "$1"
}

# The titles of what org $1's inbox holds that has a STIX form, sorted.
inbox_titles() {
	cli_json "$1" inbox --no-ack
	expect_eq "$RC" 0 "$1's inbox ($ERR)"
	python3 -c 'import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    m = json.loads(line)["message"]
    for kind in ("report", "advisory", "early_warning"):
        if kind in m:
            print(m[kind].get("title", ""))' <<<"$OUT" | sort
}

# 1. A voluntary near miss, anonymised by the secretariat on its way up.
uuid_v=$(cat /proc/sys/kernel/random/uuid)
make_voluntary "$WORK/v.json" "$uuid_v"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "voluntary report ($ERR)"
hub_v=$(json_field hub_id)
cli_json banks-sec inbox --no-ack
held=$(json_field hub_id)
cli_json banks-sec forward "$held" --note "Shared as a near miss."
expect_eq "$RC" 0 "the secretariat forwards ($ERR)"
wait_inbox fsa-liaison 1

# Only the anonymised form is in the liaison's and NISC's collections:
# no byte of the reporter in anything they read.
for org in fsa-liaison nisc; do
	taxii_read "$org" --tls 1.3
	expect_eq "$RC" 0 "$org reads over TAXII ($ERR)"
	expect_eq "$(stix_names "$WORK/$org.json")" "$(inbox_titles "$org")" \
	    "$org reads over TAXII what its inbox shows"
	raw=$(cat "$WORK/$org.raw")
	expect_contains "$raw" "Firewall rule pushed" "$org reads the near miss"
	expect_contains "$raw" '"form":"anonymised"' "in its anonymised form"
	for leak in bank-a "Bank A" "エー銀行" '\u30a8\u30fc' "Sato Hanako" \
	    "hanako.sato" "5555-0101" "198.51.100" "$uuid_v" "$hub_v"; do
		expect_not_contains "$raw" "$leak" \
		    "$org's TAXII read must not carry '$leak'"
	done
done
pass "an anonymised report carries no byte of its reporter over TAXII"

# 2. A mandatory report and an advisory: more deliveries, more pages.
make_report "$WORK/r1.json" "" "Payment gateway unreachable"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "mandatory report ($ERR)"
cat >"$WORK/adv.json" <<JSON
{
  "type": "advisory",
  "uuid": "$(cat /proc/sys/kernel/random/uuid)",
  "tlp": "TLP:GREEN",
  "advisory": {
    "title": "Credential phishing against internet banking",
    "text": "Block the listed domain.",
    "sectors": ["finance"],
    "indicators": [ { "type": "domain", "value": "login-bank-x.example" } ]
  }
}
JSON
cli_json nisc submit "$WORK/adv.json"
expect_eq "$RC" 0 "advisory ($ERR)"
wait_inbox fsa-liaison 3
wait_inbox bank-b 1

# 3. Every organisation reads what its inbox shows, as each client does,
# over both TLS versions (each combination for some); a page of 4 objects
# and a limit of 2 force next to be followed.
i=0
for org in fsa-liaison nisc banks-sec bank-a bank-b mic-liaison; do
	mode=$([ $((i % 2)) -eq 0 ] && echo opencti || echo taxii2client)
	tls=$([ $((i / 2 % 2)) -eq 0 ] && echo 1.2 || echo 1.3)
	i=$((i + 1))
	taxii_read "$org" --mode "$mode" --tls "$tls" --limit 2
	expect_eq "$RC" 0 "$org, $mode, TLS $tls ($ERR)"
	expect_eq "$(stix_names "$WORK/$org.json")" "$(inbox_titles "$org")" \
	    "$org ($mode, TLS $tls) reads what its inbox shows"
done
expect_log "taxii.read org=fsa-liaison .* more=yes"
# Nothing without a STIX form, nothing of another's: the empty inbox
# reads empty, and successfully.
taxii_read tel-a
expect_eq "$RC" 0 "tel-a reads ($ERR)"
expect_eq "$(stix_names "$WORK/tel-a.json")" "" "tel-a was delivered nothing"
pass "every organisation reads exactly its inbox, TLS 1.2 and 1.3"

# 4. MISP: HTTP Basic with the directory's credential, TLS 1.2.
set +e
ERR=$(timeout 120 "$PY" "$CLIENT" --url "$URL" --ca "$PKI/ca.crt" \
    --basic "fsa-liaison:$PASSWORD" --mode misp --tls 1.2 \
    ${SCHEMAS:+--schemas "$SCHEMAS"} --out "$WORK/misp.json" 2>&1)
RC=$?
set -e
expect_eq "$RC" 0 "MISP reads by Basic ($ERR)"
expect_eq "$(stix_names "$WORK/misp.json")" "$(inbox_titles fsa-liaison)" \
    "Basic reads the same collection as the certificate"
pass "HTTP Basic maps to the organisation"

# 5. Refused: absent, wrong and unknown credentials; another's collection.
taxii_get "$URL"
expect_eq "$RC" 0 "the request is made ($OUT)"
expect_contains "$OUT" "401 " "no credentials: 401"
expect_contains "$OUT" '"http_status":"401"' "as a TAXII error"
for cred in "fsa-liaison:wrong-password" "fsa-liaison:$PASSWORD-" \
    "nisc:$PASSWORD" "nobody:$PASSWORD" "fsa-liaison"; do
	user=${cred%%:*}
	pw=${cred#*:}
	[ "$pw" != "$cred" ] || pw=
	taxii_get "$URL" --basic "$user:$pw"
	expect_eq "$RC" 0 "the request is made ($OUT)"
	expect_contains "$OUT" "401 " "Basic $user with a wrong password: 401"
done
: >"$WORK/cols"
for org in fsa-liaison nisc bank-a bank-b; do
	taxii_get "${URL%taxii2/}ceptoar/collections/" --cert \
	    "$PKI/orgs/$org.crt" --key "$PKI/orgs/$org.key"
	expect_contains "$OUT" "200 " "$org lists its collections"
	python3 -c 'import json, sys
d = json.loads(sys.argv[1].split(" ", 1)[1])
assert len(d["collections"]) == 1, d
print(sys.argv[2], d["collections"][0]["id"])' "$OUT" "$org" >>"$WORK/cols"
done
expect_eq "$(cut -d' ' -f2 "$WORK/cols" | sort -u | wc -l)" 4 \
    "one collection each, all different"
for org in fsa-liaison nisc bank-a bank-b; do
	urls=()
	while read -r owner cid; do
		[ "$org" != "$owner" ] || continue
		for res in "" objects/ manifest/ \
		    objects/incident--3a90eb41-f775-5e74-a30c-08266193da49/; do
			urls+=("${URL%taxii2/}ceptoar/collections/$cid/$res")
		done
	done <"$WORK/cols"
	taxii_get "${urls[0]}" --cert "$PKI/orgs/$org.crt" \
	    --key "$PKI/orgs/$org.key" "${urls[@]:1}"
	expect_eq "$RC" 0 "the requests are made ($OUT)"
	expect_eq "$(grep -c '^404 ' <<<"$OUT")" "${#urls[@]}" \
	    "$org can read none of the others' collections"
	expect_eq "$(grep -c . <<<"$OUT")" "${#urls[@]}" "one answer each"
done
# A next from one reader is refused to another, named as the parameter.
taxii_read fsa-liaison --limit 1
fsa_cid=$(grep '^fsa-liaison ' "$WORK/cols" | cut -d' ' -f2)
nisc_cid=$(grep '^nisc ' "$WORK/cols" | cut -d' ' -f2)
taxii_get "${URL%taxii2/}ceptoar/collections/$fsa_cid/objects/?limit=1" \
    --cert "$PKI/orgs/fsa-liaison.crt" --key "$PKI/orgs/fsa-liaison.key"
next=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1].split(" ", 1)[1])["next"])' "$OUT")
taxii_get "${URL%taxii2/}ceptoar/collections/$nisc_cid/objects/?next=$next" \
    --cert "$PKI/orgs/nisc.crt" --key "$PKI/orgs/nisc.key"
expect_contains "$OUT" "400 " "another reader's next is refused"
expect_contains "$OUT" '"parameter":"next"' "naming the parameter"
taxii_get "${URL%taxii2/}ceptoar/collections/$fsa_cid/objects/?added_after=yesterday" \
    --cert "$PKI/orgs/fsa-liaison.crt" --key "$PKI/orgs/fsa-liaison.key"
expect_contains "$OUT" "400 " "a bad added_after is refused"
expect_contains "$OUT" '"parameter":"added_after"' "naming the parameter"
pass "authorisation matrix: no organisation reads another's collection"

# 6. Resuming: a reader that stored X-TAXII-Date-Added-Last (at ms, as
# OpenCTI does) reads exactly what came after it, and nothing twice.
for mode in opencti taxii2client; do
	rm -f "$WORK/state"
	taxii_read bank-b --mode "$mode" --state "$WORK/state"
	expect_eq "$RC" 0 "bank-b reads ($ERR)"
	before=$(stix_names "$WORK/bank-b.json")
	taxii_read bank-b --mode "$mode" --state "$WORK/state"
	expect_eq "$RC" 0 "bank-b resumes ($ERR)"
	expect_eq "$(stix_names "$WORK/bank-b.json")" "" \
	    "$mode: nothing new, nothing again"
	u2=$(cat /proc/sys/kernel/random/uuid)
	sed -e 's/"uuid": "[^"]*"/"uuid": "'"$u2"'"/' \
	    -e "s/Credential phishing/Phishing $mode/" \
	    "$WORK/adv.json" >"$WORK/adv2.json"
	cli_json nisc submit "$WORK/adv2.json"
	expect_eq "$RC" 0 "another advisory ($ERR)"
	for ((i = 0; i < 100; i++)); do
		cli_json bank-b inbox --no-ack
		[ "$(count_uuid "$u2")" -lt 1 ] || break
		sleep 0.1
	done
	taxii_read bank-b --mode "$mode" --state "$WORK/state" --limit 1
	expect_eq "$RC" 0 "bank-b resumes ($ERR)"
	expect_eq "$(stix_names "$WORK/bank-b.json")" \
	    "Phishing $mode against internet banking" \
	    "$mode: exactly the new advisory after the stored position"
done
pass "resuming from X-TAXII-Date-Added-Last misses nothing"
