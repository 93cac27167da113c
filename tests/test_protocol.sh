#!/usr/bin/env bash
# An independent black-box client of the subscriber protocol (DESIGN.md,
# "Events, cursors and the subscriber protocol") against the real daemon.
set -euo pipefail
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
: "${FEEDD:?FEEDD must name the feedd binary}"
command -v python3 >/dev/null || { echo "skip: no python3"; exit 0; }
exec timeout 120 python3 "$SRC/tests/protocol_client.py" "$FEEDD" "$(dirname "$FEEDD")/feedctl"
