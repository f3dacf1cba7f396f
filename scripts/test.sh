#!/usr/bin/env bash
#
# test.sh [all|unit|fuzz|integration|stack|compose]: the project's test
# command (`make test`).
#
#   unit         `make unit` (Criterion, tests/unit/*.c), the same tests
#                under ASan+UBSan (`make unit-asan`), and tests/tools
#                (pytest: the include-layer check, the nginx.conf renderer)
#   fuzz         each fuzz target replays its committed seeds, then fuzzes
#                FUZZ_TEST_SECONDS (10) (scripts/fuzz.sh test)
#   integration  build the app with ASan+UBSan and coverage (flavor asan;
#                INTEG_FLAVOR=cov for coverage alone), start a private
#                PostgreSQL and a private Redis on free loopback ports in a
#                temp dir, migrate, load the generated sample (tools/seedgen,
#                the shape of the hackathon's seed), start
#                the app on a free port, run tests/bin/integration against
#                it (API keys off: the open contract), then tests/security
#                (pytest: instances of its own with API keys on, beside
#                this one on the same PostgreSQL and Redis, on the same
#                build), run the hostile HTTP corpus (tests/hostile)
#                against it directly, stop the apps with SIGTERM (workers
#                then write their .gcda files and run LeakSanitizer),
#                count every sanitizer report in their logs as a
#                failure, and print gcovr's line coverage of src/ (below
#                COVERAGE_MIN, 85%, is a failure)
#   stack        tests/stack (pytest): the Docker-free topology under
#                supervisord on free ports, supervision, the suites a client
#                meets through nginx (tests/docs, tests/public, tests/browser,
#                the C contract suite, the hostile HTTP corpus), the short
#                chaos suite
#   compose      tests/compose (pytest): docker-compose.yml validation, then,
#                where a Docker engine answers or can be started (root,
#                docker.io): image builds, the topology up and healthy (API
#                keys on, TLS in nginx), the contract suites against a
#                container (with its admin key), keys and TLS through the
#                published ports, restart semantics, the short chaos
#                suite against containers, `down -v` leaving nothing.
#                Where no engine can be started those tests are SKIPPED
#                with the reason, never counted as passed
#   all          all of them (default)
#
# The integration binary gets: SHORTENER_URL, DATABASE_URL, REDIS_URL,
# SEED_DIR (the sample loaded) and shell commands to break things:
# SHORTENER_PG_STOP / SHORTENER_PG_START (that PostgreSQL),
# SHORTENER_PG_PAUSE / SHORTENER_PG_RESUME (SIGSTOP / SIGCONT of its
# postmaster and every child: a server that accepts TCP and never answers),
# SHORTENER_REDIS_STOP / SHORTENER_REDIS_START (that Redis),
# SHORTENER_REDIS_CLI (a redis-cli bound to it, for CLIENT PAUSE) and
# SHORTENER_APP_STOP / SHORTENER_APP_START (SIGTERM the app, start it again
# on the same port). The resilience suite runs alone after the rest (it
# stops the database, the cache and the app under everyone).
#
# Everything it starts is stopped, and the temp dir removed, on any exit.
# Logs of the last run stay in .build/test-logs/, with every suite's
# report (Criterion's TAP, pytest's JUnit XML) that the totals come from.
# Exits non-zero when any step or test fails; the last line is
# "N passed, M failed, K skipped".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="test"

LOGS="$REPO_ROOT/.build/test-logs"
# One build serves the sanitizers and the coverage (docs/testing.md).
INTEG_FLAVOR="${INTEG_FLAVOR:-asan}"
OBJS="$REPO_ROOT/.build/$INTEG_FLAVOR/shortener/.objs"
INTEG_TIMEOUT="${INTEG_TIMEOUT:-1800}"
TMP=""
PG_DIR=""
PG_PORT=""
REDIS_DIR=""
REDIS_PORT=""
APP_DIR=""
APP_PORT=""
PASSED=0
FAILED=0
SKIPPED=0

