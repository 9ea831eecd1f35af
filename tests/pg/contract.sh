#!/bin/sh
# Run a store test against real PostgreSQL: tests/pg/cluster.sh starts a
# primary and a synchronous standby, the command ("$@", e.g. the
# test_store_contract binary and "postgresql") runs with the connection
# string that names both in CEPTOAR_PG_CONNINFO, and the servers are
# stopped by pid whatever happens.  Skips (77) where PostgreSQL cannot
# run: not root and no postgresql-15.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
out=$(sh "$here/cluster.sh" start)
dir=$(echo "$out" | head -n 1)
CEPTOAR_PG_CONNINFO=$(echo "$out" | tail -n 1)
export CEPTOAR_PG_CONNINFO
set +e
"$@"
rc=$?
set -e
exit "$rc"
