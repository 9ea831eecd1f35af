#!/usr/bin/env bash
#
# make-directory.sh: the bench directory for P publishers and S
# subscribers, on stdout.
#
#   tests/bench/make-directory.sh P S > directory.yaml
#
# pub-1..pub-P hold role nisc, so each may send advisories.  One sector,
# "bench", has no liaison (a sector needs a ministry, not a liaison) and
# one CEPTOAR, whose members are sub-1..sub-S.  sub-1 also runs the
# CEPTOAR's secretariat (roles operator and ceptoar): the hub names it
# once, as secretariat, and as a member it is the same organisation.
#
# So an advisory for sector "bench" reaches exactly the S subscribers:
# routing adds the sector's liaisons (none), the secretariat of each of
# its CEPTOARs (sub-1) and their members (sub-1..sub-S, sub-1 already
# there), and never the sender.
set -euo pipefail

usage() {
	echo "usage: ${0##*/} P S" >&2
	exit 2
}

[ $# -eq 2 ] || usage
case "$1$2" in
'' | *[!0-9]*) usage ;;
esac
P=$1
S=$2
[ "$P" -ge 1 ] && [ "$S" -ge 1 ] || usage

cat <<YAML
# Bench directory: $P NISC-role publishers, $S subscribers in one
# CEPTOAR.  Written by tests/bench/make-directory.sh $P $S; an advisory
# for sector "bench" reaches exactly the $S subscribers.
version: 1
ministries:
  - { id: bench-ministry, name: Bench ministry }
sectors:
  - { id: bench, name: Bench sector, ministry: bench-ministry }
ceptoars:
  - { id: bench-ceptoar, name: Bench CEPTOAR, sector: bench, secretariat: sub-1 }
organisations:
YAML
for ((i = 1; i <= P; i++)); do
	echo "  - { id: pub-$i, name: Bench publisher $i, roles: [nisc] }"
done
echo "  - { id: sub-1, name: Bench subscriber 1, roles: [operator, ceptoar], sectors: [bench], ceptoars: [bench-ceptoar] }"
for ((i = 2; i <= S; i++)); do
	echo "  - { id: sub-$i, name: Bench subscriber $i, roles: [operator], sectors: [bench], ceptoars: [bench-ceptoar] }"
done
