#!/bin/sh
# Regress scenarios with the hub's store on PostgreSQL: run under
# tests/pg/contract.sh (which starts the servers and exports
# CEPTOAR_PG_CONNINFO), each scenario named as an argument gets a fresh
# database of its own as HUB_STORE, and the meson environment of the
# regress suite (CEPTOARD, CEPTOAR, ...).  Fails on the first scenario
# that fails; the database of a passed one is dropped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${CEPTOAR_PG_CONNINFO:?run under tests/pg/contract.sh}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

admin() {
	timeout 60 "$PG_BIN/psql" -X -q -d "$CEPTOAR_PG_CONNINFO" -c "$1" \
	    >/dev/null
}

for scenario in "$@"; do
	db=ceptoar_regress_$$_$scenario
	admin "DROP DATABASE IF EXISTS $db"
	admin "CREATE DATABASE $db"
	echo "== $scenario on postgresql ($db)"
	HUB_STORE="postgresql:$CEPTOAR_PG_CONNINFO dbname=$db" \
	    bash "$here/../regress/$scenario.sh" ||
	    { echo "FAIL: $scenario on postgresql" >&2; exit 1; }
	admin "DROP DATABASE IF EXISTS $db"
done
echo "ok: $* on postgresql"
