#!/usr/bin/env bash
#
# stack.sh up|down|status|logs [-f]: the whole service on this machine.
#
#   up      install missing packages, build (flavor prod), start a private
#           PostgreSQL, migrate, seed an empty database, start the app;
#           pieces already running are left alone (the app is restarted
#           only when its module was rebuilt)
#   down    stop what `up` started; data stays in ./run for the next `up`
#   status  one line per piece; exit 1 if any is down
#   logs    the tail of every log (-f: follow)
#
# Everything lives under ./run (RUN_DIR): run/pg (the cluster), run/app
# (the app instance), run/seed (generated seed), run/stack.env (the ports
# of the last `up`, so that status/down need no environment).
#
# Defaults: PG_PORT=55432 (away from a distribution cluster on 5432 and
# the next ones Debian hands out), APP_PORT=8080. All on 127.0.0.1.
#
# Pieces are services: each has NAME_up, NAME_down, NAME_status and
# NAME_logs below and a place in SERVICES (started in that order, stopped
# in reverse). Redis, more app instances, nginx and Prometheus are meant
# to be added the same way.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="stack"

RUN="${RUN_DIR:-$REPO_ROOT/run}"
STATE="$RUN/stack.env"
SERVICES=(postgres app)

# Ports: the environment wins, then the last `up`, then the defaults.
load_ports() {
	local env_pg="${PG_PORT:-}" env_app="${APP_PORT:-}"
	# shellcheck disable=SC1090 # written by save_ports
	[ -f "$STATE" ] && . "$STATE"
	PG_PORT="${env_pg:-${PG_PORT:-55432}}"
	APP_PORT="${env_app:-${APP_PORT:-8080}}"
}

save_ports() {
	printf 'PG_PORT=%s\nAPP_PORT=%s\n' "$PG_PORT" "$APP_PORT" >"$STATE"
}

# ---- postgres -------------------------------------------------------

# pg_dir: run/pg, unless the postgres user cannot reach it (a checkout
# under a private home directory, as root): then a directory under
# /var/tmp, linked from run/pg so that it is found again.
pg_dir() {
	local d="$RUN/pg" alt
	if [ -L "$d" ]; then
		readlink -f "$d"
	elif [ -d "$d" ] || as_pg_user test -x "$RUN" 2>/dev/null; then
		echo "$d"
	else
		alt="/var/tmp/shortener-$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
		mkdir -p "$alt"
		chmod 711 "$alt"
		ln -sfn "$alt/pg" "$d"
		echo "$alt/pg"
	fi
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

postgres_down() {
	[ -e "$RUN/pg" ] || return 0
	"$SCRIPTS/pg.sh" stop "$(pg_dir)" "$PG_PORT"
}

postgres_status() {
	[ -e "$RUN/pg" ] || { echo "postgresql: not set up"; return 1; }
	"$SCRIPTS/pg.sh" status "$(pg_dir)" "$PG_PORT"
}

postgres_logs() {
	[ -e "$RUN/pg" ] || return 0
	echo "$(pg_dir)/server.log"
}

# seed_if_empty: the shared seed beside the repo when there is one, else
# a generated one; never over existing data.
seed_if_empty() {
	local n dir="$SHARED_SEED"
	n="$(psql "$DATABASE_URL" -X -tAc 'SELECT count(*) FROM users')"
	if [ "$n" != 0 ]; then
		log "database holds $n users: not seeding"
		return 0
	fi
	if [ ! -d "$dir" ]; then
		dir="$RUN/seed"
		make -C "$REPO_ROOT" --no-print-directory -s seed
		"$REPO_ROOT/tools/seedgen" --out "$dir"
	fi
	"$SCRIPTS/seed-load.sh" "$dir"
}

# ---- app ------------------------------------------------------------

app_up() {
	local dir="$RUN/app" module="$REPO_ROOT/.build/prod/shortener/shortener.so"
	export DATABASE_URL
	DATABASE_URL="$(pg_url "$PG_PORT")"
	if "$SCRIPTS/app.sh" status "$dir"; then
		# A running instance with an older module is restarted.
		[ "$module" -nt "$dir/app.pid" ] || {
			log "app already running on 127.0.0.1:$APP_PORT"
			return 0
		}
		log "module rebuilt: restarting the app"
		"$SCRIPTS/app.sh" stop "$dir"
	fi
	FLAVOR=prod "$SCRIPTS/app.sh" start "$APP_PORT" "$dir"
}

app_down() {
	"$SCRIPTS/app.sh" stop "$RUN/app"
}

app_status() {
	local code
	if ! "$SCRIPTS/app.sh" status "$RUN/app"; then
		echo "app: down"
		return 1
	fi
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
	    "http://127.0.0.1:$APP_PORT/health" || true)"
	echo "app: up on http://127.0.0.1:$APP_PORT (pid $(cat "$RUN/app/app.pid"), /health: $code)"
	[ "$code" = 200 ]
}

app_logs() {
	echo "$RUN/app/app.log"
}

# ---- commands -------------------------------------------------------

banner() {
	local base="http://127.0.0.1:$APP_PORT"
	cat <<EOF

The shortener runs at $base

  curl -s $base/health
  curl -s '$base/users?per_page=3'
  curl -s -X POST $base/urls -H 'Content-Type: application/json' \\
      -d '{"user_id": 1, "original_url": "https://example.com/hello"}'
  curl -si $base/<short_code>          # 302 to the original URL

Database: psql '$(pg_url "$PG_PORT")'
Logs: make logs    Status: make status    Stop: make down
EOF
}

cmd_up() {
	"$SCRIPTS/deps.sh"
	"$SCRIPTS/build.sh" prod
	mkdir -p "$RUN"
	local s
	for s in "${SERVICES[@]}"; do
		"${s}_up"
	done
	# Only ports that worked are remembered for status/down/next up.
	save_ports
	banner
}

cmd_down() {
	local i
	for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
		"${SERVICES[i]}_down"
	done
	log "stopped (data kept in $RUN; remove it for a fresh start)"
}

cmd_status() {
	local s rc=0
	for s in "${SERVICES[@]}"; do
		"${s}_status" || rc=1
	done
	return "$rc"
}

cmd_logs() {
	local s f files=()
	for s in "${SERVICES[@]}"; do
		f="$("${s}_logs")"
		[ -n "$f" ] && [ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || { log "no logs yet"; return 0; }
	if [ "${1:-}" = -f ]; then
		tail -n 20 -F "${files[@]}"
	else
		tail -n 40 "${files[@]}"
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
	*) echo "usage: $0 up|down|status|logs [-f]" >&2; exit 2 ;;
	esac
}

main "$@"
