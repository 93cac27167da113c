#!/usr/bin/env bash
# bench/soak.sh - the daemon (feedd run) for a long while against nginx on
# loopback serving FEEDS feeds that have a new item on every request (nginx
# SSI puts one item with a unique guid and the time into each response, and
# SSI drops Last-Modified and ETag, so every poll is a full 200 with one new
# item to store), polled every INTERVAL, until FETCHES fetches have
# finished, while SUBS subscribers connect and disconnect (each loops:
# feedctl tail --after <its last cursor> for a random 2-20 s, then a pause
# of 0-2 s).  Every second the daemon's VmRSS and open descriptors are
# sampled into bench/soak.csv; bench/soak.png plots them.  PASS when RSS
# and descriptors at the end have not grown by more than TOLERANCE % over
# where they were after the first cycle (FEEDS fetches finished): the
# median of the WINDOW samples from there against the median of the last
# WINDOW samples (single samples jump with the transfers in flight).
# Descriptors are counted without the subscriber connections (connected
# subscribers come and go at random; the CSV has both).
# A benchmark, not a test: run by hand, record the figures in bench/RESULTS.md.
#   FEEDS=1000 FETCHES=10000 INTERVAL=5 SUBS=20 PORT=18090 TIMEOUT=1200 bench/soak.sh
# Loopback only; stops by itself after TIMEOUT seconds at the latest;
# everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
. bench/lib.sh
FEEDS=${FEEDS:-1000}
FETCHES=${FETCHES:-10000}
INTERVAL=${INTERVAL:-5}
SUBS=${SUBS:-20}
PAR=${PAR:-16}
PORT=${PORT:-18090}
TIMEOUT=${TIMEOUT:-1200}
TOLERANCE=${TOLERANCE:-5}
WINDOW=${WINDOW:-10}
out=$top/bench/out/soak
csv=$top/bench/soak.csv
png=$top/bench/soak.png

command -v gnuplot >/dev/null || apt-get install -y gnuplot-nox >/dev/null ||
	{ echo "missing gnuplot: apt-get install gnuplot-nox" >&2; exit 2; }
[ -x /usr/sbin/nginx ] || { echo "missing nginx: apt-get install nginx-light" >&2; exit 2; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target feedd feedctl >/dev/null
feedd=$top/build-bench/feedd
feedctl=$top/build-bench/feedctl

rm -rf "$out"
mkdir -p "$out/www" "$out/subs"
chmod a+rx "$top/bench/out" "$out" "$out/www"

# The feeds: 9 fixed items a day apart plus the live one SSI fills in.
python3 - "$FEEDS" "$out/www" <<'PY'
import sys, time
n, d = int(sys.argv[1]), sys.argv[2]
for f in range(n):
    items = []
    for i in range(9):
        when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1700000000 - i * 86400))
        items.append("<item><title>Feed %d item %d</title><link>https://example.org/%d/%d</link>"
                     "<guid isPermaLink=\"false\">fixed-%d-%d</guid><pubDate>%s</pubDate>"
                     "<description>An item that never changes.</description></item>\n"
                     % (f, i, f, i, f, i, when))
    live = ('<!--# config timefmt="%%a, %%d %%b %%Y %%H:%%M:%%S GMT" -->'
            '<item><title>Feed %d at <!--# echo var="msec" --></title>'
            '<link>https://example.org/%d/live/<!--# echo var="request_id" --></link>'
            '<guid isPermaLink="false">live-%d-<!--# echo var="request_id" --></guid>'
            '<pubDate><!--# echo var="date_gmt" --></pubDate>'
            '<description>New on every request.</description></item>\n' % (f, f, f))
    with open("%s/feed-%04d.xml" % (d, f), "w") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                  "<title>Soak feed %d</title><link>https://example.org/%d</link>"
                  "<description>soak</description>\n%s%s</channel></rss>\n"
                  % (f, f, live, "".join(items)))
