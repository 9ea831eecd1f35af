#!/usr/bin/env bash
# With an RSA hub key, the worker's handshakes (TLS 1.3 and 1.2, both
# RSA-PSS) are signed by the parent through the RSA method, as with the
# development PKI's EC key.
. "$(dirname "$0")/lib.sh"
pki_ensure
mkdir -p "$WORK/rsa"
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/rsa/hub.key" \
    -subj "/O=CEPTOAR development/CN=localhost" -out "$WORK/rsa/hub.csr" \
    2>/dev/null || fail "cannot make an RSA key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
    >"$WORK/rsa/ext"
openssl x509 -req -in "$WORK/rsa/hub.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAserial "$WORK/rsa/ca.srl" -CAcreateserial -days 2 \
    -extfile "$WORK/rsa/ext" -out "$WORK/rsa/hub.crt" 2>/dev/null ||
    fail "cannot sign the RSA certificate"
chmod 600 "$WORK/rsa/hub.key"
HUB_TLS_CERT=$WORK/rsa/hub.crt HUB_TLS_KEY=$WORK/rsa/hub.key \
    start_hub 'tls_min_version: "1.2"'
cli bank-a ping
expect_eq "$RC" 0 "a ping over TLS 1.3 with the RSA key ($OUT)"
wait_log "privsep.sign result=ok kind=rsa"
n=$(grep -c "privsep.sign result=ok kind=rsa" "$HUB_LOG")
out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$HUB_PORT" \
    -tls1_2 -CAfile "$PKI/ca.crt" -cert "$PKI/orgs/bank-a.crt" \
    -key "$PKI/orgs/bank-a.key" 2>&1 || true)
expect_contains "$out" "Verification: OK" "a TLS 1.2 handshake verifies"
expect_contains "$out" "TLSv1.2" "over TLS 1.2"
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c "privsep.sign result=ok kind=rsa" "$HUB_LOG")" -gt "$n" ] && break
	sleep 0.05
done
[ "$(grep -c "privsep.sign result=ok kind=rsa" "$HUB_LOG")" -gt "$n" ] ||
    fail "the TLS 1.2 handshake was not signed by the parent"
stop_hub
pass "RSA key: the parent signs TLS 1.3 and 1.2 handshakes"
