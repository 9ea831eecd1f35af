#!/usr/bin/env bash
# The TLS negative matrix: one hub checking client certificates against
# its CA and CRL, and every way a client can be wrong.  Each refusal is
# checked three ways: the client's exit status, the client's message and
# the single line the hub logs naming why.  Then the configuration checks
# of tls_min_version and tls_crl, and TLS 1.2 with a hub that allows it.
# The certificates come from tls-matrix-pki.sh, around the regress CA.
. "$(dirname "$0")/lib.sh"
pki_ensure
MATRIX=$PKI/matrix
bash "$REGRESS_DIR/tls-matrix-pki.sh" "$MATRIX" "$PKI" >/dev/null
refused=0
accepted=0
LOG_MARK=0

# Remember where the hub's log ends, so later checks see only what follows.
mark_log() {
	LOG_MARK=$(wc -l <"$HUB_LOG")
}

# The hub's log lines since mark_log.
new_log() {
	tail -n +"$((LOG_MARK + 1))" "$HUB_LOG"
}

# Wait up to 10 seconds for a line since mark_log containing the fixed
# string $1.
wait_new() {
	local i
	for ((i = 0; i < 200; i++)); do
		new_log | grep -Fq -- "$1" && return 0
		sleep 0.05
	done
	fail "no log line containing '$1' since the case began"
}

# The hub logged exactly one session.close since mark_log, and it says
# that the handshake was refused because of $1.
expect_one_refusal() {
	wait_new "state=handshake reason=\"tls: $1"
	expect_eq "$(new_log | grep -c 'session.close')" 1 \
	    "one session.close line for the refused handshake"
}

# Case $1: the real client with certificate $2 is refused; the hub's alert
# reads $3 to the client and the hub logs "client certificate refused: $4".
refuse_cert() {
	local name=$1 cert=$2 alert=$3 why=$4
	client_conf "$name" "$cert"
	mark_log
	cli "$name" ping
	expect_eq "$RC" 77 "$name: exit status ($OUT)"
	expect_contains "$OUT" "the hub rejected our certificate: $alert" \
	    "$name: the client says why"
	expect_not_contains "$OUT" "round trip" "$name: no ping answer"
	expect_one_refusal "client certificate refused: $why"
	refused=$((refused + 1))
	pass "$name: exit 77, \"$alert\"; hub: $why"
}

# --- Configuration: mistakes are refused at start with file:line. ---
# Each check is the regress hub's own configuration with another store,
# without tls_crl, and one line more (optionally with tls_ca replaced).
start_hub "tls_crl: $MATRIX/crl.pem"
grep -v '^tls_crl:' "$WORK/ceptoard.conf" |
    sed "s|^store:.*|store: $WORK/store/check.db|" >"$WORK/base.conf"
LINE=$(($(wc -l <"$WORK/base.conf") + 1))

# Write $WORK/$1 from base.conf with line $2 added and tls_ca $3.
conf_with() {
	sed "s|^tls_ca:.*|tls_ca: ${3:-$PKI/ca.crt}|" "$WORK/base.conf" >"$WORK/$1"
	printf '%s\n' "$2" >>"$WORK/$1"
}

# ceptoard -n on the configuration in $WORK/$1: status in RC, text in OUT.
check_conf() {
	set +e
	OUT=$("$CEPTOARD" -n -f "$WORK/$1" 2>&1)
	RC=$?
	set -e
}

conf_with crl-ok.conf "tls_crl: $MATRIX/crl.pem"
check_conf crl-ok.conf
expect_eq "$RC" 0 "a good CRL passes ceptoard -n ($OUT)"
expect_contains "$OUT" "configuration OK" "ceptoard -n with tls_crl"

conf_with tls12.conf "tls_min_version: 1.2"
check_conf tls12.conf
expect_eq "$RC" 0 "tls_min_version 1.2 is allowed ($OUT)"

conf_with tls11.conf "tls_min_version: 1.1"
check_conf tls11.conf
expect_eq "$RC" 78 "tls_min_version 1.1 is refused ($OUT)"
expect_contains "$OUT" "tls11.conf:$LINE: tls_min_version \"1.1\" is not 1.3 or 1.2" \
    "file, line and what"

