#!/usr/bin/env bash
#
# redis.sh start|stop|status DIR PORT: a private Redis on 127.0.0.1:PORT.
#
#   start   start redis-server with its files in DIR (pid, log, working
#           directory), wait until it answers PING
#   stop    SIGTERM, wait up to 10 s, then SIGKILL
#   status  exit 0 when it runs and answers PING on PORT
#
# A cache, not a store: no RDB snapshots, no AOF, so a restart starts
# empty and a stop never writes to disk. It listens on loopback only and
# does not read /etc/redis, so it cannot meet the distribution's own
# instance (6379) or the stack's (6380).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT="${REDIS_START_TIMEOUT:-10}"

usage() {
	echo "usage: $0 start|stop|status DIR PORT" >&2
	exit 2
}

redis_pid() {
	[ -f "$1/redis.pid" ] && cat "$1/redis.pid"
}

redis_running() {
	local pid
	pid="$(redis_pid "$1" 2>/dev/null)" || return 1
	proc_alive "$pid"
}

# timeout: a paused (CLIENT PAUSE) server must not hang the probe.
redis_ping() {
	[ "$(timeout 2 redis-cli -p "$1" -h 127.0.0.1 ping 2>/dev/null)" = PONG ]
}

redis_start() {
	local dir="$1" port="$2" i
	need_cmd redis-server
	need_cmd redis-cli
	mkdir -p "$dir"
	if redis_running "$dir"; then
		redis_ping "$port" || die "redis in $dir runs, but not on port $port"
		return 0
	fi
	! port_in_use "$port" || die "port $port is already in use (Redis)"
	# A stale pid file would make the wait below believe a dead server.
	rm -f "$dir/redis.pid"
	# Options on the command line and no config file: nothing of the
	# system's /etc/redis/redis.conf (port 6379, persistence) applies.
	redis-server --port "$port" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize yes --pidfile "$dir/redis.pid" \
	    --logfile "$dir/redis.log" --dir "$dir" ||
	    die "redis-server did not start (log: $dir/redis.log)"
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		redis_ping "$port" && return 0
		sleep 0.1
	done
	tail -n 20 "$dir/redis.log" >&2 || true
	die "no PONG from redis on 127.0.0.1:$port after ${START_TIMEOUT}s"
}

redis_stop() {
	local dir="$1" pid
	pid="$(redis_pid "$dir" 2>/dev/null)" || return 0
	stop_pid "$pid" 10
	rm -f "$dir/redis.pid"
}

redis_status() {
	local dir="$1" port="$2"
	if redis_running "$dir" && redis_ping "$port"; then
		echo "redis: up on 127.0.0.1:$port ($dir)"
		return 0
	fi
	echo "redis: down ($dir)"
	return 1
}

main() {
	[ $# -eq 3 ] || usage
	local cmd="$1" dir port="$3"
	[[ "$port" =~ ^[0-9]+$ ]] || usage
	mkdir -p "$2"
	# Absolute: redis-server resolves --pidfile after chdir to --dir.
	dir="$(cd "$2" && pwd -P)"
	case "$cmd" in
	start) redis_start "$dir" "$port" ;;
	stop) redis_stop "$dir" ;;
	status) redis_status "$dir" "$port" ;;
	*) usage ;;
	esac
}

main "$@"
