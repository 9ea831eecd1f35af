#!/bin/sh
# Real PostgreSQL servers for the tests, on loopback, in a directory of
# their own: a primary (initdb) and a streaming standby (pg_basebackup
# -R) that the primary waits for (synchronous_standby_names), so that a
# COMMIT returns only once the standby has the WAL.  No mock.
#
#   tests/pg/cluster.sh start [DIR]   start both (DIR: a new temporary
#                                     directory); prints DIR, then the
#                                     connection string on the last line
#   tests/pg/cluster.sh conninfo DIR  print the connection string
#   tests/pg/cluster.sh stop DIR      stop both, by pid, and remove DIR
#                                     (one it made, ceptoar-pg.*)
#
# As root on Debian 12 it installs postgresql-15 and libpq-dev when they
# are missing and runs the servers as the postgres user; as another user
# it runs them as that user (the packages must be there).  Idempotent:
# start on a DIR whose servers run only prints; stop on a stopped DIR
# only removes it.  Bounded: every wait has a deadline (PG_WAIT seconds,
# default 60), after which it fails saying what it waited for.
#
# The connection string names both servers with
# target_session_attrs=read-write, so that a client finds whichever is
# the primary, also after a promotion.  Authentication is "trust" on
# 127.0.0.1 only: these are throw-away servers for tests.
set -eu

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_WAIT=${PG_WAIT:-60}
STANDBY_NAME=ceptoar_standby

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

# Run a command as the servers' owner.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Install the packages when missing (root only).
install_missing() {
	missing=
	for p in postgresql-15 libpq-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages:$missing (run as root)"
	echo "cluster.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	timeout 600 apt-get update -q </dev/null >/dev/null
	# shellcheck disable=SC2086
	timeout 600 apt-get install -y -q --no-install-recommends $missing \
	    </dev/null >/dev/null
	# The package starts a cluster of its own on port 5432; ours never
	# use that port, and it is left as the package set it up.
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pid of the server in data directory $1, or nothing.
server_pid() {
	[ -f "$1/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$1/postmaster.pid")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "$pid"
	fi
}

# Wait until psql on port $1 answers query $2 with $3.
wait_answer() {
	i=0
	while [ "$i" -lt "$((PG_WAIT * 5))" ]; do
		got=$(as_owner "$PG_BIN/psql" -X -A -t -h 127.0.0.1 -p "$1" \
		    -U postgres -d postgres -c "$2" 2>/dev/null || true)
		[ "$got" = "$3" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	die "port $1 did not answer \"$3\" to \"$2\" within ${PG_WAIT}s (got \"$got\")"
}

conninfo() {
	p1=$(cat "$1/primary.port")
	p2=$(cat "$1/standby.port")
	echo "host=127.0.0.1,127.0.0.1 port=$p1,$p2 user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=5"
}

start() {
	dir=${1:-}
	install_missing
	[ -x "$PG_BIN/initdb" ] || die "no $PG_BIN/initdb (postgresql-15)"
	if [ -n "$dir" ] && [ -n "$(server_pid "$dir/primary")" ] &&
	    [ -n "$(server_pid "$dir/standby")" ]; then
		echo "$dir"
		conninfo "$dir"
		return 0
	fi
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/ceptoar-pg.XXXXXX")
	else
		mkdir -p "$dir"
	fi
	chmod 700 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	# A half-made directory from an interrupted start is made again.
	for role in primary standby; do
		pid=$(server_pid "$dir/$role")
		[ -z "$pid" ] || as_owner "$PG_BIN/pg_ctl" -D "$dir/$role" \
		    -m immediate -t "$PG_WAIT" stop >/dev/null 2>&1 || true
		rm -rf "${dir:?}/$role"
	done
	p1=$(free_port)
	p2=$(free_port)
	while [ "$p2" = "$p1" ]; do p2=$(free_port); done
	as_owner sh -c "echo $p1 >'$dir/primary.port'; echo $p2 >'$dir/standby.port'"

	as_owner timeout "$PG_WAIT" "$PG_BIN/initdb" -D "$dir/primary" \
	    -U postgres -A trust --no-instructions -E UTF8 --locale=C.UTF-8 \
	    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2;
	    die "initdb failed"; }
	as_owner sh -c "cat >>'$dir/primary/postgresql.conf'" <<CONF
# tests/pg/cluster.sh: loopback only, a synchronous standby.
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 4
wal_keep_size = '64MB'
synchronous_standby_names = '$STANDBY_NAME'
synchronous_commit = on
fsync = on
shared_buffers = '16MB'
max_connections = 40
log_min_messages = warning
CONF
	as_owner sh -c "cat >'$dir/primary/pg_hba.conf'" <<HBA
local	all		all				trust
host	all		all		127.0.0.1/32	trust
host	replication	all		127.0.0.1/32	trust
HBA
	as_owner "$PG_BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" \
	    -w -t "$PG_WAIT" start >/dev/null ||
	    { tail -n 20 "$dir/primary.log" >&2; die "the primary did not start"; }

	as_owner timeout "$PG_WAIT" "$PG_BIN/pg_basebackup" -D "$dir/standby" \
	    -R -X stream -c fast \
	    -d "host=127.0.0.1 port=$p1 user=postgres application_name=$STANDBY_NAME" \
	    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2;
	    die "pg_basebackup failed"; }
	# Promoted, the standby has no standby of its own: it must not wait
	# for one, or every commit after a failover would hang.
	as_owner sh -c "cat >>'$dir/standby/postgresql.conf'" <<CONF
port = $p2
synchronous_standby_names = ''
CONF
	as_owner "$PG_BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" \
	    -w -t "$PG_WAIT" start >/dev/null ||
	    { tail -n 20 "$dir/standby.log" >&2; die "the standby did not start"; }

	wait_answer "$p2" "SELECT pg_is_in_recovery()" t
	wait_answer "$p1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$STANDBY_NAME'" sync
	echo "$dir"
	conninfo "$dir"
}

# Stop both servers of $1 by pid: a fast shutdown, then SIGKILL past the
# deadline; then remove the directory.
stop() {
	dir=$1
	[ -d "$dir" ] || return 0
	for role in standby primary; do
		pid=$(server_pid "$dir/$role")
		[ -n "$pid" ] || continue
		kill -INT "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$((PG_WAIT * 5))" ]; do
			sleep 0.2
			i=$((i + 1))
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "cluster.sh: $role (pid $pid) did not stop; killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	case $dir in
	*/ceptoar-pg.*|*/pg-cluster*) rm -rf "$dir" ;;
	*) echo "cluster.sh: left $dir in place (not a directory it made)" >&2 ;;
	esac
}

case "${1:-}" in
start)		start "${2:-}" ;;
conninfo)	[ -n "${2:-}" ] || die "usage: cluster.sh conninfo DIR"
		conninfo "$2" ;;
stop)		[ -n "${2:-}" ] || die "usage: cluster.sh stop DIR"
		stop "$2" ;;
*)		echo "usage: cluster.sh start [DIR] | conninfo DIR | stop DIR" >&2
		exit 64 ;;
esac
