# shellcheck shell=bash disable=SC2034 # variables for the sourcing scripts
#
# Helpers shared by the scripts in this directory. Sourced, never run.
#
# Every script works from any current directory: paths are derived from
# this file's location, so a clone in a directory of any name (as CI makes)
# behaves like the main checkout.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SCRIPTS="$REPO_ROOT/scripts"
# Debian's Python, whose packages (python3-pytest, ...) scripts/deps.sh
# installs; a python3 earlier on PATH (pyenv) would not see them.
PYTHON="${PYTHON:-/usr/bin/python3}"
# PostgreSQL's server binaries: Debian keeps them off PATH.
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

# log/die prefix each line with the calling script's name so that the
# output of nested scripts (stack.sh -> pg.sh -> ...) stays readable.
log() {
	printf '%s: %s\n' "${LOG_TAG:-$(basename "$0" .sh)}" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found (run scripts/deps.sh)"
}

# port_in_use PORT: true when something accepts TCP connections on
# 127.0.0.1:PORT. A connect test catches listeners of any user, which
# `ss -p` would only name for our own processes anyway.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port: a loopback port nobody listens on, chosen by the kernel
# (bind to port 0), so parallel runs on one machine do not collide.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
		return
	fi
	# No python: scan a high range from a random start.
	local p i
	for i in $(seq 0 200); do
		p=$((20000 + (RANDOM * 7 + i) % 30000))
		port_in_use "$p" || { echo "$p"; return; }
	done
	die "no free port found"
}

# proc_alive PID: true while PID runs. A zombie (exited, not yet reaped
# by a parent that is still busy) counts as dead: kill -0 alone would
# report it alive and make stop loops wait for nothing.
proc_alive() {
	local state
	[ -n "${1:-}" ] || return 1
	kill -0 "$1" 2>/dev/null || return 1
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
	[ "$state" != Z ]
}

# stop_pid PID [TIMEOUT]: SIGTERM, wait up to TIMEOUT seconds (10), then
# SIGKILL the process and its direct children (Kore workers would
# otherwise outlive a killed parent and keep the port).
stop_pid() {
	local pid="$1" timeout="${2:-10}" i kids
	proc_alive "$pid" || return 0
	kids="$(ps -o pid= --ppid "$pid" 2>/dev/null | tr -s ' \n' ' ' || true)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		proc_alive "$pid" || return 0
		sleep 0.1
	done
	log "pid $pid ignored SIGTERM for ${timeout}s, killing it"
	# shellcheck disable=SC2086 # kids is a list of pids
	kill -KILL "$pid" $kids 2>/dev/null || true
	return 0
}

# as_pg_user CMD...: PostgreSQL refuses to run as root, so root runs the
# server tools as the unprivileged `postgres` user (created by Debian's
# postgresql package); anyone else runs them directly. The command runs
# from / because the caller's directory may be unreadable to that user.
as_pg_user() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
		return
	fi
	id -u "${PG_OS_USER:-postgres}" >/dev/null 2>&1 ||
		die "user '${PG_OS_USER:-postgres}' missing (install postgresql: scripts/deps.sh)"
	(cd / && runuser -u "${PG_OS_USER:-postgres}" -- "$@")
}

# pg_url PORT: the libpq URI of the project database on a local cluster.
# connect_timeout bounds Kore's synchronous connects; gssencmode=disable
# keeps libpq from probing GSSAPI, which the worker sandbox forbids.
pg_url() {
	printf 'postgresql://postgres@127.0.0.1:%s/shortener?connect_timeout=2&gssencmode=disable\n' "$1"
}

# web_deps: the npm packages web/package-lock.json pins (the OpenAPI
# validator the tests run), installed once per lockfile: `npm ci` again
# only when the lockfile is newer than the last install. Install scripts
# never run (one of them would phone home).
web_deps() {
	local web="$REPO_ROOT/web"
	if [ -f "$web/node_modules/.package-lock.json" ] &&
	    [ ! "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
		return 0
	fi
	need_cmd npm
	log "npm ci in web/ (pinned by web/package-lock.json)"
	(cd "$web" && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit \
	    --no-fund --loglevel=error)
}
