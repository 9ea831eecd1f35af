#!/usr/bin/env bash
# SIGHUP goes through the parent, which holds the TLS key: a new key and
# certificate are taken together (the parent signs with the new key for
# the worker's new context); a certificate whose key the parent refuses
# (it does not match) is refused by the worker too, and the hub keeps
# serving with the pair it had.  The hub's pid does not change.
. "$(dirname "$0")/lib.sh"
pki_ensure
mkdir -p "$WORK/tls"
cp "$PKI/hub.crt" "$PKI/hub.key" "$WORK/tls/"
chmod 600 "$WORK/tls/hub.key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$WORK/tls/ext"

# A new EC key and a certificate for it from the CA, as $1.key, $1.crt.
new_pair() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -subj "/O=CEPTOAR development/CN=localhost" \
	    -out "$1.csr" 2>/dev/null || fail "cannot make a key"
	openssl x509 -req -in "$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
	    -CAserial "$WORK/tls/ca.srl" -CAcreateserial -days 2 \
	    -extfile "$WORK/tls/ext" -out "$1.crt" 2>/dev/null ||
	    fail "cannot sign a certificate"
	chmod 600 "$1.key"
}
# The SHA-256 fingerprint of the certificate the hub serves now.
served() {
	echo | timeout 20 openssl s_client -connect "127.0.0.1:$HUB_PORT" \
	    -CAfile "$PKI/ca.crt" -cert "$PKI/orgs/bank-a.crt" \
	    -key "$PKI/orgs/bank-a.key" 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2
}

HUB_TLS_CERT=$WORK/tls/hub.crt HUB_TLS_KEY=$WORK/tls/hub.key start_hub
parent=$HUB_PID
cli bank-a ping
expect_eq "$RC" 0 "a ping with the first pair ($OUT)"
expect_eq "$(served)" "$(fp "$PKI/hub.crt")" "the first certificate is served"

# A new pair: the parent takes the key, the worker the certificate.
new_pair "$WORK/tls/second"
cp "$WORK/tls/second.crt" "$WORK/tls/hub.crt"
cp "$WORK/tls/second.key" "$WORK/tls/hub.key"
kill -HUP "$HUB_PID"
wait_log "config.reload result=ok what=tls"
cli bank-a ping
expect_eq "$RC" 0 "a ping with the second pair ($OUT)"
expect_eq "$(served)" "$(fp "$WORK/tls/second.crt")" "the second certificate is served"
expect_not_contains "$(grep 'privsep.sign' "$HUB_LOG")" "result=refused" \
    "every signature was made"

# A certificate with a key that does not match: both refuse it.
new_pair "$WORK/tls/third"
new_pair "$WORK/tls/other"
cp "$WORK/tls/third.crt" "$WORK/tls/hub.crt"
cp "$WORK/tls/other.key" "$WORK/tls/hub.key"
kill -HUP "$HUB_PID"
wait_log "config.reload result=failed what=tls_key"
wait_log "config.reload result=failed what=tls cause="
cli bank-a ping
expect_eq "$RC" 0 "a ping after the refused reload ($OUT)"
expect_eq "$(served)" "$(fp "$WORK/tls/second.crt")" "the second pair is kept"
expect_eq "$HUB_PID" "$parent" "no restart"
kill -0 "$parent" || fail "the hub stopped"
expect_eq "$(grep -c 'ceptoard.ready' "$HUB_LOG")" 1 "one worker throughout"
stop_hub
pass "key reload through the parent: new pair taken, mismatched pair refused"
