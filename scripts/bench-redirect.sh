#!/usr/bin/env bash
#
# bench-redirect.sh: the redirect benchmark (`make bench`).
#
# Builds the app (flavor prod) and a trivial Kore module that answers
# every request with a fixed 302 (tests/bench/trivial302, same Kore
# tuning as conf/shortener.conf), starts a private PostgreSQL (seeded with
# BENCH_URLS generated URLs), a private Redis, two app instances
# (LOG_LEVEL=warn and LOG_LEVEL=info) and the trivial module, all on free
# loopback ports, and drives them with wrk:
#
#   1. HIT      one hot cached code, on the trivial module, the app (GET),
#               the app (HEAD: the same redirect without a click) and the
#               app logging every request (LOG_LEVEL=info, to a file), in
#               turn, BENCH_ROUNDS times: requests/s, p50, p99; targets:
#               app/trivial >= 0.5 and logging costing at most 10% of the
#               throughput
#   2. STEADY   the same three redirects (trivial, GET, HEAD) at steady
#               offered loads of BENCH_RATES requests/s over the same 64
#               connections, in turn: p50, p99; target: app GET p99
#               < 2 ms. At saturation 64 connections make latency a
#               queue (Little: 64 / throughput is the mean), so the p99
#               target is judged here; phase 1 prints its p99 too.
#   3. MISS     the app on distinct existing codes (tests/bench/miss.lua)
#               after emptying Redis: every request reads PostgreSQL
#   4. clicks   the click writer's batches during each app run: exact, from
#               the database (the rows of one insert share its transaction
#               id, xmin), and from GET /metrics when the app serves it
#
# wrk, the servers, Redis and PostgreSQL share this machine's cores: each
# run also prints the CPU time per request of every party and how busy
# the machine was with anything else. Taking turns in rounds spreads
# such outside load evenly over the servers being compared.
#
# Environment: BENCH_SECONDS (15) of measurement per server and path,
# split into BENCH_ROUNDS (3) turns; BENCH_WARMUP (2) seconds of load on
# each server before; BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# BENCH_URLS (250000) URLs in the seed; BENCH_RATES ("4000 8000")
# requests/s offered in phase 2, by one wrk thread. Missed targets are printed, not
# failed: the exit status is non-zero only when the benchmark could not
# run or measured something else than redirects (error responses).
# Everything started is stopped and the temp dir removed on any exit; the
# logs and wrk reports of the last run stay in .build/bench/logs/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="bench"

RUN_SECONDS="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-3}"
WARMUP_SECONDS="${BENCH_WARMUP:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
URLS="${BENCH_URLS:-250000}"
RATES="${BENCH_RATES:-4000 8000}"
TARGET_RATIO=0.5
TARGET_P99_MS=2
TARGET_LOG_COST=0.10

BENCH="$REPO_ROOT/tests/bench"
BUILD="$REPO_ROOT/.build/bench"
FARM="$BUILD/trivial302"
LOGS="$BUILD/logs"
SEED="$BUILD/seed-$URLS"
CLK_TCK="$(getconf CLK_TCK)"
NCPU="$(nproc)"

TMP=""
PG_DIR=""
PG_PORT=""
REDIS_DIR=""
REDIS_PORT=""
HOT=""
INVALID=0
# Per server: its port and its directory (app instances: app-warn, app-info).
declare -A PORT DIR

# Per run name, summed over its rounds: requests, microseconds of load
# (wrk's) and of the CPU sampling interval (a bit longer), CPU ticks
# of the server, Redis, PostgreSQL and the machine, wrk's CPU seconds,
# errors; the rounds' p50 and p99 in microseconds, space-separated.
declare -A N_REQ N_US W_US T_SRV T_RDS T_PG T_ALL S_WRK E_CONN E_READ E_WRITE \
    E_TIME E_STATUS L_P50 L_P99
# Final figures per run name: requests/s, p50 and p99 in ms, and the CPU
# time per request of all parties together (server, wrk, Redis,
# PostgreSQL) in microseconds.
declare -A RPS P50 P99 CPU_US

