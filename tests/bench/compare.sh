#!/usr/bin/env bash
#
# compare.sh: the hub against Mosquitto on the same workloads, on
# loopback, with mutual TLS and durable storage on both sides.
#
#   tests/bench/compare.sh [--smoke] [--workloads LIST] [--idle N]
#                          [--idle-orgs K] [--perf] [--out FILE] [--keep]
#
#   --smoke          a few hundred messages per tool, nothing timed; fails
#                    if either tool misses a delivery (the CI test)
#   --workloads LIST workloads as "P:S:M:B:W,..." instead of the standard
#                    six ("none" for none)
#   --idle N         also hold N idle mTLS connections to the hub and
#                    report its resident memory per connection
#   --idle-orgs K    spread the idle connections over K subscriber
#                    certificates (default: N, at most 1000)
#   --perf           also profile the hub with perf during a repeat of
#                    the first workload, and print the top 15 symbols
#   --out FILE       append every result line to FILE as well
#   --keep           keep the work folder (logs, stores, perf data)
#   --wait-quiet S   before each run wait up to S seconds for the machine
#                    to be 90% idle, so other jobs do not skew a figure
#   --store-dir DIR  keep the hub's store (and Mosquitto's persistence)
#                    under DIR, e.g. /dev/shm to take the disk's fsync
#                    latency out of the figures (default: the work folder)
#
# For each workload it starts a fresh ceptoard (port 0, its port read
# from /proc, a new SQLite store in a temporary folder, log_level warn)
# and runs ceptoar-bench against it, then a fresh mosquitto (a free
# loopback port, persistence in a temporary folder, its own
# configuration written here) and runs mosquitto-bench.  It prints each
# pair, the ratio hub/mosquitto of deliveries per second, each broker's
# CPU time per delivery (utime + stime from /proc/PID/stat) and peak
# RSS (VmHWM), and for the steady workload the hub's RSS sampled every
# half second.
#
# Mosquitto is installed from Debian when missing and the script runs as
# root; otherwise the Mosquitto half is skipped with a message.  Every
# process it starts is stopped by its process id.
#
# Environment: CEPTOARD, CEPTOAR_BENCH, MOSQUITTO_BENCH (the binaries;
# default under CEPTOAR_BUILDDIR), CEPTOAR_SRCDIR (default: two folders
# up), CEPTOAR_BUILDDIR (default: SRCDIR/build), TMPDIR, BENCH_TIMEOUT
# (seconds per run, default 600).
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
CEPTOAR_SRCDIR=${CEPTOAR_SRCDIR:-$(cd "$here/../.." && pwd)}
CEPTOAR_BUILDDIR=${CEPTOAR_BUILDDIR:-$CEPTOAR_SRCDIR/build}
CEPTOARD=${CEPTOARD:-$CEPTOAR_BUILDDIR/daemon/ceptoard}
CEPTOAR_BENCH=${CEPTOAR_BENCH:-$CEPTOAR_BUILDDIR/tests/bench/ceptoar-bench}
MOSQUITTO_BENCH=${MOSQUITTO_BENCH:-$CEPTOAR_BUILDDIR/tests/bench/mosquitto-bench}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}

# The standard workloads, P:S:M:B:W: fan-out, many publishers, wide
# fan-out, the steady one, latency at a window of one, and submits from
# 50 publishers with the least fan-out (the durable submit rate).
FULL_WORKLOADS="10:10:1000:2048:32,50:20:200:2048:32,1:100:200:2048:32,10:10:10000:2048:32,1:10:2000:2048:1,50:1:400:2048:32"
STEADY="10:10:10000:2048:32"
# A few hundred messages, a window above one and a window of one.
SMOKE_WORKLOADS="2:3:100:512:8,1:2:100:2048:1"

smoke=0 keep=0 perf=0 idle=0 idle_orgs=0 out='' wait_quiet=0 store_dir=''
workloads=$FULL_WORKLOADS

