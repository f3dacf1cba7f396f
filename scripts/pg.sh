#!/usr/bin/env bash
#
# pg.sh init|start|stop|status|createdb|url DIR PORT: a private PostgreSQL 15
# cluster.
#
#   init    create the cluster in DIR (if absent): trust auth on loopback
#           only, UTF8, C.UTF-8 locale, superuser `postgres`
#   start   start it on 127.0.0.1:PORT, wait until it accepts connections,
#           create the database `shortener` if missing
#   stop    fast shutdown (open sessions are rolled back)
#   status  exit 0 when it is up and answering on PORT
#   createdb create the database `shortener` if missing (a server started
#           by someone else: supervisord, for scripts/stack.py)
#   url     print the DATABASE_URL of its `shortener` database
#
# The server only listens on 127.0.0.1 and on a unix socket inside DIR,
# never in /var/run/postgresql, so it needs no system setup and cannot
# meet the distribution's own cluster (5432). As root, the server runs as
# the `postgres` system user (PostgreSQL refuses root) and DIR is handed
# to that user. PG_FAST=1 at init trades durability for speed (tests).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: $0 init|start|stop|status|createdb|url DIR PORT" >&2
	exit 2
}

# Unix socket paths are limited to 107 bytes: a deep DIR gets no socket
# (everything here connects over TCP anyway).
socket_dir() {
	local dir="$1" port="$2"
	if [ $((${#dir} + ${#port} + 12)) -lt 107 ]; then
		echo "$dir"
	fi
}

pg_init() {
	local dir="$1" port="$2"
	if [ -f "$dir/PG_VERSION" ]; then
		project_settings "$dir"
		return 0
	fi
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || die "$dir exists, is not empty and is no cluster"
	chmod 700 "$dir"
	[ "$(id -u)" -ne 0 ] || chown "${PG_OS_USER:-postgres}:" "$dir"
	as_pg_user test -w "$dir" ||
		die "user ${PG_OS_USER:-postgres} cannot reach $dir (a parent directory is private)"
	local fast=()
	[ "${PG_FAST:-0}" = 1 ] && fast=(--no-sync)
	log "initdb $dir"
	as_pg_user "$PG_BIN/initdb" -D "$dir" -U postgres -E UTF8 \
	    --locale=C.UTF-8 -A trust --no-instructions "${fast[@]}" >"$dir.initdb.log" 2>&1 ||
	    { cat "$dir.initdb.log" >&2; die "initdb failed"; }
	rm -f "$dir.initdb.log"
	write_conf "$dir" "$port"
	write_hba "$dir"
	project_settings "$dir"
}

# The project's settings (conf/postgresql.conf), fresh at each init and
# start, included from postgresql.auto.conf; a cluster made before they
# existed learns to include them. init installs them too, because
# scripts/stack.py starts the server itself (under supervisord) after
# `pg.sh init`, never through `pg.sh start`. The file is opened here, not
# by the postgres user, who may not be able to reach the checkout (a clone
# under a mktemp -d directory, 0700).
project_settings() {
	local dir="$1"
	# shellcheck disable=SC2016 # $1 is for the inner sh
	as_pg_user sh -c 'cat >"$1"' sh "$dir/shortener.conf" \
	    <"$REPO_ROOT/conf/postgresql.conf"
	grep -q "^include_if_exists = 'shortener.conf'" "$dir/postgresql.auto.conf" ||
	    as_pg_user sh -c 'echo "include_if_exists = '"'"'shortener.conf'"'"'" >>"$1"' \
	    sh "$dir/postgresql.auto.conf"
}

# Settings in postgresql.auto.conf override postgresql.conf and survive
# the default file's edits. 200 connections leave room for several app
# replicas x workers x pgsql_conn_max plus tests.
write_conf() {
	local dir="$1" port="$2" conf
	conf="listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$(socket_dir "$dir" "$port")'
max_connections = 200
log_timezone = 'UTC'
timezone = 'UTC'
logging_collector = off"
	if [ "${PG_FAST:-0}" = 1 ]; then
		conf+="
fsync = off
synchronous_commit = off
full_page_writes = off"
	fi
	# shellcheck disable=SC2016 # $1 is for the inner sh
	as_pg_user sh -c 'cat >>"$1"' sh "$dir/postgresql.auto.conf" <<<"$conf"
}

# Trust, but only for the loopback address and the socket inside DIR.
write_hba() {
	# shellcheck disable=SC2016 # $1 is for the inner sh
	as_pg_user sh -c 'cat >"$1"' sh "$1/pg_hba.conf" <<'EOF'
# pg.sh: a private development/test cluster on loopback only.
local	all	all			trust
host	all	all	127.0.0.1/32	trust
EOF
}

pg_ready() {
	local port="$1"
	pg_isready -q -h 127.0.0.1 -p "$port" -d postgres -U postgres -t 1
}

pg_start() {
	local dir="$1" port="$2" i
	[ -f "$dir/PG_VERSION" ] || die "no cluster in $dir (run: $0 init $dir $port)"
	if running "$dir"; then
		pg_ready "$port" || die "cluster $dir runs, but not on port $port"
		ensure_db "$port"
		return 0
	fi
	! port_in_use "$port" || die "port $port is already in use (PostgreSQL)"
	project_settings "$dir"
	# -w waits for startup; -o makes the port win over the conf file.
	as_pg_user "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
	    -o "-p $port -k '$(socket_dir "$dir" "$port")'" start >/dev/null ||
	    { tail -n 20 "$dir/server.log" >&2 || true; die "PostgreSQL did not start"; }
	for ((i = 0; i < 100; i++)); do
		pg_ready "$port" && break
		sleep 0.1
	done
	pg_ready "$port" || die "PostgreSQL on port $port does not answer"
	ensure_db "$port"
}

ensure_db() {
	local port="$1"
	[ "$(psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
	    "SELECT 1 FROM pg_database WHERE datname = 'shortener'")" = 1 ] && return 0
	psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
	    -c 'CREATE DATABASE shortener' >/dev/null
}

running() {
	[ -f "$1/PG_VERSION" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

pg_stop() {
	local dir="$1"
	running "$dir" || return 0
	as_pg_user "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
}

pg_status() {
	local dir="$1" port="$2"
	if running "$dir" && pg_ready "$port"; then
		echo "postgresql: up on 127.0.0.1:$port ($dir)"
		return 0
	fi
	echo "postgresql: down ($dir)"
	return 1
}

main() {
	[ $# -eq 3 ] || usage
	local cmd="$1" dir port="$3"
	[[ "$port" =~ ^[0-9]+$ ]] || usage
	mkdir -p "$(dirname "$2")"
	dir="$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")"
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 not found in $PG_BIN (run scripts/deps.sh)"
	case "$cmd" in
	init) pg_init "$dir" "$port" ;;
	start) pg_start "$dir" "$port" ;;
	stop) pg_stop "$dir" ;;
	status) pg_status "$dir" "$port" ;;
	createdb) ensure_db "$port" ;;
	url) pg_url "$port" ;;
	*) usage ;;
	esac
}

main "$@"