cleanup() {
	local rc=$? d
	set +e
	trap - EXIT INT TERM
	for d in "${DIR[@]}"; do
		if [ -f "$d/app.pid" ]; then
			"$SCRIPTS/app.sh" stop "$d"
		elif [ -f "$d/kore.pid" ]; then
			stop_pid "$(cat "$d/kore.pid")" 10
		fi
	done
	[ -n "$REDIS_DIR" ] && "$SCRIPTS/redis.sh" stop "$REDIS_DIR" "$REDIS_PORT"
	[ -n "$PG_DIR" ] && "$SCRIPTS/pg.sh" stop "$PG_DIR" "$PG_PORT" 2>/dev/null
	if [ -n "$TMP" ]; then
		rm -rf "$LOGS"
		mkdir -p "$LOGS"
		cp "$TMP"/wrk-*.txt "$TMP"/metrics-*.txt "$LOGS/" 2>/dev/null
		for d in "${!DIR[@]}"; do
			cp "${DIR[$d]}"/*.log "$LOGS/$d.log" 2>/dev/null
		done
		cp "$PG_DIR/server.log" "$LOGS/postgresql.log" 2>/dev/null
		cp "$REDIS_DIR/redis.log" "$LOGS/redis.log" 2>/dev/null
		rm -rf "$TMP"
	fi
	[ "$rc" -eq 0 ] || log "failed (logs in ${LOGS#"$REPO_ROOT"/}/)"
	exit "$rc"
}

# ---- builds ---------------------------------------------------------

# The trivial module builds like the app (scripts/build.sh): kodev names
# the application after its directory, so it builds in a link farm named
# trivial302. One source file: a clean build every time costs nothing
# and never reuses objects built with other flags.
build_trivial() {
	local d
	mkdir -p "$FARM"
	for d in conf src; do
		ln -sfn "../../../tests/bench/trivial302/$d" "$FARM/$d"
	done
	(cd "$FARM" && kodev clean >/dev/null &&
	    KORE_BUILD_FLAVOR=prod kodev build >"$BUILD/trivial-build.log" 2>&1) ||
	    { cat "$BUILD/trivial-build.log" >&2; die "the trivial module did not build"; }
	[ -f "$FARM/trivial302.so" ] || die "kodev produced no trivial302.so"
}

# tuning CONF: the configuration without comments, blank lines, bind and
# load lines: what must be the same for both servers.
tuning() {
	sed -e 's/#.*//' -e 's/[[:space:]]\{1,\}/ /g' -e 's/^ //' -e 's/ $//' "$1" |
	    grep -v -e '^$' -e '^bind ' -e '^load '
}

check_same_tuning() {
	local diff
	diff="$(diff <(tuning "$REPO_ROOT/conf/shortener.conf") \
	    <(tuning "$BENCH/trivial302/conf/trivial302.conf"))" || {
		printf '%s\n' "$diff" >&2
		die "tests/bench/trivial302/conf/trivial302.conf has drifted from conf/shortener.conf (above): copy the change, or the comparison is unfair"
	}
}

# ---- services -------------------------------------------------------

start_postgres() {
	PG_PORT="$(free_port)"
	PG_DIR="$TMP/pg"
	"$SCRIPTS/pg.sh" init "$PG_DIR" "$PG_PORT" >/dev/null
	"$SCRIPTS/pg.sh" start "$PG_DIR" "$PG_PORT"
	DATABASE_URL="$(pg_url "$PG_PORT")"
	export DATABASE_URL
	"$SCRIPTS/migrate.sh" >/dev/null
	# Generated once per size and kept: same seed and size, same files.
	if [ ! -f "$SEED/.done" ]; then
		make -C "$REPO_ROOT" --no-print-directory -s seed
		rm -rf "$SEED"
		"$REPO_ROOT/tools/seedgen" --users $((URLS / 5 + 1)) --urls "$URLS" \
		    --out "$SEED" >/dev/null
		touch "$SEED/.done"
	fi
	"$SCRIPTS/seed-load.sh" "$SEED" >/dev/null
	log "postgresql on 127.0.0.1:$PG_PORT: $(sql 'SELECT count(*) FROM urls') URLs, $(sql 'SELECT count(*) FROM events') events"
}

start_redis() {
	REDIS_PORT="$(free_port)"
	REDIS_DIR="$TMP/redis"
	"$SCRIPTS/redis.sh" start "$REDIS_DIR" "$REDIS_PORT"
	export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	log "redis on 127.0.0.1:$REDIS_PORT"
}

# start_app LEVEL: an instance app-LEVEL with LOG_LEVEL=LEVEL; its log
# (stdout, where request lines go) is a file in its directory.
start_app() {
	local name="app-$1"
	PORT[$name]="$(free_port)"
	DIR[$name]="$TMP/$name"
	LOG_LEVEL="$1" FLAVOR=prod "$SCRIPTS/app.sh" start "${PORT[$name]}" "${DIR[$name]}"
}