usage() {
	sed -n '4,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1; workloads=$SMOKE_WORKLOADS ;;
	--workloads) [ $# -ge 2 ] || usage; workloads=$2; shift ;;
	--idle) [ $# -ge 2 ] || usage; idle=$2; shift ;;
	--idle-orgs) [ $# -ge 2 ] || usage; idle_orgs=$2; shift ;;
	--perf) perf=1 ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift ;;
	--keep) keep=1 ;;
	--wait-quiet) [ $# -ge 2 ] || usage; wait_quiet=$2; shift ;;
	--store-dir) [ $# -ge 2 ] || usage; store_dir=$2; shift ;;
	-h | --help) usage ;;
	*) echo "$prog: unknown argument $1" >&2; usage ;;
	esac
	shift
done
[ "$workloads" != none ] || workloads=
case "$idle$idle_orgs$wait_quiet" in
*[!0-9]*) echo "$prog: --idle and --idle-orgs take numbers" >&2; exit 2 ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ceptoar-bench.XXXXXX")
STORES=$WORK
if [ -n "$store_dir" ]; then
	STORES=$(mktemp -d "$store_dir/ceptoar-bench.XXXXXX")
fi
PIDS=()
SUMMARY=()
failures=0

# Stop everything this script started, by pid, and remove the work folder.
cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait_gone "$p" 10 || kill -KILL "$p" 2>/dev/null || true
	done
	if [ "$keep" -eq 1 ] || { [ "$rc" -ne 0 ] && [ -z "${CI:-}" ]; }; then
		echo "$prog: work folder kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	[ "$STORES" = "$WORK" ] || rm -rf "$STORES"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait up to $2 seconds for process $1 to exit.
wait_gone() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# Remember a started process so that cleanup stops it.
started() {
	PIDS+=("$1")
}

# Stop process $1 with SIGTERM (SIGKILL after 10 s) and forget it.
stop_pid() {
	local pid=$1 p keep_pids=()
	kill -TERM "$pid" 2>/dev/null || true
	wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep_pids+=("$p")
	done
	PIDS=("${keep_pids[@]}")
}