conf_with crl-lookalike.conf "tls_crl: $MATRIX/lookalike-crl.pem"
check_conf crl-lookalike.conf
expect_eq "$RC" 78 "a CRL signed by a look-alike CA is refused ($OUT)"
expect_contains "$OUT" "crl-lookalike.conf:$LINE: tls_crl $MATRIX/lookalike-crl.pem: CRL number 1, issued in the name of \"O=CEPTOAR development, CN=CEPTOAR hub development CA\", is not signed by any CA of tls_ca" \
    "says the CRL's signature is not the CA's"

cat "$PKI/ca.crt" "$PKI/other-ca/ca.crt" >"$WORK/two-cas.crt"
conf_with crl-missing.conf "tls_crl: $MATRIX/crl.pem" "$WORK/two-cas.crt"
check_conf crl-missing.conf
expect_eq "$RC" 78 "a CA without a CRL is a configuration error ($OUT)"
expect_contains "$OUT" "crl-missing.conf:$LINE: tls_crl $MATRIX/crl.pem has no CRL from \"O=CEPTOAR development, CN=Another CA\", a CA of tls_ca" \
    "names the CA without a CRL"

conf_with crl-expired.conf "tls_crl: $MATRIX/expired-crl.pem"
check_conf crl-expired.conf
expect_eq "$RC" 78 "an expired CRL is refused ($OUT)"
expect_contains "$OUT" "expired at 2020-02-01T00:00:00Z" "says since when"

printf 'not a CRL\n' >"$WORK/junk.pem"
conf_with crl-junk.conf "tls_crl: $WORK/junk.pem"
check_conf crl-junk.conf
expect_eq "$RC" 78 "a file without a CRL is refused ($OUT)"
expect_contains "$OUT" "crl-junk.conf:$LINE: tls_crl $WORK/junk.pem holds no PEM CRL" \
    "says there is no CRL in it"

head -n 4 "$MATRIX/crl.pem" >"$WORK/truncated.pem"
conf_with crl-truncated.conf "tls_crl: $WORK/truncated.pem"
check_conf crl-truncated.conf
expect_eq "$RC" 78 "a truncated CRL is refused ($OUT)"
expect_contains "$OUT" "tls_crl $WORK/truncated.pem: CRL number 1 cannot be read" \
    "says which CRL does not parse"

conf_with crl-absent.conf "tls_crl: $WORK/absent.pem"
check_conf crl-absent.conf
expect_eq "$RC" 78 "a CRL file that is not there is refused ($OUT)"
expect_contains "$OUT" "crl-absent.conf:$LINE: tls_crl $WORK/absent.pem" "names it"
pass "configuration checks of tls_min_version and tls_crl"

# --- One hub (TLS 1.3 only, the CRL in force) and every bad client. ---

