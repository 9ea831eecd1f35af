#!/usr/bin/env bash
#
# tls-matrix-pki.sh: the certificates of the TLS negative matrix, made
# around the regress PKI's own CA so that the hub's tls_ca stays the same.
#
#   tests/regress/tls-matrix-pki.sh OUTDIR [CADIR]
#
# CADIR (default: the folder OUTDIR is in) holds ca.crt and ca.key, the
# CA the hub trusts (lib.sh's pki_ensure makes it).  Under OUTDIR:
#
#   ca/openssl.cnf, index.txt, serial, crlnumber, newcerts/
#                          a throwaway "openssl ca" set-up for that CA.  It
#                          names no paths: run openssl ca from inside the
#                          folder, with -cert and -keyfile.  Copy the folder
#                          to revoke more without touching this one.
#   valid.crt, .key        CN=bank-a, issued now: accepted
#   expired.crt            CN=bank-a, valid 2020-01-01 to 2021-01-01
#   notyet.crt             CN=bank-a, valid from 2099-01-01
#   revoked.crt            CN=bank-a, revoked (keyCompromise) in crl.pem
#   serverauth.crt         CN=bank-a, extendedKeyUsage serverAuth only
#                          (and the hub's addresses as its names)
#   selfsigned.crt         CN=bank-a, signed by its own key
#   lookalike-ca.crt, .key a CA with the real CA's subject DN and subject
#                          key identifier but another key
#   lookalike.crt          CN=nisc, issued by the look-alike CA: the chain
#                          resolves to the real CA and the signature fails
#   crl.pem                the real CA's CRL, listing revoked.crt
#   lookalike-crl.pem      a CRL with the real CA's name, signed by the
#                          look-alike: the hub must refuse it as tls_crl
#   expired-crl.pem        the real CA's CRL, due 2020-02-01: refused too
#   sub-ca.crt, .key       an intermediate CA issued by the real CA
#   sub-hub.crt            a hub certificate (localhost, 127.0.0.1, ::1)
#                          issued by the intermediate; sub-hub-chain.crt
#                          is it followed by sub-ca.crt
#   sub-client.crt         CN=bank-a issued by the intermediate;
#                          sub-client-chain.crt is it followed by sub-ca.crt
#   bmp-cn.crt             CN is the BMPString U+6E69 U+7363, whose UTF-16
#                          bytes spell "nisc" (checked with asn1parse)
#   two-cn.crt             CN=nisc and CN=bank-a in one subject
#
# Each .crt has its .key beside it (mode 0600).  The result is made once:
# a lock on OUTDIR.lock keeps parallel scenarios from racing, and
# OUTDIR/.complete records the CA it was made for, so a new CA remakes
# it.  openssl is the only tool used.
set -euo pipefail

