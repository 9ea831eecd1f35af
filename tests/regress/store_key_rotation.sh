#!/usr/bin/env bash
# Stored bodies are sealed under store_key: no report text is in the
# store's files.  Rotation: a new key with the old one in store_old_keys
# still delivers the old reports; without the old key the store is
# refused; ceptoard -R seals everything again (beside the running hub),
# after which the old key is not needed.  A loose key file stops the hub
# at start with exit status 78.
. "$(dirname "$0")/lib.sh"
pki_ensure
keys=$WORK/keys
mkdir -p "$keys"
(umask 077; head -c 32 /dev/urandom >"$keys/first.key")
(umask 077; head -c 32 /dev/urandom >"$keys/second.key")

# The key id the hub logged last ("store.keys key=...").
key_id() {
	grep 'store.keys' "$HUB_LOG" | tail -n 1 |
	    sed -E 's/.* key=([0-9a-f]{8}).*/\1/'
}

# The store's files hold no report text, whatever state they are in.
expect_sealed() {
	local f
	for f in "$WORK"/store/hub.db*; do
		[ -e "$f" ] || continue
		if grep -aq -e "Rotation report" -e "internet banking" \
		    -e "Sato Hanako" "$f"; then
			fail "$1: report text found in $(basename "$f")"
		fi
	done
}

export STORE_KEY=$keys/first.key
start_hub
first=$(key_id)
[ -n "$first" ] || fail "no store.keys line at start"
ids=()
for i in 1 2 3 4 5; do
	make_report "$WORK/r$i.json" "" "Rotation report $i"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
	ids+=("$(json_field hub_id)")
done
expect_sealed "while the hub runs"
stop_hub
expect_sealed "after a clean stop"

# A new key alone: the store's bodies need the first one, and it says so.
export STORE_KEY=$keys/second.key
sed -i "s|^store_key:.*|store_key: $STORE_KEY|" "$WORK/ceptoard.conf"
set +e
out=$("$CEPTOARD" -n -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "-n refuses a store sealed under a key it was not given"
# Each report is two stored messages: its original and the form NISC gets.
expect_contains "$out" "10 messages are sealed under key $first" "names the key"
expect_contains "$out" "store_old_keys" "says what to do"
set +e
out=$(timeout 20 "$CEPTOARD" -d -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "the hub started without the key of its bodies"
expect_contains "$out" "sealed under key $first" "the hub says why"

# The new key with the old one listed: old reports still delivered.
start_hub "store_old_keys: $keys/first.key"
second=$(key_id)
[ "$second" != "$first" ] || fail "the new key has the old key's id"
expect_log "store.keys key=$second old_key_messages=10 action="
cli_json fsa-liaison inbox --no-ack
expect_eq "$RC" 0 "inbox under the rotated key ($ERR)"
expect_eq "$(count_lines)" 5 "every report before the rekey"
expect_contains "$OUT" "Rotation report 4" "old bodies open with the old key"
make_report "$WORK/r6.json" "" "Rotation report 6"
cli_json bank-a submit "$WORK/r6.json"
expect_eq "$RC" 0 "submit under the new key ($ERR)"
ids+=("$(json_field hub_id)")

# Rekey beside the running hub; a retried submit is still a duplicate.
out=$("$CEPTOARD" -R -f "$WORK/ceptoard.conf" 2>&1) ||
    fail "ceptoard -R failed: $out"
expect_contains "$out" "sealed 10 stored bodies again under store key $second" \
    "rekey reports what it did"
cli_json bank-a submit "$WORK/r2.json"
expect_eq "$(json_field hub_id)" "${ids[1]}" "idempotency survives the rekey"
out=$("$CEPTOARD" -R -f "$WORK/ceptoard.conf" 2>&1) ||
    fail "a second ceptoard -R failed: $out"
expect_contains "$out" "sealed 0 stored bodies" "a second rekey has nothing to do"
stop_hub
expect_sealed "after the rekey"

# Without the old key: everything still opens.
start_hub
expect_log "store.keys key=$second old_key_messages=0"
cli_json nisc inbox
expect_eq "$RC" 0 "inbox without the old key ($ERR)"
expect_eq "$(count_lines)" 6 "every report after the rekey"
for i in 1 2 3 4 5 6; do
	expect_contains "$OUT" "Rotation report $i" "report $i readable"
done
# The sender's hub ids are the originals, which the liaison holds.
cli_json fsa-liaison inbox --no-ack
expect_eq "$(count_lines)" 6 "the liaison's inbox after the rekey"
for id in "${ids[@]}"; do
	expect_eq "$(count_hub_id "$id")" 1 "report $id present once"
done
expect_not_contains "$(cat "$HUB_LOG")" "deliver.corrupt" "no body failed to open"
stop_hub

# A key file others may read is refused at start, before anything else.
chmod 0640 "$STORE_KEY"
set +e
out=$(timeout 20 "$CEPTOARD" -d -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "a group-readable store key stops the hub"
expect_contains "$out" "must not be readable or writable by group or others" \
    "says why"
chmod 0604 "$STORE_KEY"
set +e
out=$("$CEPTOARD" -n -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "a world-readable store key fails the check"
expect_contains "$out" "chmod 600" "says how to fix it"
chmod 0600 "$STORE_KEY"

# So is a configuration without a store key: nothing is stored in the clear.
sed -i '/^store_key:/d' "$WORK/ceptoard.conf"
set +e
out=$(timeout 20 "$CEPTOARD" -d -f "$WORK/ceptoard.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "no store key stops the hub"
expect_contains "$out" "no store_key is configured" "says why"
pass "bodies sealed at rest; key rotated and old key retired"
