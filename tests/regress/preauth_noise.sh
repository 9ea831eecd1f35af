#!/usr/bin/env bash
# Connection noise before authentication does not grow the audit trail
# per attempt (issue 13, item 4): 300 TCP connections that close before
# TLS, and 20 that send garbage instead of a handshake, add a few
# session.preauth summaries to the trail, whose counts add up to every
# attempt, and at most preauth_log_lines detailed lines per interval to
# the log.  Then rotation: a small audit_log_max splits the trail into
# numbered files, each continuing the one before; ceptoard -A verifies
# across them, and names a changed middle file and a missing one.
. "$(dirname "$0")/lib.sh"

AUDIT=$WORK/audit.log
N_CLOSE=300
N_GARBAGE=20

# Run ceptoard -A on the trail; output in $OUT, status in $RC.
verify_trail() {
	set +e
	OUT=$("$CEPTOARD" -A "$AUDIT" 2>&1)
	RC=$?
	set -e
}

# The sum of the total= counts of the session.preauth entries in the
# trail files given.
preauth_total() {
	cat "$@" 2>/dev/null | sed -nE 's/^[0-9]+ [0-9]+ session\.preauth .*total=([0-9]+) .*/\1/p' |
	    awk '{ n += $1 } END { print n + 0 }'
}

start_hub "audit_log: $AUDIT
preauth_log_interval: 1
preauth_log_lines: 5
max_conn_per_addr: 100000
max_handshakes_per_addr: 100000"
cli bank-a ping
expect_eq "$RC" 0 "a ping before the noise ($OUT)"
wait_log "session.close .*org=bank-a"
before=$(stat -c %s "$AUDIT")

python3 - "$HUB_PORT" "$N_CLOSE" "$N_GARBAGE" <<'PY'
import socket, sys
port, n_close, n_garbage = (int(x) for x in sys.argv[1:4])
for i in range(n_close):
    s = socket.create_connection(("127.0.0.1", port))
    s.close()
for i in range(n_garbage):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    s.settimeout(60)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
PY
# Every attempt is counted in the trail, once its interval is over.
want=$((N_CLOSE + N_GARBAGE))
for ((i = 0; i < 2400; i++)); do
	[ "$(preauth_total "$AUDIT")" -ge "$want" ] && break
	sleep 0.05
done
expect_eq "$(preauth_total "$AUDIT")" "$want" \
    "the session.preauth summaries count every attempt"
grew=$(($(stat -c %s "$AUDIT") - before))
summaries=$(grep -c ' session.preauth ' "$AUDIT")
# One entry per interval with noise, about 200 bytes each; the old trail
# took about 300 bytes per attempt (96 KB here).
[ "$summaries" -le 60 ] || fail "$summaries session.preauth entries for $want attempts"
[ "$grew" -le $((summaries * 400 + 2048)) ] ||
    fail "the trail grew by $grew bytes for $want attempts ($summaries summaries)"
expect_not_contains "$(cat "$AUDIT")" "state=handshake" \
    "no per-attempt session.close of a handshake in the trail"
expect_contains "$(grep ' session.preauth ' "$AUDIT")" "tls=" "the summary counts by kind"
# The log: a few lines one by one, then counted.
expect_log "session.close .*state=handshake .* more=counted"
expect_log "session.preauth .*suppressed=[1-9]"
detailed=$(grep -c 'session.close .*state=handshake' "$HUB_LOG" || true)
[ "$detailed" -lt "$want" ] || fail "every attempt was logged ($detailed lines)"
# Authenticated sessions are still audited one by one.
grep -Eq '^[0-9]+ [0-9]+ session.close .*org=bank-a ' "$AUDIT" ||
    fail "the ping's session.close is not in the trail"
pass "$want unauthenticated connections: the trail grew by $grew bytes ($summaries summaries)"
stop_hub

# --- Rotation: a 4 KiB trail, split and verified across files. ---
verify_trail
expect_eq "$RC" 0 "-A before rotation: $OUT"
start_hub "audit_log: $AUDIT
audit_log_max: 4096"
for i in 1 2 3 4 5 6; do
	make_report "$WORK/r$i.json"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
done
wait_log "audit.rotated .*previous=audit.log.000002 "
stop_hub
ls "$AUDIT".0000* >/dev/null || fail "no rotated files"
nfiles=$(($(ls "$AUDIT".0000* | wc -l) + 1))
[ "$nfiles" -ge 3 ] || fail "only $nfiles files"
expect_contains "$(sed -n 2p "$AUDIT.000002")" \
    "audit.continues file=audit.log.000001 entries=" \
    "the second file begins by committing to the first"
verify_trail
expect_eq "$RC" 0 "-A across the files: $OUT"
expect_contains "$OUT" "audit: $nfiles files, " "-A walked every file"
expect_contains "$OUT" "chain intact across them" "-A joined them"
closed=$(grep 'audit.close' "$HUB_LOG" | tail -n 1)
head=$(sed -E 's/.* head=([0-9a-f]{64}).*/\1/' <<<"$closed")
expect_contains "$OUT" "head $head" "-A ends at the head the hub logged"

# Change one byte of an entry in a middle file: -A names that file.
cp "$AUDIT.000002" "$WORK/saved.000002"
python3 - "$AUDIT.000002" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
i = 3 if len(lines) > 4 else 2
lines[i] = lines[i].replace(b" ", b"  ", 1)
open(p, "wb").write(b"\n".join(lines))
PY
verify_trail
expect_eq "$RC" 1 "-A on a changed middle file: $OUT"
expect_contains "$OUT" "audit: $AUDIT.000002: entry " "-A names the changed file"
# A middle file whole replaced by a valid trail of its own: its first
# entry does not continue the file before.
cp "$WORK/saved.000002" "$AUDIT.000002"
mv "$AUDIT.000001" "$WORK/saved.000001"
verify_trail
expect_contains "$OUT" "continues a file that is not here" "the oldest file archived away is said"
expect_eq "$RC" 0 "-A with the oldest file archived away: $OUT"
mv "$WORK/saved.000001" "$AUDIT.000001"
mv "$AUDIT.000002" "$WORK/saved.000002"
verify_trail
expect_eq "$RC" 1 "-A with a middle file missing: $OUT"
grep -Eq "audit\.log\.000002(,| is) .*missing" <<<"$OUT" ||
    fail "-A does not name the missing file: $OUT"
mv "$WORK/saved.000002" "$AUDIT.000002"
verify_trail
expect_eq "$RC" 0 "-A with every file back: $OUT"

# The hub goes on from the newest file after a restart.
start_hub "audit_log: $AUDIT
audit_log_max: 4096"
cli bank-a ping
expect_eq "$RC" 0 "ping after restart ($OUT)"
stop_hub
verify_trail
expect_eq "$RC" 0 "-A after a restart: $OUT"
pass "rotation: $nfiles files, verified across them, a changed or missing file named"
