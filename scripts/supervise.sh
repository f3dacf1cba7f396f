#!/usr/bin/env bash
#
# supervise.sh PORT RUNDIR: keep one app instance (a Kore server on
# 127.0.0.1:PORT) running, and restart it within a fraction of a second
# when it dies. scripts/stack.sh starts one supervisor per instance.
#
#   RUNDIR/shortener.conf   written once by `app.sh conf` (FLAVOR: prod)
#   RUNDIR/app.pid          the CURRENT Kore parent, rewritten at each start
#                           (what chaos tests SIGKILL, what a rolling
#                           restart SIGTERMs)
#   RUNDIR/app.log          Kore's output and the supervisor's own JSON lines
#   RUNDIR/restarts         how many times the instance was restarted
#
# Signals: SIGTERM or SIGINT stop the supervisor. It forwards SIGTERM to
# Kore, waits for it (the workers flush their click queues first), then
# exits; it never restarts an instance it was asked to stop. Kore exiting
# for any other reason (SIGKILL, SIGTERM sent to Kore alone by a rolling
# restart, a crash) is followed by a restart.
#
# A SIGKILLed Kore 4.1 parent leaves its workers running, orphaned: each
# worker inherited the parent's ends of its siblings' message sockets, so
# none of them ever sees the parent's socket close (which would make it
# quit). They keep serving and keep the listening socket, and a new Kore
# cannot bind. So after Kore exits, whatever still listens on PORT (the
# orphans: the port is this instance's) gets SIGTERM, which makes a
# worker flush its click queue and exit; SIGKILL only if one is still
# there 5 s later. The restart then waits, polling, until PORT is free.
# A start that dies within 2 s is a crash loop: the delay before the next
# one doubles, from 0.2 s up to 5 s, instead of spinning.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="supervise"

PORT=""
RUNDIR=""
KORE_PID=""
STOPPING=0

usage() {
	echo "usage: $0 PORT RUNDIR" >&2
	exit 2
}

# jlog LEVEL EVENT MESSAGE: one line in the shape of the app's JSON logs,
# so that `make logs` and log tooling see restarts next to requests.
# No fork (EPOCHREALTIME, printf's own clock): this runs while an
# instance is down.
jlog() {
	local now="$EPOCHREALTIME" ms
	ms="${now#*.}"
	TZ=UTC printf '{"time":"%(%Y-%m-%dT%H:%M:%S)T.%sZ","level":"%s","event":"%s","pid":%d,"msg":"%s"}\n' \
	    "${now%.*}" "${ms:0:3}" "$1" "$2" "$$" "$3"
}

# The trap only sets a flag and passes the signal on: the main loop sees
# STOPPING once `wait` returns, and does not start Kore again.
# shellcheck disable=SC2317 # called by the trap
on_stop() {
	STOPPING=1
	[ -z "$KORE_PID" ] || kill -TERM "$KORE_PID" 2>/dev/null || true
}

# holders: the pids of this instance's processes holding the listening
# socket: Kore runs in RUNDIR, so its workers' working directory tells
# them apart from anyone else's process that might hold PORT.
holders() {
	local pid
	for pid in $(ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
		[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$RUNDIR" ] && echo "$pid"
	done
	return 0
}

# running PID: alive and not a zombie. The orphans' new parent (init)
# may reap them late, and a zombie no longer holds the port. Builtins
# only: no fork per poll while the instance is down.
running() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat="${stat##*) }"
	[ "${stat%% *}" != Z ]
}

# end_orphans: SIGTERM the workers a dead parent left behind and wait
# for them; SIGKILL whatever is left after 5 s.
end_orphans() {
	local pids pid i alive
	pids="$(holders)"
	[ -n "$pids" ] || return 0
	jlog warn orphan_workers "workers of the dead parent still hold the port: SIGTERM to ${pids//$'\n'/ }"
	# shellcheck disable=SC2086 # a list of pids
	kill -TERM $pids 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do
		alive=""
		for pid in $pids; do
			running "$pid" && alive="$alive $pid"
		done
		[ -n "$alive" ] || return 0
		sleep 0.02
	done
	jlog error orphan_workers "still there after 5 s: SIGKILL to$alive"
	# shellcheck disable=SC2086 # a list of pids
	kill -KILL $alive 2>/dev/null || true
}

# run_kore: start Kore, wait until it exits; sets STATUS. `wait` returns
# early when a trapped signal arrives, so it is repeated until the child
# is really gone (reaped, so kill -0 fails).
run_kore() {
	kore -f -n -r -c "$RUNDIR/shortener.conf" </dev/null &
	KORE_PID=$!
	echo "$KORE_PID" >"$RUNDIR/app.pid.tmp"
	mv "$RUNDIR/app.pid.tmp" "$RUNDIR/app.pid"
	jlog info instance_spawn "kore parent $KORE_PID on 127.0.0.1:$PORT"
	while :; do
		wait "$KORE_PID" && STATUS=0 || STATUS=$?
		kill -0 "$KORE_PID" 2>/dev/null || break
	done
	KORE_PID=""
}

main() {
	[ $# -eq 2 ] || usage
	PORT="$1"
	RUNDIR="$(cd "$2" && pwd -P)"
	[[ "$PORT" =~ ^[0-9]+$ ]] || usage
	need_cmd kore
	need_cmd ss
	trap on_stop TERM INT
	trap '' HUP
	# Kore's workers keep this working directory: see holders.
	cd "$RUNDIR"
	FLAVOR="${FLAVOR:-prod}" "$SCRIPTS/app.sh" conf "$PORT" "$RUNDIR"
	echo "$$" >"$RUNDIR/supervisor.pid"
	local started delay=0 restarts=0
	echo 0 >"$RUNDIR/restarts"
	while [ "$STOPPING" = 0 ]; do
		started=$SECONDS
		STATUS=0
		run_kore
		if [ "$STOPPING" = 1 ]; then
			end_orphans
			break
		fi
		restarts=$((restarts + 1))
		echo "$restarts" >"$RUNDIR/restarts"
		# A long run ended by a kill or a crash: back at once. Dying
		# within 2 s of the start is a crash loop: 0.2 s, doubling to 5 s.
		if [ $((SECONDS - started)) -ge 2 ]; then
			delay=0
		else
			delay="$(awk -v d="$delay" 'BEGIN { d = (d < 0.2 ? 0.2 : d * 2); print (d > 5 ? 5 : d) }')"
		fi
		jlog warn instance_exit "kore exited with status $STATUS; restart $restarts in ${delay}s"
		end_orphans
		# In the background so that a SIGTERM meanwhile is handled now.
		if [ "$delay" != 0 ]; then
			sleep "$delay" &
			wait $! || true
		fi
	done
	rm -f "$RUNDIR/app.pid" "$RUNDIR/supervisor.pid"
	jlog info supervisor_stop "stopped on request"
}

# On one line with main: bash reads a script as it runs, and a supervisor
# lives long; an edit of this file must not feed it new lines afterwards.
main "$@"; exit