prog=${0##*/}
# Bump when what is generated changes, to remake cached copies.
version=4

die() {
	echo "$prog: $*" >&2
	exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $prog OUTDIR [CADIR]" >&2
	exit 2
fi
out=$1
cadir=${2:-$(dirname "$out")}
if [ ! -r "$cadir/ca.crt" ] || [ ! -r "$cadir/ca.key" ]; then
	die "no ca.crt and ca.key in $cadir (make the regress PKI first)"
fi
command -v openssl >/dev/null || die "openssl not found"
command -v flock >/dev/null || die "flock not found"
cadir=$(cd "$cadir" && pwd)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# What this copy is made for: the generator's version and the CA.
stamp="v$version $(openssl x509 -in "$cadir/ca.crt" -noout -fingerprint -sha256)"

# Issue NAME in folder $out from the real CA with "openssl ca": subject
# SUBJ, extension section EXT, then any extra openssl ca options.
ca_issue() {
	local name=$1 subj=$2 ext=$3
	shift 3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$out/$name.key" -subj "$subj" \
	    -config "$out/ca/openssl.cnf" -out "$out/ca/$name.csr" 2>>"$out/ca/log"
	(cd "$out/ca" && openssl ca -batch -config openssl.cnf \
	    -cert "$cadir/ca.crt" -keyfile "$cadir/ca.key" -extensions "$ext" \
	    -in "$name.csr" -out "$out/$name.crt" -notext "$@") >>"$out/ca/log" 2>&1 ||
	    { cat "$out/ca/log" >&2; die "issuing $name.crt failed"; }
}

# Issue NAME in folder $out from the CA whose certificate and key are
# $4 and $5 (not the real CA: "openssl x509 -req", no database):
# subject SUBJ, extension section EXT.
issue_by() {
	local name=$1 subj=$2 ext=$3 cacert=$4 cakey=$5
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$out/$name.key" -subj "$subj" \
	    -config "$out/ca/openssl.cnf" -out "$out/ca/$name.csr" 2>>"$out/ca/log"
	openssl x509 -req -in "$out/ca/$name.csr" -CA "$cacert" \
	    -CAkey "$cakey" -set_serial "0x7$(openssl rand -hex 15)" \
	    -days 30 -sha256 -extfile "$out/ca/openssl.cnf" -extensions "$ext" \
	    -out "$out/$name.crt" 2>>"$out/ca/log" ||
	    { cat "$out/ca/log" >&2; die "issuing $name.crt failed"; }
}

# Issue NAME from the real CA without its database ("openssl x509 -req",
# which keeps the subject's string types as the request has them):
# subject SUBJ, extension section EXT, request configuration REQCNF.
issue_raw() {
	local name=$1 subj=$2 ext=$3 reqcnf=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$out/$name.key" -utf8 -subj "$subj" \
	    -config "$reqcnf" -out "$out/ca/$name.csr" 2>>"$out/ca/log"
	openssl x509 -req -in "$out/ca/$name.csr" -CA "$cadir/ca.crt" \
	    -CAkey "$cadir/ca.key" -set_serial "0x7$(openssl rand -hex 15)" \
	    -days 30 -sha256 -extfile "$out/ca/openssl.cnf" -extensions "$ext" \
	    -out "$out/$name.crt" 2>>"$out/ca/log" ||
	    { cat "$out/ca/log" >&2; die "issuing $name.crt failed"; }
}

# Issue NAME from the intermediate CA (issue_by); NAME-chain.crt is the
# certificate followed by the intermediate's.
sub_issue() {
	issue_by "$1" "$2" "$3" "$out/sub-ca.crt" "$out/sub-ca.key"
	cat "$out/$1.crt" "$out/sub-ca.crt" >"$out/$1-chain.crt"
}

generate() {
	local ski
	rm -rf "$out"
	mkdir -p "$out/ca/newcerts"
	: >"$out/ca/index.txt"
	printf 'unique_subject = no\n' >"$out/ca/index.txt.attr"
	openssl rand -hex 16 | sed 's/^./7/' >"$out/ca/serial"
	echo 1000 >"$out/ca/crlnumber"
	# The real CA's subject key identifier, for the look-alike to copy.
	ski=$(openssl x509 -in "$cadir/ca.crt" -noout \
	    -ext subjectKeyIdentifier | sed -n 's/^ *\([0-9A-F:]*\)$/\1/p')
	[ -n "$ski" ] || die "$cadir/ca.crt has no subject key identifier"
	cat >"$out/ca/openssl.cnf" <<-EOF
	# Written by $prog: a throwaway CA set-up for the TLS matrix.
	# Relative paths: run openssl ca from this folder.
	[ca]
	default_ca = matrix_ca
	[matrix_ca]
	database = ./index.txt
	new_certs_dir = ./newcerts
	serial = ./serial
	crlnumber = ./crlnumber
	default_md = sha256
	default_days = 30
	default_crl_days = 3650
	policy = policy_any
	email_in_dn = no
	copy_extensions = none
	unique_subject = no
	[policy_any]
	organizationName = optional
	commonName = supplied
	[req]
	distinguished_name = req_dn
	prompt = no
	[req_dn]
	[client_ext]
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = clientAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	[serverauth_ext]
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = serverAuth
	subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	[selfsigned_ext]
	basicConstraints = critical, CA:FALSE
	keyUsage = critical, digitalSignature
	extendedKeyUsage = clientAuth
	subjectKeyIdentifier = hash
	[lookalike_ca_ext]
	basicConstraints = critical, CA:TRUE
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = $ski
	[crl_ext]
	authorityKeyIdentifier = keyid
	[subca_ext]
	basicConstraints = critical, CA:TRUE, pathlen:0
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid
	EOF
	umask 077
	: >"$out/ca/log"

	ca_issue valid "/O=bank-a/CN=bank-a" client_ext
	ca_issue expired "/O=bank-a/CN=bank-a" client_ext \
	    -startdate 20200101000000Z -enddate 20210101000000Z
	ca_issue notyet "/O=bank-a/CN=bank-a" client_ext \
	    -startdate 20990101000000Z -enddate 20991231000000Z
	ca_issue revoked "/O=bank-a/CN=bank-a" client_ext
	ca_issue serverauth "/O=bank-a/CN=bank-a" serverauth_ext
	(cd "$out/ca" && openssl ca -batch -config openssl.cnf \
	    -cert "$cadir/ca.crt" -keyfile "$cadir/ca.key" \
	    -revoke "$out/revoked.crt" -crl_reason keyCompromise) \
	    >>"$out/ca/log" 2>&1 || { cat "$out/ca/log" >&2; die "revoking failed"; }
	(cd "$out/ca" && openssl ca -batch -config openssl.cnf \
	    -cert "$cadir/ca.crt" -keyfile "$cadir/ca.key" -gencrl \
	    -crlexts crl_ext -out "$out/crl.pem") >>"$out/ca/log" 2>&1 ||
	    { cat "$out/ca/log" >&2; die "making crl.pem failed"; }
	(cd "$out/ca" && openssl ca -batch -config openssl.cnf \
	    -cert "$cadir/ca.crt" -keyfile "$cadir/ca.key" -gencrl \
	    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
	    -crlexts crl_ext -out "$out/expired-crl.pem") >>"$out/ca/log" 2>&1 ||
	    { cat "$out/ca/log" >&2; die "making expired-crl.pem failed"; }

	# Self-signed, with an organisation's CN.
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$out/selfsigned.key" -subj "/O=bank-a/CN=bank-a" \
	    -config "$out/ca/openssl.cnf" -extensions selfsigned_ext -days 30 \
	    -out "$out/selfsigned.crt" 2>>"$out/ca/log" ||
	    die "making selfsigned.crt failed"

	# The look-alike CA: the real CA's subject, byte for byte (taken from
	# its certificate), and its key identifier, with a key of its own.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
	    -out "$out/lookalike-ca.key" 2>>"$out/ca/log"
	openssl x509 -x509toreq -in "$cadir/ca.crt" \
	    -signkey "$out/lookalike-ca.key" -out "$out/ca/lookalike-ca.csr" \
	    2>>"$out/ca/log"
	openssl x509 -req -in "$out/ca/lookalike-ca.csr" \
	    -signkey "$out/lookalike-ca.key" -days 825 -sha256 \
	    -extfile "$out/ca/openssl.cnf" -extensions lookalike_ca_ext \
	    -out "$out/lookalike-ca.crt" 2>>"$out/ca/log" ||
	    { cat "$out/ca/log" >&2; die "making lookalike-ca.crt failed"; }
	issue_by lookalike "/O=nisc/CN=nisc" client_ext "$out/lookalike-ca.crt" \
	    "$out/lookalike-ca.key"
	# A CRL in the real CA's name, signed by the look-alike.
	mkdir -p "$out/ca/lookalike"
	cp "$out/ca/openssl.cnf" "$out/ca/lookalike/openssl.cnf"
	: >"$out/ca/lookalike/index.txt"
	echo 1000 >"$out/ca/lookalike/crlnumber"
	(cd "$out/ca/lookalike" && openssl ca -batch -config openssl.cnf \
	    -cert "$out/lookalike-ca.crt" -keyfile "$out/lookalike-ca.key" \
	    -gencrl -out "$out/lookalike-crl.pem") >>"$out/ca/log" 2>&1 ||
	    { cat "$out/ca/log" >&2; die "making lookalike-crl.pem failed"; }

	# An intermediate CA, and a hub and a client certificate it issued.
	ca_issue sub-ca "/O=CEPTOAR regress/CN=CEPTOAR regress intermediate CA" \
	    subca_ext
	sub_issue sub-hub "/O=CEPTOAR regress/CN=localhost" serverauth_ext
	sub_issue sub-client "/O=bank-a/CN=bank-a" client_ext

	# Names that are the same bytes as an organisation's but not the same
	# text.  string_mask 0x800 (B_ASN1_BMPSTRING) makes every string of
	# the subject a BMPString; -utf8 reads -subj as UTF-8.
	cat >"$out/ca/bmp.cnf" <<-EOF
	[req]
	distinguished_name = req_dn
	prompt = no
	string_mask = MASK:0x800
	[req_dn]
	EOF
	issue_raw bmp-cn "/O=nisc/CN=$(printf '\346\271\251\347\215\243')" \
	    client_ext "$out/ca/bmp.cnf"
	# The CN must be a BMPString of the four bytes "nisc" (1e 04 6e 69 73 63).
	openssl asn1parse -in "$out/bmp-cn.crt" | grep -A1 ':commonName' |
	    grep -q 'BMPSTRING' || die "bmp-cn.crt: the CN is not a BMPString"
	openssl x509 -in "$out/bmp-cn.crt" -outform DER | od -An -v -tx1 |
	    tr -d ' \n' | grep -q '0603550403''1e046e697363' ||
	    die "bmp-cn.crt: the CN's bytes are not \"nisc\""
	issue_raw two-cn "/O=nisc/CN=nisc/CN=bank-a" client_ext \
	    "$out/ca/openssl.cnf"
	[ "$(openssl asn1parse -in "$out/two-cn.crt" | grep -c ':commonName')" -ge 3 ] ||
	    die "two-cn.crt: no two CNs in its subject"

	chmod 0644 "$out"/*.crt "$out"/*.pem
	chmod 0600 "$out"/*.key
	chmod 0755 "$out" "$out/ca"
	printf '%s\n' "$stamp" >"$out/.complete"
}

(
	flock 9
	if [ ! -f "$out/.complete" ] || [ "$(cat "$out/.complete")" != "$stamp" ]; then
		generate
		echo "$prog: TLS matrix certificates in $out"
	fi
) 9>"$out.lock"
