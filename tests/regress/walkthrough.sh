#!/usr/bin/env bash
# The README's walkthrough, run step by step as a new user would, on the
# sample directory and the sample configuration's anonymisation settings:
# every command it shows prints what it shows (tests/regress/walkthrough.py).
DIRECTORY=${CEPTOAR_SRCDIR:?}/config/directory.yaml
PKI=${CEPTOAR_BUILDDIR:?}/walkthrough-pki
. "$(dirname "$0")/lib.sh"
start_hub "anon_time_granularity: 3600
anon_k: 5"

# The top of the tree as the README sees it.
run=$WORK/top
mkdir -p "$run/build/client" "$run/dev-pki"
ln -s "$CEPTOAR" "$run/build/client/ceptoar"
ln -s "$WORK/clients" "$run/dev-pki/clients"
ln -s "$CEPTOAR_SRCDIR/config" "$run/config"
python3 "$REGRESS_DIR/walkthrough.py" "$CEPTOAR_SRCDIR/README.md" "$run" ||
    fail "the README's walkthrough does not run as it shows"
pass "the README's walkthrough"
