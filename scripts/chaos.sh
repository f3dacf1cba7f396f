#!/usr/bin/env bash
#
# chaos.sh [--short|--full] [--doc FILE]: break the running Docker-free stack
# (RUN_DIR, default ./run: what `scripts/stack.sh up` started) under steady
# mixed load through nginx, one fault at a time, and account for every
# request afterwards. `make chaos` runs the full version on a private stack
# (scripts/test-stack.sh --full); the test command runs --short.
#
# Phases, each under load from tests/chaos/chaosload.py (every request
# recorded, identified by its X-Request-Id / User-Agent):
#   kill-instance   SIGKILL the Kore parent of app2: no redirect fails, the
#                   supervisor has it serving again within 5 s
#   kill-worker     SIGKILL one worker of app1: its parent respawns it
#   redis-down      stop Redis: redirects go on (X-Cache: BYPASS); start it
#                   again: HIT again
#   postgres-down   stop PostgreSQL: cached redirects go on, writes get 503
#                   JSON with Retry-After; start it: everything recovers,
#                   no instance restarted
#   rolling-restart scripts/stack.sh restart: no request fails
# then the accounting: every acknowledged write is in the database, every
# 302's click is in the events table, except the documented loss (clicks a
# SIGKILLed worker held in memory), which is counted and reported.
#
# Loopback only; load and durations are bounded (--short: a few seconds per
# phase, ~60 requests/s; full: 30 s per phase, ~150 requests/s). The fault
# timings (PRE, OUTAGE, POST) are sleeps on purpose: they are how long the
# service is observed in each state; everything else polls. Whatever it
# stopped is started again on exit. Records, phases and the summary stay in
# RUN_DIR/chaos/. The last line is "N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="chaos"

RUN="${RUN_DIR:-$REPO_ROOT/run}"
WORK="$RUN/chaos"
LOAD="$REPO_ROOT/tests/chaos/chaosload.py"
PROFILE=full
DOC=""
LOAD_PID=""
REDIS_STOPPED=0
PG_STOPPED=0
RUN_ID=""

usage() {
	echo "usage: $0 [--short|--full] [--doc FILE]" >&2
	exit 2
}

# Durations in seconds; rates per second.
set_profile() {
	if [ "$PROFILE" = short ]; then
		PRE=1.5 OUTAGE=2 POST=1.5 RATE=60 WRITE_RATE=4 LINKS=20
	else
		PRE=10 OUTAGE=10 POST=10 RATE=150 WRITE_RATE=8 LINKS=40
	fi
}

now() {
	date +%s.%N
}

elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

http_code() {
	curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

# The EXIT trap: no load left running, no dependency left stopped.
cleanup() {
	local rc=$?
	set +e
	if [ -n "$LOAD_PID" ] && proc_alive "$LOAD_PID"; then
		kill -TERM "$LOAD_PID"
		wait "$LOAD_PID"
	fi
	[ "$REDIS_STOPPED" = 1 ] && "$SCRIPTS/redis.sh" start "$RUN/redis" "$REDIS_PORT"
	[ "$PG_STOPPED" = 1 ] && "$SCRIPTS/pg.sh" start "$PG_DIR" "$PG_PORT"
	exit "$rc"
}

load_stack() {
	[ -f "$RUN/stack.env" ] || die "no stack in $RUN (scripts/stack.sh up first)"
	# shellcheck disable=SC1091 # written by stack.sh
	. "$RUN/stack.env"
	BASE="http://127.0.0.1:$NGINX_PORT"
	PG_DIR="$(readlink -f "$RUN/pg")"
	DATABASE_URL="$(pg_url "$PG_PORT")"
	[ "$(http_code "$BASE/health")" = 200 ] || die "nothing answers on $BASE (scripts/stack.sh status)"
}

# ---- load -------------------------------------------------------------

start_load() {
	python3 "$LOAD" run --base "$BASE" --links "$WORK/links.json" \
	    --run-id "$RUN_ID" --phase "$1" --rate "$RATE" \
	    --write-rate "$WRITE_RATE" --max-seconds 300 \
	    --records "$WORK/records-$1.jsonl" &
	LOAD_PID=$!
}

stop_load() {
	kill -TERM "$LOAD_PID"
	wait "$LOAD_PID" || die "the load generator failed"
	LOAD_PID=""
}

# phase NAME KIND PORT KEY=VALUE...: what the accountant needs to know
# about a phase, as JSON. Times (epoch seconds): fault_start (the fault
# command began), fault_at (it had taken effect: the process was killed,
# the server had stopped), restore_start / restored_at (the same for
# lifting it), recovered_at (the service was back to normal); numbers and
# true/false for the rest.
phase() {
	local name="$1" kind="$2" port="$3" kv args=()
	shift 3
	for kv in "$@"; do
		args+=(--argjson "${kv%%=*}" "${kv#*=}")
	done
	jq -n --arg name "$name" --arg kind "$kind" --arg port "$port" "${args[@]}" \
	    '{name: $name, kind: $kind, port: $port} + $ARGS.named
	     | .recovery_s = (.recovered_at - .restored_at)' >"$WORK/phase-$name.json"
	log "$name: back to normal $(jq -r '.recovery_s * 1000 | round / 1000' "$WORK/phase-$name.json") s after the fault was lifted"
}

# ---- probes -------------------------------------------------------------

app_pid() {
	cat "$RUN/app$1/app.pid" 2>/dev/null || true
}

app_port() {
	local v="APP$1_PORT"
	echo "${!v}"
}

workers_of() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | sort
}

