#!/usr/bin/env bash
# Shared by every regress scenario: a development PKI for the test
# directory, a real ceptoard on a random loopback port, the real ceptoar
# for each organisation, and assertions that show the hub's log when they
# fail.  Everything started here is stopped by process id on exit.

set -euo pipefail

: "${CEPTOARD:?CEPTOARD must name the ceptoard binary}"
: "${CEPTOAR:?CEPTOAR must name the ceptoar binary}"
: "${CEPTOAR_SRCDIR:?}"
: "${CEPTOAR_BUILDDIR:?}"

REGRESS_DIR=$CEPTOAR_SRCDIR/tests/regress
DIRECTORY=${DIRECTORY:-$CEPTOAR_SRCDIR/tests/fixtures/route/directory.yaml}
PKI=${PKI:-$CEPTOAR_BUILDDIR/regress-pki}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptoar-regress.XXXXXX")
HUB_LOG=$WORK/hub.log
HUB_PID=
HUB_PORT=0
SCENARIO=$(basename "$0" .sh)
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-30}
BG_PIDS=()

# Stop whatever this scenario started, by pid, and remove its files.
cleanup() {
	local rc=$?
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	if [ -n "$HUB_PID" ]; then
		kill -TERM "$HUB_PID" 2>/dev/null || true
		wait_gone "$HUB_PID" 5 || kill -KILL "$HUB_PID" 2>/dev/null || true
	fi
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# A client started under timeout(1) outlives a killed timeout: end
	# every process still using this scenario's client configurations.
	pkill -KILL -f -- "$WORK/clients/" 2>/dev/null || true
	# Under valgrind, any error or definite leak of any hub run fails.
	case ${HUB_WRAPPER:-} in
	*valgrind*)
		if [ -f "$HUB_LOG" ] && grep -Eq \
		    "ERROR SUMMARY: [1-9]|definitely lost: [1-9]" "$HUB_LOG"; then
			echo "FAIL [$SCENARIO]: valgrind found errors in the hub" >&2
			grep -E "ERROR SUMMARY|definitely lost|Invalid|uninitialised" \
			    "$HUB_LOG" | head -n 20 >&2
			rc=1
		fi ;;
	esac
	# A scenario's own undoing (an unmount, say), once its hub is gone.
	[ -z "${CLEANUP_EXTRA:-}" ] || eval "$CLEANUP_EXTRA" || true
	if [ "$rc" -ne 0 ] && [ -f "$HUB_LOG" ]; then
		echo "--- last lines of the hub's log ($HUB_LOG)" >&2
		tail -n 40 "$HUB_LOG" >&2 || true
	fi
	if [ -z "${KEEP:-}" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] ||
	    [ -n "${CI:-}" ]; }; then
		rm -rf "$WORK"
	else
		echo "work folder kept: $WORK" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

# Wait up to $2 seconds for process $1 to exit.
wait_gone() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

fail() {
	echo "FAIL [$SCENARIO]: $*" >&2
	exit 1
}

pass() {
	echo "ok [$SCENARIO]: $*"
}

# Whether this ceptoard has the test hooks (a -Dtest_hooks=true build):
# fault injection by CEPTOARD_FAULT needs them.
have_test_hooks() {
	[ "${CEPTOARD_TEST_HOOKS:-0}" = 1 ]
}

# Skip a scenario that needs the test hooks when they are not built in.
need_test_hooks() {
	have_test_hooks && return 0
	echo "skip [$SCENARIO]: needs fault injection; configure with" \
	    "meson setup -Dtest_hooks=true (as the test commands do)"
	exit 77
}

expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

expect_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: expected to find '$2' in: $1" ;;
	esac
}

expect_not_contains() {
	case "$1" in
	*"$2"*) fail "$3: did not expect '$2' in: $1" ;;
	*) ;;
	esac
}