# The EXIT trap: stop what runs, keep the logs, print the totals. A step
# that failed before any test could report still fails the run.
cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	[ -n "$APP_DIR" ] && "$SCRIPTS/app.sh" stop "$APP_DIR"
	# A paused PostgreSQL would not stop; SIGCONT is harmless otherwise.
	[ -n "${SHORTENER_PG_RESUME:-}" ] && sh -c "$SHORTENER_PG_RESUME" 2>/dev/null
	[ -n "$PG_DIR" ] && "$SCRIPTS/pg.sh" stop "$PG_DIR" "$PG_PORT" 2>/dev/null
	[ -n "$REDIS_DIR" ] && "$SCRIPTS/redis.sh" stop "$REDIS_DIR" "$REDIS_PORT"
	if [ -n "$TMP" ]; then
		mkdir -p "$LOGS"
		[ -f "$APP_DIR/app.log" ] && cp "$APP_DIR/app.log" "$LOGS/app.log"
		[ -f "$PG_DIR/server.log" ] && cp "$PG_DIR/server.log" "$LOGS/postgresql.log"
		[ -f "$REDIS_DIR/redis.log" ] && cp "$REDIS_DIR/redis.log" "$LOGS/redis.log"
		rm -rf "$TMP"
	fi
	if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then
		log "a step failed (see above): counted as one failure"
		FAILED=1
	fi
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
	exit "$rc"
}

has_sources() {
	compgen -G "$REPO_ROOT/$1/*.c" >/dev/null
}

# count_report FILE RC: a JUnit XML or TAP report into the totals
# (scripts/test_report.py: "passed failed skipped", each skip's reason on
# stderr; with CI=true a skip tests/expected-skips.txt does not allow counts
# as failed). A runner that failed without a failed test, or left no
# report, counts as one failure.
count_report() {
	local file="$1" rc="$2" p f sk
	if [ ! -s "$file" ]; then
		log "no report in $file (exit $rc)"
		FAILED=$((FAILED + 1))
		return 0
	fi
	read -r p f sk < <("$PYTHON" "$SCRIPTS/test_report.py" "$file")
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + sk))
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || FAILED=$((FAILED + 1))
}

run_unit() {
	local target rc
	if ! has_sources tests/unit; then
		log "unit: no tests/unit/*.c yet, skipped"
		return 0
	fi
	mkdir -p "$LOGS"
	local rc target
	for target in unit unit-asan; do
		log "unit: make $target"
		rc=0
		make -C "$REPO_ROOT" --no-print-directory "$target" \
		    UNIT_ARGS="--tap=$LOGS/$target.tap" 2>&1 |
		    tee "$LOGS/$target.log" || rc=$?
		count_report "$LOGS/$target.tap" "$rc"
	done
	# The repository's tools: the include-layer check, the nginx renderer.
	run_pytest tools tests/tools
}

start_postgres() {
	PG_PORT="$(free_port)"
	PG_DIR="$TMP/pg"
	PG_FAST=1 "$SCRIPTS/pg.sh" init "$PG_DIR" "$PG_PORT" >/dev/null
	"$SCRIPTS/pg.sh" start "$PG_DIR" "$PG_PORT"
	DATABASE_URL="$(pg_url "$PG_PORT")"
	export DATABASE_URL
	log "postgresql on 127.0.0.1:$PG_PORT ($PG_DIR)"
	"$SCRIPTS/migrate.sh"
	make -C "$REPO_ROOT" --no-print-directory -s seed
	"$REPO_ROOT/tools/seedgen" --out "$TMP/seed" >/dev/null
	"$SCRIPTS/seed-load.sh" "$TMP/seed"
	export SEED_DIR="$TMP/seed"
}

# Before the app: its workers connect at start-up, and a cache that is
# down from the first request on would turn every X-Cache into BYPASS.
start_redis() {
	REDIS_PORT="$(free_port)"
	REDIS_DIR="$TMP/redis"
	"$SCRIPTS/redis.sh" start "$REDIS_DIR" "$REDIS_PORT"
	export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	log "redis on 127.0.0.1:$REDIS_PORT ($REDIS_DIR)"
}

