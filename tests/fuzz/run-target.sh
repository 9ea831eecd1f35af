#!/bin/sh
# Run one fuzz target for a bounded time; meson test calls this (suite
# 'fuzz') for every target in tests/fuzz/meson.build.
#
#   run-target.sh EXE NAME SRCDIR WORKDIR [DICT]
#
# 1. Every input saved under SRCDIR/crashes/NAME/ is replayed once: a bug
#    that was found and fixed must stay fixed.
# 2. The target fuzzes for $FUZZ_SECONDS (default 20) from a fresh copy
#    of SRCDIR/corpus/NAME/ in WORKDIR/corpus, so the source tree is never
#    written; a crash lands in WORKDIR/artifacts/.
# One summary line goes to stdout and to WORKDIR/stats; the exit status
# is 0 when nothing was found, 1 when something was (meson reads 77,
# libFuzzer's own crash status, as "skipped").
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 EXE NAME SRCDIR WORKDIR [DICT]" >&2
	exit 2
fi
exe=$1 name=$2 src=$3 work=$4 dict=${5:-}
secs=${FUZZ_SECONDS:-20}

# Leaks are bugs too (libFuzzer checks them); UBSan must stop, not warn.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 2
cp "$src/corpus/$name"/* "$work/corpus/" || exit 2

set -- -timeout=5 -rss_limit_mb=1024
if [ -n "$dict" ]; then
	set -- "$@" -dict="$dict"
fi

# 1. The saved crashes, each run once.
if [ -d "$src/crashes/$name" ] &&
    [ -n "$(ls -A "$src/crashes/$name" 2>/dev/null)" ]; then
	if ! "$exe" "$@" "$src/crashes/$name"/* >"$work/regress.log" 2>&1; then
		echo "$name: a saved crash in tests/fuzz/crashes/$name fails" \
		    "again:" >&2
		tail -n 60 "$work/regress.log" >&2
		echo "$name: REGRESSION (see $work/regress.log)" |
		    tee "$work/stats"
		exit 1
	fi
fi

# 2. Fuzz from the seed corpus.
"$exe" "$@" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
# libFuzzer exits 77 on a crash by default, which meson reads as "skipped".
[ $rc -ne 0 ] && rc=1

stat() {
	sed -n "s/^stat::$1: *//p" "$work/fuzz.log" | tail -n 1
}
seeds=$(ls "$src/corpus/$name" | wc -l)
units=$(ls "$work/corpus" | wc -l)
cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -n 1 | cut -d' ' -f2)
line="$name: execs=$(stat number_of_executed_units) exec/s=$(stat average_exec_per_sec) seconds=$secs cov=${cov:-?} corpus=$seeds->$units peak_rss_mb=$(stat peak_rss_mb)"
if [ $rc -ne 0 ]; then
	line="$line FAILED"
	echo "$name: the fuzzer stopped with status $rc:" >&2
	grep -E '^(==[0-9]+==|SUMMARY|    #[0-9]+ |.*fuzz invariant|.*Test unit written)' \
	    "$work/fuzz.log" | head -n 60 >&2
	ls "$work/artifacts" >&2
fi
echo "$line" | tee "$work/stats"
exit $rc