# The hub's log has a line matching the extended regex $1.
expect_log() {
	grep -Eq -- "$1" "$HUB_LOG" || fail "hub log has no line matching: $1"
}

# Wait up to $2 seconds (default 10) for a log line matching $1; four
# times as long with a HUB_WRAPPER (valgrind), as meson's
# --timeout-multiplier 4 in .ci/run: a bound, not what is measured.
wait_log() {
	local pattern=$1 secs=${2:-10} i
	[ -z "${HUB_WRAPPER:-}" ] || secs=$((secs * 4))
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$pattern" "$HUB_LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no log line matching '$pattern' within ${secs}s"
}

# Make the PKI once per build: a CA, the hub, one certificate per
# organisation of the test directory, another CA, and a certificate from
# the right CA whose organisation is not in the directory.
pki_ensure() {
	mkdir -p "$CEPTOAR_BUILDDIR"
	(
		flock 9
		if [ ! -f "$PKI/.complete-2" ] || [ ! -s "$PKI/store.key" ]; then
			rm -rf "$PKI"
			"$CEPTOAR_SRCDIR/config/dev-pki.sh" --other-ca "$PKI" \
			    "$DIRECTORY" "$CEPTOARD" >/dev/null
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			    -nodes -subj "/CN=stranger/O=stranger" \
			    -keyout "$PKI/orgs/stranger.key" \
			    -out "$PKI/stranger.csr" 2>/dev/null
			printf 'extendedKeyUsage=clientAuth\n' >"$PKI/client.ext"
			openssl x509 -req -in "$PKI/stranger.csr" -CA "$PKI/ca.crt" \
			    -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
			    -extfile "$PKI/client.ext" \
			    -out "$PKI/orgs/stranger.crt" 2>/dev/null
			chmod 600 "$PKI/orgs/stranger.key"
			touch "$PKI/.complete-2"
		elif [ "$DIRECTORY" -nt "$PKI/.complete-2" ]; then
			# An organisation added to the test directory: add its
			# certificate (the script keeps what exists).
			"$CEPTOAR_SRCDIR/config/dev-pki.sh" --other-ca "$PKI" \
			    "$DIRECTORY" "$CEPTOARD" >/dev/null
			touch "$PKI/.complete-2"
		fi
	) 9>"$CEPTOAR_BUILDDIR/regress-pki.lock"
}

# A loopback port free now, for a process that cannot report the one it
# was given (it may be taken again before use: retry on failure).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Write a client configuration for org $1 with certificate $2 (default:
# the org's own) and CA $3 (default: the hub's CA).
client_conf() {
	local org=$1 cert=${2:-$PKI/orgs/$1.crt} key=${3:-}
	[ -n "$key" ] || key=${cert%.crt}.key
	mkdir -p "$WORK/clients"
	cat >"$WORK/clients/$org.conf" <<-CONF
	hub: 127.0.0.1:$HUB_PORT
	ca: $PKI/ca.crt
	cert: $cert
	key: $key
	server_name: localhost
	timeout: $CLIENT_TIMEOUT
	CONF
}