# First, a certificate that is fine: issued by the same "openssl ca".
client_conf valid "$MATRIX/valid.crt"
mark_log
cli valid ping
expect_eq "$RC" 0 "valid: a current certificate from the CA ($OUT)"
expect_contains "$OUT" "bank-a" "valid: ping names the organisation"
fp=$(openssl x509 -in "$MATRIX/valid.crt" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
wait_new "session.tls session="
expect_contains "$(new_log | grep session.tls)" "version=TLSv1.3 cn=\"bank-a\" sha256=$fp" \
    "valid: the hub logs the certificate it accepted"
accepted=$((accepted + 1))
pass "valid: accepted"

refuse_cert expired "$MATRIX/expired.crt" "certificate expired" \
    "certificate has expired (certificate CN=bank-a, issuer CN=CEPTOAR hub development CA)"

refuse_cert not-yet-valid "$MATRIX/notyet.crt" "bad certificate" \
    "certificate is not yet valid (certificate CN=bank-a, issuer CN=CEPTOAR hub development CA)"

serial=$(openssl x509 -in "$MATRIX/revoked.crt" -noout -serial | sed 's/.*=//')
refuse_cert revoked "$MATRIX/revoked.crt" "certificate revoked" \
    "certificate revoked (certificate CN=bank-a, serial $serial, issuer CN=CEPTOAR hub development CA)"

refuse_cert wrong-ca "$PKI/other-ca/intruder.crt" "unknown CA" \
    "unable to get local issuer certificate (certificate CN=nisc, issuer CN=Another CA)"

refuse_cert self-signed "$MATRIX/selfsigned.crt" "unknown CA" \
    "self-signed certificate (certificate CN=bank-a, issuer CN=bank-a)"

refuse_cert server-purpose "$MATRIX/serverauth.crt" "unsupported certificate" \
    "unsuitable certificate purpose (certificate CN=bank-a, issuer CN=CEPTOAR hub development CA)"

# A look-alike CA: the real CA's name and key identifier, another key.  The
# hub finds the real CA and the signature does not verify; OpenSSL says so
# with the alert decrypt_error, which the client reads as a refusal of its
# certificate.
client_conf look-alike "$MATRIX/lookalike.crt"
mark_log
cli look-alike ping
expect_eq "$RC" 77 "look-alike: exit status ($OUT)"
expect_contains "$OUT" "the hub rejected our certificate" \
    "look-alike: the client says why"
expect_not_contains "$OUT" "round trip" "look-alike: no ping answer"
expect_one_refusal "client certificate refused: certificate signature failure (certificate CN=nisc, issuer CN=CEPTOAR hub development CA)"
refused=$((refused + 1))
pass "look-alike: exit $RC; hub: certificate signature failure"

# Names are text, not bytes: a BMPString CN whose UTF-16 bytes spell
# "nisc" is the text U+6E69 U+7363, which names no organisation.
client_conf bmp-cn "$MATRIX/bmp-cn.crt"
mark_log
cli bmp-cn ping
expect_eq "$RC" 77 "bmp-cn: exit status ($OUT)"
expect_contains "$OUT" "unknown-organisation: certificate CN=$(printf '\346\271\251\347\215\243')" \
    "bmp-cn: the CN is decoded, and is not nisc"
expect_not_contains "$OUT" "round trip" "bmp-cn: no ping answer"
wait_new "code=unknown-organisation"
expect_not_contains "$(new_log)" "org=nisc" "bmp-cn: never taken for nisc"
refused=$((refused + 1))
pass "bmp-cn: a BMPString CN spelling nisc's bytes is not nisc"

# A subject with two CNs names nobody: refused in the handshake.
refuse_cert two-cn "$MATRIX/two-cn.crt" "bad certificate" \
    "its subject has more than one common name (CN); exactly one names the organisation (certificate subject O=nisc, CN=nisc, CN=bank-a)"

# No client certificate at all (the real client always sends one).
mark_log
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --no-cert --hello --timeout 60)
expect_contains "$out" "alert certificate required" "no certificate: the alert"
expect_not_contains "$out" "body 11" "no certificate: no welcome"
expect_one_refusal "the client presented no certificate"
refused=$((refused + 1))
pass "no certificate: \"certificate required\"; hub: the client presented no certificate"

# From the right CA, but no organisation of the directory has its CN.
client_conf stranger "$PKI/orgs/stranger.crt"
mark_log
cli stranger ping
expect_eq "$RC" 77 "unknown organisation: exit status ($OUT)"
expect_contains "$OUT" "unknown-organisation" "unknown organisation: the code"
expect_contains "$OUT" "CN=stranger" "unknown organisation: names the certificate"
wait_new "code=unknown-organisation"
expect_contains "$(new_log | grep session.error)" "fatal=yes" \
    "unknown organisation: the hub ends the session"
refused=$((refused + 1))
pass "unknown organisation: exit 77, unknown-organisation"

# A real organisation sending what its role does not allow: a liaison
# relays reports, it does not submit them.
make_report "$WORK/report.json"
mark_log
cli fsa-liaison submit "$WORK/report.json"
expect_eq "$RC" 1 "wrong role: exit status ($OUT)"
expect_contains "$OUT" "hub error not-permitted: fsa-liaison is not an operator" \
    "wrong role: the client says why"