PY
chmod a+r "$out/www"/*

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
	[ -n "${daemon:-}" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	bench_nginx_stop "$out/nginx"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_nginx_start "$out/nginx" "$out/www" "$PORT" \
	'ssi on; ssi_types application/rss+xml; location = /favicon.ico { return 404; }'

cat >"$out/feedd.conf" <<CONF
database = $out/feedd.db
socket = $out/sub.sock
control_socket = $out/control.sock
allow_private = yes
interval = ${INTERVAL}s
interval_floor = ${INTERVAL}s
interval_max = ${INTERVAL}s
max_parallel = $PAR
max_per_host = $PAR
log_level = warning
CONF
{
	echo '<?xml version="1.0"?><opml version="2.0"><head><title>soak</title></head><body>'
	for ((i = 0; i < FEEDS; i++)); do
		printf '<outline type="rss" text="f" xmlUrl="http://127.0.0.1:%d/s0/feed-%04d.xml"/>\n' "$PORT" "$i"
	done
	echo '</body></opml>'
} >"$out/feeds.opml"
"$feedd" import --db "$out/feedd.db" --config "$out/feedd.conf" "$out/feeds.opml" >/dev/null

"$feedd" run --config "$out/feedd.conf" 2>"$out/feedd.log" &
daemon=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$out/control.sock" ] && "$feedctl" status --control-socket "$out/control.sock" >/dev/null 2>&1 && break
	sleep 0.1
done

# A subscriber: tail for a random while, remember the last cursor, pause, resume after it.
subscriber() {
	local n=$1 cur=oldest got c
	while :; do
		got=$(timeout --foreground $((RANDOM % 19 + 2)) "$feedctl" tail --socket "$out/sub.sock" --after "$cur" \
			2>>"$out/subs/$n.err" | grep -o '"cursor":"[^"]*"' |
			awk -F'"' '{ c = $4 } END { print NR, c }') || true
		read -r c cur2 <<<"$got"
		[ -n "$cur2" ] && cur=$cur2
		echo "$c" >>"$out/subs/$n.sessions" # events this session
		sleep $((RANDOM % 3))
	done
}
for ((i = 0; i < SUBS; i++)); do
	setsid bash -c "$(declare -f subscriber); out='$out' feedctl='$feedctl'; subscriber $i" &
	pids+=($!)
done

metric() { # NAME: sums the samples of metric NAME in $out/metrics
	awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }' "$out/metrics"
}
bench_machine | tee "$out/summary"
echo "soak: $FEEDS feeds, interval ${INTERVAL}s, $SUBS subscribers, parallelism $PAR, until $FETCHES fetches (at most ${TIMEOUT}s)" |
	tee -a "$out/summary"
echo "t_s,fetches,rss_kib,fds,subscribers" >"$csv"
start=$(date +%s)
timed_out=0
while :; do
	kill -0 "$daemon" 2>/dev/null || { echo "FAIL: the daemon died"; tail -5 "$out/feedd.log"; exit 1; }
	t=$(($(date +%s) - start))
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$daemon/status")
	fds=$(ls "/proc/$daemon/fd" | wc -l)
	"$feedctl" metrics --control-socket "$out/control.sock" >"$out/metrics" || true
	fetches=$(metric feedd_fetches_total)
	subs=$(metric feedd_subscribers)
	echo "$t,$fetches,$rss,$fds,$subs" >>"$csv"
	[ "$fetches" -ge "$FETCHES" ] && break
	[ "$t" -ge "$TIMEOUT" ] && { timed_out=1; break; }
	sleep 1
done
ls -l "/proc/$daemon/fd" >"$out/fds-at-end" 2>/dev/null || true
cp "$out/metrics" "$out/metrics-at-end"

served=$(awk '$1 == 200' "$out/nginx/access.log" | wc -l)
results=$(awk '/^feedd_fetches_total\{/ { sub(/.*result="/, "", $1); sub(/".*/, "", $1); printf "%s %s, ", $1, $2 }' "$out/metrics")
items=$(metric feedd_items_new_total)
pct() { echo "scale=1; ($2 - $1) * 100 / $1" | bc -l; }
grown() { # BASE END: true when END is more than TOLERANCE % above BASE
	[ "$(echo "($2 - $1) * 100 > $TOLERANCE * $1" | bc -l)" = 1 ]
}
sessions=$(cat "$out/subs/"*.sessions 2>/dev/null | wc -l)
delivered=$(cat "$out/subs/"*.sessions 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
{
	echo "ran ${t}s: $fetches fetches (${results%, }), nginx served $served 200s, $items new items stored"
	echo "subscribers: $sessions sessions ended, $delivered item events delivered to them, $(cat "$out/subs/"*.err 2>/dev/null | wc -l) error lines"
} | tee -a "$out/summary"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rows=$(tail -n +2 "$csv")
n=$(wc -l <<<"$rows")
b=$(awk -F, -v f="$FEEDS" '$2 >= f { print NR; exit }' <<<"$rows")
[ -n "$b" ] && [ $((n - b + 1)) -ge $((2 * WINDOW)) ] || {
	echo "FAIL: too short: the first cycle ($FEEDS fetches) must be followed by $((2 * WINDOW)) samples" |
		tee -a "$out/summary"
	exit 1
}
first=$(sed -n "${b},$((b + WINDOW - 1))p" <<<"$rows")
last=$(tail -n "$WINDOW" <<<"$rows")
base_fetches=$(head -1 <<<"$first" | cut -d, -f2)
base_rss=$(cut -d, -f3 <<<"$first" | median)
base_fds=$(awk -F, '{ print $4 - $5 }' <<<"$first" | median)
end_rss=$(cut -d, -f3 <<<"$last" | median)
end_fds=$(awk -F, '{ print $4 - $5 }' <<<"$last" | median)
range() { # COLUMN-EXPRESSION: min-max over all samples after the first cycle
	tail -n +"$b" <<<"$rows" | awk -F, "{ print $1 }" | sort -n | sed -n '1p;$p' | paste -sd-
}
{
	echo "after the first cycle (from t=$(head -1 <<<"$first" | cut -d, -f1)s, $base_fetches fetches; median of $WINDOW samples): RSS $base_rss KiB, $base_fds fds besides subscribers"
	echo "at the end (last $WINDOW samples, to t=${t}s, $fetches fetches): RSS $end_rss KiB ($(pct "$base_rss" "$end_rss")%), $end_fds fds besides subscribers ($(pct "$base_fds" "$end_fds")%)"
	echo "after the first cycle: RSS $(range '$3') KiB, fds $(range '$4') ($(range '$4 - $5') besides subscribers), subscribers connected $(range '$5')"
	echo "peak RSS $(cut -d, -f3 <<<"$rows" | sort -n | tail -1) KiB"
	verdict=PASS
	[ "$timed_out" = 1 ] && { echo "timed out before $FETCHES fetches"; verdict=FAIL; }
	grown "$base_rss" "$end_rss" && verdict=FAIL
	grown "$base_fds" "$end_fds" && verdict=FAIL
	echo "$verdict (RSS and fds at most $TOLERANCE% above the first cycle's)"
} | tee -a "$out/summary"

gnuplot <<GP
set terminal pngcairo size 1000,600 noenhanced
set output "$png"
set datafile separator ","
set title "feedd soak: $FEEDS feeds, interval ${INTERVAL}s, $SUBS subscribers coming and going"
set xlabel "fetches"
set ylabel "RSS (MiB)"
set y2label "open fds / connected subscribers"
set xrange [0:*]
set autoscale xfixmax
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set key below
set arrow from $base_fetches, graph 0 to $base_fetches, graph 1 nohead dt 2
plot "$csv" every ::1 using 2:(\$3/1024) with lines lw 2 title "RSS (MiB)", \
     "" every ::1 using 2:4 axes x1y2 with lines title "open fds", \
     "" every ::1 using 2:5 axes x1y2 with points pt 7 ps 0.3 title "subscribers connected"
GP
echo "wrote $csv and $png"
grep -q '^PASS' <(tail -1 "$out/summary")
