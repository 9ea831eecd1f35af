#!/bin/sh
# Run a store test against real PostgreSQL: tests/pg/cluster.sh starts a
# primary and a synchronous standby, the command ("$@", e.g. the
# test_store_contract binary and "postgresql") runs with the connection
# string that names both in CEPTOAR_PG_CONNINFO, and the servers are
# stopped by pid whatever happens.  Skips (77) where PostgreSQL cannot
# run: not root and no postgresql-15.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ "$(id -u)" -ne 0 ] && [ ! -x "$PG_BIN/initdb" ]; then
	echo "skip: needs root (to install postgresql-15) or postgresql-15"
	exit 77
fi
dir=
cleanup() {
	rc=$?
	[ -z "$dir" ] || sh "$here/cluster.sh" stop "$dir" || true
	exit "$rc"
}
trap cleanup EXIT
out=$(sh "$here/cluster.sh" start)
dir=$(echo "$out" | head -n 1)
CEPTOAR_PG_CONNINFO=$(echo "$out" | tail -n 1)
export CEPTOAR_PG_CONNINFO
set +e
"$@"
rc=$?
set -e
exit "$rc"