# The trivial module runs like the app (scripts/app.sh): its own
# directory, its conf with the bind and load lines rewritten, kore in the
# foreground from a subshell.
start_trivial() {
	local code="" i port dir="$TMP/trivial"
	port="$(free_port)"
	PORT[trivial]="$port"
	DIR[trivial]="$dir"
	mkdir -p "$dir"
	awk -v port="$port" -v module="$FARM/trivial302.so" '
		!bound && $1 == "bind" { sub(/bind.*/, "bind\t\t127.0.0.1 " port); bound = 1 }
		$1 == "load" { sub(/[^ \t]*trivial302\.so/, module) }
		{ print }' "$BENCH/trivial302/conf/trivial302.conf" >"$dir/trivial302.conf"
	(
		cd "$dir"
		kore -f -n -r -c "$dir/trivial302.conf" </dev/null >>"$dir/kore.log" 2>&1 &
		echo $! >"$dir/kore.pid"
	)
	for ((i = 0; i < 100; i++)); do
		code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
		    "http://127.0.0.1:$port/x" 2>/dev/null || true)"
		[ "$code" = 302 ] && break
		proc_alive "$(cat "$dir/kore.pid")" || break
		sleep 0.1
	done
	[ "$code" = 302 ] || { cat "$dir/kore.log" >&2; die "the trivial module does not answer 302"; }
	log "trivial module on 127.0.0.1:$port"
}

# server_pid SERVER: the Kore parent of an app instance or the trivial module.
server_pid() {
	if [ -f "${DIR[$1]}/app.pid" ]; then
		cat "${DIR[$1]}/app.pid"
	else
		cat "${DIR[$1]}/kore.pid"
	fi
}

# ---- measuring ------------------------------------------------------

sql() {
	psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"
}

# x_cache SERVER: the X-Cache of a GET of the hot code.
x_cache() {
	curl -s -o /dev/null -D - -m 2 "http://127.0.0.1:${PORT[$1]}/$HOT" |
	    tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }'
}

# warm_hot SERVER: request the hot code until it comes from Redis.
warm_hot() {
	local i c=""
	for ((i = 0; i < 50; i++)); do
		c="$(x_cache "$1")"
		[ "$c" = HIT ] && return 0
		sleep 0.05
	done
	die "$1: /$HOT never became X-Cache: HIT (last: ${c:-no answer})"
}

# stat_fields PID N...: the sum of fields N... of /proc/PID/stat, counted
# from the one after the command name (which may hold spaces): 12 and 13
# are utime and stime, 14 and 15 the same of children already reaped.
stat_fields() {
	local stat t=0 f
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return; }
	stat="${stat##*) }"
	shift
	# shellcheck disable=SC2206 # word splitting wanted
	local v=($stat)
	for f in "$@"; do
		t=$((t + ${v[f - 1]}))
	done
	echo "$t"
}

# cpu_ticks PID: user + system clock ticks used so far by PID, its
# children (Kore workers, PostgreSQL backends) and those of its children
# that have exited (a backend or an autovacuum worker that ends during a
# run still counts).
cpu_ticks() {
	local t c
	[ -n "$1" ] || { echo 0; return; }
	t="$(stat_fields "$1" 12 13 14 15)"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
		t=$((t + $(stat_fields "$c" 12 13)))
	done
	echo "$t"
}

# busy_ticks: ticks the whole machine spent on anything but idle and
# I/O wait, over all cores.
busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# cpu_sample PID: ticks of the server PID (and its workers), Redis and
# PostgreSQL. wrk's own come from `times`; the machine's busy ticks are
# read right at the start and end of the load (sampling the others takes
# a while on a busy machine): what is left is other work on the machine,
# which disturbs the figures.
cpu_sample() {
	echo "$(cpu_ticks "$1") $(cpu_ticks "$(cat "$REDIS_DIR/redis.pid")")" \
	    "$(cpu_ticks "$(head -n 1 "$PG_DIR/postmaster.pid")")"
}

