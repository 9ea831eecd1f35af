#!/usr/bin/env bash
. "$(dirname "$0")/lib.sh"
start_hub
for i in 1 2 3; do
	make_report "$WORK/r$i.json" "" "Tamper report $i"
	cli_json bank-a submit "$WORK/r$i.json"
	expect_eq "$RC" 0 "submit $i ($ERR)"
done
stop_hub
python3 - "$WORK/store/hub.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
a, b = [r[0] for r in db.execute("SELECT body FROM messages WHERE form = 1 AND hop = 0 ORDER BY seq LIMIT 2")]
db.execute("UPDATE messages SET body = ? WHERE seq = (SELECT min(seq) FROM messages)", (b,))
db.commit()
PY
start_hub
cli_json fsa-liaison inbox
echo "RC=$RC lines=$(count_lines)"
grep -E "deliver.corrupt" "$HUB_LOG" || true
echo "$OUT" | grep -o "Tamper report [0-9]"
pass tamper