start_app() {
	APP_PORT="$(free_port)"
	APP_DIR="$TMP/app"
	# Stale counters from an earlier run would inflate the coverage.
	find "$OBJS" -name '*.gcda' -delete 2>/dev/null || true
	export PUBLIC_BASE_URL="http://127.0.0.1:$APP_PORT"
	# The open contract: no keys, and no per-address API budget (every
	# test shares one address); tests/security turns both on.
	export API_KEYS_REQUIRED=0 RATE_LIMIT_PER_ADDRESS=0
	FLAVOR="$INTEG_FLAVOR" "$SCRIPTS/app.sh" start "$APP_PORT" "$APP_DIR"
	export SHORTENER_URL="http://127.0.0.1:$APP_PORT"
	export SHORTENER_APP_PIDFILE="$APP_DIR/app.pid" # the Kore parent; restarts rewrite it
}

# pg_signal_cmd SIG: an sh command sending SIG to the test cluster's
# postmaster (the first line of postmaster.pid) and to all its children
# (backends, checkpointer, ...). The postmaster goes first, so that it
# forks no child the pkill would miss.
pg_signal_cmd() {
	# shellcheck disable=SC2016 # expanded by the sh that runs it
	printf 'pid="$(head -n 1 %q/postmaster.pid)" && kill -%s "$pid" && { pkill -%s -P "$pid" || true; }' \
	    "$PG_DIR" "$1" "$1"
}

# The commands the resilience tests run through system(3), quoted for sh.
# A restarted app inherits this environment (DATABASE_URL, REDIS_URL);
# each clean exit of a cov worker merges its counters into the .gcda
# files, so coverage keeps what the first run did.
export_break_commands() {
	SHORTENER_PG_STOP="$(printf '%q stop %q %q' "$SCRIPTS/pg.sh" "$PG_DIR" "$PG_PORT")"
	SHORTENER_PG_START="$(printf '%q start %q %q' "$SCRIPTS/pg.sh" "$PG_DIR" "$PG_PORT")"
	SHORTENER_PG_PAUSE="$(pg_signal_cmd STOP)"
	SHORTENER_PG_RESUME="$(pg_signal_cmd CONT)"
	SHORTENER_REDIS_STOP="$(printf '%q stop %q %q' "$SCRIPTS/redis.sh" "$REDIS_DIR" "$REDIS_PORT")"
	SHORTENER_REDIS_START="$(printf '%q start %q %q' "$SCRIPTS/redis.sh" "$REDIS_DIR" "$REDIS_PORT")"
	SHORTENER_REDIS_CLI="$(printf 'redis-cli -h 127.0.0.1 -p %q' "$REDIS_PORT")"
	SHORTENER_APP_STOP="$(printf '%q stop %q' "$SCRIPTS/app.sh" "$APP_DIR")"
	SHORTENER_APP_START="$(printf 'FLAVOR=%q %q start %q %q' "$INTEG_FLAVOR" "$SCRIPTS/app.sh" "$APP_PORT" "$APP_DIR")"
	export SHORTENER_PG_STOP SHORTENER_PG_START SHORTENER_PG_PAUSE \
	    SHORTENER_PG_RESUME SHORTENER_REDIS_STOP \
	    SHORTENER_REDIS_START SHORTENER_REDIS_CLI SHORTENER_APP_STOP \
	    SHORTENER_APP_START
}

# Two runs: everything but the resilience suite in parallel, then the
# resilience suite alone, since it stops the database, the cache and the
# app under everyone.
run_integration_binary() {
	export_break_commands
	log "integration: tests/bin/integration against $SHORTENER_URL"
	integration_run parallel "${CRITERION_JOBS:-2}" '!(resilience/*)'
	integration_run resilience 1 'resilience/*'
}