# wrk_run SERVER DURATION OUT [LUA ARGS...]: one wrk run against SERVER;
# BENCH_METHOD (environment) is the method for report.lua. Requests
# carry a User-Agent naming the run (RUN_NAME), which the app stores in
# each click: the click report tells the runs apart by it.
wrk_run() {
	local server="$1" duration="$2" out="$3" lua="${4:-$BENCH/report.lua}"
	local url="http://127.0.0.1:${PORT[$server]}/$HOT"
	shift $(($# < 4 ? $# : 4))
	[ "$lua" = "$BENCH/report.lua" ] || url="http://127.0.0.1:${PORT[$server]}"
	local args=(-t "${WRK_THREADS:-$THREADS}" -c "$CONNECTIONS" -d "$duration" --latency
	    -H "User-Agent: bench-$RUN_NAME" -s "$lua" "$url")
	[ $# -eq 0 ] || args+=(-- "$@")
	# `times` then prints the subshell's own and its children's CPU time.
	(wrk "${args[@]}" && times) >"$out" 2>&1 ||
	    { cat "$out" >&2; die "wrk failed ($RUN_NAME against $server)"; }
}

# warm NAME SERVER [METHOD]: BENCH_WARMUP seconds of the same load.
warm() {
	[ "$WARMUP_SECONDS" -gt 0 ] || return 0
	RUN_NAME="$1" BENCH_METHOD="${3:-GET}" wrk_run "$2" "${WARMUP_SECONDS}s" "$TMP/warmup.txt"
}

# measure NAME SERVER SECONDS [METHOD [LUA ARGS...]]: one measured run,
# added to NAME's sums.
measure() {
	local name="$1" server="$2" secs="$3" method="${4:-GET}" out before after t0 busy
	shift $(($# < 4 ? $# : 4))
	out="$TMP/wrk-$name.txt"
	before="$(cpu_sample "$(server_pid "$server")")"
	before+=" $(busy_ticks)"
	t0="${EPOCHREALTIME/./}"
	RUN_NAME="$name" BENCH_METHOD="$method" wrk_run "$server" "${secs}s" "$out.round" "$@"
	W_US[$name]=$((${W_US[$name]:-0} + ${EPOCHREALTIME/./} - t0))
	busy="$(busy_ticks)"
	after="$(cpu_sample "$(server_pid "$server")") $busy"
	cat "$out.round" >>"$out"
	local result wrk_cpu
	result="$(grep '^bench-result ' "$out.round")" ||
	    { cat "$out.round" >&2; die "no result from wrk ($name)"; }
	wrk_cpu="$(tail -n 1 "$out.round" | awk '{
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
		print t }')"
	# requests=... duration_us=... p50_us=... -> r_requests, r_duration_us, ...
	# shellcheck disable=SC2034 # p90 and max are in the wrk report only
	local r_requests r_duration_us r_p50_us r_p90_us r_p99_us r_max_us \
	    r_connect r_read r_write r_status r_timeout
	eval "$(printf '%s\n' "$result" | tr ' ' '\n' | grep -E '^[a-z0-9_]+=[0-9]+$' | sed 's/^/r_/')"
	N_REQ[$name]=$((${N_REQ[$name]:-0} + r_requests))
	N_US[$name]=$((${N_US[$name]:-0} + r_duration_us))
	L_P50[$name]="${L_P50[$name]:-} $r_p50_us"
	L_P99[$name]="${L_P99[$name]:-} $r_p99_us"
	E_CONN[$name]=$((${E_CONN[$name]:-0} + r_connect))
	E_READ[$name]=$((${E_READ[$name]:-0} + r_read))
	E_WRITE[$name]=$((${E_WRITE[$name]:-0} + r_write))
	E_TIME[$name]=$((${E_TIME[$name]:-0} + r_timeout))
	E_STATUS[$name]=$((${E_STATUS[$name]:-0} + r_status))
	local b_srv b_rds b_pg b_all a_srv a_rds a_pg a_all
	read -r b_srv b_rds b_pg b_all <<<"$before"
	read -r a_srv a_rds a_pg a_all <<<"$after"
	T_SRV[$name]=$((${T_SRV[$name]:-0} + a_srv - b_srv))
	T_RDS[$name]=$((${T_RDS[$name]:-0} + a_rds - b_rds))
	T_PG[$name]=$((${T_PG[$name]:-0} + a_pg - b_pg))
	T_ALL[$name]=$((${T_ALL[$name]:-0} + a_all - b_all))
	S_WRK[$name]="$(awk -v a="${S_WRK[$name]:-0}" -v b="$wrk_cpu" 'BEGIN { print a + b }')"
	if [ "$r_status" -gt 0 ] || grep -q 'Non-2xx or 3xx responses' "$out.round"; then
		log "error: $name: $server answered errors, not redirects: $(grep 'Non-2xx' "$out.round" || echo "$r_status responses >= 400")"
		INVALID=1
	fi
	printf '    %-13s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' "$name" \
	    "$(awk -v n="$r_requests" -v us="$r_duration_us" 'BEGIN { print n / (us / 1e6) }')" \
	    "$(awk -v us="$r_p50_us" 'BEGIN { print us / 1000 }')" \
	    "$(awk -v us="$r_p99_us" 'BEGIN { print us / 1000 }')"
	rm -f "$out.round"
}

# median_ms LIST: the median of microsecond values, in ms.
median_ms() {
	tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.2f", m / 1000 }'
}

# finish NAME: the figures of NAME from its sums; prints them.
finish() {
	local name="$1" p99s
	RPS[$name]="$(awk -v n="${N_REQ[$name]}" -v us="${N_US[$name]}" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"
	P50[$name]="$(median_ms "${L_P50[$name]}")"
	P99[$name]="$(median_ms "${L_P99[$name]}")"
	p99s="$(tr ' ' '\n' <<<"${L_P99[$name]}" | grep . | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / 1000 }')"
	printf '  %-13s %8s req/s  p50 %6s ms  p99 %6s ms  (%s requests; p99 of each round: %s ms)\n' \
	    "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${N_REQ[$name]}" "$p99s"
	printf '  %-13s errors: connect %s, read %s, write %s, timeout %s, status >= 400 %s\n' "" \
	    "${E_CONN[$name]}" "${E_READ[$name]}" "${E_WRITE[$name]}" "${E_TIME[$name]}" "${E_STATUS[$name]}"
	CPU_US[$name]="$(awk -v n="${N_REQ[$name]}" -v hz="$CLK_TCK" -v srv="${T_SRV[$name]}" \
	    -v rds="${T_RDS[$name]}" -v pg="${T_PG[$name]}" -v w="${S_WRK[$name]}" \
	    'BEGIN { printf "%.1f", ((srv + rds + pg) / hz + w) / n * 1e6 }')"
	awk -v n="${N_REQ[$name]}" -v us="${W_US[$name]}" -v hz="$CLK_TCK" -v ncpu="$NCPU" \
	    -v srv="${T_SRV[$name]}" -v rds="${T_RDS[$name]}" -v pg="${T_PG[$name]}" \
	    -v all="${T_ALL[$name]}" -v w="${S_WRK[$name]}" -v pad="" '
		BEGIN {
			s = us / 1e6; srv /= hz; rds /= hz; pg /= hz; all /= hz
			other = all - srv - rds - pg - w; if (other < 0) other = 0
			printf "  %-13s CPU per request: server %.1f us, wrk %.1f us, redis %.1f us, postgres %.1f us\n",
			    pad, srv / n * 1e6, w / n * 1e6, rds / n * 1e6, pg / n * 1e6
			printf "  %-13s CPU use: server %.0f%%, wrk %.0f%%, redis %.0f%%, postgres %.0f%%, other processes %.0f%% (of %d%%)\n",
			    pad, 100 * srv / s, 100 * w / s, 100 * rds / s, 100 * pg / s, 100 * other / s, 100 * ncpu
		}'
}

# ---- the click writer -----------------------------------------------

max_event_id() {
	sql "SELECT coalesce(max(id), 0) FROM events"
}

# drain: wait until the click writers have stored what they hold (the
# click count stops moving); prints how many seconds that took.
drain() {
	local last=-1 now start=$SECONDS i
	for ((i = 0; i < 120; i++)); do
		now="$(sql "SELECT count(*) FROM events WHERE event_type = 'click'")"
		[ "$now" = "$last" ] && break
		last="$now"
		sleep 0.5
	done
	echo $((SECONDS - start))
}

# batches SINCE_ID NAME: the inserts of the click writer for run NAME
# (warm-up included), from the rows: all rows of one insert statement
# share its transaction id (xmin), and carry the run's User-Agent.
batches() {
	sql "SELECT format('%s clicks in %s inserts; rows per insert: mean %s, p50 %s, p90 %s, p99 %s, max %s',
		coalesce(sum(n), 0), count(*), coalesce(round(avg(n), 1), 0),
		coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0),
		coalesce(percentile_disc(0.9) WITHIN GROUP (ORDER BY n), 0),
		coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY n), 0),
		coalesce(max(n), 0))
	    FROM (SELECT xmin::text::bigint AS tx, count(*) AS n FROM events
		WHERE event_type = 'click' AND id > $1
		    AND click_user_agent = 'bench-$2'
		GROUP BY 1) b"
}

