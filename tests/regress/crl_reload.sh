#!/usr/bin/env bash
# Revocation without a restart: a client certificate works, its CA revokes
# it, SIGHUP, and the same hub process refuses it, while a session opened
# before the reload goes on.  A broken CRL on SIGHUP keeps the
# certificates and CRL in force, and valid clients still connect.
. "$(dirname "$0")/lib.sh"
pki_ensure
MATRIX=$PKI/matrix
bash "$REGRESS_DIR/tls-matrix-pki.sh" "$MATRIX" "$PKI" >/dev/null
LOG_MARK=0

# Remember where the hub's log ends; wait_new looks only after it.
mark_log() {
	LOG_MARK=$(wc -l <"$HUB_LOG")
}

# Wait up to 10 seconds for a line since mark_log matching regex $1.
wait_new() {
	local i
	for ((i = 0; i < 200; i++)); do
		tail -n +"$((LOG_MARK + 1))" "$HUB_LOG" | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	fail "no log line matching '$1' since the mark"
}

# "openssl ca" on a copy of the matrix CA's database, as the regress CA.
ca() {
	(cd "$WORK/ca" && openssl ca -batch -config openssl.cnf \
	    -cert "$PKI/ca.crt" -keyfile "$PKI/ca.key" "$@") \
	    >>"$WORK/ca.log" 2>&1 ||
	    fail "openssl ca $*: $(tail -n 5 "$WORK/ca.log")"
}

# Publish the CA's CRL as the hub's tls_crl, replacing it in one step.
publish_crl() {
	ca -gencrl -crlexts crl_ext -out "$WORK/crl.new"
	mv "$WORK/crl.new" "$WORK/crl.pem"
}

# SIGHUP, then wait for the TLS half of the reload to say $1 (ok|failed).
reload() {
	mark_log
	kill -HUP "$HUB_PID"
	wait_new "config.reload result=$1 what=tls"
}

cp -R "$MATRIX/ca" "$WORK/ca"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/O=bank-b/CN=bank-b" -keyout "$WORK/bank-b.key" \
    -config "$WORK/ca/openssl.cnf" -out "$WORK/ca/bank-b.csr" 2>/dev/null
chmod 600 "$WORK/bank-b.key"
ca -extensions client_ext -in bank-b.csr -out "$WORK/bank-b.crt" -notext
serial=$(openssl x509 -in "$WORK/bank-b.crt" -noout -serial | sed 's/.*=//')
publish_crl
cp "$WORK/crl.pem" "$WORK/crl-before.pem"

start_hub "tls_crl: $WORK/crl.pem"
pid=$HUB_PID
client_conf bank-b-new "$WORK/bank-b.crt"
cli bank-b-new ping
expect_eq "$RC" 0 "the new certificate works ($OUT)"
expect_contains "$OUT" "bank-b" "ping names the organisation"

# A session that is open across the reload, with the same certificate.
timeout 60 "$CEPTOAR" -c "$WORK/clients/bank-b-new.conf" inbox --follow \
    >"$WORK/follow.out" 2>"$WORK/follow.err" &
follower=$!
BG_PIDS+=("$follower")
wait_log "deliver.subscribe .*org=bank-b .*follow=yes"
session=$(grep -E 'deliver.subscribe .*org=bank-b .*follow=yes' "$HUB_LOG" |
    tail -n 1 | sed -E 's/.*session=([0-9a-f]+).*/\1/')

# The CA revokes it and publishes a new CRL; the hub rereads it.
ca -revoke "$WORK/bank-b.crt" -crl_reason keyCompromise
publish_crl
reload ok
wait_new "config.reload result=ok what=tls crl_entries=2 crls=1"
# The directory is reloaded by the same signal, as before.
wait_new "config.reload result=ok directory="
cli bank-b-new ping
expect_eq "$RC" 77 "revoked after the reload: exit status ($OUT)"
expect_contains "$OUT" "the hub rejected our certificate: certificate revoked" \
    "the client says why"
wait_new "session.close .*state=handshake reason=\"tls: client certificate refused: certificate revoked \(certificate CN=bank-b, serial $serial,"
expect_eq "$HUB_PID" "$pid" "no restart"
kill -0 "$pid" 2>/dev/null || fail "the hub is gone"
expect_eq "$(grep -c 'ceptoard.ready' "$HUB_LOG")" 1 "started once"
# Sessions keep the context they began on: the follower is still there.
kill -0 "$follower" 2>/dev/null || fail "the open session ended: $(cat "$WORK/follow.err")"
if grep -Eq "session.close session=$session " "$HUB_LOG"; then
	fail "the session open across the reload was closed"
fi
cli bank-a ping
expect_eq "$RC" 0 "other certificates unaffected ($OUT)"
pass "revoked, reloaded, refused: same hub (pid $pid), open session kept"

# A CRL that does not parse: the previous context stays, revocation and all.
head -n 4 "$WORK/crl-before.pem" >"$WORK/crl.pem"
reload failed
wait_new "config.reload result=failed what=tls cause=\"[^\"]*ceptoard.conf:[0-9]+: tls_crl $WORK/crl.pem: CRL number 1 cannot be read"
cli bank-a ping
expect_eq "$RC" 0 "a broken CRL: valid clients still connect ($OUT)"
cli bank-b-new ping
expect_eq "$RC" 77 "a broken CRL: the revocation still holds ($OUT)"
pass "broken CRL: previous certificates and CRL kept"

# A CRL in the CA's name that the CA did not sign: refused the same way.
cp "$MATRIX/lookalike-crl.pem" "$WORK/crl.pem"
reload failed
wait_new "config.reload result=failed what=tls cause=.*is not signed by any CA of tls_ca"
cli bank-a ping
expect_eq "$RC" 0 "a forged CRL: valid clients still connect ($OUT)"
cli bank-b-new ping
expect_eq "$RC" 77 "a forged CRL: the revocation still holds ($OUT)"
pass "forged CRL: previous certificates and CRL kept"

# The earlier CRL, without the revocation, takes effect at the next reload.
cp "$WORK/crl-before.pem" "$WORK/crl.pem"
reload ok
wait_new "config.reload result=ok what=tls crl_entries=1 crls=1"
cli bank-b-new ping
expect_eq "$RC" 0 "the CRL in force is the one last read ($OUT)"
expect_eq "$HUB_PID" "$pid" "still no restart"
stop_bg "$follower"
pass "CRL reload without restart"
