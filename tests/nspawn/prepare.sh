#!/usr/bin/env bash
# Prepares the Debian 12 root the container test boots: a debootstrapped
# minbase with systemd plus feedd's runtime libraries.  Needs root and the
# network (deb.debian.org) once; ~40 s.  Idempotent.
#
#   tests/nspawn/prepare.sh [ROOT]     default /var/tmp/feedd-nspawn/root-feedd
#
# When /var/tmp/feedd-nspawn/root (a plain minbase with systemd) exists it
# is copied instead of debootstrapping again.
set -euo pipefail
ROOT=${1:-${FEEDD_NSPAWN_ROOT:-/var/tmp/feedd-nspawn/root-feedd}}
BASE=${FEEDD_NSPAWN_BASE:-/var/tmp/feedd-nspawn/root}
MIRROR=${FEEDD_MIRROR:-http://deb.debian.org/debian}
LIBS="libcurl4 libexpat1 libevent-2.1-7 libsqlite3-0"
[ "$(id -u)" = 0 ] || { echo "prepare.sh: needs root" >&2; exit 1; }
if [ -e "$ROOT/.feedd-prepared" ]; then
	echo "prepare.sh: $ROOT is ready"
	exit 0
fi
rm -rf "$ROOT.tmp"
if [ -x "$BASE/lib/systemd/systemd" ]; then
	cp -a "$BASE" "$ROOT.tmp"
	cp /etc/resolv.conf "$ROOT.tmp/etc/resolv.conf"
	chroot "$ROOT.tmp" apt-get install -y --no-install-recommends $LIBS
	chroot "$ROOT.tmp" apt-get clean
else
	command -v debootstrap >/dev/null || { echo "prepare.sh: apt-get install debootstrap" >&2; exit 1; }
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,iproute2,socat,procps,${LIBS// /,} \
		bookworm "$ROOT.tmp" "$MIRROR"
fi
# minbase has no /etc/hosts: getaddrinfo("localhost") would fail.
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' >"$ROOT.tmp/etc/hosts"
echo feedd-test >"$ROOT.tmp/etc/hostname"
touch "$ROOT.tmp/.feedd-prepared"
mv "$ROOT.tmp" "$ROOT"
echo "prepare.sh: $ROOT is ready"
