#!/usr/bin/env bash
#
# dev-pki.sh: a development PKI for the CEPTOAR hub, made from the
# directory so that every organisation in it can connect.
#
#   config/dev-pki.sh [-f] [--other-ca] OUTDIR DIRECTORY.yaml CEPTOARD
#
# It asks the hub for the organisations ("CEPTOARD -L DIRECTORY.yaml"
# prints "<id> <certificate CN> <roles>" per line), then creates:
#
#   OUTDIR/ca.crt, ca.key             the development CA (EC P-256)
#   OUTDIR/hub.crt, hub.key           the hub (serverAuth; localhost,
#                                     127.0.0.1 and ::1)
#   OUTDIR/orgs/<id>.crt, <id>.key    one client certificate per
#                                     organisation: CN=<certificate CN>,
#                                     O=<id>, clientAuth
#   OUTDIR/clients/<id>.conf          a ceptoar client configuration
#   OUTDIR/anon.key                   32 random bytes keying the hub's
#                                     report pseudonyms (anon_key)
#   OUTDIR/store.key                  32 random bytes sealing the hub's
#                                     stored message bodies (store_key)
#
# and with --other-ca, for tests of "certificate from another CA":
#
#   OUTDIR/other-ca/ca.crt, ca.key    an unrelated CA
#   OUTDIR/other-ca/intruder.crt, .key  CN=nisc, issued by that CA
#   OUTDIR/other-ca/intruder.conf     a client configuration using it
#
# Files that exist are kept, so running it again only adds what is
# missing (a new organisation, say); -f recreates everything.  A
# certificate whose CN no longer matches the directory is reissued, and
# a new CA means new certificates for everyone.  The store key is only
# ever replaced by -f: a store sealed under the old one no longer opens
# without it (see store_old_keys in ceptoard.conf).
#
# Environment: HUB_ADDR (default 127.0.0.1:7443) goes into the client
# configurations; DAYS (default 825) is the validity; HUB_SAN adds
# subjectAltName entries to the hub certificate ("DNS:hub.example,
# IP:192.0.2.1").
#
# This is for development and tests only: the CA key sits next to the
# certificates it signs.
set -euo pipefail

prog=${0##*/}
days=${DAYS:-825}
hub_addr=${HUB_ADDR:-127.0.0.1:7443}
hub_san="DNS:localhost,IP:127.0.0.1,IP:::1${HUB_SAN:+,$HUB_SAN}"
force=0
other_ca=0

usage() {
	echo "usage: $prog [-f] [--other-ca] OUTDIR DIRECTORY.yaml CEPTOARD" >&2
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	-f) force=1 ;;
	--other-ca) other_ca=1 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "$prog: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 3 ] || usage
# -f as given: a new CA sets force below, which must not reach the store key.
force_given=$force
outdir=$1
directory=$2
ceptoard=$3

case $days in
'' | *[!0-9]*) die "DAYS must be a number of days, not '$days'" ;;
esac
command -v openssl >/dev/null || die "openssl not found"
[ -r "$directory" ] || die "cannot read directory $directory"

# Private keys are created under this umask; certificates are chmod'ed.
umask 077
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
chmod 0755 "$outdir"

# The organisations, before anything is written: a bad directory stops
# here with the hub's own "file:line: what".
orgs=$("$ceptoard" -L "$directory") || die "$ceptoard -L $directory failed"
[ -n "$orgs" ] || die "$directory lists no organisations"

