#!/usr/bin/env bash
# The certificate chains each side sends.  The hub and ceptoar send their
# certificate and any intermediate CA, never the root: the other side
# holds the root already, and a root sent is parsed, and kept for the
# life of the connection, for nothing.  An intermediate CA, in either
# side's certificate file, still gets through.  What was sent is read
# off openssl's handshake trace (-trace).
. "$(dirname "$0")/lib.sh"
pki_ensure
MATRIX=$PKI/matrix
bash "$REGRESS_DIR/tls-matrix-pki.sh" "$MATRIX" "$PKI" >/dev/null

# How many certificates the Certificate message carried that the trace in
# file $1 shows as $2 ("Sent" or "Received").
trace_certs() {
	awk -v dir="$2" '/^(Sent|Received) Record/ { cur = $1 }
	    /ASN\.1Cert, length=/ && cur == dir { n++ }
	    END { print n + 0 }' "$1"
}

# openssl s_client against the hub with bank-a's certificate: the trace
# in $WORK/s_client.trace, the chain it was shown in $WORK/s_client.out.
hub_chain() {
	timeout 20 openssl s_client -connect "127.0.0.1:$HUB_PORT" \
	    -servername localhost -CAfile "$PKI/ca.crt" \
	    -cert "$MATRIX/valid.crt" -key "$MATRIX/valid.key" -tls1_3 \
	    -showcerts -trace </dev/null >"$WORK/s_client.trace" 2>&1 || true
	grep -E '^ *[0-9]+ s:' "$WORK/s_client.trace" >"$WORK/s_client.out" || true
}

# ceptoar as organisation $1 with certificate file $2 and key $3 pings a
# stand-in hub (openssl s_server, which answers no frame); how many
# certificates the client sent is left in $SENT.  The stand-in ends when
# its standard input, a pipe held open here, is closed.
client_chain() {
	local name=$1 cert=$2 key=$3 port pid tries i
	for ((tries = 0; tries < 5; tries++)); do
		port=$(free_port)
		rm -f "$WORK/s_server.in"
		mkfifo "$WORK/s_server.in"
		openssl s_server -accept "127.0.0.1:$port" -naccept 1 \
		    -cert "$PKI/hub.crt" -key "$PKI/hub.key" \
		    -CAfile "$PKI/ca.crt" -Verify 3 -tls1_3 -trace \
		    <"$WORK/s_server.in" >"$WORK/s_server.trace" 2>&1 &
		pid=$!
		BG_PIDS+=("$pid")
		exec 8>"$WORK/s_server.in"
		for ((i = 0; i < 100; i++)); do
			grep -q '^ACCEPT' "$WORK/s_server.trace" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		grep -q '^ACCEPT' "$WORK/s_server.trace" && break
		exec 8>&-
		stop_bg "$pid" 10
	done
	grep -q '^ACCEPT' "$WORK/s_server.trace" ||
	    fail "openssl s_server did not start: $(cat "$WORK/s_server.trace")"
	HUB_PORT=$port CLIENT_TIMEOUT=3 client_conf "$name" "$cert" "$key"
	cli "$name" ping
	expect_eq "$RC" 69 "$name: a stand-in hub answers no ping ($OUT)"
	exec 8>&-
	stop_bg "$pid" 10
	SENT=$(trace_certs "$WORK/s_server.trace" Received)
}

start_hub

# The hub sends its certificate alone: the regress CA issued it.
hub_chain
expect_eq "$(trace_certs "$WORK/s_client.trace" Received)" 1 \
    "certificates the hub sent ($(tr "\n" ";" <"$WORK/s_client.out"))"
pass "the hub sends its certificate without the root"

# ceptoar sends its certificate alone, and with an intermediate CA in its
# certificate file, the certificate and the intermediate.
client_chain stand-in-a "$PKI/orgs/bank-a.crt" "$PKI/orgs/bank-a.key"
expect_eq "$SENT" 1 "certificates ceptoar sent with bank-a.crt"
client_chain stand-in-sub "$MATRIX/sub-client-chain.crt" \
    "$MATRIX/sub-client.key"
expect_eq "$SENT" 2 "certificates ceptoar sent with an intermediate CA"
pass "ceptoar sends its certificate and intermediates without the root"

# The hub accepts a client certificate whose intermediate came with it.
client_conf bank-a-sub "$MATRIX/sub-client-chain.crt" "$MATRIX/sub-client.key"
cli bank-a-sub ping
expect_eq "$RC" 0 "a client certificate from an intermediate CA ($OUT)"
expect_contains "$OUT" "bank-a" "ping names the organisation"
pass "a client certificate through an intermediate CA is accepted"

# A hub certificate from an intermediate CA: the hub sends the
# intermediate too, not the root, and ceptoar, trusting only the root,
# gets through.
stop_hub
HUB_TLS_CERT=$MATRIX/sub-hub-chain.crt HUB_TLS_KEY=$MATRIX/sub-hub.key start_hub
grep -q "^tls_cert: $MATRIX/sub-hub-chain.crt" "$WORK/ceptoard.conf" ||
    fail "the hub was not given the intermediate's certificate"
hub_chain
expect_eq "$(trace_certs "$WORK/s_client.trace" Received)" 2 \
    "certificates the hub sent ($(tr "\n" ";" <"$WORK/s_client.out"))"
expect_contains "$(sed -n 2p "$WORK/s_client.out")" "intermediate CA" \
    "the second certificate is the intermediate"
cli bank-a ping
expect_eq "$RC" 0 "ceptoar reaches a hub with an intermediate CA ($OUT)"
pass "the hub sends its intermediate CA and not the root"