integration_run() {
	local name="$1" jobs="$2" filter="$3" rc=0
	(cd "$REPO_ROOT" && CRITERION_JOBS="$jobs" timeout -k 10 \
	    "$INTEG_TIMEOUT" tests/bin/integration --filter "$filter" \
	    --tap="$LOGS/integration-$name.tap") \
	    2>&1 | tee "$LOGS/integration-$name.log" || rc=$?
	count_report "$LOGS/integration-$name.tap" "$rc"
}

# The pytest suites of the web app's features (tests/public: lifecycle,
# QR codes, analytics, the OpenAPI document and response conformance)
# against this instance too, so that its coverage counts them; the stack
# stage runs them again through nginx on three instances.
run_public_on_instance() {
	local rc=0 report="$LOGS/public-instance.xml"
	web_deps
	PUBLIC_URL="$SHORTENER_URL" \
	APP_URLS="$SHORTENER_URL,$SHORTENER_URL,$SHORTENER_URL" \
	RUN_DIR="$APP_DIR" PYTHONDONTWRITEBYTECODE=1 \
	    "$PYTHON" -m pytest -q -rs -p no:cacheprovider --junitxml="$report" \
	    "$REPO_ROOT/tests/public/test_lifecycle.py" \
	    "$REPO_ROOT/tests/public/test_qr.py" \
	    "$REPO_ROOT/tests/public/test_analytics.py" \
	    "$REPO_ROOT/tests/public/test_openapi.py" \
	    2>&1 | tee "$LOGS/public-instance.log" || rc=$?
	count_report "$report" "$rc"
}

# The kodev loop (tests/dev): build, run, rebuild and reload in a
# checkout named shortener, against this PostgreSQL and Redis.
run_dev_loop() {
	local rc=0 report="$LOGS/dev.xml"
	PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -q -rsP \
	    -p no:cacheprovider --junitxml="$report" "$REPO_ROOT/tests/dev" \
	    2>&1 | tee "$LOGS/dev.log" || rc=$?
	count_report "$report" "$rc"
}

# Keys, scopes, rate limits, hostile links, response headers, the bulk
# import beside other requests, TLS in front (tests/security, pytest):
# instances of its own (cov flavor) on this PostgreSQL and Redis.
run_security() {
	local rc=0 report="$LOGS/security.xml" t
	local latency=(tests/security/test_bulk.py::test_parsing_16_mib_holds_no_worker
	    tests/security/test_bulk.py::test_a_16_mib_import_is_stored_beside_other_requests)
	local deselect=()
	# The two latency bounds beside a 16 MiB import are the deployed
	# build's: under ASan even kore's reading of the body goes through the
	# sanitizer's interceptors. They run on the cov build (below); the rest
	# of the suite on this stage's build, its logs checked for reports.
	if [ "$INTEG_FLAVOR" != cov ]; then
		for t in "${latency[@]}"; do
			deselect+=(--deselect "$t")
		done
	fi
	(cd "$REPO_ROOT" && SECURITY_LOG_DIR="$LOGS/security" \
	    SECURITY_FLAVOR="$INTEG_FLAVOR" PYTHONDONTWRITEBYTECODE=1 \
	    "$PYTHON" -m pytest -q -rs -p no:cacheprovider \
	    --junitxml="$report" "${deselect[@]}" tests/security) \
	    2>&1 | tee "$LOGS/security.log" || rc=$?
	count_report "$report" "$rc"
	[ "$INTEG_FLAVOR" != cov ] || return 0
	rc=0
	"$SCRIPTS/build.sh" cov
	(cd "$REPO_ROOT" && SECURITY_FLAVOR=cov PYTHONDONTWRITEBYTECODE=1 \
	    "$PYTHON" -m pytest -q -rs -p no:cacheprovider \
	    --junitxml="$LOGS/security-latency.xml" "${latency[@]}") \
	    2>&1 | tee "$LOGS/security-latency.log" || rc=$?
	count_report "$LOGS/security-latency.xml" "$rc"
}

