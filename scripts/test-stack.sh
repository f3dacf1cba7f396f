#!/usr/bin/env bash
#
# test-stack.sh [--full]: the Docker-free production topology, end to end.
#
#   1. docker-compose.yml is valid (`docker-compose config`, in a temp copy
#      with .env.example as .env; the files it mounts exist in the repo)
#   2. `scripts/stack.sh up` on FREE loopback ports in a temp dir (never
#      the developer's ./run or their `make up` ports): PostgreSQL, Redis,
#      three supervised instances, nginx, Alertmanager, Prometheus
#   3. status, a second `up` changes nothing, a busy port is refused by name
#   3b. never stale: a link cached on all three instances (Redis and the
#      workers' local copies), deactivated through nginx, is a 404 on
#      every instance at once
#   3c. the hostile HTTP corpus through nginx (scripts/test-hostile.sh):
#      every answer JSON, every worker of the three instances alive after
#      every case, the database unchanged
#   4. the chaos suite (scripts/chaos.sh): --short by default, a few seconds
#      per fault; --full (`make chaos`) runs the long version and rewrites
#      the generated section of docs/failure-modes.md with its figures
#   5. `scripts/stack.sh down` leaves no process and no port behind
#
# Everything it starts is stopped, and the temp dir removed, on any exit
# (logs are kept in .build/test-logs/stack/). The last line is
# "N passed, M failed"; the exit status is non-zero when anything failed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="test-stack"

LOGS="$REPO_ROOT/.build/test-logs/stack"
PROFILE=short
TMP=""
PASSED=0
FAILED=0
PORT_VARS=(PG_PORT REDIS_PORT APP1_PORT APP2_PORT APP3_PORT NGINX_PORT
    PROMETHEUS_PORT ALERTMANAGER_PORT)

pass() {
	PASSED=$((PASSED + 1))
	log "PASS $*"
}

fail() {
	FAILED=$((FAILED + 1))
	log "FAIL $*"
}

# The EXIT trap: the stack down whatever happened, logs kept, totals.
cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	if [ -n "$TMP" ]; then
		[ -f "$RUN_DIR/stack.env" ] && "$SCRIPTS/stack.sh" down >/dev/null 2>&1
		keep_logs
		rm -rf "$TMP"
	fi
	if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
		log "a step failed (see above): counted as one failure"
		FAILED=1
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
	exit "$rc"
}

keep_logs() {
	local f
	rm -rf "$LOGS"
	mkdir -p "$LOGS"
	for f in app1/app.log app2/app.log app3/app.log nginx/access.log \
	    nginx/error.log redis/redis.log prometheus/prometheus.log \
	    alertmanager/alertmanager.log chaos/summary.json; do
		[ -f "$RUN_DIR/$f" ] && cp "$RUN_DIR/$f" "$LOGS/${f//\//-}"
	done
	[ -f "$RUN_DIR/pg/server.log" ] && cp "$RUN_DIR/pg/server.log" "$LOGS/postgresql.log"
	# Every request of the chaos run, its phases and the verdicts.
	[ -d "$RUN_DIR/chaos" ] && cp -R "$RUN_DIR/chaos" "$LOGS/chaos"
	return 0
}

# ---- 1. docker-compose.yml ------------------------------------------------

