#!/usr/bin/env bash
# demo.sh - installs what feedd needs (Debian 12), builds it, and runs it on
# the bundled offline sample feeds in examples/feeds/.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/deps.sh
feedd_install_deps
feedd_build build
for f in examples/feeds/*; do
	echo "== feedd parse $f"
	if command -v python3 >/dev/null; then
		build/feedd parse "$f" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("format: %s, wellformed: %s, feed: %s" % (d["format"], d["wellformed"], d["feed"].get("title")))
for it in d["items"]:
    print("  %-20s  %s" % (it.get("published", it.get("updated", "")), it.get("title", "")))'
	else
		build/feedd parse "$f"
	fi
done
