#!/bin/sh
# Whether the ceptoard binary $1 holds the test hooks exactly when $2
# (the build's test_hooks option, true or false) says it should: a
# default build's ceptoard must have no fault injection (no store_fault_
# symbol, no CEPTOARD_FAULT string), and a -Dtest_hooks=true build's must
# have it, which shows that this check sees it when it is there.
set -eu
bin=$1
want=$2
[ -x "$bin" ] || { echo "check_hooks: no binary $bin" >&2; exit 1; }
command -v nm >/dev/null || { echo "check_hooks: nm missing (binutils)" >&2; exit 1; }

found=
if nm "$bin" 2>/dev/null | grep -q 'store_fault_'; then
	found="$found symbol store_fault_*"
fi
if grep -aq 'CEPTOARD_FAULT' "$bin"; then
	found="$found string CEPTOARD_FAULT"
fi
case $want in
true)
	[ -n "$found" ] || { echo "check_hooks: $bin was built with" \
	    "-Dtest_hooks=true but holds no fault injection" >&2; exit 1; }
	echo "ok: $bin holds the test hooks:$found"
	;;
false)
	[ -z "$found" ] || { echo "check_hooks: $bin is a default build" \
	    "yet holds test hooks:$found" >&2; exit 1; }
	echo "ok: $bin holds no test hooks"
	;;
*)
	echo "check_hooks: usage: check_hooks.sh BINARY true|false" >&2
	exit 64
	;;
esac
