#!/usr/bin/env bash
# bench/cycle.sh - one polling cycle over 1000 feeds served by nginx on
# loopback: feedd poll --all cold, then again at once (every request should
# be conditional and answered 304), against newsboat -x reload and
# sfeed_update over the same URLs with the same parallelism, all in one run.
# Then feedd's peak RSS at 1000 and 5000 feeds.
# A benchmark, not a test: run by hand, record the figures in bench/RESULTS.md.
#   FEEDS=1000 ITEMS=50 PAR=16 PORT=18080 bench/cycle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
. bench/lib.sh
FEEDS=${FEEDS:-1000}
ITEMS=${ITEMS:-50}
PAR=${PAR:-16}
PORT=${PORT:-18080}
BIGX=${BIGX:-5} # the RSS scaling run polls FEEDS*BIGX feeds (same files, other URLs)
out=$top/bench/out/cycle
www=$top/bench/out/www-$FEEDS-$ITEMS
for cmd in nginx newsboat sfeed_update sqlite3; do
	command -v $cmd >/dev/null || [ -x /usr/sbin/$cmd ] || {
		echo "missing $cmd: apt-get install nginx-light newsboat sfeed sqlite3" >&2; exit 2; }
done
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target feedd >/dev/null
feedd=$top/build-bench/feedd

[ -d "$www" ] || { echo "generating $FEEDS feeds of $ITEMS items..."; python3 bench/gen_feed.py many "$FEEDS" "$ITEMS" "$www"; }
chmod -R a+rX "$top/bench/out"
rm -rf "$out"
mkdir -p "$out"
bench_nginx_start "$out/nginx" "$www" "$PORT"
trap 'bench_nginx_stop "$out/nginx"' EXIT

urls() { # $1 = number of feeds
	for ((i = 0; i < $1; i++)); do
		printf 'http://127.0.0.1:%d/s%d/feed-%04d.xml\n' "$PORT" $((i / FEEDS)) $((i % FEEDS))
	done
}
mb=$(du -sm "$www/" | cut -f1)
bench_machine
echo "corpus: $FEEDS feeds x $ITEMS items, $mb MB; parallelism $PAR"
printf "%-26s %8s %8s %9s %9s %8s\n" run wall_s cpu_s peak_MiB items 304s

timed() { # label items_cmd -- command...: runs, prints a row
	local label=$1 count=$2
	shift 3
	local lines0
	lines0=$(wc -l <"$out/nginx/access.log")
	/usr/bin/time -f "%e %U %S %M" -o "$out/time" "$@" >"$out/$label.out" 2>"$out/$label.err" || {
		echo "$label failed:"; tail -5 "$out/$label.err"; }
	read -r wall usr sys rss <"$out/time"
	local n304
	n304=$(tail -n +"$((lines0 + 1))" "$out/nginx/access.log" | awk '$1 == 304' | wc -l)
	printf "%-26s %8.2f %8.2f %9.1f %9s %8s\n" "$label" "$wall" "$(echo "$usr + $sys" | bc)" \
		"$(echo "$rss / 1024" | bc -l)" "$(eval "$count")" "$n304"
}

# feedd
db=$out/feedd.db
cat >"$out/feedd.conf" <<CONF
database = $db
allow_private = yes
max_parallel = $PAR
max_per_host = $PAR
CONF
{
	echo '<?xml version="1.0"?><opml version="2.0"><head><title>bench</title></head><body>'
	urls "$FEEDS" | sed 's#.*#<outline type="rss" text="f" xmlUrl="&"/>#'
	echo '</body></opml>'
} >"$out/feeds.opml"
"$feedd" import --db "$db" --config "$out/feedd.conf" "$out/feeds.opml" >/dev/null
timed "feedd poll (cold)" "sqlite3 $db 'select count(*) from items'" -- "$feedd" poll --all --db "$db" --config "$out/feedd.conf"
timed "feedd poll (again)" "sqlite3 $db 'select count(*) from items'" -- "$feedd" poll --all --db "$db" --config "$out/feedd.conf"

# newsboat
urls "$FEEDS" >"$out/newsboat.urls"
printf 'reload-threads %d\n' "$PAR" >"$out/newsboat.conf"
timed "newsboat -x reload" "sqlite3 $out/newsboat.cache 'select count(*) from rss_item'" -- \
	newsboat -x reload -u "$out/newsboat.urls" -c "$out/newsboat.cache" -C "$out/newsboat.conf"

# sfeed_update
{
	echo "sfeedpath=\"$out/sfeed\""
	echo "maxjobs=$PAR"
	echo "feeds() {"
	urls "$FEEDS" | awk '{ printf "\tfeed \"f%d\" \"%s\"\n", NR, $0 }'
	echo "}"
} >"$out/sfeedrc"
timed "sfeed_update" "cat $out/sfeed/* | wc -l" -- sfeed_update "$out/sfeedrc"

# feedd's memory at FEEDS*BIGX feeds
big=$((FEEDS * BIGX))
db=$out/feedd-big.db
sed "s#^database = .*#database = $db#" "$out/feedd.conf" >"$out/feedd-big.conf"
{
	echo '<?xml version="1.0"?><opml version="2.0"><head><title>bench</title></head><body>'
	urls "$big" | sed 's#.*#<outline type="rss" text="f" xmlUrl="&"/>#'
	echo '</body></opml>'
} >"$out/feeds-big.opml"
"$feedd" import --db "$db" --config "$out/feedd-big.conf" "$out/feeds-big.opml" >/dev/null
timed "feedd poll ($big feeds)" "sqlite3 $db 'select count(*) from items'" -- "$feedd" poll --all --db "$db" --config "$out/feedd-big.conf"
