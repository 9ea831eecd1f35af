#!/usr/bin/env bash
# Privilege separation: the worker (the process that parses network
# input) is killed with SIGKILL while two operators submit and the
# liaison follows its inbox.  The parent, whose pid stays the hub's,
# starts a new worker; the follower connects again by itself; every
# report acknowledged before or after is delivered, none is filed twice.
# The worker holds no TLS private key and no anon key: the parent signs
# each handshake and computes each pseudonym (its log counts the
# requests), and the keys are nowhere in the worker's memory, while they
# are in the parent's (the check can see them).  As root
# the worker is also confined and cannot reach the key file.
. "$(dirname "$0")/lib.sh"
OPTS="rate_org_submits: 100000"
if [ "$(id -u)" -eq 0 ]; then
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
	OPTS="$OPTS
user: $HUBUSER
chroot: $JAIL"
fi
start_hub "$OPTS"
parent=$HUB_PID
worker=$(worker_pid)
[ -n "$worker" ] && [ "$worker" != "$parent" ] || fail "no worker process"
expect_eq "$(ps -o ppid= -p "$worker" | tr -d ' ')" "$parent" \
    "the worker is the hub's child"

# Submit reports without pause, each retried with its uuid until its ack
# comes (a retry of an acknowledged uuid must not file it again).
submitter() {
	local who=$1 uuid n=0
	while :; do
		n=$((n + 1))
		uuid=$(cat /proc/sys/kernel/random/uuid)
		make_report "$WORK/s$who.json" "$uuid" "Worker restart $who.$n"
		until timeout 30 "$CEPTOAR" -c "$WORK/clients/bank-a.conf" -q \
		    submit "$WORK/s$who.json" >/dev/null 2>>"$WORK/submit.err"; do
			sleep 0.2
		done
		echo "$uuid" >>"$WORK/acked.txt"
	done
}
touch "$WORK/acked.txt" "$WORK/consumed.txt"
submitter 1 &
BG_PIDS+=("$!")
sub1=$!
submitter 2 &
BG_PIDS+=("$!")
sub2=$!
# One follower for the whole run: it must outlive the worker.
timeout 300 "$CEPTOAR" -c "$WORK/clients/fsa-liaison.conf" --json inbox \
    --follow >>"$WORK/consumed.txt" 2>>"$WORK/follow.err" &
follower=$!
BG_PIDS+=("$follower")

# Wait until $1 reports are acknowledged (a hub under valgrind is slow).
await_acks() {
	local want=$1 i
	for ((i = 0; i < 2400; i++)); do
		[ "$(wc -l <"$WORK/acked.txt")" -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "only $(wc -l <"$WORK/acked.txt") of $want reports were acknowledged"
}

# The key's private scalar, big-endian and as OpenSSL's limbs hold it.
python3 - "$PKI/hub.key" >"$WORK/scalar.txt" <<'PY' || fail "cannot read the hub key"
import subprocess, sys
out = subprocess.run(["openssl", "pkey", "-in", sys.argv[1], "-text",
    "-noout"], capture_output=True, text=True, check=True).stdout
hexs, on = "", False
for line in out.splitlines():
    if line.startswith("priv:"):
        on = True
        continue
    if on:
        if not line.startswith(" "):
            break
        hexs += line.strip().replace(":", "")
d = bytes.fromhex(hexs).lstrip(b"\0")
assert len(d) >= 32, "no private scalar found"
print(d.hex())
PY
# Whether process $1's writable memory holds the key's private scalar,
# or with $2 "anon", the anon key.
holds_key() {
	local needle
	needle=$(cat "$WORK/scalar.txt")
	[ "${2:-}" != anon ] || needle=$(od -An -tx1 -v "$PKI/anon.key" | tr -d ' \n')
	python3 - "$1" "$needle" <<'PY'
import re, sys
pid, d = sys.argv[1], bytes.fromhex(sys.argv[2])
needles = (d, d[::-1])
found = False
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perm = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        # Private writable memory: heap, stacks, data; not the store's files.
        if not perm.startswith("rw") or perm[3] != "p" or hi - lo > 1 << 30:
            continue
        try:
            mem.seek(lo)
            chunk = mem.read(hi - lo)
        except (OSError, ValueError):
            continue
        if any(n in chunk for n in needles):
            found = True
            break
sys.exit(0 if found else 1)
PY
}

await_acks 5
signs_before=$(grep -c 'privsep.sign result=ok' "$HUB_LOG" || true)
[ "$signs_before" -gt 0 ] || fail "the parent signed no handshake"
# A voluntary report is anonymised with pseudonyms the parent computes
# (here to judge its anonymity set, which stops it with a warning).
make_voluntary "$WORK/v.json"
cli_json bank-a submit "$WORK/v.json"
expect_eq "$RC" 3 "a voluntary report, stopped on its warning ($ERR)"
wait_log "privsep.anon result=ok"
if [ "$(id -u)" -eq 0 ]; then
	holds_key "$parent" || fail "the key is not found in the parent's memory: the check cannot see it"
	! holds_key "$worker" || fail "the worker's memory holds the TLS private key"
	holds_key "$parent" anon || fail "the anon key is not found in the parent's memory"
	! holds_key "$worker" anon || fail "the worker's memory holds the anon key"
	expect_eq "$(readlink "/proc/$worker/root")" "$JAIL" "the worker is chrooted"
	[ ! -e "/proc/$worker/root$PKI/hub.key" ] || fail "the worker can reach hub.key"
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$worker/status")" != 0 ] ||
	    fail "the worker runs as root"
