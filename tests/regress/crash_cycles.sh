#!/usr/bin/env bash
# The hub is killed with SIGKILL at random moments while an operator
# submits and a liaison consumes; after every restart, every acknowledged
# report is present and delivered, to the liaison and to NISC.  Deliveries
# may repeat (at-least-once), acknowledged reports may never be lost.
# CRASH_CYCLES sets the number of cycles (a short run by default).
. "$(dirname "$0")/lib.sh"
CYCLES=${CRASH_CYCLES:-4}
HUB_OPTS="rate_org_submits: 100000"
start_hub "$HUB_OPTS"

# Submit reports without pause; a uuid is recorded once its ack is back.
submitter() {
	local uuid n=0
	while :; do
		n=$((n + 1))
		uuid=$(cat /proc/sys/kernel/random/uuid)
		make_report "$WORK/s.json" "$uuid" "Crash cycle report $n"
		if timeout 10 "$CEPTOAR" -c "$WORK/clients/bank-a.conf" -q submit \
		    "$WORK/s.json" >/dev/null 2>&1; then
			echo "$uuid" >>"$WORK/acked.txt"
		fi
	done
}
# Follow the liaison's inbox into a file per cycle.  Each follower is
# stopped with stop_bg, never by signalling timeout(1) (see lib.sh).
consume() {
	timeout 120 "$CEPTOAR" -c "$WORK/clients/fsa-liaison.conf" --json inbox \
	    --follow >>"$WORK/consumed.txt" 2>>"$WORK/consume.err" &
	consumer=$!
	BG_PIDS+=("$consumer")
}

touch "$WORK/acked.txt" "$WORK/consumed.txt"
submitter &
submitter_pid=$!
BG_PIDS+=("$submitter_pid")
consume
# Wait (up to 60 s: a hub under valgrind starts slowly) until the hub
# has acknowledged another report, so every cycle kills a working hub.
await_ack() {
	local before=$1 i
	for ((i = 0; i < 1200; i++)); do
		[ "$(wc -l <"$WORK/acked.txt")" -gt "$before" ] && return 0
		sleep 0.05
	done
	fail "no report was acknowledged after a restart"
}
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
	await_ack "$(wc -l <"$WORK/acked.txt")"
	sleep "0.$((RANDOM % 9 + 2))"
	kill_hub
	stop_bg "$consumer"
	start_hub "$HUB_OPTS"
	consume
done
sleep 1
kill -TERM "$submitter_pid" 2>/dev/null || true
wait "$submitter_pid" 2>/dev/null || true
stop_bg "$consumer"

# What is still unacknowledged comes now.
cli_json fsa-liaison inbox
printf '%s\n' "$OUT" >>"$WORK/consumed.txt"
cli_json nisc inbox
printf '%s\n' "$OUT" >"$WORK/nisc.txt"

python3 - "$WORK" "$CYCLES" <<'PY' || fail "acknowledged reports were lost"
import json, sys, collections
work, cycles = sys.argv[1], int(sys.argv[2])
acked = [l.strip() for l in open(work + "/acked.txt") if l.strip()]
def uuids(path):
    seen = collections.Counter()
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            seen[json.loads(line)["message"]["uuid"]] += 1
    return seen
liaison, nisc = uuids(work + "/consumed.txt"), uuids(work + "/nisc.txt")
lost = [u for u in acked if liaison[u] == 0]
lost_nisc = [u for u in acked if nisc[u] == 0]
dup = sum(1 for u in liaison if liaison[u] > 1)
print("crash cycles: %d cycles, %d acknowledged, %d lost, %d lost at NISC, "
      "%d redelivered" % (cycles, len(acked), len(lost), len(lost_nisc), dup))
assert len(acked) > 0, "nothing was acknowledged"
sys.exit(1 if lost or lost_nisc else 0)
PY
expect_eq "$(grep -c ceptoard.ready "$HUB_LOG")" "$((CYCLES + 1))" "the hub restarted every cycle"
pass "crash cycles"