# Start the hub on the test directory; extra configuration lines in $1.
# The first start picks a random port; restarts reuse it.
start_hub() {
	local extra=${1:-} before ready org
	pki_ensure
	mkdir -p "$WORK/store"
	cat >"$WORK/ceptoard.conf" <<-CONF
	listen: 127.0.0.1:$HUB_PORT
	tls_cert: ${HUB_TLS_CERT:-$PKI/hub.crt}
	tls_key: ${HUB_TLS_KEY:-$PKI/hub.key}
	tls_ca: $PKI/ca.crt
	anon_key: $PKI/anon.key
	store_key: ${STORE_KEY:-$PKI/store.key}
	directory: ${HUB_DIRECTORY:-$DIRECTORY}
	store: ${HUB_STORE:-$WORK/store/hub.db}
	log_level: ${HUB_LOG_LEVEL:-debug}
	hello_timeout: ${HUB_HELLO_TIMEOUT:-5}
	CONF
	[ -z "$extra" ] || printf '%s\n' "$extra" >>"$WORK/ceptoard.conf"
	touch "$HUB_LOG"
	before=$(grep -c 'ceptoard.ready' "$HUB_LOG" || true)
	# HUB_WRAPPER runs the hub under a tool, e.g. "valgrind -q"; the
	# worker the hub executes (privsep.c) runs under it too.
	local wrapper=${HUB_WRAPPER:-}
	case $wrapper in
	*valgrind*--trace-children*) ;;
	*valgrind*) wrapper="$wrapper --trace-children=yes" ;;
	esac
	# shellcheck disable=SC2086
	$wrapper "$CEPTOARD" -d -f "$WORK/ceptoard.conf" >>"$HUB_LOG" 2>&1 &
	HUB_PID=$!
	for ((i = 0; i < ${HUB_START_TRIES:-200}; i++)); do
		if [ "$(grep -c 'ceptoard.ready' "$HUB_LOG" || true)" -gt "$before" ]; then
			break
		fi
		kill -0 "$HUB_PID" 2>/dev/null || fail "ceptoard exited during start"
		sleep 0.05
	done
	ready=$(grep 'ceptoard.ready' "$HUB_LOG" | tail -n 1)
	[ -n "$ready" ] || fail "ceptoard did not become ready"
	HUB_PORT=$(sed -E 's/.* listen=[^ ]*:([0-9]+) .*/\1/' <<<"$ready")
	for org in $("$CEPTOARD" -L "${HUB_DIRECTORY:-$DIRECTORY}" | cut -d' ' -f1); do
		client_conf "$org"
	done
}

# The pid of the hub's current worker (privsep.c), from its last
# ceptoard.ready line; the hub itself ($HUB_PID) is its parent.
worker_pid() {
	grep 'ceptoard.ready' "$HUB_LOG" | tail -n 1 |
	    sed -nE 's/.* worker=([0-9]+).*/\1/p'
}

# Stop background process $1 (a client under timeout(1), say) with
# SIGTERM and wait for it, at most $2 seconds (default 45: longer than a
# client's own timeout, which a following inbox may wait out for a last
# Pong); a process still there is a failure, with what it was doing.
# The signal goes to the client itself, not to timeout(1): timeout would
# pass it on, signal its whole process group and send SIGCONT, and in a
# sanitizer build that burst could leave the client spinning in its
# exit-time leak check, its tracer waiting for a stop that never came
# (one run of follow_live in ten to twenty; none in 80 since).
stop_bg() {
	local pid=$1 secs=${2:-45} what child
	child=$(pgrep -P "$pid" | head -n 1 || true)
	kill -TERM "${child:-$pid}" 2>/dev/null || true
	if ! wait_gone "$pid" "$secs"; then
		what=$(ps -o pid=,stat=,wchan:20=,args= --ppid "$pid" -p "$pid" \
		    2>/dev/null | tr '\n' ';')
		kill -KILL "$pid" 2>/dev/null || true
		fail "process $pid did not stop within ${secs}s of SIGTERM: $what"
	fi
	wait "$pid" 2>/dev/null || true
}

# Stop the hub cleanly (SIGTERM) and wait for it.
stop_hub() {
	[ -n "$HUB_PID" ] || return 0
	kill -TERM "$HUB_PID" 2>/dev/null || true
	wait_gone "$HUB_PID" 10 || fail "ceptoard did not stop on SIGTERM"
	wait "$HUB_PID" 2>/dev/null || true
	HUB_PID=
}

# Kill the hub without warning (SIGKILL), as a crash would.
kill_hub() {
	[ -n "$HUB_PID" ] || return 0
	kill -KILL "$HUB_PID" 2>/dev/null || true
	wait "$HUB_PID" 2>/dev/null || true
	HUB_PID=
}

