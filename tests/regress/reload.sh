#!/usr/bin/env bash
# SIGHUP reloads the directory; a broken one is refused and the old one
# kept; an organisation removed from the directory can no longer connect.
. "$(dirname "$0")/lib.sh"
cp "$DIRECTORY" "$WORK/directory.yaml"
HUB_DIRECTORY=$WORK/directory.yaml
start_hub

printf 'organisations: [\n' >"$WORK/directory.yaml"
kill -HUP "$HUB_PID"
wait_log "config.reload result=failed"
expect_log "config.reload result=failed directory=$WORK/directory.yaml cause=\".*directory.yaml:[0-9]+"
cli bank-b ping
expect_eq "$RC" 0 "the old directory is still in force ($OUT)"

grep -v 'id: bank-b,' "$DIRECTORY" >"$WORK/directory.yaml"
kill -HUP "$HUB_PID"
wait_log "config.reload result=ok"
cli bank-b ping
expect_eq "$RC" 77 "bank-b removed from the directory ($OUT)"
expect_contains "$OUT" "unknown-organisation" "refusal names the code"
cli bank-a ping
expect_eq "$RC" 0 "others unaffected ($OUT)"
pass "directory reload"
