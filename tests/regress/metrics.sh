#!/usr/bin/env bash
# The metrics listener: /metrics counts exactly what clients did (submits
# by result, refusals by code, deliveries sent and acknowledged, TLS
# failures), the exposition passes promtool, /healthz answers, and
# /readyz turns 503 with the reason while the store cannot be written.
. "$(dirname "$0")/lib.sh"

# GET http://$METRICS$1; prints "status<TAB>body" (never fails itself).
http_get() {
	python3 - "http://$METRICS$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        print("%d\t%s" % (r.status, r.read().decode().strip()))
except urllib.error.HTTPError as e:
    print("%d\t%s" % (e.code, e.read().decode().strip()))
PY
}

# Scrape /metrics into file $1, one "series value" per line.
scrape() {
	python3 - "http://$METRICS/metrics" "$1" <<'PY' || fail "scrape failed"
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    assert r.status == 200, r.status
    ctype = r.headers["Content-Type"]
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    text = r.read().decode()
with open(sys.argv[2] + ".raw", "w") as f:
    f.write(text)
with open(sys.argv[2], "w") as f:
    for line in text.splitlines():
        if line and not line.startswith("#"):
            f.write(line + "\n")
PY
}

# How much series $3 moved between scrapes $1 and $2 (absent: 0).
delta() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        k, v = line.rsplit(" ", 1)
        d[k] = float(v)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
print(int(b.get(sys.argv[3], 0) - a.get(sys.argv[3], 0)))
PY
}

# The value of series $2 in scrape $1 (absent: "none").
value() {
	awk -v k="$2" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) { print v; f = 1 } }
	    END { if (!f) print "none" }' "$1"
}

start_hub "metrics_listen: 127.0.0.1:0"
wait_log "metrics.listen address=127\.0\.0\.1:[0-9]+"
METRICS=$(grep -oE 'metrics.listen address=[^ ]+' "$HUB_LOG" | tail -n 1 |
    cut -d= -f2)

expect_eq "$(http_get /healthz)" "$(printf '200\tok')" "/healthz"
expect_eq "$(http_get /readyz)" "$(printf '200\tok')" "/readyz"
expect_contains "$(http_get /nothing)" "404" "an unknown path"

scrape "$WORK/m0"

# Two new reports, a repeat of the first, and its uuid for other content.
uuid1=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r1.json" "$uuid1"
make_report "$WORK/r2.json" "" "Second report"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "first submit ($ERR)"
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$RC" 0 "second submit ($ERR)"
cli_json bank-a submit "$WORK/r1.json"
expect_eq "$RC" 0 "repeated submit ($ERR)"
make_report "$WORK/r3.json" "$uuid1" "Other content, same uuid"
cli_json bank-a submit "$WORK/r3.json"
expect_eq "$RC" 1 "conflicting submit is refused"
expect_contains "$ERR" "idempotency-conflict" "the refusal's code"

# The liaison reads (and acknowledges) the two reports.
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "inbox ($ERR)"
expect_eq "$(count_lines)" 2 "the liaison got both reports"
wait_log "deliver.ack .*org=fsa-liaison .*newly_acked=2"

# A certificate from another CA fails the TLS handshake.
client_conf intruder "$PKI/other-ca/intruder.crt"
cli intruder ping
expect_eq "$RC" 77 "other-CA certificate refused ($OUT)"
wait_log "session.close .*reason=\"tls: .*\(refused\)\""

scrape "$WORK/m1"
d() { delta "$WORK/m0" "$WORK/m1" "$1"; }
expect_eq "$(d 'ceptoard_submits_total{kind="report",result="accepted"}')" 2 \
    "accepted submits"
expect_eq "$(d 'ceptoard_submits_total{kind="report",result="duplicate"}')" 1 \
    "duplicate submits"
expect_eq "$(d 'ceptoard_submits_total{kind="report",result="conflict"}')" 1 \
    "conflicting submits"
expect_eq "$(d 'ceptoard_requests_refused_total{request="submit",code="idempotency-conflict"}')" \
    1 "refusals by code"
expect_eq "$(d ceptoard_deliveries_sent_total)" 2 "deliveries sent"
expect_eq "$(d ceptoard_deliveries_acked_total)" 2 "deliveries acknowledged"
expect_eq "$(d 'ceptoard_tls_handshake_failures_total{reason="client_certificate_refused"}')" \
    1 "TLS handshake failures by reason"
