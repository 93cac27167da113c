# bench/lib.sh - shell functions shared by the bench scripts (source it).

# bench_machine: one line naming this machine (cores, CPU, RAM) and the date.
bench_machine() {
	echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
}

# bench_nginx_start DIR ROOT PORT [EXTRA]: nginx on 127.0.0.1:PORT serving
# the files under ROOT, with DIR as its prefix (nginx.conf, nginx.pid,
# error.log and access.log, one "STATUS URI" line per request).  A path
# /sN/REST serves ROOT/REST, so one file can be N different URLs.  EXTRA is
# put into the server block as is.  Stop it with bench_nginx_stop DIR.
bench_nginx_start() {
	local dir=$1 root=$2 port=$3 extra=${4:-}
	mkdir -p "$dir/logs"
	cat >"$dir/nginx.conf" <<NGX
worker_processes 2;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
	log_format bench '\$status \$request_uri';
	access_log $dir/access.log bench;
	default_type application/rss+xml;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$port;
		root $root;
		location ~ ^/s[0-9]+/(.*)\$ { try_files /\$1 =404; }
		$extra
	}
}
NGX
	/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
	sleep 0.5
}

# bench_nginx_stop DIR: stops the nginx that bench_nginx_start DIR started.
bench_nginx_stop() {
	[ -f "$1/nginx.pid" ] && /usr/sbin/nginx -p "$1" -c "$1/nginx.conf" -s stop 2>/dev/null
	return 0
}