fi
for fd in /proc/"$worker"/fd/*; do
	case $(readlink "$fd") in
	*.key) fail "the worker has a key file open: $(readlink "$fd")" ;;
	esac
done

# Kill the worker under load.
acked_before=$(wc -l <"$WORK/acked.txt")
kill -KILL "$worker"
wait_log "privsep.worker event=died pid=$worker signal=9"
for ((i = 0; i < 1200; i++)); do
	grep -q "ceptoard.ready .* worker=[0-9]* restarts=1" "$HUB_LOG" && break
	sleep 0.05
done
new=$(worker_pid)
[ -n "$new" ] && [ "$new" != "$worker" ] || fail "no new worker took over"
kill -0 "$parent" || fail "the hub (parent) died with its worker"
expect_eq "$HUB_PID" "$parent" "the hub's pid is unchanged"
grep 'ceptoard.ready' "$HUB_LOG" | grep -qv " pid=$parent " &&
    fail "a ready line names another hub pid"
await_acks $((acked_before + 5))
kill -0 "$follower" || fail "the follower gave up when the worker died"
signs_after=$(grep -c 'privsep.sign result=ok' "$HUB_LOG" || true)
[ "$signs_after" -gt "$signs_before" ] ||
    fail "the new worker's handshakes were not signed by the parent"
[ "$(id -u)" -ne 0 ] || ! holds_key "$new" ||
    fail "the new worker's memory holds the TLS private key"

kill -TERM "$sub1" "$sub2" 2>/dev/null || true
wait "$sub1" "$sub2" 2>/dev/null || true

# Every acknowledged report reaches the follower, which never stopped.
check() {
	python3 - "$WORK" <<'PY'
import json, sys, collections
work = sys.argv[1]
acked = [l.strip() for l in open(work + "/acked.txt") if l.strip()]
ids = collections.defaultdict(set)
for line in open(work + "/consumed.txt"):
    line = line.strip()
    if line.startswith("{"):
        try:
            v = json.loads(line)
        except ValueError:
            continue
        ids[v["message"]["uuid"]].add(v.get("hub_id"))
lost = [u for u in acked if u not in ids]
twice = [u for u in ids if len(ids[u]) > 1]
print("worker restart: %d acknowledged, %d delivered, %d missing, %d filed "
      "twice" % (len(acked), len(ids), len(lost), len(twice)))
sys.exit(2 if twice else 1 if lost else 0)
PY
}
for ((i = 0; i < 600; i++)); do
	set +e
	summary=$(check)
	rc=$?
	set -e
	[ "$rc" -ne 1 ] && break
	sleep 0.1
done
echo "$summary"
expect_eq "$rc" 0 "every acknowledged report delivered once ($summary)"
grep -q "connecting again" "$WORK/follow.err" ||
    fail "the follower did not connect again: $(cat "$WORK/follow.err")"
stop_bg "$follower"
kill -0 "$parent" || fail "the hub stopped"
stop_hub
expect_log "privsep.parent event=stopped status=0"
pass "worker restart: $summary, parent $parent kept, worker $worker replaced by $new"