# Six client runs, each one connection, all closed by now.
expect_eq "$(d ceptoard_sessions_opened_total)" 6 "sessions opened"
expect_eq "$(value "$WORK/m1" ceptoard_sessions_open)" 0 "sessions open"
[ "$(d ceptoard_group_commit_submits_count)" -ge 1 ] ||
    fail "no group commit observed"
[ "$(d ceptoard_fsync_seconds_count)" -ge 1 ] || fail "no fsync observed"
[ "$(value "$WORK/m1" 'ceptoard_store_bytes{file="db"}')" -gt 0 ] ||
    fail "no store size"
expect_eq "$(value "$WORK/m1" ceptoard_ready)" 1 "ready gauge"
expect_eq "$(value "$WORK/m1" ceptoard_held_for_review)" 0 "nothing held"

# A voluntary report held for the secretariat's review, then forwarded.
# (The figure comes from the store, cached for a few seconds.)
wait_value() {
	local i
	for ((i = 0; i < 300; i++)); do
		scrape "$WORK/mw"
		[ "$(value "$WORK/mw" "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 did not become $2 (last: $(value "$WORK/mw" "$1"))"
}
make_voluntary "$WORK/v.json"
cli_json bank-a submit --accept-warnings "$WORK/v.json"
expect_eq "$RC" 0 "a voluntary report ($ERR)"
expect_eq "$(json_field held)" True "it is held for review"
held=$(json_field hub_id)
wait_value ceptoard_held_for_review 1
[ "$(value "$WORK/mw" ceptoard_held_for_review_oldest_seconds)" -ge 0 ] ||
    fail "no age of the oldest held message"
cli_json banks-sec inbox
expect_eq "$(count_lines)" 1 "the secretariat has it"
cli_json banks-sec forward "$held"
expect_eq "$RC" 0 "the secretariat forwards it ($ERR)"
wait_value ceptoard_held_for_review 0

# The exposition format, checked by Prometheus's own tool when present.
promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -n "$promtool" ] && [ -x "$promtool" ]; then
	"$promtool" check metrics <"$WORK/m1.raw" ||
	    fail "promtool check metrics refused the exposition"
	pass "promtool check metrics"
else
	echo "skip [$SCENARIO]: promtool not found (set PROMTOOL or install" \
	    "it; .ci/run extracts it from Debian's prometheus package)"
fi

stop_hub

# A listener that is not loopback is refused unless metrics_remote allows it.
sed -e 's/^metrics_listen: .*/metrics_listen: 0.0.0.0:0/' \
    -e 's/^listen: .*/listen: 127.0.0.1:0/' "$WORK/ceptoard.conf" \
    >"$WORK/remote.conf"
set +e
out=$(timeout 60 "$CEPTOARD" -d -f "$WORK/remote.conf" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a non-loopback metrics_listen started ($rc)"
expect_contains "$out" "is not a loopback address" "the refusal says why"
expect_contains "$out" "metrics_remote" "and how to allow it"

# A store whose syncs fail: /readyz says so until one works again.
if ! have_test_hooks; then
	echo "skip [$SCENARIO]: the failing store needs -Dtest_hooks=true"
	pass "metrics, health and readiness (without the failing store)"
	exit 0
fi
rm -rf "$WORK/store"
HUB_PORT=0
CEPTOARD_FAULT=sync:2:1000 start_hub "metrics_listen: 127.0.0.1:0"
wait_log "metrics.listen address=127\.0\.0\.1:[0-9]+"
METRICS=$(grep -oE 'metrics.listen address=[^ ]+' "$HUB_LOG" | tail -n 1 |
    cut -d= -f2)
expect_eq "$(http_get /readyz)" "$(printf '200\tok')" "/readyz before the fault"
refused=0
for ((i = 0; i < 5 && refused == 0; i++)); do
	make_report "$WORK/f.json" "" "Fault $i"
	cli_json bank-a submit "$WORK/f.json"
	if [ "$RC" -ne 0 ]; then
		expect_contains "$ERR" "store-failed" "a refused submit's code"
		refused=1
	fi
done
expect_eq "$refused" 1 "a submit failed on the injected fault"
ready=$(http_get /readyz)
expect_contains "$ready" "503" "/readyz while the store fails"
expect_contains "$ready" "not ready: the store's last sync failed" \
    "/readyz names the reason"
expect_eq "$(http_get /healthz)" "$(printf '200\tok')" "/healthz stays up"
scrape "$WORK/m2"
expect_eq "$(value "$WORK/m2" ceptoard_ready)" 0 "ready gauge while failing"

pass "metrics, health and readiness"
