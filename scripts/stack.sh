#!/usr/bin/env bash
#
# stack.sh up|down|status|logs [-f]|restart: the production topology of
# docker-compose.yml on this machine, without Docker.
#
#   up       install missing packages, build (flavor prod), then start
#            what is not running yet: PostgreSQL (migrated, seeded when
#            empty), Redis, three supervised app instances, nginx in front
#            of them, Alertmanager, Prometheus. Running it again is
#            harmless; an instance whose module was rebuilt gets a rolling
#            restart. A port that something else holds stops it before
#            anything starts, naming the port.
#   down     stop everything `up` started, in reverse order (the apps
#            flush their click queues while PostgreSQL is still up); data
#            stays in ./run for the next `up`
#   status   one line per service: state, address, pid; exit 1 if any is down
#   logs     the tail of every log: app JSON logs, nginx's JSON access log,
#            the rest (-f: follow)
#   restart  rolling restart of the app instances, one at a time: take it
#            out of nginx, wait until nginx has no request on it, SIGTERM
#            it (its supervisor starts it again), wait for its /health,
#            put it back; then the next. No request fails (docs/failure-modes.md)
#
# Everything lives under ./run (RUN_DIR): run/pg, run/redis, run/app1..3
# (conf, log, pids of the supervisor and of the current Kore parent),
# run/nginx, run/prometheus, run/alertmanager, run/seed (generated seed)
# and run/stack.env (the ports of the last `up`, so that status, down and
# restart need no environment).
#
# Ports (all on 127.0.0.1; the environment wins, then the last `up`, then
# these defaults): NGINX_PORT 8080 (the public base URL; APP_PORT is its
# former name), APP1_PORT..APP3_PORT 8081..8083, PG_PORT 15432, REDIS_PORT
# 6380, PROMETHEUS_PORT 9090, ALERTMANAGER_PORT 9093. The instances get
# LOG_LEVEL (info) and TRUSTED_PROXIES=127.0.0.1: nginx is their proxy.
#
# API keys (docs/security.md): off by default here, the open contract;
# API_KEYS_REQUIRED=1 turns them on, with an admin key generated once
# into run/admin.key (stored in the database as its hash) and printed by
# the banner. With keys off the app's per-address API budget is off too
# (RATE_LIMIT_PER_ADDRESS=0 unless set): every anonymous client would
# share it; nginx's per-address limits stay.
# ALERT_WEBHOOK_URL (default http://127.0.0.1:9/, the discard port where
# nothing listens: notifications fail and are logged by Alertmanager) is
# where Alertmanager posts; set a real one to receive alerts.
#
# nginx and Prometheus run the repository's own nginx.conf and
# prometheus.yml, rewritten mechanically (lines marked "stack:" in
# nginx.conf, scripts/prometheus-config.sh for prometheus.yml), never a
# second hand-written configuration. Grafana has no Debian package: it
# runs only under docker-compose.
#
# Each service has NAME_up, NAME_down, NAME_status, NAME_logs and
# NAME_running below and a place in SERVICES (started in that order,
# stopped in reverse).

# The ports (PG_PORT, APP1_PORT, ...) are set by load_ports (printf -v);
# nginx's -e and 2>> name the same log on purpose.
# shellcheck disable=SC2153,SC2094
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="stack"

RUN="${RUN_DIR:-$REPO_ROOT/run}"
STATE="$RUN/stack.env"
SERVICES=(postgres redis app1 app2 app3 nginx alertmanager prometheus)
APPS=(1 2 3)
MODULE="$REPO_ROOT/.build/prod/shortener/shortener.so"
START_TIMEOUT="${STACK_START_TIMEOUT:-30}"

PORT_VARS=(PG_PORT REDIS_PORT APP1_PORT APP2_PORT APP3_PORT NGINX_PORT
    PROMETHEUS_PORT ALERTMANAGER_PORT)
declare -A PORT_DEFAULT=(
	[PG_PORT]=15432 [REDIS_PORT]=6380 [APP1_PORT]=8081 [APP2_PORT]=8082
	[APP3_PORT]=8083 [NGINX_PORT]=8080 [PROMETHEUS_PORT]=9090
	[ALERTMANAGER_PORT]=9093
)
# Which port each service listens on (for the busy-port check).
declare -A SERVICE_PORT=(
	[postgres]=PG_PORT [redis]=REDIS_PORT [app1]=APP1_PORT
	[app2]=APP2_PORT [app3]=APP3_PORT [nginx]=NGINX_PORT
	[alertmanager]=ALERTMANAGER_PORT [prometheus]=PROMETHEUS_PORT
)

