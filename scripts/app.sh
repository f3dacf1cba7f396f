#!/usr/bin/env bash
#
# app.sh: run one instance of the shortener (a Kore server).
#
#   app.sh start PORT RUNDIR   start on 127.0.0.1:PORT, wait for /health
#   app.sh stop RUNDIR         SIGTERM, wait up to 10 s, then SIGKILL
#   app.sh status RUNDIR       exit 0 while it runs
#   app.sh conf PORT RUNDIR    only write RUNDIR/shortener.conf
#
# An instance is a directory: RUNDIR/shortener.conf (conf/shortener.conf
# with its bind and load lines rewritten, and its workers line when
# APP_WORKERS is set), RUNDIR/app.log (Kore's stdout
# and stderr) and RUNDIR/app.pid (the Kore parent). Several instances run
# side by side from one build, each with its own RUNDIR and PORT.
#
# The environment reaches the app as given: DATABASE_URL (libpq URI; must
# carry connect_timeout and gssencmode=disable, see docs), REDIS_URL,
# LOG_LEVEL. The module is .build/$FLAVOR/shortener/shortener.so (FLAVOR
# defaults to dev; scripts/build.sh makes it).
#
# Workers exit through exit(0) on SIGTERM, which is what makes the cov
# flavor write its .gcda files: never stop an instance with SIGKILL first.
#
# A module built with ASan (flavor asan) needs the sanitizer runtime
# loaded before anything else in kore, which is not instrumented: kore
# (and only kore) runs with it in LD_PRELOAD, beside .build/asan/preload.so
# (tests/sanitize/preload.c explains why), with the settings of
# scripts/sanitize.sh; reports land in app.log. Kore's own leaks are
# suppressed when they can be named (tests/sanitize/lsan.supp), and left
# out by tests/sanitize/reports.py otherwise.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE="$REPO_ROOT/.build/${FLAVOR:-dev}/shortener/shortener.so"
START_TIMEOUT="${APP_START_TIMEOUT:-30}"

usage() {
	echo "usage: $0 start PORT RUNDIR | stop RUNDIR | status RUNDIR | conf PORT RUNDIR" >&2
	exit 2
}

# write_conf PORT RUNDIR: conf/shortener.conf through scripts/kore_conf.py
# (the one renderer of it): the public bind on 127.0.0.1:PORT, the module
# path absolute (Kore resolves `load ./x.so` against its working directory).
write_conf() {
	"$PYTHON" "$SCRIPTS/kore_conf.py" --bind "127.0.0.1:$1" --module "$MODULE" \
	    ${APP_WORKERS:+--workers "$APP_WORKERS"} \
	    "$REPO_ROOT/conf/shortener.conf" "$2/shortener.conf"
}

# sanitizer_env: fills SAN_ENV with what kore needs for this module.
SAN_ENV=()
sanitizer_env() {
	local runtime preload
	SAN_ENV=()
	readelf -d "$MODULE" 2>/dev/null | grep -q 'libasan' || return 0
	runtime="$("${CC:-cc}" -print-file-name=libasan.so)"
	preload="$(dirname "$(dirname "$MODULE")")/preload.so"
	[ -f "$runtime" ] || die "the module needs ASan but $runtime is missing"
	[ -f "$preload" ] || die "$preload missing: run scripts/build.sh ${FLAVOR:-dev}"
	# shellcheck source=scripts/sanitize.sh
	. "$SCRIPTS/sanitize.sh"
	SAN_ENV=(LD_PRELOAD="$runtime $preload"
	    ASAN_OPTIONS="$ASAN_OPTIONS"
	    UBSAN_OPTIONS="$UBSAN_OPTIONS"
	    LSAN_OPTIONS="$LSAN_OPTIONS:print_suppressions=0:suppressions=$REPO_ROOT/tests/sanitize/lsan.supp")
}

app_pid() {
	[ -f "$1/app.pid" ] && cat "$1/app.pid"
}

app_running() {
	local pid
	pid="$(app_pid "$1" 2>/dev/null)" || return 1
	proc_alive "$pid"
}

# wait_healthy PORT RUNDIR: until /health answers 200 (true), or the
# process dies or START_TIMEOUT passes (false, with the log's tail).
wait_healthy() {
	local port="$1" rundir="$2" code="" deadline=$((SECONDS + START_TIMEOUT))
	# A wall-clock deadline: each probe may itself take up to 2 s when
	# the port accepts but nobody answers (workers crashing).
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! app_running "$rundir"; then
			tail -n 30 "$rundir/app.log" >&2 || true
			log "error: the app exited during start-up (log: $rundir/app.log)"
			return 1
		fi
		code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
		    "http://127.0.0.1:$port/health" 2>/dev/null || true)"
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	tail -n 30 "$rundir/app.log" >&2 || true
	log "error: no 200 from http://127.0.0.1:$port/health after ${START_TIMEOUT}s (last: ${code:-none}; log: $rundir/app.log)"
	return 1
}

# Kore connects to PostgreSQL synchronously inside a sandboxed worker: a
# URL without these two parameters hangs or kills workers (KORE-NOTES).
warn_env() {
	case "${DATABASE_URL:-}" in
	"") log "warning: DATABASE_URL is not set" ;;
	*connect_timeout=*gssencmode=disable* | *gssencmode=disable*connect_timeout=*) ;;
	*) log "warning: DATABASE_URL lacks connect_timeout and/or gssencmode=disable" ;;
	esac
}

app_start() {
	local port="$1" rundir="$2"
	[ -f "$MODULE" ] || die "$MODULE missing: run scripts/build.sh first"
	need_cmd kore
	need_cmd curl
	mkdir -p "$rundir"
	rundir="$(cd "$rundir" && pwd -P)"
	if app_running "$rundir"; then
		log "already running (pid $(app_pid "$rundir"), $rundir)"
		return 0
	fi
	! port_in_use "$port" || die "port $port is already in use (app)"
	warn_env
	write_conf "$port" "$rundir"
	sanitizer_env
	# -f foreground (we keep the pid), -n no chroot, -r keep our user.
	# Started from a subshell so the process is not our child: it
	# outlives this script and is reaped by init, not left a zombie.
	(
		cd "$rundir"
		env "${SAN_ENV[@]}" kore -f -n -r -c "$rundir/shortener.conf" \
		    </dev/null >>"$rundir/app.log" 2>&1 &
		echo $! >"$rundir/app.pid"
	)
	# A half-started instance is not left behind (crash-looping workers).
	if ! wait_healthy "$port" "$rundir"; then
		app_stop "$rundir"
		exit 1
	fi
	log "up on http://127.0.0.1:$port (pid $(app_pid "$rundir"), log $rundir/app.log)"
}

app_stop() {
	local rundir="$1" pid
	pid="$(app_pid "$rundir" 2>/dev/null)" || return 0
	stop_pid "$pid" 10
	rm -f "$rundir/app.pid"
}

main() {
	local cmd="${1:-}"
	case "$cmd" in
	start) [ $# -eq 3 ] || usage; app_start "$2" "$3" ;;
	stop) [ $# -eq 2 ] || usage; app_stop "$2" ;;
	status) [ $# -eq 2 ] || usage; app_running "$2" ;;
	conf) [ $# -eq 3 ] || usage; mkdir -p "$3"; write_conf "$2" "$3" ;;
	*) usage ;;
	esac
}

main "$@"
