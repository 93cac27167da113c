#!/usr/bin/env bash
# valgrind.sh BUILD_DIR - valgrind memcheck over the test programs that run
# the parser, the OPML reader, the store, the fetch engine, the poller and
# the subscriber socket in-process (real files, sockets and an evhttp
# server on loopback), plus `feedd parse` over every fixture.  Check runs
# each program without forking (CK_FORK=no) so that memcheck sees every
# test.  Fails on any memcheck error and on any definitely-lost block.
# Run by .ci/run (stage 4); about VALGRIND_TESTS below decides the time.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
supp=tests/valgrind.supp
VALGRIND_TESTS=${VALGRIND_TESTS:-"test_parse test_opml test_xmlreader test_store test_fetch test_poll test_notify"}
vg() {
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --suppressions="$supp" "$@"
}
fail=0
for t in $VALGRIND_TESTS; do
	[ -x "$build/$t" ] || { echo "valgrind: $build/$t missing" >&2; fail=1; continue; }
	start=$SECONDS
	if CK_FORK=no CK_DEFAULT_TIMEOUT=600 vg "$build/$t" >"$build/valgrind-$t.log" 2>&1; then
		echo "ok: $t ($((SECONDS - start)) s)"
	else
		echo "FAIL: $t (see $build/valgrind-$t.log)"
		grep -E '^==[0-9]+== ' "$build/valgrind-$t.log" | head -40 || true
		tail -5 "$build/valgrind-$t.log"
		fail=1
	fi
done
start=$SECONDS
n=0
while IFS= read -r -d '' f; do
	n=$((n + 1))
	rc=0
	vg "$build/feedd" parse "$f" >/dev/null 2>"$build/valgrind-parse.log" || rc=$?
	if [ "$rc" = 99 ] || grep -q '^==[0-9]*== ' "$build/valgrind-parse.log"; then
		echo "FAIL: feedd parse $f"
		cat "$build/valgrind-parse.log"
		fail=1
	fi
done < <(find tests/fixtures -type f \( -name '*.xml' -o -name '*.rss' -o -name '*.atom' -o -name '*.rdf' \) -print0)
echo "ok: feedd parse over $n fixtures ($((SECONDS - start)) s)"
exit $fail