# Monitoring configuration: rule tests, Alertmanager and Grafana checks,
# and every dashboard and alert query against a Prometheus scraping this
# app (tests/observability; SHORTENER_URL is this app).
run_observability() {
	run_pytest observability tests/observability
}

# sanitizer_reports LOG: every ASan or UBSan report, and every leak with
# a frame in the module, that the app wrote (workers and parent, restarts
# included) is one failure (tests/sanitize/reports.py). A report that
# halted a worker also failed the request that caused it; this catches
# what no test noticed: a leak found at exit, an error in a request whose
# answer still looked right.
sanitizer_reports() {
	local out n
	[ "$INTEG_FLAVOR" = asan ] || return 0
	out="$("$PYTHON" "$REPO_ROOT/tests/sanitize/reports.py" "$1")" || true
	printf '%s\n' "$out" | tail -n 60 >&2
	n="$(sed -n 's/^sanitizers: \([0-9]*\) reports.*/\1/p' <<<"$out")"
	[ -n "$n" ] || n=1
	FAILED=$((FAILED + n))
}

# The hostile corpus against this instance, directly: every worker must
# survive every case (its pid file names the Kore parent), the database
# must not change. Its answers on this port are Kore's where Kore answers
# first (docs/testing.md).
run_hostile() {
	local rc=0
	HOSTILE_URL="$SHORTENER_URL" HOSTILE_VIA=direct \
	    HOSTILE_PIDFILES="$APP_DIR/app.pid" \
	    "$SCRIPTS/test-hostile.sh" direct 2>&1 | tee "$LOGS/hostile.log" || rc=$?
	count_report "$LOGS/hostile-direct.xml" "$rc"
}

# The fuzz targets, short: the committed seeds (regressions), then
# FUZZ_TEST_SECONDS of fuzzing each. fuzz.sh's last line is "N passed,
# M failed" (one per target).
run_fuzz() {
	local rc=0 line
	mkdir -p "$LOGS"
	"$SCRIPTS/fuzz.sh" test "${FUZZ_TEST_SECONDS:-10}" 2>&1 |
	    tee "$LOGS/fuzz.log" || rc=$?
	line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/fuzz.log" | tail -n 1 || true)"
	if [ -z "$line" ]; then
		log "fuzz: no totals (exit $rc)"
		FAILED=$((FAILED + 1))
		return 0
	fi
	PASSED=$((PASSED + ${line%% passed*}))
	line="${line#*passed, }"
	FAILED=$((FAILED + ${line%% failed*}))
	[ "$rc" -eq 0 ] || [ "${line%% failed*}" -gt 0 ] || FAILED=$((FAILED + 1))
}

# Line coverage of src/ below COVERAGE_MIN percent counts as a failure.
COVERAGE_MIN="${COVERAGE_MIN:-85}"

coverage() {
	local pct
	if ! compgen -G "$OBJS/*.gcda" >/dev/null; then
		log "coverage: no .gcda files: the workers did not exit cleanly"
		return 1
	fi
	need_cmd gcovr
	# Sources were compiled as src/... inside the link farm; gcovr
	# follows the links back to the repo, where --filter applies. Its
	# search path is this flavor's objects only: the counters another
	# flavor left (.build/cov after INTEG_FLAVOR=cov) are of other builds.
	# A gcovr that fails is one failure, not the end of the run.
	if ! (cd "$REPO_ROOT" && gcovr --root . --object-directory "$OBJS" \
	    --filter 'src/' --print-summary --output "$LOGS/coverage.txt" \
	    "$OBJS") >"$LOGS/gcovr.log" 2>&1; then
		tail -n 5 "$LOGS/gcovr.log" >&2
		log "coverage: gcovr failed ($LOGS/gcovr.log)"
		FAILED=$((FAILED + 1))
		return 0
	fi
	grep -E '^(lines|functions|branches):' "$LOGS/gcovr.log" |
	    sed 's/^/coverage: /' | tee "$LOGS/coverage-summary.txt"
	log "coverage report: $LOGS/coverage.txt"
	pct="$(sed -n 's/^coverage: lines: \([0-9]*\).*/\1/p' "$LOGS/coverage-summary.txt")"
	if [ -z "$pct" ] || [ "$pct" -lt "$COVERAGE_MIN" ]; then
		log "coverage: lines ${pct:-?}% is below the ${COVERAGE_MIN}% floor"
		FAILED=$((FAILED + 1))
	fi
}

