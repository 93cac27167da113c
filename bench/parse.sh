#!/usr/bin/env bash
# bench/parse.sh - feedd parse against a bare-expat floor and sfeed, in one run.
#
# Generates (deterministically) a ~50 MB RSS 2.0 and a ~50 MB Atom document,
# times (CPU time, user + system) `feedd parse FILE > /dev/null`,
# `bench_expat_floor FILE` and `sfeed < FILE > /dev/null` RUNS times each
# (default 5), interleaved so that machine noise hits all three alike, and
# prints the medians and MB/s of CPU time.
# Then peak RSS of feedd parse for 5 MB and 500 MB documents.
# A benchmark, not a test: run by hand, record the figures in bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
SIZE=${SIZE:-50}
BIG=${BIG:-500}
out=bench/out
mkdir -p "$out"
command -v sfeed >/dev/null || { echo "apt-get install sfeed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "apt-get install time" >&2; exit 2; }  # peak RSS below
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target feedd bench_expat_floor >/dev/null
feedd=build-bench/feedd
floor=build-bench/bench_expat_floor

for kind in rss atom; do
	[ -s "$out/$kind-$SIZE.xml" ] || python3 bench/gen_feed.py "$kind" "$SIZE" "$out/$kind-$SIZE.xml"
done

secs() { # prints the CPU seconds (user + system, from wait4: microseconds) of
	# running "$@": on a shared, loaded machine CPU time is far steadier than wall time
	python3 -c 'import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
print("%.4f" % (ru.ru_utime + ru.ru_stime))
sys.exit(1 if st else 0)' "$@"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
printf "%-6s %-12s %10s %10s %8s\n" doc program median_cpu_s MB/s "%floor"
for kind in rss atom; do
	f=$out/$kind-$SIZE.xml
	mb=$(echo "$(stat -L -c %s "$f") / 1048576" | bc -l)
	: >"$out/t.floor" ; : >"$out/t.feedd" ; : >"$out/t.sfeed"
	cat "$f" >/dev/null # warm the page cache
	for _ in $(seq "$RUNS"); do
		secs "$floor" "$f" >>"$out/t.floor"
		secs sh -c "$feedd parse '$f' >/dev/null" >>"$out/t.feedd"
		secs sh -c "sfeed < '$f' >/dev/null" >>"$out/t.sfeed"
	done
	fl=$(median <"$out/t.floor")
	for prog in floor feedd sfeed; do
		m=$(median <"$out/t.$prog")
		printf "%-6s %-12s %10.3f %10.1f %7.0f%%\n" "$kind" "$prog" "$m" \
			"$(echo "$mb / $m" | bc -l)" "$(echo "100 * $fl / $m" | bc -l)"
	done
done

echo
echo "peak RSS of feedd parse (KiB):"
[ -s "$out/rss-5.xml" ] || python3 bench/gen_feed.py rss 5 "$out/rss-5.xml"
[ -s "$out/rss-$BIG.xml" ] || python3 bench/gen_feed.py rss "$BIG" "$out/rss-$BIG.xml"
for s in 5 "$BIG"; do
	kb=$(/usr/bin/time -f %M "$feedd" parse "$out/rss-$s.xml" 2>&1 >/dev/null | tail -n1)
	printf "  %4s MB document: %8s KiB\n" "$s" "$kb"
done