# ---- ports and shared helpers ----------------------------------------

# Ports: the environment wins, then the last `up`, then the defaults.
load_ports() {
	local v
	declare -A from_env=()
	for v in "${PORT_VARS[@]}"; do
		from_env[$v]="${!v:-}"
	done
	if [ -z "${from_env[NGINX_PORT]}" ] && [ -n "${APP_PORT:-}" ]; then
		from_env[NGINX_PORT]="$APP_PORT"
	fi
	# shellcheck disable=SC1090 # written by save_ports
	[ -f "$STATE" ] && . "$STATE"
	for v in "${PORT_VARS[@]}"; do
		printf -v "$v" '%s' "${from_env[$v]:-${!v:-${PORT_DEFAULT[$v]}}}"
		[[ "${!v}" =~ ^[0-9]+$ ]] || die "$v is not a port number: ${!v}"
	done
}

save_ports() {
	local v
	for v in "${PORT_VARS[@]}"; do
		printf '%s=%s\n' "$v" "${!v}"
	done >"$STATE"
}

pidfile_alive() {
	[ -f "$1" ] && proc_alive "$(cat "$1")"
}

pidfile_pid() {
	if [ -f "$1" ]; then cat "$1"; else echo -; fi
}

# spawn PIDFILE LOG CMD...: start CMD in a session of its own (a Ctrl-C
# or a closed terminal during `make up` must not reach it), record its pid.
spawn() {
	local pidfile="$1" logfile="$2"
	shift 2
	setsid "$@" </dev/null >>"$logfile" 2>&1 &
	echo $! >"$pidfile"
}

