#!/usr/bin/env bash
# Builds the Debian package from a copy of the tree (dpkg-buildpackage -us
# -uc -b, the suite itself is not rerun inside: nocheck) and checks what it
# installs: binaries, units (enabled and started by postinst), the
# sysusers/tmpfiles snippets (applied by postinst, the group before the
# sockets start), man pages and the configuration as a conffile.
# Prints SKIP and exits 0 without dpkg-buildpackage/debhelper.
# Keep the .deb: FEEDD_DEB_OUT=DIR copies it there.  About 45 s.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "FAIL: $*"; exit 1; }
for tool in dpkg-buildpackage dh dpkg-deb; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install debhelper dpkg-dev)"; exit 0; }
done
# The package is built from the sources, not from $BUILD: once per suite is
# enough, so the sanitizer pass of CI skips it.
if grep -q '^FEEDD_SANITIZE:BOOL=ON' "${BUILD:-/nonexistent}/CMakeCache.txt" 2>/dev/null; then
	echo "SKIP: sanitizer build (the package is built from the sources in the plain pass)"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
tar -C "$SRC" --exclude='./build*' --exclude='./obj-*' --exclude=./.git --exclude=./bench/out \
	--exclude='./debian/feedd' --exclude='./debian/.debhelper' -cf - . | tar -C "$work/src" -xf -
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	timeout 300 dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log"; fail "dpkg-buildpackage failed"; }
deb=$(ls "$work"/feedd_*.deb)
echo "ok: built $(basename "$deb")"
[ -z "${FEEDD_DEB_OUT:-}" ] || cp "$deb" "$FEEDD_DEB_OUT/"

files=$(dpkg-deb -c "$deb" | awk '{print $6}')
want=(./usr/bin/feedd ./lib/systemd/system/feedd.service ./lib/systemd/system/feedd.socket
	./lib/systemd/system/feedd-control.socket ./usr/lib/sysusers.d/feedd.conf
	./usr/lib/tmpfiles.d/feedd.conf ./etc/feedd/feedd.conf
	./usr/share/man/man8/feedd.8.gz ./usr/share/man/man5/feedd.conf.5.gz
	./usr/share/man/man1/feedctl.1.gz ./usr/share/man/man7/feedd-protocol.7.gz)
# feedctl is packaged once the tree builds it.
if ls "$SRC"/daemon/feedctl*.c >/dev/null 2>&1; then want+=(./usr/bin/feedctl); fi
for f in "${want[@]}"; do
	grep -qx -- "$f" <<<"$files" || fail "package lacks $f"
done
echo "ok: package holds binaries, units, snippets, man pages, config"

dpkg-deb -e "$deb" "$work/ctl"
grep -qx /etc/feedd/feedd.conf "$work/ctl/conffiles" || fail "/etc/feedd/feedd.conf is not a conffile"
grep -q 'ExecStart=/usr/bin/feedd$' <(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/feedd.service) ||
	fail "the packaged service does not run /usr/bin/feedd"
post="$work/ctl/postinst"
for u in feedd.socket feedd-control.socket feedd.service; do
	grep -q "deb-systemd-helper enable '$u'" "$post" || fail "postinst does not enable $u"
done
sysusers=$(grep -n 'systemd-sysusers' "$post" | head -1 | cut -d: -f1)
start=$(grep -n 'deb-systemd-invoke' "$post" | head -1 | cut -d: -f1)
[ -n "$sysusers" ] || fail "postinst does not run systemd-sysusers"
[ -n "$start" ] && [ "$sysusers" -lt "$start" ] || fail "postinst starts the sockets before the group feedd-sub exists"
grep -q 'systemd-tmpfiles' "$post" || fail "postinst does not run systemd-tmpfiles"
echo "ok: postinst creates the group, then enables and starts the units"
grep -q 'rm -rf /var/lib/private/feedd' "$work/ctl/postrm" || fail "postrm does not remove the database on purge"
grep -q "deb-systemd-helper purge" "$work/ctl/postrm" || fail "postrm does not purge the units' state"
echo "ok: purge removes the database and the units' state"
