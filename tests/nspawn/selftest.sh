#!/bin/bash
# feedd's self-test inside a booted container (see run.sh).  Every check
# writes "ok NAME" or "FAIL NAME: why" to /results/results.txt; the last
# line is "DONE". Every wait is bounded.
set -u
OUT=/results/results.txt
: >"$OUT"
ok() { echo "ok $1" | tee -a "$OUT"; }
fail() { echo "FAIL $1: $2" | tee -a "$OUT"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name" "$*"; fi; }
# expect NAME PATTERN TEXT: TEXT matches the grep pattern (else TEXT is shown)
expect() { if grep -q -- "$2" <<<"$3"; then ok "$1"; else fail "$1" "no '$2' in: $(head -c 300 <<<"$3")"; fi; }
# wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS
wait_for() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
main_pid() { systemctl show -p MainPID --value feedd.service; }
gid_sub=$(getent group feedd-sub | cut -d: -f3)
# A reader in the group and an outsider, by numeric ids (no accounts needed).
as_reader() { setpriv --reuid=4001 --regid=4001 --groups="$gid_sub" "$@"; }
as_outsider() { setpriv --reuid=4002 --regid=4002 --clear-groups "$@"; }
sub_hello() { echo '{"op":"sub","after":"oldest"}' | timeout 5 socat -t 3 - UNIX-CONNECT:/run/feedd/sub.sock; }

check group_exists test -n "$gid_sub"
check service_active wait_for 20 systemctl is-active --quiet feedd.service

# The socket unit made the socket: srw-rw---- root feedd-sub
st=$(stat -c '%A %U %G' /run/feedd/sub.sock 2>&1)
check sub_socket_mode_owner test "$st" = "srw-rw---- root feedd-sub"
st=$(stat -c '%A %U %G' /run/feedd/control.sock 2>&1)
check control_socket_mode_owner test "$st" = "srw------- root root"

# A reader in the group gets hello and, after the first polls, items.
out=$(as_reader bash -c 'echo "{\"op\":\"sub\",\"after\":\"oldest\"}" | timeout 5 socat -t 3 - UNIX-CONNECT:/run/feedd/sub.sock' 2>&1)
expect reader_gets_hello '"ev":"hello"' "$out"
items() { as_reader bash -c 'echo "{\"op\":\"sub\",\"after\":\"oldest\"}" | timeout 5 socat -t 2 - UNIX-CONNECT:/run/feedd/sub.sock' 2>/dev/null | grep -q '"ev":"item"'; }
check reader_gets_items wait_for 20 items
# Someone outside the group is refused at connect() (EACCES).
out=$(as_outsider bash -c 'echo "{\"op\":\"sub\"}" | timeout 5 socat - UNIX-CONNECT:/run/feedd/sub.sock' 2>&1)
expect outsider_refused 'Permission denied' "$out"
out=$(as_reader bash -c 'echo "{\"op\":\"status\"}" | timeout 5 socat - UNIX-CONNECT:/run/feedd/control.sock' 2>&1)
expect reader_refused_on_control 'Permission denied' "$out"
out=$(feedctl status 2>&1)
expect root_feedctl_status '"pid"\|pid' "$out"

# DynamicUser: a transient uid (61184-65519), the state dir a private symlink.
pid=$(main_pid)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
check dynamic_uid test -n "$uid" -a "${uid:-0}" -ge 61184 -a "${uid:-0}" -le 65519
check state_dir_private test "$(readlink /var/lib/feedd)" = "private/feedd"
check database_in_state_dir test -f /var/lib/private/feedd/feedd.db
caps=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
check no_capabilities test "$caps" = "0000000000000000"
check no_new_privs grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
check seccomp_filter grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"

# STATUS= reaches systemctl status.
stat_line=$(systemctl show -p StatusText --value feedd.service)
expect status_text 'feeds' "$stat_line"
echo "status text: $stat_line" >>"$OUT"

# Reload: systemctl waits for RELOADING=1 ... READY=1; the pid stays.
check reload timeout 20 systemctl reload feedd.service
check same_pid_after_reload test "$(main_pid)" = "$pid"
check active_after_reload systemctl is-active --quiet feedd.service
check reload_logged wait_for 5 bash -c "journalctl -u feedd.service --no-pager | grep -q 'reloaded'"

# Watchdog: a stopped daemon is killed (WatchdogSec=3s from the drop-in)
# and restarted (Restart=on-failure).
kill -STOP "$pid"
check watchdog_fired wait_for 20 bash -c "journalctl -u feedd.service --no-pager | grep -q 'Watchdog timeout'"
check watchdog_result wait_for 10 bash -c "[ \$(systemctl show -p NRestarts --value feedd.service) -ge 1 ]"
journalctl -u feedd.service --no-pager | grep -q 'Failed with result .watchdog.' &&
	ok result_watchdog || fail result_watchdog "no 'Failed with result watchdog' in the journal"
check restarted wait_for 20 bash -c "systemctl is-active --quiet feedd.service && [ \$(systemctl show -p MainPID --value feedd.service) != $pid ]"
out=$(as_reader bash -c 'echo "{\"op\":\"sub\"}" | timeout 5 socat -t 2 - UNIX-CONNECT:/run/feedd/sub.sock' 2>&1)
expect hello_after_restart '"ev":"hello"' "$out"

# A client that connects while the service restarts waits in the backlog.
systemctl restart --no-block feedd.service
out=$(as_reader bash -c 'echo "{\"op\":\"sub\"}" | timeout 10 socat -t 2 - UNIX-CONNECT:/run/feedd/sub.sock' 2>&1)
expect hello_during_restart '"ev":"hello"' "$out"
check active_after_restart wait_for 20 systemctl is-active --quiet feedd.service

# Stopping the service leaves the socket bound: clients queue until it starts again.
check stop timeout 40 systemctl stop feedd.service
check socket_stays test -S /run/feedd/sub.sock
check socket_unit_listening systemctl is-active --quiet feedd.socket
out=$(as_reader bash -c 'echo "{\"op\":\"sub\"}" | timeout 10 socat -t 2 - UNIX-CONNECT:/run/feedd/sub.sock' 2>&1)
expect activation_on_connect '"ev":"hello"' "$out"

if grep -q '^FAIL' "$OUT"; then
	{ echo "--- journal"; journalctl -u feedd.service -u feedd.socket --no-pager | tail -60; } >>"$OUT"
fi
echo DONE >>"$OUT"