# docker-compose 1.29 reads .env (variables) and needs every env_file to
# exist, both beside the compose file: a temp copy gets .env.example as
# .env, so the repository never holds a .env. Bind mounts resolve against
# the copy's directory; each must exist in the repository.
test_compose() {
	local dir="$TMP/compose" out err missing=() src
	mkdir -p "$dir"
	cp "$REPO_ROOT/docker-compose.yml" "$dir/"
	cp "$REPO_ROOT/.env.example" "$dir/.env"
	if ! out="$(cd "$dir" && docker-compose config 2>"$dir/stderr")"; then
		fail "docker-compose config: $(cat "$dir/stderr")"
		return
	fi
	err="$(grep -i warn "$dir/stderr" || true)"
	[ -z "$err" ] || { fail "docker-compose config warns: $err"; return; }
	while read -r src; do
		[ -e "$REPO_ROOT/${src#"$dir"/}" ] || missing+=("${src#"$dir"/}")
	done < <(grep -o "$dir/[^:]*" <<<"$out" | sort -u)
	[ -f "$REPO_ROOT/Dockerfile" ] || missing+=(Dockerfile)
	if [ ${#missing[@]} -gt 0 ]; then
		fail "docker-compose.yml mounts files the repository lacks: ${missing[*]}"
		return
	fi
	pass "docker-compose config: valid, $(grep -c '^  [a-z]' <<<"$(sed -n '/^services:/,/^[a-z]/p' <<<"$out")") services, every mounted file present"
}

# ---- 2-3. the stack ---------------------------------------------------------

free_ports() {
	local v
	for v in "${PORT_VARS[@]}"; do
		export "$v=$(free_port)"
	done
}

test_up() {
	local t0=$SECONDS
	if PG_FAST=1 "$SCRIPTS/stack.sh" up >"$TMP/up.log" 2>&1; then
		pass "stack up in $((SECONDS - t0)) s (nginx on 127.0.0.1:$NGINX_PORT)"
	else
		tail -n 30 "$TMP/up.log" >&2
		fail "stack up (log above)"
		exit 1
	fi
}

# Pids of everything but the app instances (which `up` rolls when their
# module was rebuilt meanwhile, e.g. by a commit between the two runs).
service_pids() {
	{
		cat "$RUN_DIR/nginx/nginx.pid" "$RUN_DIR/redis/redis.pid" \
		    "$RUN_DIR/prometheus/prometheus.pid" \
		    "$RUN_DIR/alertmanager/alertmanager.pid" "$RUN_DIR"/app?/supervisor.pid
		head -n 1 "$(readlink -f "$RUN_DIR/pg")/postmaster.pid"
	} 2>/dev/null | sort
}

test_status_and_again() {
	local before apps module="$REPO_ROOT/.build/prod/shortener/shortener.so" stamp
	if "$SCRIPTS/stack.sh" status >"$TMP/status.log" 2>&1; then
		pass "stack status: every service up ($(grep -c ' up ' "$TMP/status.log") lines)"
	else
		cat "$TMP/status.log" >&2
		fail "stack status"
	fi
	before="$(service_pids)"
	apps="$(cat "$RUN_DIR"/app?/app.pid)"
	stamp="$(stat -c %Y "$module")"
	if ! PG_FAST=1 "$SCRIPTS/stack.sh" up >"$TMP/up2.log" 2>&1; then
		tail -n 20 "$TMP/up2.log" >&2
		fail "a second up failed"
	elif [ "$(service_pids)" != "$before" ]; then
		fail "a second up restarted services"
	elif [ "$(cat "$RUN_DIR"/app?/app.pid)" = "$apps" ]; then
		pass "a second up is harmless: nothing restarted"
	elif [ "$(stat -c %Y "$module")" != "$stamp" ]; then
		pass "a second up is harmless: only a rolling restart onto the module rebuilt meanwhile"
	else
		fail "a second up restarted app instances whose module had not changed"
	fi
}

# A second stack in another dir whose nginx port is the first one's: it
# must stop before starting anything and name the port.
test_busy_port() {
	local out rc=0
	out="$(RUN_DIR="$TMP/other" PG_PORT="$(free_port)" REDIS_PORT="$(free_port)" \
	    APP1_PORT="$(free_port)" APP2_PORT="$(free_port)" APP3_PORT="$(free_port)" \
	    PROMETHEUS_PORT="$(free_port)" ALERTMANAGER_PORT="$(free_port)" \
	    "$SCRIPTS/stack.sh" up 2>&1)" || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "port $NGINX_PORT is already in use" <<<"$out" &&
	    [ ! -e "$TMP/other/pg" ]; then
		pass "a busy port is refused by name before anything starts"
	else
		echo "$out" | tail -n 5 >&2
		fail "busy port: exit $rc, message not naming port $NGINX_PORT, or something started"
	fi
}

# ---- 3b. never stale across replicas ------------------------------------------

# HEAD /CODE on 127.0.0.1:PORT: the status, then the X-Cache value.
head_code() {
	curl -s -o /dev/null -I -m 5 -D - "http://127.0.0.1:$1/$2" |
	    tr -d '\r' | awk 'NR == 1 { s = $2 } tolower($1) == "x-cache:" { c = $2 }
		END { print s, c }'
}

# A link cached on every instance, in Redis and in the workers' local
# copies, is deactivated through nginx; the next redirect on each of the
# three instances must be a 404 (docs/decisions.md, local cache).
test_never_stale() {
	local base="http://127.0.0.1:$NGINX_PORT" user url id code port i got
	local stale=0 warm=0
	user="$(curl -s -m 5 -H 'Content-Type: application/json' \
	    -d "{\"username\":\"stale\",\"email\":\"stale-$$@example.com\"}" \
	    "$base/users" | jq -r .id)"
	url="$(curl -s -m 5 -H 'Content-Type: application/json' \
	    -d "{\"user_id\":$user,\"original_url\":\"https://example.com/stale\"}" \
	    "$base/urls")"
	id="$(jq -r .id <<<"$url")"
	code="$(jq -r .short_code <<<"$url")"
	if [[ ! "$id" =~ ^[0-9]+$ ]]; then
		fail "never stale: could not create a link ($url)"
		return
	fi
	for port in "$APP1_PORT" "$APP2_PORT" "$APP3_PORT"; do
		for ((i = 0; i < 20; i++)); do
			[ "$(head_code "$port" "$code")" = "302 HIT" ] && warm=$((warm + 1))
		done
	done
	curl -s -o /dev/null -m 5 -X PUT -H 'Content-Type: application/json' \
	    -d '{"is_active":false}' "$base/urls/$id"
	for port in "$APP1_PORT" "$APP2_PORT" "$APP3_PORT"; do
		for ((i = 0; i < 5; i++)); do
			got="$(head_code "$port" "$code")"
			[ "${got%% *}" = 404 ] || { stale=$((stale + 1)); echo "  :$port /$code after PUT: $got" >&2; }
		done
	done
	if [ "$warm" -eq 0 ]; then
		fail "never stale: the link never became a cache HIT on any instance"
	elif [ "$stale" -eq 0 ]; then
		pass "never stale: cached on all three instances ($warm HITs), deactivated through nginx, then 404 on every instance at once"
	else
		fail "never stale: $stale of 15 redirects after the PUT still answered"
	fi
}

# ---- 3c. hostile input through nginx --------------------------------------

test_hostile() {
	local out="$TMP/hostile.log" line p f rc=0
	HOSTILE_URL="http://127.0.0.1:$NGINX_PORT" HOSTILE_VIA=nginx \
	    HOSTILE_PIDFILES="$RUN_DIR/app1/app.pid:$RUN_DIR/app2/app.pid:$RUN_DIR/app3/app.pid" \
	    DATABASE_URL="$(pg_url "$PG_PORT")" \
	    "$SCRIPTS/test-hostile.sh" nginx 2>&1 | tee "$out" || rc=$?
	line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)"
	if [ -z "$line" ]; then
		fail "hostile corpus did not finish (exit $rc, see above)"
		return
	fi
	read -r p _ f _ <<<"$line"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
}

# ---- 4. chaos -------------------------------------------------------------

test_chaos() {
	local args=(--short) cmd="scripts/test-stack.sh" line p f
	if [ "$PROFILE" = full ]; then
		args=(--full --doc "$REPO_ROOT/docs/failure-modes.md")
		cmd="make chaos"
	fi
	CHAOS_COMMAND="$cmd" "$SCRIPTS/chaos.sh" "${args[@]}" 2>&1 | tee "$TMP/chaos.log" || true
	line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$TMP/chaos.log" | tail -n 1)"
	if [ -z "$line" ]; then
		fail "chaos suite did not finish (see above)"
		return
	fi
	read -r p _ f _ <<<"$line"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
}

# ---- 5. down -----------------------------------------------------------------

test_down() {
	local before left=() pid v
	before="$(service_pids) $(cat "$RUN_DIR"/app?/app.pid 2>/dev/null)"
	"$SCRIPTS/stack.sh" down >"$TMP/down.log" 2>&1 || { fail "stack down"; return; }
	for pid in $before; do
		proc_alive "$pid" && left+=("pid $pid")
	done
	for v in "${PORT_VARS[@]}"; do
		port_in_use "${!v}" && left+=("port ${!v} ($v)")
	done
	if [ ${#left[@]} -eq 0 ]; then
		pass "stack down: no process, no port left"
	else
		fail "stack down left: ${left[*]}"
	fi
}

main() {
	case "${1:-}" in
	"") ;;
	--full) PROFILE=full ;;
	*) echo "usage: $0 [--full]" >&2; exit 2 ;;
	esac
	need_cmd docker-compose
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/shortener-stack.XXXXXX")"
	# The postgres user must reach the cluster under it (pg.sh).
	chmod 711 "$TMP"
	export RUN_DIR="$TMP/run"
	trap cleanup EXIT
	test_compose
	free_ports
	test_up
	test_status_and_again
	test_busy_port
	test_never_stale
	test_hostile
	test_chaos
	test_down
}

main "$@"