# all_pids: every Kore parent and worker of the three instances.
all_pids() {
	local n p
	for n in 1 2 3; do
		p="$(app_pid "$n")"
		echo "$p"
		workers_of "$p"
	done
}

# instance_back N OLD: a new Kore parent (not OLD) runs with both workers,
# answers /health, and no process of the old one still holds the port.
instance_back() {
	local n="$1" old="$2" new holders
	new="$(app_pid "$n")"
	[ -n "$new" ] && [ "$new" != "$old" ] && proc_alive "$new" || return 1
	[ "$(workers_of "$new" | wc -l)" -ge 2 ] || return 1
	[ "$(http_code "http://127.0.0.1:$(app_port "$n")/health")" = 200 ] || return 1
	# shellcheck disable=SC2046 # a list of pids
	holders="$(ss -Hltnp "sport = :$(app_port "$n")" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)"
	# shellcheck disable=SC2046 # a list of pids
	[ "$holders" = "$(printf '%s\n' "$new" $(workers_of "$new") | sort -u)" ]
}

# poll SECONDS CMD...: until CMD succeeds; fails after SECONDS.
poll() {
	local deadline
	deadline="$(awk -v n="$(now)" -v s="$1" 'BEGIN { printf "%.0f", n + s }')"
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

cache_hit() {
	[ "$(curl -s -I -m 2 "$BASE/$1" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }')" = HIT ]
}

all_ready() {
	local n
	for n in 1 2 3; do
		[ "$(http_code "http://127.0.0.1:$(app_port "$n")/ready")" = 200 ] || return 1
	done
}

# ---- the faults -----------------------------------------------------------

phase_kill_instance() {
	local old t0 t1
	old="$(app_pid 2)"
	start_load kill-instance
	sleep "$PRE"
	t0="$(now)"
	kill -KILL "$old"
	poll 10 instance_back 2 "$old" || log "app2 did not come back within 10 s"
	t1="$(now)"
	sleep "$POST"
	stop_load
	phase kill-instance kill_instance "$APP2_PORT" fault_start="$t0" fault_at="$t0" \
	    restore_start="$t0" restored_at="$t0" recovered_at="$t1"
}

worker_respawned() {
	local parent="$1" victim="$2" w
	[ "$(app_pid 1)" = "$parent" ] || return 1
	w="$(workers_of "$parent")"
	[ "$(echo "$w" | wc -w)" -ge 2 ] && ! grep -qx "$victim" <<<"$w"
}

phase_kill_worker() {
	local parent victim t0 t1
	parent="$(app_pid 1)"
	victim="$(workers_of "$parent" | head -n 1)"
	[ -n "$victim" ] || die "app1 has no worker"
	start_load kill-worker
	sleep "$PRE"
	t0="$(now)"
	kill -KILL "$victim"
	poll 10 worker_respawned "$parent" "$victim" || log "no new worker in app1 within 10 s"
	t1="$(now)"
	sleep "$POST"
	stop_load
	phase kill-worker kill_worker "$APP1_PORT" fault_start="$t0" fault_at="$t0" \
	    restore_start="$t0" restored_at="$t0" recovered_at="$t1"
}

phase_redis() {
	local code t0 t1 t2 t3 t4
	code="$(jq -r '.links[0].code' "$WORK/links.json")"
	start_load redis-down
	sleep "$PRE"
	t0="$(now)"
	REDIS_STOPPED=1
	"$SCRIPTS/redis.sh" stop "$RUN/redis" "$REDIS_PORT"
	t1="$(now)"
	sleep "$OUTAGE"
	t2="$(now)"
	"$SCRIPTS/redis.sh" start "$RUN/redis" "$REDIS_PORT"
	REDIS_STOPPED=0
	t3="$(now)"
	poll 20 cache_hit "$code" || log "no X-Cache: HIT within 20 s of Redis' restart"
	t4="$(now)"
	sleep "$POST"
	stop_load
	phase redis-down redis "" fault_start="$t0" fault_at="$t1" \
	    restore_start="$t2" restored_at="$t3" recovered_at="$t4"
}

phase_postgres() {
	local before after t0 t1 t2 t3 t4 restarted=false
	# Only cached links can be redirected without the database.
	python3 "$LOAD" warm --base "$BASE" --links "$WORK/links.json"
	before="$(all_pids)"
	start_load postgres-down
	sleep "$PRE"
	t0="$(now)"
	PG_STOPPED=1
	"$SCRIPTS/pg.sh" stop "$PG_DIR" "$PG_PORT"
	t1="$(now)"
	sleep "$OUTAGE"
	t2="$(now)"
	"$SCRIPTS/pg.sh" start "$PG_DIR" "$PG_PORT"
	PG_STOPPED=0
	t3="$(now)"
	poll 30 all_ready || log "not every instance is ready 30 s after PostgreSQL's restart"
	t4="$(now)"
	sleep "$POST"
	stop_load
	after="$(all_pids)"
	[ "$before" = "$after" ] || restarted=true
	phase postgres-down postgres "" fault_start="$t0" fault_at="$t1" \
	    restore_start="$t2" restored_at="$t3" recovered_at="$t4" app_restarted="$restarted"
}

phase_rolling() {
	local before t0 t1 n all=true
	before="$(app_pid 1) $(app_pid 2) $(app_pid 3)"
	start_load rolling-restart
	sleep "$PRE"
	t0="$(now)"
	RUN_DIR="$RUN" "$SCRIPTS/stack.sh" restart
	t1="$(now)"
	for n in 1 2 3; do
		grep -qw "$(app_pid "$n")" <<<"$before" && all=false
	done
	sleep "$POST"
	stop_load
	phase rolling-restart rolling "" fault_start="$t0" fault_at="$t0" \
	    restore_start="$t0" restored_at="$t0" recovered_at="$t1" all_restarted="$all"
}

# ---- main -------------------------------------------------------------------

main() {
	while [ $# -gt 0 ]; do
		case "$1" in
		--short) PROFILE=short ;;
		--full) PROFILE=full ;;
		--doc) [ $# -ge 2 ] || usage; DOC="$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")"; shift ;;
		*) usage ;;
		esac
		shift
	done
	need_cmd python3
	need_cmd jq
	need_cmd ss
	set_profile
	load_stack
	trap cleanup EXIT
	rm -rf "$WORK"
	mkdir -p "$WORK"
	RUN_ID="c$(date +%s)"
	log "profile $PROFILE against $BASE (run $RUN_ID, records in $WORK)"
	python3 "$LOAD" setup --base "http://127.0.0.1:$APP1_PORT" --run-id "$RUN_ID" \
	    --links "$LINKS" --out "$WORK/links.json" --records "$WORK/records-setup.jsonl"
	phase_kill_instance
	phase_kill_worker
	phase_redis
	phase_postgres
	phase_rolling
	jq -s . "$WORK"/phase-*.json >"$WORK/phases.json"
	# Phases in the order they ran.
	jq 'sort_by(.fault_at)' "$WORK/phases.json" >"$WORK/phases.tmp" && mv "$WORK/phases.tmp" "$WORK/phases.json"
	local doc=()
	[ -z "$DOC" ] || doc=(--doc "$DOC")
	python3 "$LOAD" check --links "$WORK/links.json" --run-id "$RUN_ID" \
	    --phases "$WORK/phases.json" --records "$WORK" \
	    --nginx-log "$RUN/nginx/access.log" --db "$DATABASE_URL" \
	    --app-ports "$APP1_PORT,$APP2_PORT,$APP3_PORT" \
	    --out "$WORK/summary.json" --profile "$PROFILE" \
	    --command "${CHAOS_COMMAND:-scripts/chaos.sh --$PROFILE}" "${doc[@]}"
}

main "$@"
