#!/usr/bin/env bash
# The units in systemd/ pass `systemd-analyze verify` with nothing on
# stderr (it exits 0 even for unknown or misplaced keys), and the service
# scores at most 2.0 in `systemd-analyze security --offline=yes`.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$SRC"/systemd/feedd.service "$SRC"/systemd/*.socket "$work"/
# verify needs an ExecStart binary that exists on this machine.
sed -i 's#^ExecStart=/usr/bin/feedd#ExecStart=/bin/true#' "$work/feedd.service"
cd "$work"
err=$(systemd-analyze verify --man=no ./feedd.socket ./feedd-control.socket ./feedd.service 2>&1 >/dev/null) || {
	echo "FAIL: systemd-analyze verify exited non-zero: $err"; exit 1; }
if [ -n "$err" ]; then
	echo "FAIL: systemd-analyze verify printed:"; echo "$err"; exit 1
fi
echo "ok: verify printed nothing"
out=$(systemd-analyze security --offline=yes ./feedd.service 2>&1)
score=$(echo "$out" | sed -n 's/.*Overall exposure level for feedd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "FAIL: no exposure score in: $out"; exit 1; }
echo "exposure: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "FAIL: exposure $score > 2.0"; exit 1; }
# Every directive's comment is on its own line: no "value # comment".
if grep -nE '^[A-Za-z]+=.*[[:space:]]#' "$SRC"/systemd/feedd.service "$SRC"/systemd/*.socket; then
	echo "FAIL: inline comment after a value (it becomes part of the value)"; exit 1
fi
echo "ok: exposure $score <= 2.0"
