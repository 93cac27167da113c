#!/usr/bin/env bash
# Boots feedd's units under a real systemd 252 in a container and checks
# what only a real systemd shows: the socket's owner and mode, a client
# outside the group refused, DynamicUser, the sandbox, reload, the watchdog
# killing a stopped daemon, socket activation.  See selftest.sh.
#
#   tests/nspawn/run.sh [BUILD_DIR]      (default: build/)
#   FEEDD_NSPAWN_DEB=../feedd_0.1.0_amd64.deb tests/nspawn/run.sh
#                                         (the Debian package instead)
#
# Needs root, systemd-nspawn (apt-get install systemd-container) and the
# prepared root (tests/nspawn/prepare.sh, once, needs the network).
# Without them it prints SKIP and exits 0 (77 with FEEDD_SKIP_CODE=77).
# About 20 s.  Copies the root to a temporary directory; the prepared root
# is never changed.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${1:-${BUILD:-$SRC/build}}
ROOT=${FEEDD_NSPAWN_ROOT:-/var/tmp/feedd-nspawn/root-feedd}
TIMEOUT=${FEEDD_NSPAWN_TIMEOUT:-150}
skip() { echo "SKIP: $*"; exit "${FEEDD_SKIP_CODE:-0}"; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "no systemd-nspawn (apt-get install systemd-container)"
[ -e "$ROOT/.feedd-prepared" ] || skip "no prepared root at $ROOT (run tests/nspawn/prepare.sh)"
if [ -z "${FEEDD_NSPAWN_DEB:-}" ]; then
	[ -x "$BUILD/feedd" ] || skip "no feedd in $BUILD (build first)"
	[ -x "$BUILD/feedctl" ] || skip "no feedctl in $BUILD"
	# A sanitizer build needs libasan, which the root lacks, and its shadow
	# memory does not fit the unit's sandbox (MemoryDenyWriteExecute, MemoryMax).
	if ldd "$BUILD/feedd" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		skip "$BUILD/feedd is a sanitizer build"
	fi
fi

work=$(mktemp -d /var/tmp/feedd-nspawn-run.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root="$work/root"
cp -a "$ROOT" "$root"

if [ -n "${FEEDD_NSPAWN_DEB:-}" ]; then
	# feedd as the Debian package installs it (its postinst enables the units).
	cp "$FEEDD_NSPAWN_DEB" "$root/tmp/feedd.deb"
	chroot "$root" dpkg -i /tmp/feedd.deb >"$work/dpkg.log" 2>&1 || {
		cat "$work/dpkg.log"; fail "dpkg -i $FEEDD_NSPAWN_DEB"; }
	for u in feedd.socket feedd-control.socket feedd.service; do
		[ "$(systemctl --root="$root" is-enabled "$u" 2>/dev/null)" = enabled ] ||
			fail "the package did not enable $u"
	done
else
	# feedd as `cmake --install --prefix /usr` puts it (units, snippets, man pages).
	DESTDIR="$root" cmake --install "$BUILD" --prefix /usr >/dev/null
fi
# A configuration with the offline sample feeds.
mkdir -p "$root/usr/share/feedd-test/feeds" "$root/etc/feedd"
cp "$SRC"/examples/feeds/* "$root/usr/share/feedd-test/feeds/"
{
	echo "allow_file = yes"
	echo "interval_floor = 1m"
	echo "interval = 5m"
	for f in "$SRC"/examples/feeds/*; do
		echo "[feed \"file:///usr/share/feedd-test/feeds/$(basename "$f")\"]"
	done
} >"$root/etc/feedd/feedd.conf"
# The watchdog test needs a short interval.
mkdir -p "$root/etc/systemd/system/feedd.service.d"
printf '[Service]\nWatchdogSec=3s\n' >"$root/etc/systemd/system/feedd.service.d/watchdog.conf"
# The self-test, enabled; the units enabled as the Debian package does.
install -D -m 0755 "$SRC/tests/nspawn/selftest.sh" "$root/usr/local/libexec/feedd-selftest"
install -m 0644 "$SRC/tests/nspawn/feedd-selftest.service" "$root/etc/systemd/system/"
systemctl --root="$root" enable feedd.socket feedd-control.socket feedd.service feedd-selftest.service >/dev/null 2>&1
# Nothing else that could hold the boot up.
systemctl --root="$root" mask systemd-networkd-wait-online.service >/dev/null 2>&1 || true
mkdir -p "$work/results"

start=$(date +%s)
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout -k 10 "$TIMEOUT" systemd-nspawn -q -D "$root" --boot \
	--register=no --keep-unit --private-network --capability=all \
	--system-call-filter='bpf @privileged' --bind="$work/results:/results" \
	>"$work/console.log" 2>&1 </dev/null || true
took=$(($(date +%s) - start))

res="$work/results/results.txt"
if [ ! -s "$res" ] || ! grep -qx DONE "$res"; then
	tail -40 "$work/console.log"
	[ -f "$res" ] && cat "$res"
	fail "the self-test did not finish within ${TIMEOUT}s"
fi
cat "$res"
if grep -q '^FAIL' "$res"; then
	fail "container self-test ($(grep -c '^FAIL' "$res") failed, ${took}s)"
fi
echo "PASS: container self-test, $(grep -c '^ok' "$res") checks, ${took}s"
