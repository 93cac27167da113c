#!/usr/bin/env bash
# The container test (tests/nspawn/run.sh) as part of the suite: boots the
# units under a real systemd and runs the self-test (~25 s).  Prints SKIP
# and passes when it cannot run here (not root, no systemd-nspawn, no
# prepared root: tests/nspawn/prepare.sh).  FEEDD_NSPAWN=0 skips it.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
if [ "${FEEDD_NSPAWN:-1}" = 0 ]; then
	echo "SKIP: FEEDD_NSPAWN=0"
	exit 0
fi
exec bash "$SRC/tests/nspawn/run.sh" "${BUILD:-$SRC/build}"