wait_new "code=not-permitted"
expect_contains "$(new_log | grep session.error)" "org=fsa-liaison" \
    "wrong role: the hub names the organisation"
expect_contains "$(new_log | grep session.error)" "fatal=no" \
    "wrong role: the session may go on"
refused=$((refused + 1))
pass "wrong role: exit 1, not-permitted"

# A client that offers TLS 1.2 at most.
mark_log
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --cert "$PKI/orgs/bank-a.crt" \
    --key "$PKI/orgs/bank-a.key" --tls12 --hello --timeout 60)
expect_contains "$out" "tls-failed" "TLS 1.2 client: no handshake"
expect_contains "$out" "alert protocol version" "TLS 1.2 client: the alert"
expect_one_refusal "unsupported protocol: the client offers TLS 1.2 at most, the hub requires 1.3 or later (tls_min_version)"
refused=$((refused + 1))
pass "TLS 1.2 client on a TLS 1.3 hub: \"protocol version\""

# After all that, a valid organisation still gets through.
mark_log
cli bank-a ping
expect_eq "$RC" 0 "bank-a after the refusals ($OUT)"
expect_contains "$OUT" "bank-a" "bank-a: ping names the organisation"
wait_new "session.tls"
accepted=$((accepted + 1))
pass "bank-a: still accepted"
expect_eq "$(grep -c 'ceptoard.ready' "$HUB_LOG")" 1 "one hub for all of it"

# --- A hub that allows TLS 1.2, with the same CRL. ---
stop_hub
start_hub "tls_crl: $MATRIX/crl.pem
tls_min_version: 1.2"

mark_log
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --cert "$PKI/orgs/bank-a.crt" \
    --key "$PKI/orgs/bank-a.key" --tls12 --hello --timeout 60 --expect 1)
expect_contains "$out" "tls TLSv1.2" "TLS 1.2 client: TLS 1.2 agreed"
expect_contains "$out" "body 11" "TLS 1.2 client: welcomed"
wait_new "session.tls"
expect_contains "$(new_log | grep session.tls)" "version=TLSv1.2 cn=\"bank-a\"" \
    "TLS 1.2 client: the hub logs the version"
accepted=$((accepted + 1))
pass "TLS 1.2 client on a hub with tls_min_version 1.2: accepted"

# Only forward-secret AEAD suites: a client with RSA key exchange or CBC
# only finds nothing in common.
mark_log
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --cert "$PKI/orgs/bank-a.crt" \
    --key "$PKI/orgs/bank-a.key" --tls12 \
    --ciphers 'AES128-GCM-SHA256:AES256-SHA:ECDHE-ECDSA-AES128-SHA' \
    --hello --timeout 60)
expect_contains "$out" "tls-failed" "weak TLS 1.2 ciphers: no handshake"
expect_contains "$out" "handshake failure" "weak TLS 1.2 ciphers: the alert"
expect_one_refusal "no shared cipher"
refused=$((refused + 1))
pass "TLS 1.2 with weak ciphers only: refused"

# TLS 1.2 changes when the client's certificate is judged, not the verdict.
mark_log
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --cert "$MATRIX/revoked.crt" \
    --key "$MATRIX/revoked.key" --tls12 --hello --timeout 60)
expect_contains "$out" "alert certificate revoked" "revoked over TLS 1.2: the alert"
expect_one_refusal "client certificate refused: certificate revoked"
refused=$((refused + 1))
pass "revoked certificate over TLS 1.2: refused"

mark_log
cli bank-a ping
expect_eq "$RC" 0 "TLS 1.3 on a hub allowing 1.2 ($OUT)"
wait_new "session.tls"
expect_contains "$(new_log | grep session.tls)" "version=TLSv1.3" \
    "the real client still gets TLS 1.3"
accepted=$((accepted + 1))
pass "ceptoar on a hub with tls_min_version 1.2: TLS 1.3"

echo "tls matrix: $refused cases refused, $accepted accepted"
