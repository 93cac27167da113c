#!/usr/bin/env bash
# The units in systemd/ pass `systemd-analyze verify` with nothing on
# stderr (it exits 0 even for unknown or misplaced keys), including the
# man pages their Documentation= names; the service scores at most 2.0 in
# `systemd-analyze security --offline=yes`; the man pages in doc/ render
# without groff warnings; the sysusers.d and tmpfiles.d snippets apply.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- man pages: every page renders without a warning
for page in "$SRC"/doc/*.[1-8]; do
	sec=${page##*.}
	mkdir -p "$work/man/man$sec"
	cp "$page" "$work/man/man$sec/"
	command -v groff >/dev/null || continue
	err=$(groff -ww -man -z "$page" 2>&1) || fail "groff $page: $err"
	[ -z "$err" ] || fail "groff warns on $page: $err"
done
if command -v groff >/dev/null; then echo "ok: man pages render cleanly"; else echo "skip: no groff (apt-get install groff-base)"; fi
# verify looks the Documentation= pages up with man(1); without man-db it cannot.
man_opt=--man=yes
command -v man >/dev/null || { man_opt=--man=no; echo "skip: no man(1), Documentation= pages not looked up"; }

# --- verify, with the man pages of Documentation= looked up in doc/
mkdir "$work/units"
cp "$SRC"/systemd/feedd.service "$SRC"/systemd/*.socket "$work/units/"
# verify needs an ExecStart binary that exists on this machine.
sed -i 's#^ExecStart=/usr/bin/feedd#ExecStart=/bin/true#' "$work/units/feedd.service"
cd "$work/units"
err=$(MANPATH="$work/man" systemd-analyze verify $man_opt ./feedd.socket ./feedd-control.socket ./feedd.service 2>&1 >/dev/null) ||
	fail "systemd-analyze verify exited non-zero: $err"
[ -z "$err" ] || fail "systemd-analyze verify printed: $err"
echo "ok: verify printed nothing ($man_opt)"

# --- security exposure
out=$(systemd-analyze security --offline=yes ./feedd.service 2>&1)
score=$(echo "$out" | sed -n 's/.*Overall exposure level for feedd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score in: $out"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
echo "ok: exposure $score <= 2.0"

# --- every directive's comment is on its own line: no "value # comment"
if grep -nE '^[A-Za-z]+=.*[[:space:]]#' "$SRC"/systemd/feedd.service "$SRC"/systemd/*.socket; then
	fail "inline comment after a value (it becomes part of the value)"
fi
echo "ok: no inline comments"

# --- the socket units name their fds as the daemon expects, with the right modes
grep -qx 'FileDescriptorName=sub' "$SRC/systemd/feedd.socket" || fail "feedd.socket: FileDescriptorName=sub"
grep -qx 'SocketMode=0660' "$SRC/systemd/feedd.socket" || fail "feedd.socket: SocketMode=0660"
grep -qx 'SocketGroup=feedd-sub' "$SRC/systemd/feedd.socket" || fail "feedd.socket: SocketGroup=feedd-sub"
grep -qx 'FileDescriptorName=control' "$SRC/systemd/feedd-control.socket" || fail "feedd-control.socket: FileDescriptorName=control"
grep -qx 'SocketMode=0600' "$SRC/systemd/feedd-control.socket" || fail "feedd-control.socket: SocketMode=0600"
echo "ok: socket names and modes"

# --- sysusers.d and tmpfiles.d snippets apply to an empty root (needs root)
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$work/root/etc"
	systemd-sysusers --root="$work/root" "$SRC/systemd/feedd.sysusers" >/dev/null 2>&1 ||
		fail "systemd-sysusers refused the snippet"
	grep -q '^feedd-sub:' "$work/root/etc/group" || fail "sysusers did not create feedd-sub"
	systemd-tmpfiles --root="$work/root" --create "$SRC/systemd/feedd.tmpfiles" 2>&1 ||
		fail "systemd-tmpfiles refused the snippet"
	[ -d "$work/root/etc/feedd" ] || fail "tmpfiles did not create /etc/feedd"
	echo "ok: sysusers and tmpfiles snippets apply"
else
	echo "skip: sysusers/tmpfiles check needs root"
fi
