#!/usr/bin/env bash
# Oversized frames, before and after the hello, get an error and a close,
# while another client's session carries on undisturbed.
. "$(dirname "$0")/lib.sh"
start_hub

# NISC follows its inbox throughout.
timeout 60 "$CEPTOAR" -c "$WORK/clients/nisc.conf" --json inbox --follow \
    >"$WORK/follow.out" 2>"$WORK/follow.err" &
follower=$!
BG_PIDS+=("$follower")
wait_log "deliver.subscribe .*org=nisc .*follow=yes"

# Before the hello: 8 KiB announced, the pre-auth limit is 4 KiB.
out=$(raw bank-a 00002000)
expect_contains "$out" "error 2 1 frame of 8192 bytes exceeds the limit of 4096 bytes before the hello" \
    "pre-hello oversized frame"
expect_contains "$out" "closed" "closed after the error"

# After the hello: 2 MiB announced, the limit is 1 MiB.
out=$(raw bank-b 00200000 --hello)
expect_contains "$out" "body 11" "welcome first"
expect_contains "$out" "error 2 1 frame of 2097152 bytes exceeds the limit of 1048576 bytes" \
    "post-hello oversized frame"
expect_contains "$out" "closed" "closed after the error"
# Four gigabytes announced.
out=$(raw bank-b ffffffff --hello)
expect_contains "$out" "error 2 1 frame of 4294967295 bytes" "4 GiB frame"
expect_log "session.error .*code=frame-too-large .*fatal=yes"

# The follower is still there and still served.
kill -0 "$follower" || fail "the follower's session was disturbed"
uuid=$(cat /proc/sys/kernel/random/uuid)
make_report "$WORK/r.json" "$uuid"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "submit after the bad frames ($ERR)"
for ((i = 0; i < 100; i++)); do
	grep -q "$uuid" "$WORK/follow.out" && break
	sleep 0.05
done
grep -q "$uuid" "$WORK/follow.out" || fail "follower did not receive the report"
pass "oversized frames refused, others unaffected"