# scrape SERVER FILE: GET /metrics into FILE, or an empty FILE when the
# app serves no metrics.
scrape() {
	local code
	code="$(curl -s -o "$2" -m 5 -w '%{http_code}' "http://127.0.0.1:${PORT[$1]}/metrics" || true)"
	if [ "$code" != 200 ] || ! grep -q '^shortener_' "$2"; then
		: >"$2"
	fi
}

# metric FILE NAME: the sum of the samples of NAME over its label sets.
metric() {
	awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f", s }' "$1"
}

# metrics_report BEFORE AFTER: the click writer's figures between two
# scrapes of one instance.
metrics_report() {
	local b="$1" a="$2" count sum written dropped
	if [ ! -s "$b" ] || [ ! -s "$a" ]; then
		echo "    /metrics: not served by this build: figures from the database only"
		return
	fi
	if ! grep -q '^shortener_click_batch_size' "$a"; then
		echo "    /metrics: served, but without shortener_click_batch_size"
		return
	fi
	count=$(($(metric "$a" shortener_click_batch_size_count) - $(metric "$b" shortener_click_batch_size_count)))
	sum=$(($(metric "$a" shortener_click_batch_size_sum) - $(metric "$b" shortener_click_batch_size_sum)))
	written=$(($(metric "$a" shortener_clicks_written_total) - $(metric "$b" shortener_clicks_written_total)))
	dropped=$(($(metric "$a" shortener_clicks_dropped_total) - $(metric "$b" shortener_clicks_dropped_total)))
	echo "    /metrics: shortener_clicks_written_total +$written, shortener_clicks_dropped_total +$dropped; shortener_click_batch_size +$count batches, mean $(awk -v s="$sum" -v c="$count" 'BEGIN { printf "%.1f", c ? s / c : 0 }') (the instance's runs together)"
	cache_report "$b" "$a"
}

