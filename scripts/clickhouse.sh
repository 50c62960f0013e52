#!/usr/bin/env bash
# scripts/clickhouse.sh — a private ClickHouse server for yongjin's demo and tests.
#
#   scripts/clickhouse.sh ensure   install clickhouse-server/-client from the OS packages if missing
#   scripts/clickhouse.sh start    ensure, start a private server (or reuse a running one), print its address
#   scripts/clickhouse.sh addr     print the address (127.0.0.1:PORT) of the running server
#   scripts/clickhouse.sh stop     stop the private server (its data stays in .data/clickhouse/)
#   scripts/clickhouse.sh ensure-cluster   install ZooKeeper (OS package zookeeper, with Java) if missing,
#                                  for the replicated-cluster tests (they start their own servers)
#   scripts/clickhouse.sh chdb     install the current ClickHouse release as a library (npm package chdb,
#                                  whose @chdb/lib-linux-x64-gnu ships libchdb.so, about 570 MB) into
#                                  .data/chdb once, and print the path of libchdb.so (for CHDB_LIB_PATH)
#
# The server runs as a background process on free loopback ports (the package's own service is not
# used), with everything under the repository's ignored folder .data/clickhouse/:
#   data/ tmp/ uf/ fs/ access/   server directories
#   ch.log ch.err stdout.log     logs
#   pid port http_port           the running server's pid and ports
# If YONGJIN_CLICKHOUSE_ADDR is set, you brought your own ClickHouse: start and addr just print it.
# YONGJIN_CLICKHOUSE_START_TIMEOUT (seconds, default 60) bounds waiting for the server to answer.
# Only the address goes to stdout; progress and errors go to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.data/clickhouse"
CONFIG=/etc/clickhouse-server/config.xml
START_TIMEOUT=${YONGJIN_CLICKHOUSE_START_TIMEOUT:-60}