# Run the real client as organisation $1; output in $OUT, status in $RC.
cli() {
	local org=$1
	shift
	set +e
	OUT=$(timeout 60 "$CEPTOAR" -c "$WORK/clients/$org.conf" "$@" 2>&1)
	RC=$?
	ERR=$OUT
	set -e
}

# Like cli, keeping stdout alone in $OUT (for --json) and stderr in $ERR.
cli_json() {
	local org=$1
	shift
	set +e
	OUT=$(timeout 60 "$CEPTOAR" -c "$WORK/clients/$org.conf" --json "$@" \
	    2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	set -e
}

# Write a valid report from the test directory's operators to file $1;
# uuid $2 (default: a new one) and title $3.
make_report() {
	local file=$1 uuid=${2:-$(cat /proc/sys/kernel/random/uuid)}
	local title=${3:-Payment gateway unreachable}
	cat >"$file" <<-JSON
	{
	  "type": "report",
	  "uuid": "$uuid",
	  "tlp": "TLP:AMBER",
	  "report": {
	    "kind": "incident",
	    "contact": { "name": "Sato Hanako", "phone": "+81-3-0000-0000",
	                 "email": "csirt@bank-a.example" },
	    "legally_mandated": true,
	    "legal_basis": "Banking Act",
	    "cause": "intentional",
	    "event_type": "attack_detected",
	    "severity": { "continuity": 3, "safety": 0, "trust": 2 },
	    "stage": "notification",
	    "title": "$title",
	    "free_text": "DDoS against the internet banking front end."
	  }
	}
	JSON
}

# Count the JSON lines of $OUT carrying message uuid $1: every hop's form
# of an original keeps the sender's uuid, while each hop has its own hub id.
count_uuid() {
	client_worked
	grep -c "\"uuid\": *\"$1\"" <<<"$OUT" || true
}

# Write a voluntary report (a near miss) from bank-a to file $1; uuid $2.
make_voluntary() {
	local file=$1 uuid=${2:-$(cat /proc/sys/kernel/random/uuid)}
	cat >"$file" <<-JSON
	{
	  "type": "report",
	  "uuid": "$uuid",
	  "tlp": "TLP:AMBER",
	  ${DRILL_JSON:-}
	  "report": {
	    "kind": "near_miss",
	    "contact": { "name": "Sato Hanako", "phone": "+81-3-5555-0101",
	                 "email": "hanako.sato@bank-a.example" },
	    "legally_mandated": false,
	    "cause": "unintentional",
	    "event_type": "threat_worth_sharing",
	    "severity": { "continuity": 1, "safety": 0, "trust": 1 },
	    "sharing": { "scope": "${SCOPE:-liaison_and_nisc}" },
	    "title": "Firewall rule pushed to the wrong cluster",
	    "occurred_at": "2026-11-21T03:17:00+09:00",
	    "free_text": "A change to the payment cluster was applied to the wrong firewall; caught within 4 minutes."
	  }
	}
	JSON
}

# Write a voluntary near miss from bank-a to file $1 whose contact (the
# report's, not the directory's) names the reporter, with free text $2:
# what the anonymiser must keep from going up.
make_contact_report() {
	cat >"$1" <<-JSON
	{
	  "type": "report", "uuid": "$(cat /proc/sys/kernel/random/uuid)",
	  "tlp": "TLP:AMBER",
	  "report": {
	    "kind": "near_miss",
	    "contact": { "name": "Kato Ichiro", "phone": "+81-3-5555-0177",
	                 "email": "ichiro.kato@bank-a.example" },
	    "legally_mandated": false, "cause": "unintentional",
	    "event_type": "threat_worth_sharing",
	    "severity": { "continuity": 1, "safety": 0, "trust": 1 },
	    "title": "Firewall rule pushed to the wrong cluster",
	    "free_text": "$2"
	  }
	}
	JSON
}

# Have bank-a submit a voluntary report for the sector and set held to
# the hub id the secretariat holds it under.
submit_held() {
	SCOPE=sector_ceptoar make_voluntary "$WORK/v.json"
	cli_json bank-a submit --accept-warnings "$WORK/v.json"
	expect_eq "$RC" 0 "voluntary report ($ERR)"
	cli_json banks-sec inbox
	expect_eq "$RC" 0 "the secretariat's inbox ($ERR)"
	held=$(json_field hub_id)
	[ -n "$held" ] || fail "the secretariat holds nothing"
}

# Read org $1's inbox without acknowledging until it holds at least $2
# (default 1) messages or the client fails, for up to 10 seconds; OUT,
# ERR and RC are the last read's.
wait_inbox() {
	local org=$1 n=${2:-1} i
	for ((i = 0; i < 100; i++)); do
		cli_json "$org" inbox --no-ack
		[ "$RC" != 0 ] || [ "$(count_lines)" -lt "$n" ] || break
		sleep 0.1
	done
}

# As root, make the user and chroot a confined hub runs as, point the
# store into the chroot and set JAIL_CONF to the configuration lines that
# confine it; returns 1 (and sets nothing) when not root.
jail_prepare() {
	[ "$(id -u)" -eq 0 ] || return 1
	HUBUSER=ceptoard-test
	id "$HUBUSER" >/dev/null 2>&1 ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin \
	    "$HUBUSER" || fail "cannot create the user $HUBUSER"
	JAIL=$WORK/jail
	mkdir -p "$JAIL/store"
	chmod 755 "$JAIL"
	chown "$HUBUSER" "$JAIL/store"
	chmod 700 "$JAIL/store"
	export HUB_STORE=$JAIL/store/hub.db
	JAIL_CONF="user: $HUBUSER
chroot: $JAIL"
}

# The first value of key $1 anywhere in the JSON lines of $OUT.
json_any() {
	python3 -c 'import json,sys
def walk(v,k):
    if isinstance(v,dict):
        if k in v: return v[k]
        for x in v.values():
            r=walk(x,k)
            if r is not None: return r
    elif isinstance(v,list):
        for x in v:
            r=walk(x,k)
            if r is not None: return r
    return None
for line in sys.stdin:
    line=line.strip()
    if line:
        r=walk(json.loads(line),sys.argv[1])
        if r is not None: print(r); break' "$1" <<<"$OUT"
}

# Count the JSON lines of $OUT whose hub_id is $1 (0 if none).
count_hub_id() {
	client_worked
	grep -c "\"hub_id\": *\"$1\"" <<<"$OUT" || true
}

# The value of a top-level string field $1 of the first JSON line of $OUT.
json_field() {
	python3 -c 'import json,sys
for line in sys.stdin:
    line=line.strip()
    if line:
        v=json.loads(line).get(sys.argv[1]); print("" if v is None else v); break' "$1" <<<"$OUT"
}

# Counting what a client call received means something only if the call
# worked: an absence ("nobody else got it") must not pass because the
# client could not connect.  Every count_* checks the last call first.
client_worked() {
	[ "${RC:-0}" -eq 0 ] || fail "counting the answer of a client call \
that failed (status $RC): ${ERR:-$OUT}"
}

# Count the non-empty lines of $OUT.
count_lines() {
	client_worked
	grep -c . <<<"$OUT" || true
}

# Send raw bytes (hex in $2) as organisation $1 over TLS and print the
# hub's answers, one per line, as "error CODE MESSAGE" or the body name.
raw() {
	local org=$1 hex=$2
	shift 2
	python3 "$REGRESS_DIR/rawclient.py" --port "$HUB_PORT" \
	    --ca "$PKI/ca.crt" --cert "$PKI/orgs/$org.crt" \
	    --key "$PKI/orgs/$org.key" --hex "$hex" "$@"
}