# cache_report BEFORE AFTER: how the instance's cache lookups went. An
# error is a lookup Redis did not answer within REDIS_TIMEOUT_MS: that
# request read PostgreSQL instead.
cache_report() {
	local r n out=""
	grep -q '^shortener_cache_lookups_total' "$2" || return 0
	for r in local_hit hit miss negative bypass error; do
		n=$(($(metric "$2" "shortener_cache_lookups_total{result=\"$r\"}") -
		    $(metric "$1" "shortener_cache_lookups_total{result=\"$r\"}")))
		out+="${out:+, }$r $n"
	done
	echo "    /metrics: cache lookups: $out (local_hit: the worker's own copy, Redis not asked; error: no answer from Redis in time, the request read PostgreSQL)"
}

# clicks_report SINCE_ID SERVER NAME...: after a phase, for SERVER's runs.
clicks_report() {
	local since="$1" server="$2" name
	shift 2
	for name in "$@"; do
		echo "    $name: $(batches "$since" "$name")"
	done
	scrape "$server" "$TMP/metrics-$server-after.txt"
	metrics_report "$TMP/metrics-$server-before.txt" "$TMP/metrics-$server-after.txt"
	cp "$TMP/metrics-$server-after.txt" "$TMP/metrics-$server-before.txt"
}

# ---- the phases -----------------------------------------------------

# settle: store every click, then vacuum what earlier runs inserted and
# write a checkpoint, so that no run pays for the autovacuum or the
# checkpoint of the one before it.
settle() {
	drain >/dev/null
	sql "VACUUM (ANALYZE) events" >/dev/null
	sql "CHECKPOINT" >/dev/null
}

# The HIT paths in turn, ROUNDS times; each server warmed up first.
phase_hit() {
	local r secs since s
	secs=$(((RUN_SECONDS + ROUNDS - 1) / ROUNDS))
	echo "== 1. cache HIT: one hot code (/$HOT), $ROUNDS rounds of ${secs}s, servers in turn"
	settle
	since="$(max_event_id)"
	for s in app-warn app-info; do
		scrape "$s" "$TMP/metrics-$s-before.txt"
	done
	warm trivial trivial
	warm app-hit app-warn
	warm app-head app-warn HEAD
	warm app-hit-info app-info
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "  round $r"
		measure trivial trivial "$secs"
		measure app-hit app-warn "$secs"
		measure app-head app-warn "$secs" HEAD
		measure app-hit-info app-info "$secs"
	done
	for s in app-warn app-info; do
		[ "$(x_cache "$s")" = HIT ] || die "$s: /$HOT is no longer a cache HIT after the runs"
	done
	echo "  totals (requests/s over all rounds; p50 and p99: median of the rounds):"
	finish trivial
	finish app-hit
	finish app-head
	finish app-hit-info
	echo "  click writer (app-hit and app-hit-info; stored $(drain)s after the load stopped):"
	clicks_report "$since" app-warn app-hit app-head
	clicks_report "$since" app-info app-hit-info
}

