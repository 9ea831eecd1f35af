#!/bin/sh
# tests/pg/cluster.sh does what it says: a primary that waits for its
# standby (sync_state "sync"), a commit on the primary that reaches the
# standby, a second start that only prints, the connection string that
# finds the primary, and after the primary is killed (pg_ctl -m
# immediate) and the standby promoted, finds the new one, which accepts
# commits; stop leaves no server running.  Skips (77) where PostgreSQL
# cannot run: not root and no postgresql-15.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pg_test=pg_cluster
. "$here/lib.sh"
fail() {
	echo "FAIL [pg_cluster]: $*" >&2
	exit 1
}
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
q() {
	timeout 30 "$PG_BIN/psql" -X -A -t -d "$1" -c "$2"
}

out=$(sh "$here/cluster.sh" start) || fail "start failed"
dir=$(echo "$out" | head -n 1)
ci=$(echo "$out" | tail -n 1)
[ -d "$dir" ] || fail "start printed no directory ($out)"
case $ci in
*target_session_attrs=read-write*) ;;
*) fail "the connection string does not ask for the primary: $ci" ;;
esac
p1=$(cat "$dir/primary.port")
p2=$(cat "$dir/standby.port")
pid1=$(head -n 1 "$dir/primary/postmaster.pid")
pid2=$(head -n 1 "$dir/standby/postmaster.pid")

[ "$(q "$ci" "SELECT current_setting('port')")" = "$p1" ] ||
    fail "the connection string did not reach the primary"
[ "$(q "host=127.0.0.1 port=$p1 user=postgres" "SELECT sync_state FROM pg_stat_replication")" = sync ] ||
    fail "the standby is not synchronous"
q "$ci" "CREATE TABLE t (x int); INSERT INTO t VALUES (42)" >/dev/null
i=0
while [ "$(q "host=127.0.0.1 port=$p2 user=postgres" "SELECT x FROM t" 2>/dev/null)" != 42 ]; do
	i=$((i + 1))
	[ "$i" -lt 150 ] || fail "the commit did not reach the standby"
	sleep 0.2
done

out2=$(sh "$here/cluster.sh" start "$dir") || fail "a second start failed"
[ "$(echo "$out2" | tail -n 1)" = "$ci" ] || fail "a second start changed the servers"
[ "$(head -n 1 "$dir/primary/postmaster.pid")" = "$pid1" ] ||
    fail "a second start restarted the primary"

# Failover: the primary dies, the standby is promoted, the same string
# finds it and it takes commits (it waits for no standby).
as_owner "$PG_BIN/pg_ctl" -D "$dir/primary" -m immediate -t 30 stop >/dev/null
as_owner "$PG_BIN/pg_ctl" -D "$dir/standby" -w -t 30 promote >/dev/null
[ "$(q "$ci" "SELECT current_setting('port')")" = "$p2" ] ||
    fail "after the failover the connection string did not find the new primary"
q "$ci" "INSERT INTO t VALUES (43)" >/dev/null ||
    fail "the promoted server does not take commits"
[ "$(q "$ci" "SELECT count(*) FROM t")" = 2 ] ||
    fail "the promoted server lost a row"

sh "$here/cluster.sh" stop "$dir"
d=$dir
dir=
for pid in $pid1 $pid2; do
	! kill -0 "$pid" 2>/dev/null || fail "server pid $pid still runs after stop"
done
[ ! -e "$d" ] || fail "stop left $d"
echo "ok [pg_cluster]: primary, synchronous standby, failover, stop"