http_code() {
	curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

# wait_http URL PIDFILE WHAT LOG: poll until URL answers 200 while the
# process lives; on failure show the log's tail and fail.
wait_http() {
	local url="$1" pidfile="$2" what="$3" logfile="$4"
	local deadline=$((SECONDS + START_TIMEOUT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		pidfile_alive "$pidfile" || break
		[ "$(http_code "$url")" = 200 ] && return 0
		sleep 0.1
	done
	tail -n 20 "$logfile" >&2 2>/dev/null || true
	log "error: $what did not become ready ($url; log: $logfile)"
	return 1
}

# require_free PORT WHAT: a port held by anyone else is a clear error.
require_free() {
	! port_in_use "$1" || die "port $1 is already in use: cannot start $2 on 127.0.0.1:$1 (set ${SERVICE_PORT[$2]} to another port)"
}

# status_line NAME STATE ADDRESS DETAILS
status_line() {
	printf '%-13s %-5s %-22s %s\n' "$1" "$2" "$3" "$4"
}

# ---- postgres -------------------------------------------------------

# pg_dir: run/pg, unless the postgres user cannot reach it (a checkout
# under a private home directory, as root): then a directory under
# /var/tmp named after RUN, linked from run/pg so that it is found again.
pg_dir() {
	local d="$RUN/pg" alt
	if [ -L "$d" ]; then
		readlink -f "$d"
	elif [ -d "$d" ] || as_pg_user test -x "$RUN" 2>/dev/null; then
		echo "$d"
	else
		alt="/var/tmp/shortener-$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)"
		mkdir -p "$alt"
		chmod 711 "$alt"
		ln -sfn "$alt/pg" "$d"
		echo "$alt/pg"
	fi
}

postgres_running() {
	[ -e "$RUN/pg" ] && "$SCRIPTS/pg.sh" status "$(pg_dir)" "$PG_PORT" >/dev/null 2>&1
}

postgres_up() {
	local dir
	dir="$(pg_dir)"
	"$SCRIPTS/pg.sh" init "$dir" "$PG_PORT"
	"$SCRIPTS/pg.sh" start "$dir" "$PG_PORT"
	export DATABASE_URL
	DATABASE_URL="$(pg_url "$PG_PORT")"
	"$SCRIPTS/migrate.sh"
	seed_if_empty
}

keys_required() {
	[ "${API_KEYS_REQUIRED:-0}" = 1 ] && echo 1 || echo 0
}

# The mode the running instances were started in (app_up records it).
keys_running() {
	cat "$(app_dir 1)/keys_required" 2>/dev/null || keys_required
}

# With keys on: the admin key of run/admin.key (made once), its hash
# stored by scripts/apikey.py bootstrap.
admin_key_bootstrap() {
	[ "$(keys_running)" = 1 ] || return 0
	export DATABASE_URL
	DATABASE_URL="$(pg_url "$PG_PORT")"
	if [ ! -s "$RUN/admin.key" ]; then
		(umask 077 && "$PYTHON" "$SCRIPTS/apikey.py" generate >"$RUN/admin.key")
	fi
	ADMIN_API_KEY="$(cat "$RUN/admin.key")" "$PYTHON" "$SCRIPTS/apikey.py" bootstrap
}

postgres_down() {
	[ -e "$RUN/pg" ] || return 0
	"$SCRIPTS/pg.sh" stop "$(pg_dir)" "$PG_PORT"
}

postgres_status() {
	local pid=-
	if postgres_running; then
		pid="$(head -n 1 "$(pg_dir)/postmaster.pid" 2>/dev/null || echo -)"
		status_line postgresql up "127.0.0.1:$PG_PORT" "pid $pid ($(pg_dir))"
		return 0
	fi
	status_line postgresql down "127.0.0.1:$PG_PORT" ""
	return 1
}

postgres_logs() {
	[ -e "$RUN/pg" ] && echo "$(pg_dir)/server.log"
	return 0
}

# seed_if_empty: the generated sample (tools/seedgen: 400 users, 2 000
# URLs, the shape of the hackathon's seed); never over existing data.
seed_if_empty() {
	local n dir="$RUN/seed"
	n="$(psql "$DATABASE_URL" -X -tAc 'SELECT count(*) FROM users')"
	if [ "$n" != 0 ]; then
		log "database holds $n users: not seeding"
		return 0
	fi
	make -C "$REPO_ROOT" --no-print-directory -s seed
	"$REPO_ROOT/tools/seedgen" --out "$dir" >/dev/null
	"$SCRIPTS/seed-load.sh" "$dir"
}

# ---- redis ----------------------------------------------------------

redis_running() {
	"$SCRIPTS/redis.sh" status "$RUN/redis" "$REDIS_PORT" >/dev/null 2>&1
}

redis_up() {
	"$SCRIPTS/redis.sh" start "$RUN/redis" "$REDIS_PORT"
}

redis_down() {
	[ -d "$RUN/redis" ] || return 0
	"$SCRIPTS/redis.sh" stop "$RUN/redis" "$REDIS_PORT"
}

redis_status() {
	if redis_running; then
		status_line redis up "127.0.0.1:$REDIS_PORT" "pid $(pidfile_pid "$RUN/redis/redis.pid")"
		return 0
	fi
	status_line redis down "127.0.0.1:$REDIS_PORT" ""
	return 1
}

redis_logs() {
	echo "$RUN/redis/redis.log"
}

# ---- app instances (supervised, scripts/supervise.sh) ---------------

app_dir() {
	echo "$RUN/app$1"
}

app_port() {
	local v="APP$1_PORT"
	echo "${!v}"
}

app_running() {
	pidfile_alive "$(app_dir "$1")/supervisor.pid"
}

app_up() {
	local n="$1" dir port
	dir="$(app_dir "$n")"
	port="$(app_port "$n")"
	if app_running "$n"; then
		log "app$n already running on 127.0.0.1:$port"
		return 0
	fi
	mkdir -p "$dir"
	rm -f "$dir/app.pid"
	keys_required >"$dir/keys_required"
	DATABASE_URL="$(pg_url "$PG_PORT")" \
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
	PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$NGINX_PORT}" \
	LOG_LEVEL="${LOG_LEVEL:-info}" TRUSTED_PROXIES=127.0.0.1 FLAVOR=prod \
	API_KEYS_REQUIRED="$(keys_required)" \
	RATE_LIMIT_PER_ADDRESS="${RATE_LIMIT_PER_ADDRESS:-$([ "$(keys_required)" = 1 ] && echo 1200 || echo 0)}" \
	WEB_PROMETHEUS_URL="${WEB_PROMETHEUS_URL:-http://127.0.0.1:$PROMETHEUS_PORT/}" \
	    spawn "$dir/supervisor.pid" "$dir/app.log" "$SCRIPTS/supervise.sh" "$port" "$dir"
	if ! wait_http "http://127.0.0.1:$port/health" "$dir/supervisor.pid" "app$n" "$dir/app.log"; then
		app_down "$n"
		exit 1
	fi
	log "app$n up on 127.0.0.1:$port (kore pid $(pidfile_pid "$dir/app.pid"))"
}

# app_down N: the supervisor forwards SIGTERM to Kore and waits for the
# workers' click flush; a Kore that outlived its supervisor is stopped too.
app_down() {
	local dir
	dir="$(app_dir "$1")"
	[ -d "$dir" ] || return 0
	pidfile_alive "$dir/supervisor.pid" && stop_pid "$(cat "$dir/supervisor.pid")" 30
	pidfile_alive "$dir/app.pid" && stop_pid "$(cat "$dir/app.pid")" 15
	rm -f "$dir/supervisor.pid" "$dir/app.pid"
}

app_status() {
	local n="$1" dir port code
	dir="$(app_dir "$n")"
	port="$(app_port "$n")"
	if ! app_running "$n"; then
		status_line "app$n" down "127.0.0.1:$port" ""
		return 1
	fi
	code="$(http_code "http://127.0.0.1:$port/health")"
	status_line "app$n" up "127.0.0.1:$port" \
	    "pid $(pidfile_pid "$dir/app.pid") (supervisor $(pidfile_pid "$dir/supervisor.pid"), restarts $(cat "$dir/restarts" 2>/dev/null || echo 0)), /health $code"
	[ "$code" = 200 ]
}

app_logs() {
	echo "$(app_dir "$1")/app.log"
}

app1_up() { app_up 1; }
app2_up() { app_up 2; }
app3_up() { app_up 3; }
app1_down() { app_down 1; }
app2_down() { app_down 2; }
app3_down() { app_down 3; }
app1_status() { app_status 1; }
app2_status() { app_status 2; }
app3_status() { app_status 3; }
app1_logs() { app_logs 1; }
app2_logs() { app_logs 2; }
app3_logs() { app_logs 3; }
app1_running() { app_running 1; }
app2_running() { app_running 2; }
app3_running() { app_running 3; }

# The single instance of the earlier layout (run/app on APP_PORT 8080):
# stopped so that its port is free for nginx.
legacy_app_down() {
	pidfile_alive "$RUN/app/app.pid" || return 0
	log "stopping the single app instance of the earlier layout (run/app)"
	"$SCRIPTS/app.sh" stop "$RUN/app"
}

# ---- nginx ----------------------------------------------------------

NGINX_DIR="$RUN/nginx"

# nginx_render [DRAINED]: nginx.conf with only the lines marked
# "# stack: WHAT" rewritten: the pid file and the access log into the run
# dir, the listen address onto loopback, app1..app3 onto their ports.
# DRAINED (1..3) marks that instance `down` (a rolling restart). Fails
# when a marked line is missing or did not match, so that an edit of
# nginx.conf cannot silently leave a docker-compose address in place.
nginx_render() {
	local drained="${1:-}"
	awk -v dir="$NGINX_DIR" -v listen="127.0.0.1:$NGINX_PORT" \
	    -v a1="127.0.0.1:$APP1_PORT" -v a2="127.0.0.1:$APP2_PORT" \
	    -v a3="127.0.0.1:$APP3_PORT" -v drained="app$drained" '
		BEGIN { addr["app1"] = a1; addr["app2"] = a2; addr["app3"] = a3 }
		/# stack: pid$/ && sub(/pid[ \t]+[^;]+;/, "pid " dir "/nginx.pid;") { done["pid"]++ }
		/# stack: access log$/ && sub(/access_log[ \t]+[^ \t;]+/, "access_log " dir "/access.log") { done["access log"]++ }
		/# stack: listen$/ && sub(/listen[ \t]+[^;]+;/, "listen " listen ";") { done["listen"]++ }
		/# stack: app[1-3]$/ {
			name = $NF
			if (sub(name ":8080", addr[name])) {
				done[name]++
				if (name == drained) sub(/;/, " down;")
			}
		}
		# "# env: NAME": the last number before the ";" becomes $NAME.
		/# env: [A-Z_]+$/ && ENVIRON[$NF] != "" {
			if (ENVIRON[$NF] !~ /^[0-9]+$/) {
				print "nginx.conf: " $NF " must be a number" > "/dev/stderr"
				bad = 1
			}
			semi = index($0, ";")
			head = substr($0, 1, semi - 1)
			match(head, /[0-9]+[^0-9]*$/)
			num = substr(head, RSTART)
			sub(/^[0-9]+/, ENVIRON[$NF], num)
			$0 = substr(head, 1, RSTART - 1) num substr($0, semi)
		}
		{ print }
		END {
			n = split("pid|access log|listen|app1|app2|app3", want, "|")
			for (i = 1; i <= n; i++)
				if (done[want[i]] != 1) {
					print "nginx.conf: the line marked \"# stack: " want[i] "\" is missing or did not match" > "/dev/stderr"
					bad = 1
				}
			exit bad
		}' "$REPO_ROOT/nginx.conf" >"$NGINX_DIR/nginx.conf.tmp" ||
	    die "cannot render nginx.conf"
	mv "$NGINX_DIR/nginx.conf.tmp" "$NGINX_DIR/nginx.conf"
	nginx -t -q -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" ||
	    die "nginx -t refused $NGINX_DIR/nginx.conf"
}

nginx_running() {
	pidfile_alive "$NGINX_DIR/nginx.pid"
}

nginx_up() {
	need_cmd nginx
	mkdir -p "$NGINX_DIR/tmp"
	if nginx_running; then
		log "nginx already running on 127.0.0.1:$NGINX_PORT"
		return 0
	fi
	nginx_render
	# nginx daemonizes and writes its own pid file; -e names the error
	# log used before the configuration is read (the default is under
	# /var/log), the configuration then sends it to stderr, i.e. here.
	nginx -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
	    </dev/null 2>>"$NGINX_DIR/error.log" ||
	    { tail -n 20 "$NGINX_DIR/error.log" >&2; die "nginx did not start"; }
	wait_http "http://127.0.0.1:$NGINX_PORT/health" "$NGINX_DIR/nginx.pid" nginx "$NGINX_DIR/error.log" ||
	    exit 1
}

nginx_down() {
	nginx_running || return 0
	stop_pid "$(cat "$NGINX_DIR/nginx.pid")" 15
}

nginx_status() {
	if nginx_running; then
		status_line nginx up "127.0.0.1:$NGINX_PORT" \
		    "pid $(pidfile_pid "$NGINX_DIR/nginx.pid"), /health $(http_code "http://127.0.0.1:$NGINX_PORT/health")"
		return 0
	fi
	status_line nginx down "127.0.0.1:$NGINX_PORT" ""
	return 1
}

nginx_logs() {
	echo "$NGINX_DIR/access.log"
	echo "$NGINX_DIR/error.log"
}

nginx_workers() {
	ps -o pid= --ppid "$(cat "$NGINX_DIR/nginx.pid")" 2>/dev/null | tr -d ' '
}

# nginx_reload [DRAINED]: render, reload, and wait until every worker of
# the old configuration has exited. Old workers finish the requests they
# hold and close their upstream keepalive connections before they exit,
# so afterwards a drained instance has no request from nginx left.
nginx_reload() {
	local old pid deadline=$((SECONDS + 30))
	nginx_render "${1:-}"
	old="$(nginx_workers)"
	nginx -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" -s reload
	for pid in $old; do
		while proc_alive "$pid"; do
			[ "$SECONDS" -lt "$deadline" ] || die "nginx worker $pid still busy after 30 s"
			sleep 0.05
		done
	done
}

# ---- alertmanager -----------------------------------------------------

AM_DIR="$RUN/alertmanager"

alertmanager_running() {
	pidfile_alive "$AM_DIR/alertmanager.pid"
}

alertmanager_up() {
	need_cmd prometheus-alertmanager
	if alertmanager_running; then
		log "alertmanager already running on 127.0.0.1:$ALERTMANAGER_PORT"
		return 0
	fi
	mkdir -p "$AM_DIR/data"
	ALERT_WEBHOOK_URL="${ALERT_WEBHOOK_URL:-http://127.0.0.1:9/}" \
	    "$SCRIPTS/alertmanager-config.sh" "$AM_DIR/alertmanager.yml"
	# An empty cluster address turns the gossip listener (0.0.0.0:9094
	# by default) off: everything stays on loopback.
	spawn "$AM_DIR/alertmanager.pid" "$AM_DIR/alertmanager.log" \
	    prometheus-alertmanager --config.file="$AM_DIR/alertmanager.yml" \
	    --storage.path="$AM_DIR/data" \
	    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" \
	    --cluster.listen-address=
	wait_http "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" "$AM_DIR/alertmanager.pid" \
	    alertmanager "$AM_DIR/alertmanager.log" || exit 1
}

alertmanager_down() {
	alertmanager_running || return 0
	stop_pid "$(cat "$AM_DIR/alertmanager.pid")" 15
}

alertmanager_status() {
	if alertmanager_running; then
		status_line alertmanager up "127.0.0.1:$ALERTMANAGER_PORT" "pid $(pidfile_pid "$AM_DIR/alertmanager.pid")"
		return 0
	fi
	status_line alertmanager down "127.0.0.1:$ALERTMANAGER_PORT" ""
	return 1
}

alertmanager_logs() {
	echo "$AM_DIR/alertmanager.log"
}

# ---- prometheus -------------------------------------------------------

PROM_DIR="$RUN/prometheus"

prometheus_running() {
	pidfile_alive "$PROM_DIR/prometheus.pid"
}

prometheus_up() {
	need_cmd prometheus
	if prometheus_running; then
		log "prometheus already running on 127.0.0.1:$PROMETHEUS_PORT"
		return 0
	fi
	mkdir -p "$PROM_DIR/data"
	"$SCRIPTS/prometheus-config.sh" "$PROM_DIR" \
	    "app1:8080=127.0.0.1:$APP1_PORT" "app2:8080=127.0.0.1:$APP2_PORT" \
	    "app3:8080=127.0.0.1:$APP3_PORT" \
	    "alertmanager:9093=127.0.0.1:$ALERTMANAGER_PORT" \
	    "localhost:9090=127.0.0.1:$PROMETHEUS_PORT" >/dev/null
	spawn "$PROM_DIR/prometheus.pid" "$PROM_DIR/prometheus.log" \
	    prometheus --config.file="$PROM_DIR/prometheus.yml" \
	    --storage.tsdb.path="$PROM_DIR/data" \
	    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
	wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" "$PROM_DIR/prometheus.pid" \
	    prometheus "$PROM_DIR/prometheus.log" || exit 1
}

prometheus_down() {
	prometheus_running || return 0
	stop_pid "$(cat "$PROM_DIR/prometheus.pid")" 15
}

prometheus_status() {
	if prometheus_running; then
		status_line prometheus up "127.0.0.1:$PROMETHEUS_PORT" "pid $(pidfile_pid "$PROM_DIR/prometheus.pid")"
		return 0
	fi
	status_line prometheus down "127.0.0.1:$PROMETHEUS_PORT" ""
	return 1
}

prometheus_logs() {
	echo "$PROM_DIR/prometheus.log"
}

# ---- rolling restart --------------------------------------------------

healthy_others() {
	local n="$1" m
	for m in "${APPS[@]}"; do
		[ "$m" = "$n" ] && continue
		[ "$(http_code "http://127.0.0.1:$(app_port "$m")/health")" = 200 ] && return 0
	done
	return 1
}

# restart_instance N: out of nginx, SIGTERM to Kore (the supervisor
# starts it again, with the current module), back into nginx once its
# /health answers. Kore 4.1 drops the requests a worker holds when it
# gets SIGTERM instead of finishing them, hence draining through nginx
# first rather than relying on Kore.
restart_instance() {
	local n="$1" dir port old deadline
	dir="$(app_dir "$n")"
	port="$(app_port "$n")"
	app_running "$n" || die "app$n is not running (make up)"
	healthy_others "$n" || die "no other instance is healthy: restarting app$n would drop traffic"
	old="$(cat "$dir/app.pid")"
	nginx_running && nginx_reload "$n"
	kill -TERM "$old" 2>/dev/null || true
	deadline=$((SECONDS + START_TIMEOUT))
	until [ "$(pidfile_pid "$dir/app.pid")" != "$old" ] &&
	    [ "$(http_code "http://127.0.0.1:$port/health")" = 200 ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "app$n did not come back within ${START_TIMEOUT}s (log: $dir/app.log)"
		sleep 0.05
	done
	nginx_running && nginx_reload
	log "app$n restarted (kore pid $old -> $(cat "$dir/app.pid"))"
}

cmd_restart() {
	local n
	for n in "${APPS[@]}"; do
		restart_instance "$n"
	done
}

# Instances running an older module than the build: rolled, not stopped.
restart_stale() {
	local n pidfile
	for n in "${APPS[@]}"; do
		pidfile="$(app_dir "$n")/app.pid"
		if [ ! -f "$pidfile" ] || [ ! "$MODULE" -nt "$pidfile" ]; then
			continue
		fi
		log "module rebuilt: rolling restart of app$n"
		restart_instance "$n"
	done
}

# ---- commands ---------------------------------------------------------

# preflight: every port of a service that is not running yet must be
# free, checked before anything starts.
preflight() {
	local s var
	for s in "${SERVICES[@]}"; do
		"${s}_running" && continue
		var="${SERVICE_PORT[$s]}"
		require_free "${!var}" "$s"
	done
}

banner() {
	local base="http://127.0.0.1:$NGINX_PORT" key="" mode
	mode="open: API keys not required (API_KEYS_REQUIRED=1 make up for keys)"
	if [ "$(keys_running)" = 1 ]; then
		mode="API keys required; the admin key is in run/admin.key"
		key=" -H 'X-Api-Key: $(cat "$RUN/admin.key")'"
	fi
	cat <<EOF

The shortener runs at $base (nginx in front of 3 instances)
Mode:         $mode

  Open $base/ in a browser: create, manage and study links
  API reference: $base/docs (OpenAPI document: $base/openapi.json)

  curl -s $base/health
  curl -s$key '$base/users?per_page=3'
  curl -s -X POST $base/urls$key -H 'Content-Type: application/json' \\
      -d '{"user_id": 1, "original_url": "https://example.com/hello"}'
  curl -si $base/<short_code>          # 302 to the original URL

Instances:    127.0.0.1:$APP1_PORT, :$APP2_PORT, :$APP3_PORT (GET /metrics on each)
Prometheus:   http://127.0.0.1:$PROMETHEUS_PORT    Alertmanager: http://127.0.0.1:$ALERTMANAGER_PORT
Grafana:      only in docker-compose (no Debian package)
Database:     psql '$(pg_url "$PG_PORT")'
Keys:         DATABASE_URL='$(pg_url "$PG_PORT")' scripts/apikey.py create|list|revoke
Status: make status   Logs: make logs   Rolling restart: scripts/stack.sh restart   Stop: make down
EOF
}

cmd_up() {
	local s
	"$SCRIPTS/deps.sh"
	"$SCRIPTS/build.sh" prod
	mkdir -p "$RUN"
	legacy_app_down
	preflight
	for s in "${SERVICES[@]}"; do
		"${s}_up"
	done
	admin_key_bootstrap
	# Only ports that worked are remembered for status/down/next up.
	save_ports
	restart_stale
	banner
}

cmd_down() {
	local i
	for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
		"${SERVICES[i]}_down"
	done
	legacy_app_down
	log "stopped (data kept in $RUN; remove it for a fresh start)"
}

cmd_status() {
	local s rc=0
	for s in "${SERVICES[@]}"; do
		"${s}_status" || rc=1
	done
	status_line grafana - - "only in docker-compose (no Debian package)"
	return "$rc"
}

cmd_logs() {
	local s f files=()
	for s in "${SERVICES[@]}"; do
		while IFS= read -r f; do
			[ -n "$f" ] && [ -f "$f" ] && files+=("$f")
		done < <("${s}_logs")
	done
	[ ${#files[@]} -gt 0 ] || { log "no logs yet"; return 0; }
	if [ "${1:-}" = -f ]; then
		tail -n 20 -F "${files[@]}"
	else
		tail -n 20 "${files[@]}"
	fi
}

main() {
	local cmd="${1:-}"
	[ $# -gt 0 ] && shift
	load_ports
	case "$cmd" in
	up) cmd_up ;;
	down) cmd_down ;;
	status) cmd_status ;;
	logs) cmd_logs "$@" ;;
	restart) cmd_restart ;;
	*) echo "usage: $0 up|down|status|logs [-f]|restart" >&2; exit 2 ;;
	esac
}

main "$@"