# STEADY: the HIT paths again at fixed offered loads, in turn, ROUNDS
# times per load. One wrk thread offers it (one fewer busy thread on the
# shared cores than phase 1); each connection waits a random 0..2x the
# mean between requests.
phase_steady() {
	local rate
	echo
	echo "== 2. cache HIT at steady loads of ${RATES// /, } requests/s offered"
	for rate in $RATES; do
		steady_at "$rate"
	done
}

steady_at() {
	local rate="$1" r secs since delay
	secs=$(((RUN_SECONDS + ROUNDS - 1) / ROUNDS))
	delay=$(((CONNECTIONS * 1000 + rate / 2) / rate))
	[ "$delay" -ge 1 ] || die "BENCH_RATES: $rate is more than $CONNECTIONS connections can offer with 1 ms waits"
	echo "  -- about $rate requests/s ($CONNECTIONS connections, each waiting 0-$((2 * delay)) ms between requests, 1 wrk thread), $ROUNDS rounds of ${secs}s"
	settle
	since="$(max_event_id)"
	scrape app-warn "$TMP/metrics-app-warn-before.txt"
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "  round $r"
		WRK_THREADS=1 BENCH_DELAY_MS="$delay" measure "trivial-$rate" trivial "$secs"
		WRK_THREADS=1 BENCH_DELAY_MS="$delay" measure "app-$rate" app-warn "$secs"
		WRK_THREADS=1 BENCH_DELAY_MS="$delay" measure "app-head-$rate" app-warn "$secs" HEAD
	done
	echo "  totals (requests/s over all rounds; p50 and p99: median of the rounds):"
	finish "trivial-$rate"
	finish "app-$rate"
	finish "app-head-$rate"
	echo "  click writer (stored $(drain)s after the load stopped):"
	clicks_report "$since" app-warn "app-$rate"
}

# MISS: one run through distinct codes, from an empty cache.
phase_miss() {
	local codes="$TMP/codes.txt" n_codes since
	echo
	echo "== 3. cache MISS: distinct existing codes, Redis emptied first, ${RUN_SECONDS}s"
	sql "SELECT short_code FROM urls WHERE is_active AND short_code <> '$HOT' ORDER BY md5(short_code)" >"$codes"
	n_codes="$(wc -l <"$codes")"
	settle
	since="$(max_event_id)"
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" FLUSHDB >/dev/null
	# No warm-up: it would spend codes; the run itself starts cold.
	measure app-miss app-warn "$RUN_SECONDS" GET "$BENCH/miss.lua" "$codes" "$THREADS"
	finish app-miss
	if [ "${N_REQ[app-miss]}" -gt "$n_codes" ]; then
		echo "  note: ${N_REQ[app-miss]} requests for $n_codes codes: $((N_REQ[app-miss] - n_codes)) were repeats, i.e. cache hits; raise BENCH_URLS"
	else
		echo "  every request asked for a code nobody had asked for ($n_codes codes available); Redis now holds $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" DBSIZE) keys"
	fi
	echo "  click writer (stored $(drain)s after the load stopped):"
	clicks_report "$since" app-warn app-miss
}

# ---- report ---------------------------------------------------------

verdict() {
	if awk "BEGIN { exit !($1) }"; then echo PASS; else echo FAIL; fi
}

machine() {
	echo "machine: $NCPU cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "load: $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }') -t $THREADS -c $CONNECTIONS, ${RUN_SECONDS}s per path after ${WARMUP_SECONDS}s of warm-up"
	echo "note: wrk shares the $NCPU cores with the server under test, Redis and PostgreSQL"
}

