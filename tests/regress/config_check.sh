#!/usr/bin/env bash
# ceptoard -n accepts a good configuration, names file and line of a
# mistake, checks the listeners' addresses; -L lists the directory's
# organisations.
. "$(dirname "$0")/lib.sh"
pki_ensure
mkdir -p "$WORK/store"
cat >"$WORK/good.conf" <<CONF
listen: 127.0.0.1:0
tls_cert: $PKI/hub.crt
tls_key: $PKI/hub.key
tls_ca: $PKI/ca.crt
store_key: $PKI/store.key
directory: $DIRECTORY
store: $WORK/store/hub.db
CONF
out=$("$CEPTOARD" -n -f "$WORK/good.conf" 2>&1)
expect_contains "$out" "configuration OK" "good configuration"

sed 's/^listen:/lisen:/' "$WORK/good.conf" >"$WORK/bad.conf"
set +e
out=$("$CEPTOARD" -n -f "$WORK/bad.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "bad configuration exit status"
expect_contains "$out" "bad.conf:1:" "file and line"
expect_contains "$out" "unknown option \"lisen\"" "what is wrong"

cp "$PKI/hub.key" "$WORK/loose.key"
chmod 644 "$WORK/loose.key"
sed "s|^tls_key:.*|tls_key: $WORK/loose.key|" "$WORK/good.conf" >"$WORK/loose.conf"
set +e
out=$("$CEPTOARD" -n -f "$WORK/loose.conf" 2>&1)
rc=$?
set -e
expect_eq "$rc" 78 "a group- or world-readable key is refused"
expect_contains "$out" "readable by group or others" "says why"

# The listeners' addresses are checked too (taxii_listen, metrics_listen).
for opt in taxii_listen metrics_listen; do
	cp "$WORK/good.conf" "$WORK/addr.conf"
	echo "$opt: 127.0.0.1:notaport" >>"$WORK/addr.conf"
	set +e
	out=$("$CEPTOARD" -n -f "$WORK/addr.conf" 2>&1)
	rc=$?
	set -e
	expect_eq "$rc" 78 "a bad $opt address is refused by -n ($out)"
	expect_contains "$out" "$opt: listen \"127.0.0.1:notaport\"" \
	    "names the option and the address"
done
cp "$WORK/good.conf" "$WORK/addr.conf"
echo "taxii_listen: 127.0.0.1:0" >>"$WORK/addr.conf"
out=$("$CEPTOARD" -n -f "$WORK/addr.conf" 2>&1)
expect_contains "$out" "configuration OK" "a good taxii_listen passes -n"

out=$("$CEPTOARD" -L "$DIRECTORY")
expect_contains "$out" "fsa-liaison fsa-liaison liaison" "listing"
expect_eq "$(wc -l <<<"$out" | tr -d ' ')" 14 "one line per organisation"
pass "configuration check"
