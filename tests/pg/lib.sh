# Sourced by the scripts that run tests against tests/pg/cluster.sh:
# skip (77) where PostgreSQL cannot run, and stop the cluster started
# into $dir by pid whatever happens.  $here is the tests/pg folder.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ "$(id -u)" -ne 0 ] && [ ! -x "$PG_BIN/initdb" ]; then
	echo "skip${pg_test:+ [$pg_test]}: needs root (to install postgresql-15) or postgresql-15"
	exit 77
fi
dir=
pg_cleanup() {
	rc=$?
	[ -z "$dir" ] || sh "$here/cluster.sh" stop "$dir" || true
	exit "$rc"
}
trap pg_cleanup EXIT
