#!/bin/sh
# Install what is missing, build, and then either run the hub on its
# development defaults or run the whole test suite.  The README's Quick
# start is these two calls, on a fresh Debian 12 machine as root:
#
#   sh config/bootstrap.sh run     build, make the dev PKI, run the hub
#   sh config/bootstrap.sh test    build and run every test
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
packages="gcc pkg-config meson ninja-build protobuf-c-compiler
    libprotobuf-c-dev libevent-dev libssl-dev libsodium-dev libsqlite3-dev
    libjansson-dev libyaml-dev libseccomp-dev openssl python3 mandoc util-linux
    sqlite3 mosquitto libmosquitto-dev python3-jsonschema python3-yaml python3-requests
    libunistring-dev"
# Only for the tests: real PostgreSQL servers on loopback (tests/pg/).
test_packages="postgresql-15 libpq-dev"

# Install the Debian packages that are not installed yet: $packages and
# those given as arguments.
install_missing() {
	missing=
	for p in $packages "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "bootstrap: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "bootstrap: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q </dev/null >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing </dev/null >/dev/null
}

# Configure once, then build; $1 is the test_hooks option: true for the
# test command (fault injection for the tests that need it), false for
# the hub that runs, which must not hold test hooks.  Switching between
# the two rebuilds what the option changes.
build_all() {
	if [ ! -f "$build/build.ninja" ]; then
		meson setup -Dtest_hooks="$1" "$build" "$top" >/dev/null
	else
		meson configure -Dtest_hooks="$1" "$build" >/dev/null
	fi
	meson compile -C "$build" >/dev/null
}

case "${1:-}" in
run)
	install_missing
	build_all false
	"$top/config/dev-pki.sh" "$top/dev-pki" "$top/config/directory.yaml" \
	    "$build/daemon/ceptoard"
	mkdir -p "$top/var"
	chmod 700 "$top/var"
	echo "bootstrap: client configurations are in $top/dev-pki/clients/"
	exec "$build/daemon/ceptoard" -d -f "$top/config/ceptoard.conf"
	;;
test)
	# shellcheck disable=SC2086
	install_missing $test_packages
	build_all true
	exec meson test -C "$build" --print-errorlogs --num-processes 2
	;;
*)
	echo "usage: sh config/bootstrap.sh run | test" >&2
	exit 64
	;;
esac
