#!/usr/bin/env bash
# The man pages keep up with the code: every key of the documented sample
# config is in feedd.conf(5), every command `feedd --help` and
# `feedctl --help` list is in feedd(8) / feedctl(1), every control op of
# daemon/control.h and every subscriber error code of DESIGN's protocol
# (as notify.h lists them) is in feedd-protocol(7).
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$SRC/build}
FEEDD=${FEEDD:-$BUILD/feedd}
fail=0
# A name appears in a page: roff escapes "-" as "\-".
in_page() { sed "s/\\\\-/-/g" "$2" | grep -w -- "$1" >/dev/null; }
need() { in_page "$1" "$2" || { echo "FAIL: $(basename "$2") does not mention $1 ($3)"; fail=1; }; }

for k in $(grep -oE '^# ([a-z_]+) = ' "$SRC/examples/feedd.conf" | awk '{print $2}' | sort -u); do
	need "$k" "$SRC/doc/feedd.conf.5" "a key of examples/feedd.conf"
done
for c in $("$FEEDD" --help | awk '$1 == "feedd" && $2 ~ /^[a-z]/ {print $2}' | tr -d '[]'); do
	need "$c" "$SRC/doc/feedd.8" "feedd --help"
done
if [ -x "$BUILD/feedctl" ]; then
	for c in $("$BUILD/feedctl" --help | awk '$1 == "feedctl" {print $2}'); do
		need "$c" "$SRC/doc/feedctl.1" "feedctl --help"
	done
fi
for op in $(grep -oE '\{"op":"[a-z-]+"' "$SRC/daemon/control.h" | cut -d'"' -f4 | sort -u); do
	need "$op" "$SRC/doc/feedd-protocol.7" "an op of daemon/control.h"
done
for code in bad_request line_too_long too_many_clients epoch_mismatch cursor_expired cursor_ahead \
	unknown_op invalid exists not_found; do
	need "$code" "$SRC/doc/feedd-protocol.7" "an error code"
done
[ $fail = 0 ] && echo "ok: man pages mention every key, command, op and error code"
exit $fail
