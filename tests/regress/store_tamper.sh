#!/usr/bin/env bash
# A body moved to another row of the store (someone with write access to
# the database file) is refused when read, logged, and never delivered
# under the other row's id; the rest of the inbox still arrives.
. "$(dirname "$0")/lib.sh"
start_hub
for i in 1 2 3; do
	make_report "$WORK/r$i.json" "" "Tamper report $i"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
done
stop_hub
# Copy the sealed body of the second report over the first one's row.
python3 - "$WORK/store/hub.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT seq, body FROM messages WHERE form = 1 AND hop = 0 "
                  "ORDER BY seq LIMIT 2").fetchall()
assert len(rows) == 2, rows
db.execute("UPDATE messages SET body = ? WHERE seq = ?", (rows[1][1], rows[0][0]))
db.commit()
PY
start_hub
cli_json fsa-liaison inbox
expect_eq "$RC" 0 "the liaison's inbox still answers ($ERR)"
expect_eq "$(count_lines)" 2 "the two untouched reports arrive"
expect_eq "$(grep -c 'Tamper report 2' <<<"$OUT")" 1 \
    "the moved body is not delivered under the first report's id"
expect_contains "$OUT" "Tamper report 3" "the third report"
expect_not_contains "$OUT" "Tamper report 1" "the first report's row is refused"
wait_log "deliver.corrupt .*org=fsa-liaison"
pass "a body moved to another row is refused, the rest delivered"
