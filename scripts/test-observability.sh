#!/usr/bin/env bash
#
# test-observability.sh [all|static|live]: tests of the monitoring
# configuration: prometheus.yml, prometheus/alerts.yml (+ alerts_test.yml),
# alertmanager/alertmanager.yml.tmpl and the Grafana provisioning and
# dashboard. scripts/test.sh runs it (all) while its app is up.
#
#   static  no services: `promtool check config` (the repository's file and
#           the rendered copy), `promtool check rules`, `promtool test rules`
#           (every alert must have a firing and a not-firing case), the
#           labels and annotations every alert must carry, the rendered
#           Alertmanager config through `amtool check-config` and `amtool
#           config routes test`, the dashboard JSON's structure and its
#           datasource uid against grafana/provisioning.
#   live    needs SHORTENER_URL (a running app): starts Prometheus on a free
#           127.0.0.1 port with a temp storage dir and prometheus.yml
#           rendered by scripts/prometheus-config.sh (app1:8080 -> the app,
#           app2/app3/alertmanager dropped, 1s scrape and evaluation
#           intervals), drives traffic (redirects found and not found, API
#           reads and writes, 404s, 422s), waits for scrapes after it, then:
#             - every panel query of the dashboard returns data (a non-NaN
#               sample), except the panels in NO_DATA_OK below;
#             - every alert rule is healthy in Prometheus, and its
#               expression evaluates without error (an empty result, i.e.
#               not firing, is fine); the alerts that mean "the test stack
#               is broken" are not pending or firing;
#             - every metric name the dashboard or the rules use exists,
#               and every label their selectors match on, which `or
#               vector(0)` in a ratio would otherwise hide;
#             - every metric family GET /metrics exposes is on the dashboard.
#   all     static, then live when SHORTENER_URL is set (default)
#
# Grafana variables do not parse in Prometheus; before a panel query is
# sent, $__rate_interval becomes 1m (at a 1s scrape interval that is 60
# samples) and $instance becomes .* (the "All" value). A query still
# holding a `$` after that fails: add the new variable here.
#
# Every check prints "ok" or "FAIL"; the last lines are a summary and a
# Criterion-style synthesis line (prefixed "observability:") that
# test.sh's count() adds to its totals. Exits 1 when a check failed.
# Prometheus is stopped and the temp dir removed on any exit; its log and
# the query results stay in .build/test-logs/observability/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG="observability"

RULES="$REPO_ROOT/prometheus/alerts.yml"
RULE_TESTS="$REPO_ROOT/prometheus/alerts_test.yml"
DASHBOARD="$REPO_ROOT/grafana/dashboards/shortener.json"
DATASOURCES="$REPO_ROOT/grafana/provisioning/datasources/prometheus.yml"
OUT="$REPO_ROOT/.build/test-logs/observability"
RATE_INTERVAL="1m"

# Panels allowed to return no data in this test, as "Panel title/refId",
# each with the reason. Keep it empty unless the test cannot produce the
# data (the traffic below is meant to feed every panel).
NO_DATA_OK=()

# Alerts that must be inactive while the test's stack is healthy.
MUST_BE_INACTIVE=(ShortenerInstanceDown ShortenerPostgresDown)

TESTED=0
PASSING=0
TMP=""
PROM_PID=""
PROM_PORT=""
PROM=""
PANEL_QUERIES=0
PANEL_QUERIES_WITH_DATA=0
PANELS=0
PANELS_WITH_DATA=0
RULES_EVALUATED=0

cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	if [ -n "$PROM_PID" ]; then
		stop_pid "$PROM_PID" 10
		wait "$PROM_PID" 2>/dev/null
	fi
	[ -n "$TMP" ] && [ -f "$TMP/prometheus.log" ] && mkdir -p "$OUT" &&
		cp "$TMP/prometheus.log" "$OUT/prometheus.log"
	[ -n "$TMP" ] && rm -rf "$TMP"
	if [ "$rc" -ne 0 ] && [ "$TESTED" -eq "$PASSING" ]; then
		# Stopped by an error outside any check: that is a failure too.
		TESTED=$((TESTED + 1))
	fi
	log "$PASSING of $TESTED checks passed; panels with data: $PANELS_WITH_DATA of $PANELS" \
	    "($PANEL_QUERIES_WITH_DATA of $PANEL_QUERIES queries); alert rules evaluated: $RULES_EVALUATED"
	echo "observability: Synthesis: Tested: $TESTED | Passing: $PASSING | Failing: $((TESTED - PASSING)) | Crashing: 0"
	[ "$TESTED" -eq "$PASSING" ] || rc=1
	exit "$rc"
}