say() { printf 'clickhouse.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

server_bin() {
	local p
	for p in "$(command -v clickhouse-server 2>/dev/null || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
		if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
	done
	return 1
}

client_bin() {
	local p
	for p in "$(command -v clickhouse-client 2>/dev/null || true)" /usr/bin/clickhouse-client; do
		if [ -n "$p" ] && [ -x "$p" ]; then echo "$p"; return 0; fi
	done
	return 1
}

installed() { server_bin >/dev/null && client_bin >/dev/null; }

# apt_install PACKAGE...: install OS packages as root (or with sudo), updating the lists once if the
# first try fails (a fresh machine has none).
apt_install() {
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "installing $* needs root (or sudo)"
		sudo=(sudo)
	fi
	command -v apt-get >/dev/null || die "apt-get is missing: install $* yourself"
	say "installing $* from the OS packages"
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2; then
		"${sudo[@]}" apt-get update >&2
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2
	fi
}

cmd_ensure() {
	if installed; then
		return 0
	fi
	command -v apt-get >/dev/null || die "clickhouse-server is not installed and apt-get is missing: install ClickHouse yourself, or set YONGJIN_CLICKHOUSE_ADDR to a running server"
	if ! apt_install clickhouse-server clickhouse-client; then
		# The package's own service start is refused in some containers; the binaries are what we need.
		installed || die "apt-get install clickhouse-server clickhouse-client failed"
		say "apt-get reported an error (likely the package's service start); the binaries are installed, continuing"
	fi
	installed || die "clickhouse-server/clickhouse-client still missing after apt-get install"
}

cmd_ensure_cluster() {
	if [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null; then
		return 0
	fi
	apt_install zookeeper
	[ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null || die "zookeeper (or java) still missing after apt-get install"
}

# CHDB_VERSION is the npm package chdb the tests load (its library is ClickHouse 26.7).
CHDB_VERSION=3.4.0
CHDB_DIR="$ROOT/.data/chdb"
CHDB_LIB="$CHDB_DIR/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so"

cmd_chdb() {
	if [ ! -s "$CHDB_LIB" ] || ! grep -qs "\"version\": \"$CHDB_VERSION\"" "$CHDB_DIR/node_modules/chdb/package.json"; then
		command -v npm >/dev/null || apt_install npm
		mkdir -p "$CHDB_DIR"
		say "installing chdb $CHDB_VERSION (ClickHouse as a library, about 570 MB) into $CHDB_DIR"
		npm install --prefix "$CHDB_DIR" --no-audit --no-fund --no-save "chdb@$CHDB_VERSION" >&2 ||
			die "npm install chdb@$CHDB_VERSION failed"
		[ -s "$CHDB_LIB" ] || die "npm installed chdb but $CHDB_LIB is missing"
	fi
	echo "$CHDB_LIB"
}

# ours PID: PID is alive and is the clickhouse-server using our data directory.
ours() {
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	[ -r "/proc/$pid/cmdline" ] || return 0
	local args
	args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ "${args%%$'\n'*}" == *clickhouse* ]] || return 1
	[[ $'\n'"$args"$'\n' == *$'\n'"--path=$STATE/data/"$'\n'* ]]
}

answers() { # answers PORT
	timeout 10 "$(client_bin)" --host 127.0.0.1 --port "$1" --query 'SELECT 1' >/dev/null 2>&1
}

# state_pid: the recorded server pid; if that is stale, a clickhouse-server found running on our
# data directory (a lost or overwritten pid file); else whatever was recorded.
state_pid() {
	local pid f
	pid=$(cat "$STATE/pid" 2>/dev/null || true)
	if [ -n "$pid" ] && ours "$pid"; then
		echo "$pid"
		return 0
	fi
	for f in /proc/[0-9]*; do
		f=${f#/proc/}
		[ "$f" != "$$" ] || continue
		if ours "$f"; then
			echo "$f"
			return 0
		fi
	done
	echo "$pid"
}
state_port() { cat "$STATE/port" 2>/dev/null || true; }

# listening_ports: every TCP port something listens on (any address), from /proc.
listening_ports() {
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 0 && $4 == "0A" { split($2, a, ":"); print a[2] }' |
		while read -r hex; do echo $((16#$hex)); done | sort -un
}

# pick_ports N [PREFERRED]: N distinct free ports in 20000-31999 (below the ephemeral range);
# PREFERRED (the previous tcp port) first if it is free, so the address stays stable.
pick_ports() {
	local n=$1 preferred=${2:-} used picked=() p tries=0
	used=" $(listening_ports | tr '\n' ' ') "
	if [ -n "$preferred" ] && [[ "$used" != *" $preferred "* ]]; then
		picked+=("$preferred")
		used+="$preferred "
	fi
	while [ "${#picked[@]}" -lt "$n" ]; do
		tries=$((tries + 1))
		[ "$tries" -lt 1000 ] || die "no free port found in 20000-31999"
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		[[ "$used" == *" $p "* ]] && continue
		picked+=("$p")
		used+="$p "
	done
	echo "${picked[@]}"
}

# active_config: the server configuration without XML comments (main file and config.d).
active_config() {
	local files=("$CONFIG")
	shopt -s nullglob
	files+=(/etc/clickhouse-server/config.d/*.xml)
	shopt -u nullglob
	if command -v perl >/dev/null; then
		cat "${files[@]}" 2>/dev/null | perl -0777 -pe 's/<!--.*?-->//gs'
	fi
}

# launch: start the server on fresh ports; returns 0 when it answers, 2 when a port was taken.
launch() {
	local bin cfg ports tcp http inter extra=() args=() k i pid deadline
	bin=$(server_bin)
	cfg=$(active_config)
	# Listeners beyond tcp/http/interserver that the configuration enables (current releases enable
	# mysql_port and postgresql_port; 18.16 knows neither): each moves to a free port too.
	for k in https_port tcp_port_secure mysql_port postgresql_port grpc_port interserver_https_port tcp_with_proxy_port; do
		if [[ "$cfg" == *"<$k>"* ]]; then extra+=("$k"); fi
	done
	read -r -a ports <<<"$(pick_ports $((3 + ${#extra[@]})) "$(state_port)")"
	tcp=${ports[0]} http=${ports[1]} inter=${ports[2]}
	mkdir -p "$STATE"/{data,tmp,uf,fs,access}
	args=(
		--config-file="$CONFIG" --
		--listen_host=127.0.0.1
		--tcp_port="$tcp" --http_port="$http" --interserver_http_port="$inter"
		--path="$STATE/data/" --tmp_path="$STATE/tmp/"
		--user_files_path="$STATE/uf/" --format_schema_path="$STATE/fs/"
		--logger.log="$STATE/ch.log" --logger.errorlog="$STATE/ch.err"
	)
	for i in "${!extra[@]}"; do
		args+=("--${extra[$i]}=${ports[$((3 + i))]}")
	done
	if [[ "$cfg" == *"<local_directory>"* ]]; then
		args+=(--user_directories.local_directory.path="$STATE/access/")
	fi
	say "starting clickhouse-server on 127.0.0.1:$tcp (http $http, interserver $inter${extra:+, ${extra[*]}}), data in $STATE"
	# Keep the previous server's error log (a server that died says why there),
	# then start this one's empty (the start-up check below reads it).
	if [ -s "$STATE/ch.err" ]; then mv -f "$STATE/ch.err" "$STATE/ch.err.previous"; fi
	: >"$STATE/ch.err"
	# setsid: its own session, so the demo's or test's Ctrl-C and exit do not take it down.
	if command -v setsid >/dev/null; then
		(cd "$STATE" && exec setsid "$bin" "${args[@]}" >>"$STATE/stdout.log" 2>&1 </dev/null 9>&-) &
	else
		(cd "$STATE" && exec nohup "$bin" "${args[@]}" >>"$STATE/stdout.log" 2>&1 </dev/null 9>&-) &
	fi
	pid=$!
	echo "$pid" >"$STATE/pid"
	echo "$tcp" >"$STATE/port"
	echo "$http" >"$STATE/http_port"
	deadline=$((SECONDS + START_TIMEOUT))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$STATE/pid"
			if grep -qs 'Address already in use' "$STATE/ch.err" "$STATE/stdout.log"; then
				say "a port was taken meanwhile; retrying on other ports"
				return 2
			fi
			say "clickhouse-server exited during start-up; last lines of $STATE/ch.err:"
			tail -n 20 "$STATE/ch.err" >&2 || true
			tail -n 5 "$STATE/stdout.log" >&2 || true
			return 1
		fi
		if answers "$tcp"; then
			say "clickhouse-server is up (pid $pid)"
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			say "clickhouse-server (pid $pid) did not answer on 127.0.0.1:$tcp within ${START_TIMEOUT}s; last lines of $STATE/ch.err:"
			tail -n 20 "$STATE/ch.err" >&2 || true
			stop_pid "$pid"
			return 1
		fi
		sleep 0.5
	done
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.5
	done
	say "clickhouse-server (pid $pid) ignored SIGTERM for 30s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

lock() {
	mkdir -p "$STATE"
	if command -v flock >/dev/null; then
		exec 9>"$STATE/lock"
		flock -w 120 9 || die "another clickhouse.sh holds $STATE/lock"
	fi
}

# running: the recorded server is alive and answers (waiting for one still starting).
running() {
	local pid port deadline
	pid=$(state_pid) port=$(state_port)
	[ -n "$pid" ] && [ -n "$port" ] && ours "$pid" || return 1
	deadline=$((SECONDS + START_TIMEOUT))
	until answers "$port"; do
		ours "$pid" && [ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

cmd_start() {
	if [ -n "${YONGJIN_CLICKHOUSE_ADDR:-}" ]; then
		say "using YONGJIN_CLICKHOUSE_ADDR=$YONGJIN_CLICKHOUSE_ADDR"
		echo "$YONGJIN_CLICKHOUSE_ADDR"
		return 0
	fi
	cmd_ensure
	lock
	if running; then
		state_pid >"$STATE/pid.new" && mv "$STATE/pid.new" "$STATE/pid"
		say "reusing clickhouse-server (pid $(state_pid)) on 127.0.0.1:$(state_port)"
		echo "127.0.0.1:$(state_port)"
		return 0
	fi
	local pid rc attempt
	pid=$(state_pid)
	if [ -n "$pid" ] && ours "$pid"; then
		say "clickhouse-server (pid $pid) is alive but does not answer; restarting it"
		stop_pid "$pid"
	elif [ -n "$pid" ]; then
		say "the private clickhouse-server (pid $pid) is gone; its error log is kept as $STATE/ch.err.previous"
	fi
	rm -f "$STATE/pid"
	for attempt in 1 2 3; do
		rc=0
		launch || rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "127.0.0.1:$(state_port)"
			return 0
		fi
		[ "$rc" -eq 2 ] || break
	done
	die "could not start clickhouse-server (logs in $STATE)"
}

cmd_addr() {
	if [ -n "${YONGJIN_CLICKHOUSE_ADDR:-}" ]; then
		echo "$YONGJIN_CLICKHOUSE_ADDR"
		return 0
	fi
	installed || die "ClickHouse is not installed; run: scripts/clickhouse.sh start"
	running || die "no private clickhouse-server is running; run: scripts/clickhouse.sh start"
	echo "127.0.0.1:$(state_port)"
}

cmd_stop() {
	lock
	local pid
	pid=$(state_pid)
	if [ -n "$pid" ] && ours "$pid"; then
		say "stopping clickhouse-server (pid $pid)"
		stop_pid "$pid"
	else
		say "no private clickhouse-server is running"
	fi
	rm -f "$STATE/pid"
}

case "${1:-}" in
ensure) cmd_ensure ;;
start) cmd_start ;;
addr) cmd_addr ;;
stop) cmd_stop ;;
ensure-cluster) cmd_ensure_cluster ;;
chdb) cmd_chdb ;;
*)
	echo "usage: $0 ensure|start|addr|stop|ensure-cluster|chdb" >&2
	exit 2
	;;
esac
