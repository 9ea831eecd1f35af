#!/bin/sh
# The fuzz targets in CI: configure a clang build with libFuzzer and
# ASan+UBSan in BUILDDIR (default build-fuzz, under the source root),
# build it, replay the saved crashes and fuzz each target for
# $FUZZ_SECONDS (default 20) seconds, two targets at a time.
#
#   tests/fuzz/run-ci.sh [BUILDDIR]
#
# Without clang or libFuzzer the run is skipped (status 0, "SKIPPED"
# printed) unless FUZZ_REQUIRED=1, when it fails.  As root, a missing
# libFuzzer runtime is installed with apt-get first.  Prints one line
# per target (execs, exec/s, coverage, corpus growth) and the time taken;
# the status is meson test's: 0 when nothing was found.
set -u

cd "$(dirname "$0")/../.." || exit 2
build=${1:-build-fuzz}
: "${FUZZ_SECONDS:=20}"
export FUZZ_SECONDS
start=$(date +%s)

skip() {
	echo "run-ci: fuzz targets SKIPPED: $*"
	[ "${FUZZ_REQUIRED:-0}" = 1 ] && exit 1
	exit 0
}

# Whether clang links a libFuzzer target.
libfuzzer_ok() {
	d=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ return 0; }' >"$d/t.c"
	clang -fsanitize=fuzzer,address,undefined -o "$d/t" "$d/t.c" \
	    >/dev/null 2>&1
	rc=$?
	rm -rf "$d"
	return $rc
}

command -v clang >/dev/null 2>&1 || skip "clang is not installed"
if ! libfuzzer_ok; then
	major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 &&
	    [ -n "$major" ]; then
		echo "run-ci: installing libclang-rt-$major-dev for libFuzzer"
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    "libclang-rt-$major-dev" >/dev/null 2>&1
	fi
	libfuzzer_ok || skip "clang cannot link -fsanitize=fuzzer" \
	    "(install libclang-rt-N-dev for clang N)"
fi

# The libraries need coverage instrumentation (fuzzer-no-link) too, or
# libFuzzer only sees the targets' own few lines; see README.
set -- -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fsanitize=fuzzer-no-link \
    -Dc_link_args=-fsanitize=fuzzer-no-link
# A build directory made with another compiler cannot switch to clang.
if [ -f "$build/build.ninja" ] && ! grep -q \
    "^C compiler for the host machine: clang" \
    "$build/meson-logs/meson-log.txt" 2>/dev/null; then
	echo "run-ci: $build was not set up with clang; removing it"
	rm -rf "$build"
fi
log=$(mktemp) || exit 2
if [ -f "$build/build.ninja" ]; then
	CC=clang meson setup --reconfigure "$build" "$@"
else
	CC=clang meson setup "$build" "$@"
fi >"$log" 2>&1 || {
	cat "$log"
	rm -f "$log"
	echo "run-ci: meson setup failed"
	exit 1
}
grep -i "warning" "$log"
rm -f "$log"
if ! grep -q '"ceptoar:fuzz"' "$build/meson-info/intro-tests.json"; then
	echo "run-ci: no tests in suite 'fuzz': tests/meson.build needs" \
	    "subdir('fuzz')"
	exit 1
fi

built=$(date +%s)
if ! ninja -C "$build" >"$build/fuzz-build.log" 2>&1; then
	tail -n 40 "$build/fuzz-build.log"
	echo "run-ci: build failed (log: $build/fuzz-build.log)"
	exit 1
fi
tested=$(date +%s)

meson test -C "$build" --suite fuzz --num-processes 2 --print-errorlogs
rc=$?
end=$(date +%s)

echo
echo "run-ci: fuzz targets, $FUZZ_SECONDS s each:"
for f in "$build"/tests/fuzz/*.work/stats; do
	[ -f "$f" ] && sed 's/^/  /' "$f"
done
echo "run-ci: setup $((built - start)) s, build $((tested - built)) s," \
    "fuzz $((end - tested)) s, total $((end - start)) s; status $rc"
exit $rc