pass() {
	TESTED=$((TESTED + 1))
	PASSING=$((PASSING + 1))
	printf '  ok    %s\n' "$1"
}

# fail NAME [DETAILS]
fail() {
	TESTED=$((TESTED + 1))
	printf '  FAIL  %s\n' "$1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 40 | sed 's/^/        /'
}

# check NAME CMD...: runs CMD, a pass when it succeeds; its output is
# shown only on failure.
check() {
	local name="$1" out
	shift
	if out="$("$@" 2>&1)"; then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}

# none_printed: passes stdin through; fails when there was any line
# (checks print one line per problem).
none_printed() {
	if grep .; then
		return 1
	fi
	return 0
}

# ---- static ---------------------------------------------------------

# Names of the alerts in the rules file, one per line.
alert_names() {
	sed -n 's/^[[:space:]]*- alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "$RULES"
}

# Every alert: a severity of critical or warning, summary, description,
# and runbook_url docs/runbooks/<alert>.md.
alert_metadata() {
	awk '
		function flush() {
			if (name == "") return
			if (!sev) { print name ": no severity: critical|warning label"; bad = 1 }
			if (!sum) { print name ": no summary annotation"; bad = 1 }
			if (!desc) { print name ": no description annotation"; bad = 1 }
			if (rb != "docs/runbooks/" name ".md") {
				print name ": runbook_url is \"" rb "\", not docs/runbooks/" name ".md"; bad = 1
			}
		}
		/^[ \t]*- alert:/ { flush(); name = $3; sev = sum = desc = 0; rb = ""; n++ }
		/^[ \t]*severity:[ \t]*(critical|warning)[ \t]*$/ { sev = 1 }
		/^[ \t]*summary:/ { sum = 1 }
		/^[ \t]*description:/ { desc = 1 }
		/^[ \t]*runbook_url:/ { rb = $2 }
		END {
			flush()
			if (n == 0) { print "no alerts found"; bad = 1 }
			exit bad
		}' "$RULES"
}

# Every alert has a case where it fires and one where it does not, and
# every alertname the tests name exists (a typo with `exp_alerts: []`
# would pass vacuously).
rule_tests_cover_alerts() {
	local cases bad=0 a
	cases="$(awk '
		/^[ \t]*alertname:/ { a = $2 }
		/^[ \t]*exp_alerts:[ \t]*\[\][ \t]*$/ { print a, "quiet"; next }
		/^[ \t]*exp_alerts:[ \t]*$/ { print a, "fires" }' "$RULE_TESTS")"
	while read -r a; do
		grep -qx "$a fires" <<<"$cases" || { echo "$a: no test where it fires"; bad=1; }
		grep -qx "$a quiet" <<<"$cases" || { echo "$a: no test where it must not fire"; bad=1; }
	done < <(alert_names)
	while read -r a; do
		alert_names | grep -qx "$a" || { echo "alerts_test.yml names unknown alert $a"; bad=1; }
	done < <(cut -d' ' -f1 <<<"$cases" | sort -u)
	return "$bad"
}

render_alertmanager() {
	ALERT_WEBHOOK_URL="http://127.0.0.1:9/hook?token=t'x" \
	    "$SCRIPTS/alertmanager-config.sh" "$TMP/alertmanager.yml" || return 1
	amtool check-config "$TMP/alertmanager.yml" || return 1
	grep -F -- "url: 'http://127.0.0.1:9/hook?token=t''x'" "$TMP/alertmanager.yml" >/dev/null ||
		{ echo "the URL is not in the rendered file, quoted"; return 1; }
	[ "$(stat -c %a "$TMP/alertmanager.yml")" = 600 ] || { echo "rendered file is not mode 600"; return 1; }
}