work=$(mktemp -d "$outdir/.dev-pki.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/openssl.cnf" <<EOF
# Written by $prog for this run only.
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${hub_san//,/, }
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# Escape a value for openssl's -subj syntax, where / + = , and \ are
# special.
subj_escape() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\//\\/}
	s=${s//+/\\+}
	s=${s//=/\\=}
	s=${s//,/\\,}
	printf '%s' "$s"
}

# A random positive 128-bit serial, as CAs are expected to use.
serial() {
	printf '0x7%s' "$(openssl rand -hex 15)"
}

# The subject CN of a certificate, unescaped, or nothing.
cert_cn() {
	openssl x509 -in "$1" -noout -subject -nameopt utf8,sep_multiline,sname \
	    2>/dev/null | sed -n 's/^ *CN=//p'
}

# Whether NAME.crt and NAME.key exist under DIR and may be kept.
have() {
	[ "$force" -eq 0 ] && [ -s "$1/$2.crt" ] && [ -s "$1/$2.key" ]
}

# Make a self-signed CA in DIR (ca.crt, ca.key) with subject CN.
make_ca() {
	local dir=$1 cn=$2
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$work/ca.key" -out "$work/ca.crt" \
	    -config "$work/openssl.cnf" -extensions ca_ext -sha256 \
	    -days "$days" -set_serial "$(serial)" \
	    -subj "/O=CEPTOAR development/CN=$(subj_escape "$cn")" 2>"$work/err" ||
	    { cat "$work/err" >&2; die "creating CA $dir/ca.crt failed"; }
	chmod 0644 "$work/ca.crt"
	mv "$work/ca.key" "$dir/ca.key"
	mv "$work/ca.crt" "$dir/ca.crt"
}

# Issue DIR/NAME.crt and NAME.key from CA directory CADIR: subject
# SUBJ, extensions section EXT.
issue() {
	local cadir=$1 dir=$2 name=$3 subj=$4 ext=$5
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$work/$name.key" -config "$work/openssl.cnf" \
	    -subj "$subj" 2>"$work/err" |
	openssl x509 -req -CA "$cadir/ca.crt" -CAkey "$cadir/ca.key" \
	    -set_serial "$(serial)" -days "$days" -sha256 \
	    -extfile "$work/openssl.cnf" -extensions "$ext" \
	    -out "$work/$name.crt" 2>>"$work/err" ||
	    { cat "$work/err" >&2; die "issuing $dir/$name.crt failed"; }
	chmod 0644 "$work/$name.crt"
	mv "$work/$name.key" "$dir/$name.key"
	mv "$work/$name.crt" "$dir/$name.crt"
}

# Write a client configuration to FILE unless it is there to keep.
client_conf() {
	local file=$1 comment=$2 ca=$3 cert=$4 key=$5
	if [ "$force" -eq 0 ] && [ -s "$file" ]; then
		return 1
	fi
	cat >"$work/conf" <<EOF
# ceptoar client configuration for $comment (development PKI)
hub: $hub_addr
ca: $ca
cert: $cert
key: $key
EOF
	chmod 0644 "$work/conf"
	mv "$work/conf" "$file"
}

ca_state=kept
if ! have "$outdir" ca; then
	make_ca "$outdir" "CEPTOAR hub development CA"
	ca_state=created
fi
# Everything below is issued by the CA: a new CA reissues it all.
[ "$ca_state" = created ] && force=1

hub_state=kept
if ! have "$outdir" hub; then
	issue "$outdir" "$outdir" hub "/O=CEPTOAR development/CN=localhost" \
	    server_ext
	hub_state=created
fi

mkdir -p "$outdir/orgs" "$outdir/clients"
chmod 0755 "$outdir/orgs" "$outdir/clients"
n=0 created=0 kept=0 reissued=0 confs=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	# "<id> <cn> <roles>": the CN may contain spaces, id and roles not.
	id=${line%% *}
	rest=${line#* }
	roles=${rest##* }
	cn=${rest% *}
	case $id in
	'' | -* | *[!a-z0-9-]*) die "bad organisation id '$id' from $ceptoard -L" ;;
	esac
	if [ "$rest" = "$line" ] || [ "$cn" = "$rest" ] || [ -z "$cn" ] ||
	    [ -z "$roles" ]; then
		die "cannot parse '$line' from $ceptoard -L"
	fi
	n=$((n + 1))
	if have "$outdir/orgs" "$id"; then
		if [ "$(cert_cn "$outdir/orgs/$id.crt")" = "$cn" ]; then
			kept=$((kept + 1))
		else
			issue "$outdir" "$outdir/orgs" "$id" \
			    "/O=$id/CN=$(subj_escape "$cn")" client_ext
			reissued=$((reissued + 1))
		fi
	else
		issue "$outdir" "$outdir/orgs" "$id" \
		    "/O=$id/CN=$(subj_escape "$cn")" client_ext
		created=$((created + 1))
	fi
	if client_conf "$outdir/clients/$id.conf" "$id" "$outdir/ca.crt" \
	    "$outdir/orgs/$id.crt" "$outdir/orgs/$id.key"; then
		confs=$((confs + 1))
	fi
done <<<"$orgs"
[ "$n" -gt 0 ] || die "$directory lists no organisations"

# The pseudonym key: kept like the CA, since a new one renames every chain.
if [ "$force" -eq 1 ] || [ ! -s "$outdir/anon.key" ]; then
	head -c 32 /dev/urandom >"$outdir/anon.key"
	chmod 0600 "$outdir/anon.key"
fi

# The store key: kept even with a new CA, since stores sealed under it
# would no longer open; only -f replaces it.
store_state=kept
if [ "$force_given" -eq 1 ] || [ ! -s "$outdir/store.key" ]; then
	head -c 32 /dev/urandom >"$work/store.key"
	chmod 0600 "$work/store.key"
	mv "$work/store.key" "$outdir/store.key"
	store_state=created
fi

other_state=
if [ "$other_ca" -eq 1 ]; then
	other=$outdir/other-ca
	mkdir -p "$other"
	chmod 0755 "$other"
	other_state="kept"
	if ! have "$other" ca; then
		make_ca "$other" "Another CA"
		other_state="created"
		force=1
	fi
	if ! have "$other" intruder; then
		issue "$other" "$other" intruder "/O=nisc/CN=nisc" client_ext
		other_state="created"
	fi
	client_conf "$other/intruder.conf" "an intruder posing as nisc" \
	    "$outdir/ca.crt" "$other/intruder.crt" "$other/intruder.key" || true
fi

echo "$prog: development PKI in $outdir (valid $days days)"
echo "  CA       ca.crt ($ca_state)"
echo "  hub      hub.crt ($hub_state), CN=localhost, $hub_san"
echo "  orgs     $n organisations: $created created, $reissued reissued, $kept kept"
echo "  clients  clients/<id>.conf for hub $hub_addr ($confs written)"
echo "  store    store.key ($store_state), for store_key"
if [ -n "$other_state" ]; then
	echo "  other-ca other-ca/ca.crt and intruder.crt, CN=nisc ($other_state)"
fi