# run_pytest NAME DIR: a pytest suite, its skips listed with their reasons
# (-rs); the totals come from its JUnit XML.
run_pytest() {
	local name="$1" dir="$2" rc=0
	(cd "$REPO_ROOT" && PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -rs \
	    -p no:cacheprovider --junitxml="$LOGS/$name.xml" "$dir") 2>&1 |
	    tee "$LOGS/$name.log" || rc=$?
	count_report "$LOGS/$name.xml" "$rc"
}

# The whole Docker-free topology (three instances behind nginx, Redis,
# PostgreSQL, Prometheus, Alertmanager under supervisord) on free ports
# and the short chaos suite.
run_stack() {
	local r
	web_deps
	run_pytest stack tests/stack
	# The suites it ran through nginx, test by test (tests/stack/test_stack.py;
	# a failure there has already failed the test that ran the suite).
	for r in "$LOGS"/stack-suites/*.xml "$LOGS"/stack-suites/*.tap; do
		[ -f "$r" ] && count_report "$r" 0
	done
	return 0
}

# The container topology, where a Docker engine can be had.
run_compose() {
	run_pytest compose tests/compose
}

run_integration() {
	if ! has_sources tests/integration; then
		log "integration: no tests/integration/*.c yet, skipped"
		return 0
	fi
	mkdir -p "$LOGS"
	make -C "$REPO_ROOT" --no-print-directory tests/bin/integration
	"$SCRIPTS/build.sh" "$INTEG_FLAVOR"
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/shortener-test.XXXXXX")"
	# The postgres user must reach the cluster inside it.
	chmod 711 "$TMP"
	start_postgres
	start_redis
	start_app
	run_integration_binary
	run_public_on_instance
	run_security
	run_dev_loop
	run_observability
	run_hostile
	# SIGTERM now, not in the trap: coverage needs the .gcda files, and
	# LeakSanitizer runs at exit.
	"$SCRIPTS/app.sh" stop "$APP_DIR"
	sanitizer_reports "$APP_DIR/app.log"
	for f in "$LOGS"/security/*.log; do
		[ -f "$f" ] && sanitizer_reports "$f"
	done
	coverage
}

# stage NAME FUNCTION: runs it and logs how long it took (docs/testing.md
# quotes these). A plain command: a failing step still ends the run.
stage() {
	local t0=$SECONDS
	"$2"
	log "stage $1: $((SECONDS - t0)) s"
}

# Stages run as plain commands, never inside `||` or `if`: bash ignores
# `set -e` within a function called from such a context, and every step
# here must stop the run when it fails. Failed tests do not stop it: the
# integration stage still runs after failed unit tests (FAILED counts
# them, and cleanup turns that into the exit status).
main() {
	local what="${1:-all}"
	case "$what" in
	all | unit | fuzz | integration | stack | compose) ;;
	*) echo "usage: $0 [all|unit|fuzz|integration|stack|compose]" >&2; exit 2 ;;
	esac
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	# Logs of an earlier run must not pass for this one's.
	rm -rf "$LOGS"
	"$SCRIPTS/deps.sh"
	case "$what" in
	all)
		stage unit run_unit
		stage fuzz run_fuzz
		stage integration run_integration
		stage stack run_stack
		stage compose run_compose
		;;
	unit) run_unit ;;
	fuzz) run_fuzz ;;
	integration) run_integration ;;
	stack) mkdir -p "$LOGS"; run_stack ;;
	compose) mkdir -p "$LOGS"; run_compose ;;
	esac
}

main "$@"
