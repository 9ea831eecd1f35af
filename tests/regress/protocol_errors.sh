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

# A string with a NUL in it: protobuf-c would hand "ID\0evil" over as
# "ID".  Fetching one's own report with that is refused, naming the field,
# and the session goes on (a ping after it is answered).
make_report "$WORK/r.json"
cli_json bank-a submit "$WORK/r.json"
expect_eq "$RC" 0 "submit a report to fetch ($ERR)"
hub_id=$(json_field hub_id)
# Envelope{version 1, request 5, fetch{hub_id $1 + $2}} then a ping, as hex.
fetch_hex() {
	python3 - "$1" "$2" <<'PY'
import sys
def ld(num, b):
    key, n, out = (num << 3) | 2, len(b), bytearray()
    for v in (key, n):
        while v >= 0x80:
            out.append(v & 0x7f | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out) + b
hub_id = sys.argv[1].encode() + bytes.fromhex(sys.argv[2])
env = bytes.fromhex("08011005") + ld(18, ld(1, hub_id))
ping = bytes.fromhex("0801aa0100")
print((len(env).to_bytes(4, "big") + env + len(ping).to_bytes(4, "big") +
       ping).hex())
PY
}
out=$(raw bank-a "$(fetch_hex "$hub_id" "")" --hello --timeout 60 --expect 3)
expect_contains "$out" "body 19" "the clean fetch is answered with the report"
out=$(raw bank-a "$(fetch_hex "$hub_id" 006576696c)" --hello --timeout 60 --expect 3)
expect_not_contains "$out" "body 19" "a fetch with a NUL in hub_id is not read as the id"
expect_contains "$out" "error 7 0 fetch.hub_id: a string holding a NUL character is refused" \
    "a NUL in a string is invalid-field, naming the field"
expect_contains "$out" "body 22" "the session goes on after the refusal"
expect_log "session.error .*code=invalid-field field=\"?fetch\.hub_id\"? fatal=no"

# Still serving.
cli bank-a ping
expect_eq "$RC" 0 "hub still serves after bad input ($OUT)"
kill -0 "$HUB_PID" || fail "hub died"
pass "protocol errors"
