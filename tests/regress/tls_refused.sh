#!/usr/bin/env bash
# Certificates from another CA, certificates of organisations not in the
# directory, and connections without a certificate are all refused, with
# a clear error for the client and a log line at the hub.
. "$(dirname "$0")/lib.sh"
start_hub

# Issued by another CA (with a CN that is in the directory).
client_conf intruder "$PKI/other-ca/intruder.crt"
cli intruder ping
expect_eq "$RC" 77 "other-CA certificate: exit status ($OUT)"
expect_contains "$OUT" "certificate" "the client says its certificate was refused"
wait_log "session.close .*reason=\"tls: .*\(refused\)\""

# From the right CA, but no organisation in the directory has its CN.
client_conf stranger "$PKI/orgs/stranger.crt"
cli stranger ping
expect_eq "$RC" 77 "unknown organisation: exit status ($OUT)"
expect_contains "$OUT" "unknown-organisation" "the client names the error"
expect_contains "$OUT" "CN=stranger" "the error names the certificate"
wait_log "session.error .*code=unknown-organisation .*fatal=yes"

# No client certificate at all.
out=$(python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
    --ca "$PKI/ca.crt" --no-cert --hello --timeout 60)
expect_not_contains "$out" "body 11" "no welcome without a certificate"
wait_log "session.close .*reason=\"tls: .*certificate.*\(refused\)\""

# A valid organisation still gets through.
cli bank-a ping
expect_eq "$RC" 0 "a valid certificate is accepted ($OUT)"
expect_contains "$OUT" "bank-a" "ping names the organisation"
pass "TLS refusals"