say() {
	printf '%s\n' "$*"
	[ -z "$out" ] || printf '%s\n' "$*" >>"$out"
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The TCP port process $1 listens on, read from /proc: no ss or lsof.
listen_port() {
	local pid=$1 inodes hex
	inodes=$(for f in /proc/"$pid"/fd/*; do readlink "$f"; done 2>/dev/null |
	    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	[ -n "$inodes" ] || return 1
	# Columns: sl local_address rem_address st ... inode (10th); 0A is LISTEN.
	hex=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v want=" $inodes" \
	    '$4 == "0A" && index(want, " " $10 " ") { n = split($2, a, ":"); print a[n]; exit }')
	[ -n "$hex" ] || return 1
	printf '%d\n' "0x$hex"
}

# Wait up to 10 s for process $1 to listen; print the port.
wait_listen() {
	local pid=$1 i port
	for ((i = 0; i < 200; i++)); do
		if port=$(listen_port "$pid"); then
			echo "$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# CPU time (user + system) of process $1 in clock ticks.
cpu_ticks() {
	# Fields after "pid (comm) ": utime is the 12th, stime the 13th.
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# One field of /proc/PID/status in KiB (VmRSS, VmHWM).
vm_kib() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# Sample VmRSS of process $1 into file $2 every half second, in the
# background; the sampler's pid is in $SAMPLER.
start_sampler() {
	local pid=$1 file=$2
	(
		t0=$(date +%s.%N)
		while kill -0 "$pid" 2>/dev/null; do
			printf '%s %s\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" \
			    'BEGIN { printf "%.1f", b - a }')" "$(vm_kib "$pid" VmRSS)"
			sleep 0.5
		done
	) >"$file" &
	SAMPLER=$!
	started "$SAMPLER"
}

# Percent of CPU time idle over the next two seconds, from /proc/stat.
idle_pct() {
	local a b
	a=$(awk '$1 == "cpu" { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	sleep 2
	b=$(awk '$1 == "cpu" { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
	    d = y[2] - x[2]; printf "%d", (d > 0 ? 100 * (y[1] - x[1]) / d : 100) }'
}

# With --wait-quiet, wait until the machine is 90% idle (or give up);
# sets QUIET to what was seen, for the record.
quiet() {
	local t0=$SECONDS idle
	QUIET=
	[ "$wait_quiet" -gt 0 ] || return 0
	while :; do
		idle=$(idle_pct)
		if [ "$idle" -ge 90 ] || [ $((SECONDS - t0)) -ge "$wait_quiet" ]; then
			QUIET="idle_before=${idle}% waited=$((SECONDS - t0))s"
			return 0
		fi
	done
}

# A field "key=value" of a result line.
field() {
	sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}

# Mosquitto, from Debian when missing and allowed; sets HAVE_MOSQUITTO.
ensure_mosquitto() {
	HAVE_MOSQUITTO=1
	MOSQUITTO=$(command -v mosquitto || true)
	[ -n "$MOSQUITTO" ] || MOSQUITTO=$( [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto || true)
	if [ -z "$MOSQUITTO" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		echo "$prog: installing mosquitto from Debian" >&2
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    mosquitto libmosquitto-dev >/dev/null 2>&1; then
			apt-get update -q >/dev/null 2>&1 || true
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			    mosquitto libmosquitto-dev >/dev/null 2>&1 || true
		fi
		MOSQUITTO=$(command -v mosquitto || true)
		[ -n "$MOSQUITTO" ] || MOSQUITTO=$( [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto || true)
	fi
	if [ -z "$MOSQUITTO" ]; then
		echo "SKIP mosquitto: the mosquitto broker is not installed" \
		    "(apt-get install mosquitto libmosquitto-dev); only the hub is measured"
		HAVE_MOSQUITTO=0
	elif [ ! -x "$MOSQUITTO_BENCH" ]; then
		echo "SKIP mosquitto: $MOSQUITTO_BENCH was not built (libmosquitto-dev" \
		    "was missing when meson configured; install it and reconfigure)"
		HAVE_MOSQUITTO=0
	fi
}

# The largest P and S over the workloads (and idle orgs), for the PKI.
max_sizes() {
	local w p s maxp=1 maxs=1
	IFS=, read -r -a wl <<<"$workloads"
	for w in "${wl[@]}"; do
		IFS=: read -r p s _ _ _ <<<"$w"
		[ "$p" -le "$maxp" ] || maxp=$p
		[ "$s" -le "$maxs" ] || maxs=$s
	done
	[ "$idle_orgs" -le "$maxs" ] || maxs=$idle_orgs
	echo "$maxp $maxs"
}

# The development PKI for pub-1..pub-P and sub-1..sub-S, made once per
# build folder and grown when a larger workload needs more names.
pki_ensure() {
	local p=$1 s=$2
	PKI=$CEPTOAR_BUILDDIR/bench-pki
	mkdir -p "$CEPTOAR_BUILDDIR"
	(
		flock 9
		read -r hp hs 2>/dev/null <"$PKI/.complete" || { hp=0; hs=0; }
		if [ "$hp" -lt "$p" ] || [ "$hs" -lt "$s" ]; then
			[ "$hp" -ge "$p" ] || hp=$p
			[ "$hs" -ge "$s" ] || hs=$s
			echo "$prog: making the bench PKI for $hp publishers and" \
			    "$hs subscribers in $PKI" >&2
			"$here/make-directory.sh" "$hp" "$hs" >"$WORK/pki-directory.yaml"
			"$CEPTOAR_SRCDIR/config/dev-pki.sh" "$PKI" \
			    "$WORK/pki-directory.yaml" "$CEPTOARD" >/dev/null
			echo "$hp $hs" >"$PKI/.complete"
		fi
	) 9>"$CEPTOAR_BUILDDIR/bench-pki.lock"
}

# Whether this ceptoard knows configuration option $1 (its -h lists them).
hub_has_option() {
	[ -n "${HUB_HELP:-}" ] || HUB_HELP=$("$CEPTOARD" -h 2>&1 || true)
	grep -Eq "^ +$1 " <<<"$HUB_HELP"
}

# Start ceptoard for P publishers and S subscribers in folder $3; sets
# HUB_PID and HUB_PORT.
start_hub() {
	local p=$1 s=$2 dir=$3 store
	store=$STORES/$(basename "$dir")/store
	mkdir -p "$store"
	"$here/make-directory.sh" "$p" "$s" >"$dir/directory.yaml"
	cat >"$dir/ceptoard.conf" <<-CONF
	listen: 127.0.0.1:0
	tls_cert: $PKI/hub.crt
	tls_key: $PKI/hub.key
	tls_ca: $PKI/ca.crt
	directory: $dir/directory.yaml
	store: $store/hub.db
	log_level: warn
	CONF
	# Options of newer hubs: a key sealing stored bodies, and the rate
	# limits, raised far above the load so that capacity is measured.
	if hub_has_option store_key; then
		(umask 077; head -c 32 /dev/urandom >"$dir/store.key")
		echo "store_key: $dir/store.key" >>"$dir/ceptoard.conf"
	fi
	if hub_has_option rate_frames; then
		echo "rate_frames: 10000000" >>"$dir/ceptoard.conf"
	fi
	if hub_has_option rate_org_submits; then
		echo "rate_org_submits: 10000000" >>"$dir/ceptoard.conf"
	fi
	# Every bench connection comes from 127.0.0.1: the per-address caps
	# that protect a hub from one peer would refuse the load itself.
	if hub_has_option max_conn_per_addr; then
		echo "max_conn_per_addr: 1000000" >>"$dir/ceptoard.conf"
		echo "max_handshakes_per_addr: 1000000" >>"$dir/ceptoard.conf"
	fi
	"$CEPTOARD" -d -f "$dir/ceptoard.conf" >"$dir/hub.log" 2>&1 &
	HUB_PID=$!
	started "$HUB_PID"
	HUB_PORT=$(wait_listen "$HUB_PID") || {
		cat "$dir/hub.log" >&2
		die "ceptoard did not start listening"
	}
	hub_worker
}

# The process that serves, whose CPU and memory are measured: since
# privilege separation, the hub's worker (a child of HUB_PID); an older
# hub, without one, serves itself.  Sets HUB_WORK_PID.
hub_worker() {
	local i w
	HUB_WORK_PID=$HUB_PID
	for ((i = 0; i < 40; i++)); do
		w=$(pgrep -P "$HUB_PID" | head -n 1 || true)
		if [ -n "$w" ]; then
			HUB_WORK_PID=$w
			return 0
		fi
		sleep 0.05
	done
}

# Start mosquitto on a free loopback port in folder $1; sets MQ_PID and
# MQ_PORT.
start_mosquitto() {
	local dir=$1 try port persist
	persist=$STORES/$(basename "$dir")/persist
	mkdir -p "$persist"
	for ((try = 0; try < 10; try++)); do
		port=$((20000 + RANDOM % 40000))
		cat >"$dir/mosquitto.conf" <<-CONF
		# Written by $prog: mTLS with the bench PKI, persistence on.
		per_listener_settings false
		listener $port 127.0.0.1
		cafile $PKI/ca.crt
		certfile $PKI/hub.crt
		keyfile $PKI/hub.key
		tls_version tlsv1.3
		require_certificate true
		use_identity_as_username true
		allow_anonymous false
		persistence true
		persistence_location $persist/
		# Queue without limit, as the hub's store does: never drop.
		max_queued_messages 0
		# Small acks and deliveries must not wait for Nagle.
		set_tcp_nodelay true
		log_dest stderr
		log_type error
		log_type warning
		user $(id -un)
		CONF
		"$MOSQUITTO" -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
		MQ_PID=$!
		started "$MQ_PID"
		if MQ_PORT=$(wait_listen "$MQ_PID") && [ "$MQ_PORT" = "$port" ]; then
			return 0
		fi
		stop_pid "$MQ_PID"
	done
	cat "$dir/mosquitto.log" >&2
	die "mosquitto did not start listening"
}

# Run one tool (ceptoar or mosquitto) on one workload against process
# $pid at $port; sets LINE, DETAIL and the broker's CPU and memory.
run_tool() {
	local tool=$1 bin=$2 pid=$3 port=$4 dir=$5 p=$6 s=$7 m=$8 b=$9 w=${10}
	local c0 c1 rc=0 hz ticks deliveries
	hz=$(getconf CLK_TCK)
	quiet
	c0=$(cpu_ticks "$pid")
	timeout $((BENCH_TIMEOUT + 30)) "$bin" -a "127.0.0.1:$port" -k "$PKI" \
	    -P "$p" -S "$s" -M "$m" -B "$b" -W "$w" -t "$BENCH_TIMEOUT" \
	    >"$dir/$tool.out" 2>"$dir/$tool.err" || rc=$?
	c1=$(cpu_ticks "$pid" || echo "$c0")
	LINE=$(grep "^$tool P=" "$dir/$tool.out" | tail -n 1 || true)
	DETAIL=$(grep "^detail $tool" "$dir/$tool.err" | tail -n 1 || true)
	BROKER_HWM=$(vm_kib "$pid" VmHWM)
	BROKER_RSS=$(vm_kib "$pid" VmRSS)
	ticks=$((c1 - c0))
	deliveries=$(field "$LINE" deliveries)
	if [ -n "$deliveries" ] && [ "$deliveries" -gt 0 ]; then
		BROKER_CPU_US=$(awk -v t="$ticks" -v hz="$hz" -v d="$deliveries" \
		    'BEGIN { printf "%.2f", t / hz * 1e6 / d }')
	else
		BROKER_CPU_US=-
	fi
	BROKER_CPU_S=$(awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
	if [ -z "$LINE" ]; then
		LINE="$tool P=$p S=$s M=$m B=$b W=$w FAILED (exit $rc)"
		grep -v '^detail' "$dir/$tool.err" | tail -n 5 >&2 || true
	fi
	if [ "$rc" -ne 0 ] || [ "$(field "$LINE" missing)" != 0 ]; then
		echo "$prog: $tool failed on $p:$s:$m:$b:$w (exit $rc)" >&2
		grep -v '^detail' "$dir/$tool.err" | tail -n 5 >&2 || true
		failures=$((failures + 1))
	fi
}

# Print what one broker cost on one run.
say_broker() {
	say "  $1 cpu_s=$BROKER_CPU_S cpu_us_per_delivery=$BROKER_CPU_US" \
	    "peak_rss_kib=$BROKER_HWM rss_end_kib=$BROKER_RSS" \
	    "loadavg_after=$(cut -d' ' -f1 /proc/loadavg)${QUIET:+ $QUIET}"
	[ -z "$DETAIL" ] || say "  $DETAIL"
}

# One workload, both tools.
run_workload() {
	local spec=$1 n=$2 p s m b w dir hubrate mqrate hubline hubcpu ratio=-
	local mqcpu=- hubsub mqsub=-
	IFS=: read -r p s m b w <<<"$spec"
	dir=$WORK/w$n
	mkdir -p "$dir"
	say ""
	say "== workload $n: P=$p S=$s M=$m B=$b W=$w" \
	    "($((p * m)) messages, $((p * m * s)) deliveries)"
	start_hub "$p" "$s" "$dir"
	start_sampler "$HUB_WORK_PID" "$dir/hub-rss.txt"
	run_tool ceptoar "$CEPTOAR_BENCH" "$HUB_WORK_PID" "$HUB_PORT" "$dir" \
	    "$p" "$s" "$m" "$b" "$w"
	stop_pid "$SAMPLER"
	say "$LINE"
	say_broker hub
	if [ "$spec" = "$STEADY" ] || [ "$smoke" -eq 1 ]; then
		say "  hub rss_kib_samples(0.5s): $(awk '{ printf "%s ", $2 }' \
		    "$dir/hub-rss.txt" | sed 's/ $//')"
		say "  hub $(awk 'NR == 1 { f = $2 } { if ($2 > mx) mx = $2; l = $2 }
		    END { printf "rss_first_kib=%s rss_last_kib=%s rss_max_kib=%s samples=%d", f, l, mx, NR }' \
		    "$dir/hub-rss.txt")"
	fi
	hubrate=$(field "$LINE" deliv_per_s)
	hubline=$LINE
	hubcpu=$BROKER_CPU_US
	hubsub=$(field "$DETAIL" submit_per_s)
	stop_pid "$HUB_PID"
	if [ "$HAVE_MOSQUITTO" -eq 1 ]; then
		start_mosquitto "$dir"
		run_tool mosquitto "$MOSQUITTO_BENCH" "$MQ_PID" "$MQ_PORT" "$dir" \
		    "$p" "$s" "$m" "$b" "$w"
		say "$LINE"
		say_broker mosquitto
		mqrate=$(field "$LINE" deliv_per_s)
		mqcpu=$BROKER_CPU_US
		mqsub=$(field "$DETAIL" submit_per_s)
		stop_pid "$MQ_PID"
		if [ -n "$hubrate" ] && [ -n "$mqrate" ] && [ "$mqrate" != 0 ]; then
			ratio=$(awk -v a="$hubrate" -v b="$mqrate" \
			    'BEGIN { printf "%.2f", a / b }')
			say "ratio hub/mosquitto deliv_per_s=$ratio" \
			    "(workload $n: P=$p S=$s M=$m B=$b W=$w)"
		fi
	fi
	SUMMARY+=("$(printf '%-22s %9s %9s %6s %8s %8s %9s %9s %9s' \
	    "$p:$s:$m:$b:$w" "${hubrate:--}" "${mqrate:--}" "$ratio" \
	    "$hubcpu" "$mqcpu" "$(field "$hubline" e2e_p99_ms)" "${hubsub:--}" \
	    "$mqsub")")
}

# Repeat the first workload with perf recording the hub; print the top.
run_perf() {
	local spec=$1 p s m b w dir perfpid
	command -v perf >/dev/null || { echo "SKIP perf: perf is not installed"; return 0; }
	IFS=: read -r p s m b w <<<"$spec"
	dir=$WORK/perf
	mkdir -p "$dir"
	say ""
	say "== perf: hub during P=$p S=$s M=$m B=$b W=$w (timings distorted by perf)"
	start_hub "$p" "$s" "$dir"
	perf record -F 499 --call-graph dwarf,16384 -p "$HUB_WORK_PID" \
	    -o "$dir/perf.data" >"$dir/perf.log" 2>&1 &
	perfpid=$!
	started "$perfpid"
	sleep 1
	run_tool ceptoar "$CEPTOAR_BENCH" "$HUB_WORK_PID" "$HUB_PORT" "$dir" \
	    "$p" "$s" "$m" "$b" "$w"
	kill -INT "$perfpid" 2>/dev/null || true
	wait_gone "$perfpid" 30 || true
	stop_pid "$perfpid"
	stop_pid "$HUB_PID"
	say "$LINE"
	# Reports go to files first: head on a pipe would kill perf with
	# SIGPIPE, which pipefail turns into the script's exit.
	perf report -i "$dir/perf.data" --no-children --stdio --sort symbol \
	    -g none --percent-limit 0.5 >"$dir/self.txt" 2>/dev/null || true
	perf report -i "$dir/perf.data" --children --stdio --sort symbol \
	    -g none >"$dir/children.txt" 2>/dev/null || true
	perf report -i "$dir/perf.data" --no-children --stdio --sort dso \
	    -g none >"$dir/dso.txt" 2>/dev/null || true
	say "-- top 15 symbols, self time (perf report --no-children)"
	say_top "$dir/self.txt" '^ +[0-9]'
	say "-- the hub's own functions, inclusive (perf report --children)"
	say_top "$dir/children.txt" \
	    '^ +[0-9].* (submit|deliver|store|session|handle|route|log|tls|listener|frame|validate)_'
	say "-- top 15 by DSO"
	say_top "$dir/dso.txt" '^ +[0-9]'
}

# The first 15 lines of file $1 matching extended regex $2, said.
say_top() {
	local l
	{ grep -E "$2" "$1" || true; } | sed 's/ *- *- *$//' | awk 'NR <= 15' |
	    while IFS= read -r l; do say "$l"; done
}

# Hold N idle connections to a hub and report its memory per connection.
run_idle() {
	local n=$1 orgs=$2 dir=$WORK/idle want
	mkdir -p "$dir"
	want=$((n + 64))
	if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ]; then
		ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	fi
	say ""
	say "== idle: $n mTLS connections over $orgs subscriber certificates" \
	    "(fd limit $(ulimit -n))"
	start_hub 1 "$orgs" "$dir"
	quiet
	timeout $((BENCH_TIMEOUT + 60)) "$CEPTOAR_BENCH" -a "127.0.0.1:$HUB_PORT" \
	    -k "$PKI" -S "$orgs" --idle "$n" --hold 5 --hub-pid "$HUB_WORK_PID" \
	    -t "$BENCH_TIMEOUT" >"$dir/idle.out" 2>"$dir/idle.err" || {
		echo "$prog: idle run failed" >&2
		tail -n 5 "$dir/idle.err" >&2
		failures=$((failures + 1))
	}
	say "$(cat "$dir/idle.out")${QUIET:+ $QUIET}"
	# The hub sees the bench's connections close a moment after it exits.
	sleep 2
	say "  hub after close: rss_kib=$(vm_kib "$HUB_WORK_PID" VmRSS)" \
	    "peak_rss_kib=$(vm_kib "$HUB_WORK_PID" VmHWM)"
	stop_pid "$HUB_PID"
}

[ -x "$CEPTOARD" ] || die "no ceptoard at $CEPTOARD (set CEPTOARD)"
[ -x "$CEPTOAR_BENCH" ] || die "no ceptoar-bench at $CEPTOAR_BENCH (set CEPTOAR_BENCH)"
ensure_mosquitto
if [ "$idle" -gt 0 ] && [ "$idle_orgs" -eq 0 ]; then
	idle_orgs=$((idle < 1000 ? idle : 1000))
fi
read -r maxp maxs <<<"$(max_sizes)"
pki_ensure "$maxp" "$maxs"

rev=$(git -C "$CEPTOAR_SRCDIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$CEPTOAR_SRCDIR" status --porcelain -- daemon proto 2>/dev/null)" ]; then
	rev="$rev+uncommitted"
fi
say "# $prog $(date -u +%Y-%m-%dT%H:%M:%SZ) sources $rev, ceptoard built" \
    "$(date -u -r "$CEPTOARD" +%Y-%m-%dT%H:%M:%SZ);" \
    "$("$MOSQUITTO" -h 2>/dev/null | sed -n 's/^mosquitto version /mosquitto /p' | head -n 1)"
say "# stores in $STORES ($(df -PT "$STORES" | awk 'NR == 2 { print $2 }'))"
say "# on $(nproc) CPUs" \
    "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1))," \
    "$(awk '$1 == "MemTotal:" { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
n=0
if [ -n "$workloads" ]; then
	IFS=, read -r -a wl <<<"$workloads"
	for spec in "${wl[@]}"; do
		n=$((n + 1))
		run_workload "$spec" "$n"
	done
fi
if [ "${#SUMMARY[@]}" -gt 0 ]; then
	say ""
	say "== summary (deliveries/s; CPU in us per delivery; hub e2e p99 in ms;" \
	    "submits acknowledged/s)"
	say "$(printf '%-22s %9s %9s %6s %8s %8s %9s %9s %9s' P:S:M:B:W hub mosq \
	    ratio hub_cpu mosq_cpu e2e_p99 hub_sub mosq_sub)"
	for l in "${SUMMARY[@]}"; do
		say "$l"
	done
fi
if [ "$perf" -eq 1 ] && [ -n "$workloads" ]; then
	run_perf "${workloads%%,*}"
fi
if [ "$idle" -gt 0 ]; then
	run_idle "$idle" "$idle_orgs"
fi
if [ "$failures" -gt 0 ]; then
	say ""
	say "FAILED: $failures run(s) missed deliveries, timed out or failed"
	exit 1
fi
[ "$smoke" -eq 0 ] || say "ok: every delivery arrived, no timing asserted"
