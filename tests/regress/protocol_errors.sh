#!/usr/bin/env bash
# Wrong protocol version, garbage, and a first message other than hello
# are each answered with their error code and a close; the hub carries on.
. "$(dirname "$0")/lib.sh"
start_hub

# Version 2 hello.
out=$(raw bank-a 0000000408025200)
expect_contains "$out" "error 1 1 protocol version 2 is not spoken here; this hub speaks version 1" \
    "version mismatch"
expect_contains "$out" "closed" "closed after the version error"
expect_log "session.error .*code=protocol-version"

# Bytes that are not a protobuf envelope.
out=$(raw bank-a 000000030fffff)
expect_contains "$out" "error 3 1" "garbage is malformed"
expect_contains "$out" "closed" "closed after garbage"

# A ping before the hello.
out=$(raw bank-a 000000050801aa0100)
expect_contains "$out" "error 4 1 the first message must be hello, not ping" \
    "ping before hello"

# A hub-only message from a client.
out=$(raw bank-a 0000000408015a00 --hello)
expect_contains "$out" "body 11" "welcome"
expect_contains "$out" "error 4 1 welcome is sent by the hub, never to it" \
    "client sending a welcome"
out=$(raw bank-a 000000050801a20100 --hello)
expect_contains "$out" "error 4 1 error is sent by the hub, never to it" \
    "client sending an error envelope"

# Still serving.
cli bank-a ping
expect_eq "$RC" 0 "hub still serves after bad input ($OUT)"
kill -0 "$HUB_PID" || fail "hub died"
pass "protocol errors"
