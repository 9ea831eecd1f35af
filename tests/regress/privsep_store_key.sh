#!/usr/bin/env bash
# Privilege separation of the store key (issue 13): the worker, which
# parses what the network sends, holds no copy of the key that seals
# stored bodies, nor of the subkeys derived from it; the parent seals
# each group's bodies and opens each fetch batch for it, through memory
# files passed on the privsep channel.  A report still goes from bank-a
# to the liaison intact, before and after the worker is killed with
# SIGKILL and started again.  As root (the memory check needs it) the
# worker's every private mapping is read through /proc/PID/mem, the
# read-only and no-access pages of libsodium's guarded allocations
# included, and the same check must find the keys in the parent's.
. "$(dirname "$0")/lib.sh"
OPTS=""
if jail_prepare; then
	OPTS=$JAIL_CONF
fi
start_hub "$OPTS"
parent=$HUB_PID
worker=$(worker_pid)
[ -n "$worker" ] && [ "$worker" != "$parent" ] || fail "no worker process"

# Submit a report from bank-a; the liaison must read it back whole.
deliver_one() {
	local title=$1 uuid
	uuid=$(cat /proc/sys/kernel/random/uuid)
	make_report "$WORK/r.json" "$uuid" "$title"
	cli_json bank-a submit "$WORK/r.json"
	expect_eq "$RC" 0 "bank-a's submit of \"$title\" ($ERR)"
	wait_inbox fsa-liaison 1
	expect_eq "$RC" 0 "the liaison's inbox ($ERR)"
	[ "$(count_uuid "$uuid")" -ge 1 ] ||
	    fail "the liaison did not get report $uuid: $OUT"
	grep -q "$title" <<<"$OUT" ||
	    fail "report $uuid reached the liaison without its title: $OUT"
	HUB_ID=$(json_field hub_id)
	cli_json fsa-liaison inbox
	expect_eq "$RC" 0 "the liaison acknowledges its inbox ($ERR)"
}

# Whether process $1's private memory holds the store key or one of the
# subkeys store.c derives from it (crypto_kdf: keyed BLAKE2b-256, salt
# the subkey's number, personal "ceptstor"): 0 found, 1 not, 2 if the
# memory could not be read at all.
holds_store_key() {
	python3 - "$1" "${STORE_KEY:-$PKI/store.key}" <<'PY'
import hashlib, re, struct, sys
pid, keyfile = sys.argv[1], sys.argv[2]
master = open(keyfile, "rb").read()
def subkey(n):
    return hashlib.blake2b(b"", digest_size=32, key=master,
        salt=struct.pack("<Q", n) + bytes(8),
        person=b"ceptstor" + bytes(8)).digest()
needles = {"store_key": master, "seal subkey": subkey(1),
    "digest subkey": subkey(2)}
read = 0
with open("/proc/%s/maps" % pid) as maps, \
        open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perm = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        # Private mappings of any protection; not the shared store files.
        # (nor the vsyscall page, past what a file offset can say).
        if perm[3] != "p" or hi - lo > 1 << 30 or hi > 1 << 62:
            continue
        # Page by page: a guard page (no access) must not hide the rest.
        chunk = bytearray()
        for off in range(lo, hi, 4096):
            try:
                mem.seek(off)
                chunk += mem.read(4096)
                read += 1
            except (OSError, ValueError):
                chunk += bytes(4096)
        for what, n in needles.items():
            if n in chunk:
                print("%s found at %s" % (what, line.strip()))
                sys.exit(0)
sys.exit(1 if read > 0 else 2)
PY
}

deliver_one "Store key separation"
if [ "$(id -u)" -eq 0 ]; then
	set +e
	where=$(holds_store_key "$worker")
	rc=$?
	set -e
	[ "$rc" -ne 0 ] || fail "the worker's memory holds the store key: $where"
	expect_eq "$rc" 1 "the worker's memory was read and holds no store key"
	set +e
	where=$(holds_store_key "$parent")
	rc=$?
	set -e
	expect_eq "$rc" 0 "the check finds the store key in the parent's memory (it can see it)"
	echo "parent: $where"
	[ ! -e "/proc/$worker/root${STORE_KEY:-$PKI/store.key}" ] ||
	    fail "the worker can reach store.key"
fi
for fd in /proc/"$worker"/fd/*; do
	case $(readlink "$fd") in
	*.key) fail "the worker has a key file open: $(readlink "$fd")" ;;
	esac
done
# One request per group to seal (its first readers need no opening:
# the worker keeps what it sealed).
first=$HUB_ID
[ -n "$first" ] || fail "no hub id for the first report"
wait_log "privsep.store result=ok op=seal bodies=[0-9]+ "
expect_log "privsep.store op=seal bodies=[0-9]+ bytes=[0-9]+ answer=[0-9]+ usec=[0-9]+"

# A worker killed mid-run is replaced; the new one has no key either.
kill -KILL "$worker"
wait_log "privsep.worker event=died pid=$worker signal=9"
wait_log "ceptoard.ready .* worker=[0-9]+ restarts=1" 30
new=$(worker_pid)
[ -n "$new" ] && [ "$new" != "$worker" ] || fail "no new worker took over"
deliver_one "Store key separation after a restart"
# The new worker has kept nothing of the first report: the parent opens it.
cli_json fsa-liaison show "$first"
expect_eq "$RC" 0 "the liaison shows the first report again ($ERR)"
grep -q "Store key separation" <<<"$OUT" ||
    fail "the first report shown without its title: $OUT"
wait_log "privsep.store result=ok op=open bodies=[0-9]+ "
if [ "$(id -u)" -eq 0 ]; then
	set +e
	where=$(holds_store_key "$new")
	rc=$?
	set -e
	expect_eq "$rc" 1 "the new worker's memory holds no store key ($where)"
fi
if grep -q "privsep.store result=refused" "$HUB_LOG"; then
	fail "the parent refused a request of a sound worker"
fi
kill -0 "$parent" || fail "the hub stopped"
stop_hub
expect_log "privsep.parent event=stopped status=[01] .* sealed=[1-9][0-9]* opened=[1-9][0-9]* "
pass "store key separation: the parent sealed and opened, workers $worker and $new held no key"