alertmanager_refuses_without_url() {
	if env -u ALERT_WEBHOOK_URL "$SCRIPTS/alertmanager-config.sh" "$TMP/am-nourl.yml" 2>/dev/null; then
		echo "rendered without ALERT_WEBHOOK_URL"
		return 1
	fi
	[ ! -e "$TMP/am-nourl.yml" ] || { echo "left a file behind"; return 1; }
}

# Every alert of each severity reaches the webhook receiver.
alertmanager_routes() {
	local a sev got
	while read -r a; do
		sev="$(awk -v a="$a" '$0 ~ "- alert: " a "$" { f = 1 } f && /severity:/ { print $2; exit }' "$RULES")"
		got="$(amtool config routes test --config.file="$TMP/alertmanager.yml" \
		    alertname="$a" severity="$sev" instance=app1:8080)" || return 1
		[ "$got" = webhook ] || { echo "$a ($sev) routed to '$got'"; return 1; }
	done < <(alert_names)
}

datasource_uid() {
	sed -n 's/^[[:space:]]*uid:[[:space:]]*\([A-Za-z0-9_-]*\).*/\1/p' "$DATASOURCES" | head -n 1
}

# The dashboard: valid JSON, unique panel ids, panels inside the 24-column
# grid, every panel, target and variable on the provisioned datasource,
# every panel with at least one query, refIds unique within a panel.
dashboard_structure() {
	local uid
	uid="$(datasource_uid)"
	[ -n "$uid" ] || { echo "no uid in $DATASOURCES"; return 1; }
	jq -e . "$DASHBOARD" >/dev/null || { echo "not JSON"; return 1; }
	jq -r --arg uid "$uid" '
		def panels: .panels[] | select(.type != "row");
		[
		  (if (.uid // "") == "" then "dashboard has no uid" else empty end),
		  ([.panels[].id] | group_by(.) | map(select(length > 1)) | .[] |
		      "panel id \(.[0]) used twice"),
		  (.panels[] | select((.gridPos.x + .gridPos.w) > 24 or .gridPos.w < 1 or .gridPos.h < 1) |
		      "\(.title): gridPos outside the grid"),
		  (panels | select(.datasource.uid != $uid) |
		      "\(.title): datasource uid \(.datasource.uid), not \($uid)"),
		  (panels | select((.targets // []) | length == 0) | "\(.title): no query"),
		  (panels | . as $p | .targets[] |
		      select(.datasource.uid != $uid or (.expr // "") == "" or (.refId // "") == "") |
		      "\($p.title)/\(.refId): no expr, refId or wrong datasource"),
		  (panels | select([.targets[].refId] | length != (unique | length)) |
		      "\(.title): refIds repeat"),
		  (.templating.list[] | select(.type == "query" and .datasource.uid != $uid) |
		      "variable \(.name): datasource uid \(.datasource.uid), not \($uid)")
		] | .[]' "$DASHBOARD" | none_printed
}

# shellcheck disable=SC2016 # bash -c scripts get their values as $1, $2
run_static() {
	log "static checks"
	need_cmd promtool
	need_cmd amtool
	need_cmd jq
	check "promtool check config prometheus.yml (with its rule files)" \
	    bash -c 'cd "$1" && promtool check config prometheus.yml' _ "$REPO_ROOT"
	check "prometheus-config.sh renders a config promtool accepts" \
	    render_prometheus_check "$TMP/static-render"
	check "prometheus-config.sh refuses an address not in prometheus.yml" \
	    bash -c '! "$1/prometheus-config.sh" "$2" app9:8080=127.0.0.1:1 2>/dev/null' _ "$SCRIPTS" "$TMP/bad-render"
	check "promtool check rules prometheus/alerts.yml" promtool check rules "$RULES"
	check "promtool test rules prometheus/alerts_test.yml" promtool test rules "$RULE_TESTS"
	check "every alert has a firing and a not-firing test" rule_tests_cover_alerts
	check "every alert has severity, summary, description, runbook_url" alert_metadata
	check "alertmanager-config.sh renders a config amtool accepts" render_alertmanager
	check "alertmanager-config.sh refuses to render without ALERT_WEBHOOK_URL" \
	    alertmanager_refuses_without_url
	if [ -f "$TMP/alertmanager.yml" ]; then
		check "amtool: every alert routes to the webhook" alertmanager_routes
	else
		fail "amtool: every alert routes to the webhook" "no rendered config"
	fi
	check "dashboard JSON: structure and datasource uid $(datasource_uid)" dashboard_structure
}

# render_prometheus_check DIR: the stack-style rewrite, then promtool.
render_prometheus_check() {
	"$SCRIPTS/prometheus-config.sh" "$1" --interval 5s \
	    app1:8080=127.0.0.1:8081 app2:8080=127.0.0.1:8082 app3:8080=127.0.0.1:8083 \
	    alertmanager:9093=127.0.0.1:9093 localhost:9090=127.0.0.1:9090 >/dev/null || return 1
	promtool check config "$1/prometheus.yml" || return 1
	! grep -En 'app[0-9]:8080|alertmanager:9093|localhost:9090' "$1/prometheus.yml" |
	    grep -v '^[0-9]*:[[:space:]]*#'
}

# ---- live -----------------------------------------------------------

# prom_query EXPR: the JSON of an instant query (POST, so any length).
prom_query() {
	curl -sS -m 10 "$PROM/api/v1/query" --data-urlencode "query=$1"
}

start_prometheus() {
	local app_addr="${SHORTENER_URL#http://}" i
	app_addr="${app_addr%%/*}"
	need_cmd prometheus
	PROM_PORT="$(free_port)"
	PROM="http://127.0.0.1:$PROM_PORT"
	"$SCRIPTS/prometheus-config.sh" "$TMP/prom" --interval 1s \
	    "app1:8080=$app_addr" app2:8080= app3:8080= alertmanager:9093= \
	    "localhost:9090=127.0.0.1:$PROM_PORT" >/dev/null
	check "the rendered test config passes promtool check config" \
	    promtool check config "$TMP/prom/prometheus.yml"
	cp "$TMP/prom/prometheus.yml" "$OUT/prometheus.yml"
	prometheus --config.file="$TMP/prom/prometheus.yml" \
	    --storage.tsdb.path="$TMP/prom/data" \
	    --storage.tsdb.retention.time=1h \
	    --web.listen-address="127.0.0.1:$PROM_PORT" \
	    --log.level=warn >"$TMP/prometheus.log" 2>&1 </dev/null &
	PROM_PID=$!
	for ((i = 0; i < 300; i++)); do
		proc_alive "$PROM_PID" || break
		if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$PROM/-/ready")" = 200 ]; then
			pass "prometheus ready on 127.0.0.1:$PROM_PORT (scraping $app_addr)"
			return 0
		fi
		sleep 0.1
	done
	fail "prometheus ready on 127.0.0.1:$PROM_PORT" "$(tail -n 20 "$TMP/prometheus.log")"
	return 1
}

# wait_for EXPR SECONDS: until the instant query EXPR returns a sample.
wait_for() {
	local deadline=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$deadline" ]; do
		prom_query "$1" | jq -e '.data.result | length > 0' >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "no sample for $1 after $2 s"
	return 1
}

# Prometheus scrapes exactly the app and itself, both healthy.
targets_healthy() {
	curl -sS -m 10 "$PROM/api/v1/targets" | jq -r '
		.data.activeTargets | map("\(.labels.job) \(.health)") | sort | join(",")' |
		tee /dev/stderr | grep -qx 'prometheus up,shortener up'
}

# GET /metrics on the app: 200, the exposition content type.
app_metrics() {
	curl -sS -m 10 -D "$TMP/metrics.headers" -o "$TMP/metrics.txt" "$SHORTENER_URL/metrics" || return 1
	head -n 1 "$TMP/metrics.headers" | grep -q ' 200' ||
		{ head -n 1 "$TMP/metrics.headers"; return 1; }
	grep -qi '^content-type: text/plain' "$TMP/metrics.headers" ||
		{ grep -i '^content-type' "$TMP/metrics.headers"; return 1; }
	cp "$TMP/metrics.txt" "$OUT/metrics.txt"
}

# Traffic for every panel: API reads and writes (database latency), a
# redirect that is found (cache miss then hits, clicks written in
# batches), codes that do not exist (not_found, negative cache entries),
# 404s on ids and on paths no route knows, 422s. Bounded: ROUNDS rounds
# spread over several scrapes so that rate() sees increases; one curl per
# round, its transfers on one keep-alive connection (as nginx's would be).
drive_traffic() {
	local b="$SHORTENER_URL" rounds=10 r i tag user url uid uurl code ok=0
	local -a json=(-H 'Content-Type: application/json') req=() want=() got=()
	# add STATUS CURL_ARGS...: one more transfer in this round's curl.
	add() {
		want+=("$1")
		shift
		[ ${#req[@]} -eq 0 ] || req+=(--next)
		req+=(-s -o /dev/null -m 5 -w '%{http_code} %{url_effective}\n' "$@")
	}
	tag="obs$$$(date +%s)"
	user="$(curl -sS -m 5 -X POST "$b/users" "${json[@]}" \
	    -d "{\"username\":\"$tag\",\"email\":\"$tag@example.com\"}")" || return 1
	uid="$(jq -er .id <<<"$user")" || { echo "POST /users: $user"; return 1; }
	uurl="$(curl -sS -m 5 -X POST "$b/urls" "${json[@]}" \
	    -d "{\"user_id\":$uid,\"original_url\":\"https://example.com/$tag\"}")" || return 1
	url="$(jq -er .id <<<"$uurl")" || { echo "POST /urls: $uurl"; return 1; }
	code="$(jq -er .short_code <<<"$uurl")" || return 1
	for ((r = 0; r < rounds; r++)); do
		req=()
		want=()
		add 302 "$b/$code"
		add 302 -A observability-test -e https://referer.example/ "$b/$code"
		add 404 "$b/zz${tag}x$((r % 3))"
		add 200 "$b/urls/$url"
		add 200 "$b/urls/$url/stats"
		add 200 "$b/users?per_page=2"
		add 200 "$b/urls?user_id=$uid"
		add 404 "$b/urls/999999999"
		add 404 "$b/no/such/route"
		add 422 -X POST "${json[@]}" -d '{}' "$b/users"
		add 200 -X PUT "${json[@]}" -d "{\"title\":\"round $r\"}" "$b/urls/$url"
		add 200 "$b/health"
		mapfile -t got < <(curl "${req[@]}" || true)
		for i in "${!want[@]}"; do
			if [ "${got[$i]%% *}" != "${want[$i]}" ]; then
				echo "round $r, transfer $((i + 1)): expected ${want[$i]}, got '${got[$i]:-nothing}'"
				return 1
			fi
			ok=$((ok + 1))
		done
		sleep 0.5
	done
	echo "$ok requests"
}

# Grafana variables to values Prometheus parses (see the header).
# shellcheck disable=SC2016 # the patterns are literal Grafana variables
substitute_vars() {
	local q="$1"
	q="${q//'${__rate_interval}'/$RATE_INTERVAL}"
	q="${q//'$__rate_interval'/$RATE_INTERVAL}"
	q="${q//'${instance}'/.*}"
	q="${q//'$instance'/.*}"
	printf '%s' "$q"
}

no_data_allowed() {
	local k
	for k in "${NO_DATA_OK[@]+"${NO_DATA_OK[@]}"}"; do
		[ "${k%%:*}" = "$1" ] && return 0
	done
	return 1
}

# Every target of every panel: the query parses, evaluates, and returns
# at least one sample that is not NaN.
check_panels() {
	local title ref expr q res n_ok panel_has prev="" line
	: >"$OUT/panel-queries.txt"
	while IFS=$'\t' read -r title ref expr; do
		if [ "$title" != "$prev" ]; then
			[ -z "$prev" ] || { [ "$panel_has" -eq 0 ] || PANELS_WITH_DATA=$((PANELS_WITH_DATA + 1)); }
			PANELS=$((PANELS + 1))
			panel_has=0
			prev="$title"
		fi
		PANEL_QUERIES=$((PANEL_QUERIES + 1))
		q="$(substitute_vars "$expr")"
		line="panel \"$title\" $ref"
		if [[ "$q" == *'$'* ]]; then
			fail "$line: parses" "unknown Grafana variable left in: $q"
			continue
		fi
		res="$(prom_query "$q")" || { fail "$line: query" "$res"; continue; }
		printf '%s %s\n%s\n%s\n\n' "$title" "$ref" "$q" "$res" >>"$OUT/panel-queries.txt"
		if ! jq -e '.status == "success"' >/dev/null <<<"$res"; then
			fail "$line: evaluates" "$q
$(jq -r '.error // .' <<<"$res")"
			continue
		fi
		n_ok="$(jq '[.data.result[]? | .value[1] | select(. != "NaN")] | length' <<<"$res")"
		if [ "$n_ok" -gt 0 ]; then
			PANEL_QUERIES_WITH_DATA=$((PANEL_QUERIES_WITH_DATA + 1))
			panel_has=1
			pass "$line: $n_ok series"
		elif no_data_allowed "$title/$ref"; then
			pass "$line: no data (allowed: NO_DATA_OK)"
		else
			fail "$line: has data" "$q
$(jq -c '.data.result' <<<"$res")"
		fi
	done < <(jq -r '.panels[] | select(.type != "row") | . as $p |
	    .targets[] | [$p.title, .refId, (.expr | gsub("\n"; " "))] | @tsv' "$DASHBOARD")
	[ -z "$prev" ] || { [ "$panel_has" -eq 0 ] || PANELS_WITH_DATA=$((PANELS_WITH_DATA + 1)); }
}

# Every rule Prometheus loaded: evaluated, healthy, its query runs; the
# alerts that would mean a broken test stack are inactive.
check_rules() {
	local rules name query health err state res n a
	rules="$(curl -sS -m 10 "$PROM/api/v1/rules")"
	printf '%s\n' "$rules" >"$OUT/rules.json"
	n="$(jq '[.data.groups[].rules[]] | length' <<<"$rules")"
	if [ "$n" -eq "$(alert_names | wc -l)" ]; then
		pass "prometheus loaded all $n rules of alerts.yml"
	else
		fail "prometheus loaded all rules of alerts.yml" "loaded $n, file has $(alert_names | wc -l)"
	fi
	# Tab-separated, the possibly empty lastError last: read collapses
	# adjacent tabs (IFS whitespace).
	while IFS=$'\t' read -r name health query err; do
		RULES_EVALUATED=$((RULES_EVALUATED + 1))
		if [ "$health" != ok ]; then
			fail "rule $name: healthy in prometheus" "health=$health $err"
			continue
		fi
		res="$(prom_query "$query")"
		if jq -e '.status == "success"' >/dev/null <<<"$res"; then
			pass "rule $name: evaluates ($(jq '.data.result | length' <<<"$res") series firing or pending)"
		else
			fail "rule $name: evaluates" "$query
$(jq -r '.error // .' <<<"$res")"
		fi
	done < <(jq -r '.data.groups[].rules[] |
	    [.name, .health, (.query | gsub("\n"; " ")), (.lastError // "")] | @tsv' <<<"$rules")
	for a in "${MUST_BE_INACTIVE[@]}"; do
		state="$(jq -r --arg a "$a" '.data.groups[].rules[] | select(.name == $a) | .state' <<<"$rules")"
		if [ "$state" = inactive ]; then
			pass "alert $a inactive on the healthy test stack"
		else
			fail "alert $a inactive on the healthy test stack" "state: ${state:-missing}"
		fi
	done
}

# Metric names in the dashboard and the rules (our prefixes, plus up).
referenced_metrics() {
	{
		jq -r '.panels[].targets[]?.expr' "$DASHBOARD"
		jq -r '.data.groups[].rules[].query' "$OUT/rules.json"
	} | grep -oE '\b(http|shortener|process)_[a-z0-9_]+|\bup\{' | tr -d '{' | sort -u
}

# Every metric name the queries use has series, and every label their
# selectors match on (metric{label="..."}) exists on that metric: a
# misspelt name or label selects nothing, which a ratio's `or vector(0)`
# would turn into a plausible 0. One series call, one jq.
metrics_and_labels_exist() {
	local names m
	local -a match=()
	names="$(referenced_metrics)"
	for m in $names; do
		match+=(--data-urlencode "match[]=$m")
	done
	# A file, not an argument: after the integration suite the answer is
	# larger than the kernel's limit for one argument.
	curl -sS -m 10 -o "$TMP/series.json" "$PROM/api/v1/series" "${match[@]}" || return 1
	{
		jq -r '.panels[].targets[]?.expr' "$DASHBOARD" | while IFS= read -r q; do
			substitute_vars "$q"
			echo
		done
		jq -r '.data.groups[].rules[].query' "$OUT/rules.json"
	} | jq -rRn --slurpfile series "$TMP/series.json" --arg names "$names" '
		($series[0].data | group_by(.__name__) |
		    map({key: .[0].__name__, value: ([.[] | keys[]] | unique)}) |
		    from_entries) as $labels |
		($names | split("\n")[] | select(length > 0 and ($labels[.] | not)) |
		    "no series named \(.)"),
		([inputs | scan("[a-zA-Z_:][a-zA-Z0-9_:]*\\{[^}]*\\}")] | unique[] |
		    . as $sel | capture("^(?<m>[^{]+)\\{(?<body>.*)\\}$") as $c |
		    $c.body | gsub("\"[^\"]*\""; "\"\"") |
		    [scan("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)") | .[0]] | unique[] |
		    select(. as $l | ($labels[$c.m] // []) | index([$l]) | not) |
		    "\($sel): \($c.m) has no label \(.)")' | none_printed
}

# Every family in the app's exposition appears in some panel query.
families_on_dashboard() {
	local f exprs bad=0
	exprs="$(jq -r '.panels[].targets[]?.expr' "$DASHBOARD")"
	while read -r f; do
		grep -qE "\b${f}(_bucket|_sum|_count)?\b" <<<"$exprs" ||
			{ echo "$f is exposed but on no panel"; bad=1; }
	done < <(sed -n 's/^# TYPE \([a-zA-Z_:][a-zA-Z0-9_:]*\) .*/\1/p' "$TMP/metrics.txt")
	return "$bad"
}

run_live() {
	[[ "$SHORTENER_URL" =~ ^http://[^/:]+:[0-9]+/?$ ]] ||
		die "SHORTENER_URL must be http://HOST:PORT, not '$SHORTENER_URL'"
	SHORTENER_URL="${SHORTENER_URL%/}"
	log "live checks against $SHORTENER_URL"
	need_cmd curl
	start_prometheus || return 0
	check "GET /metrics on the app: 200 text/plain" app_metrics
	check "first scrape of the app and of prometheus" \
	    wait_for 'up{job="shortener"} == 1 and on() up{job="prometheus"} == 1' 30
	check "prometheus scrapes exactly the app and itself" targets_healthy
	local before after
	before="$(date +%s)"
	check "traffic: every request got its expected status" drive_traffic
	after="$(date +%s)"
	log "traffic took $((after - before)) s; waiting for two scrapes after it"
	check "scrapes after the traffic" \
	    wait_for "timestamp(up{job=\"shortener\"}) > $((after + 1))" 30
	# Rules are evaluated every second: let them see the same data.
	sleep 1
	check_panels
	check_rules
	check "every metric and label the dashboard and rules select exists" \
	    metrics_and_labels_exist
	[ -f "$TMP/metrics.txt" ] &&
		check "every family GET /metrics exposes is on the dashboard" families_on_dashboard
}

main() {
	local what="${1:-all}"
	case "$what" in
	all | static | live) ;;
	*) echo "usage: $0 [all|static|live]" >&2; exit 2 ;;
	esac
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	rm -rf "$OUT"
	mkdir -p "$OUT"
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/shortener-obs.XXXXXX")"
	case "$what" in
	static) run_static ;;
	live) [ -n "${SHORTENER_URL:-}" ] || die "live needs SHORTENER_URL"; run_live ;;
	all)
		run_static
		if [ -n "${SHORTENER_URL:-}" ]; then
			run_live
		else
			log "SHORTENER_URL not set: live checks (Prometheus, dashboard queries) not run"
		fi
		;;
	esac
}

main "$@"