summary() {
	local ratio log_ratio cost lines rate
	ratio="$(awk -v a="${RPS[app-hit]}" -v t="${RPS[trivial]}" 'BEGIN { printf "%.2f", a / t }')"
	log_ratio="$(awk -v i="${RPS[app-hit-info]}" -v w="${RPS[app-hit]}" 'BEGIN { printf "%.2f", i / w }')"
	cost="$(awk -v r="$log_ratio" 'BEGIN { printf "%.0f", (1 - r) * 100 }')"
	lines="$(grep -c '"event": *"request"' "${DIR[app-info]}/app.log" || true)"
	echo
	echo "== summary"
	machine
	echo "CPU us/req: CPU time per request of the server, wrk, Redis and PostgreSQL together"
	echo
	printf '| %-34s | %8s | %7s | %7s | %12s |\n' run "req/s" "p50 ms" "p99 ms" "CPU us/req"
	printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "----------" "---------" "---------" "--------------"
	row() { printf '| %-34s | %8s | %7s | %7s | %12s |\n' "$1" "${RPS[$2]}" "${P50[$2]}" "${P99[$2]}" "${CPU_US[$2]}"; }
	row "trivial 302 module" trivial
	row "app, HIT, GET (LOG_LEVEL=warn)" app-hit
	row "app, HIT, HEAD: no click" app-head
	row "app, HIT, GET (LOG_LEVEL=info)" app-hit-info
	for rate in $RATES; do
		row "trivial, steady $rate/s offered" "trivial-$rate"
		row "app, HIT, GET, steady $rate/s" "app-$rate"
		row "app, HIT, HEAD, steady $rate/s" "app-head-$rate"
	done
	row "app, MISS, GET (LOG_LEVEL=warn)" app-miss
	echo
	echo "HIT throughput app/trivial: $ratio (target >= $TARGET_RATIO): $(verdict "$ratio >= $TARGET_RATIO")"
	echo "  CPU per request, all parties: trivial ${CPU_US[trivial]} us, app ${CPU_US[app-hit]} us (HEAD ${CPU_US[app-head]} us);"
	echo "  on a machine doing nothing else, CPU-bound, the ratio would be about $(awk -v t="${CPU_US[trivial]}" -v a="${CPU_US[app-hit]}" 'BEGIN { printf "%.2f", t / a }') ($(awk -v t="${CPU_US[trivial]}" -v a="${CPU_US[app-head]}" 'BEGIN { printf "%.2f", t / a }') without the click)"
	for rate in $RATES; do
		echo "HIT p99 of the app at a steady $rate requests/s offered on $CONNECTIONS connections: ${P99[app-$rate]} ms (target < $TARGET_P99_MS ms): $(verdict "${P99[app-$rate]} < $TARGET_P99_MS")"
		echo "  (same load: trivial module ${P99[trivial-$rate]} ms, app HEAD without the click ${P99[app-head-$rate]} ms)"
	done
	echo "  at saturation (phase 1): app ${P99[app-hit]} ms, trivial module ${P99[trivial]} ms; there $CONNECTIONS connections"
	echo "  at ${RPS[app-hit]} requests/s make the app's mean latency $(awk -v c="$CONNECTIONS" -v r="${RPS[app-hit]}" 'BEGIN { printf "%.2f", c / r * 1000 }') ms by Little's law, whatever the code"
	echo "request logging: throughput info/warn $log_ratio, a cost of $cost% (target <= $(awk -v t="$TARGET_LOG_COST" 'BEGIN { print t * 100 }')%): $(verdict "$log_ratio >= 1 - $TARGET_LOG_COST")"
	echo "  CPU per request, all parties: ${CPU_US[app-hit-info]} us at info, ${CPU_US[app-hit]} us at warn: $(awk -v i="${CPU_US[app-hit-info]}" -v w="${CPU_US[app-hit]}" 'BEGIN { printf "%+.0f%%", (i / w - 1) * 100 }')"
	if [ "$lines" -eq 0 ]; then
		echo "  (the info instance wrote no request lines: request logging is not wired in this build, so this compares nothing yet)"
	else
		echo "  (the info instance wrote $lines request lines, $(du -h "${DIR[app-info]}/app.log" | cut -f1) of log)"
	fi
}

main() {
	[[ "$RUN_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SECONDS must be a positive integer"
	[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
	[[ "$WARMUP_SECONDS" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer"
	[[ "$URLS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_URLS must be a positive integer"
	[[ "$RATES" =~ ^[1-9][0-9]*( [1-9][0-9]*)*$ ]] || die "BENCH_RATES must be positive integers separated by single spaces"
	"$SCRIPTS/deps.sh"
	need_cmd wrk
	need_cmd kodev
	need_cmd redis-cli
	check_same_tuning
	mkdir -p "$BUILD"
	log "building the app (prod) and the trivial module"
	"$SCRIPTS/build.sh" prod >"$BUILD/app-build.log" 2>&1 ||
	    { tail -n 30 "$BUILD/app-build.log" >&2; die "the app did not build"; }
	build_trivial

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/shortener-bench.XXXXXX")"
	# The postgres user must reach the cluster inside it.
	chmod 711 "$TMP"
	start_postgres
	start_redis
	start_app warn
	start_app info
	start_trivial
	HOT="$(sql "SELECT short_code FROM urls WHERE is_active ORDER BY id LIMIT 1")"
	[ -n "$HOT" ] || die "no active URL in the seed"
	warm_hot app-warn
	warm_hot app-info

	echo
	machine
	echo
	phase_hit
	phase_steady
	phase_miss
	summary
	[ "$INVALID" -eq 0 ] || die "some runs measured error responses, not redirects (see above)"
}

main "$@"
