#!/usr/bin/env bash
#
# seed-load.sh [--replace] DIR: load DIR/users.csv, urls.csv, events.csv
# into $DATABASE_URL.
#
# All three files go in with COPY in ONE transaction: a bad row anywhere
# leaves the database as it was. The identity sequences are then moved past
# the largest loaded id, so rows created later through the API do not
# collide with seeded ids. Events go through a staging table, so that
# every month of clicks has its partition first (db/migrations/032);
# url_click_daily is filled by migration 002's statement triggers as the
# click events are inserted.
#
# Loading into tables that already hold rows is refused (it would fail on
# duplicate ids halfway anyway). --replace empties users, urls, events,
# the click aggregates (url_click_daily, url_click_hourly,
# url_click_facets) and the users' API keys first, in the same
# transaction, so a failed replace keeps the old data; admin keys stay.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Table, and the exact CSV header the seed files carry, in load order
# (urls reference users).
TABLES=(users urls events)
declare -A COLUMNS=(
	[users]="id,username,email,created_at"
	[urls]="id,user_id,short_code,original_url,title,is_active,created_at,updated_at"
	[events]="id,url_id,user_id,event_type,timestamp,details"
)

usage() {
	echo "usage: $0 [--replace] DIR" >&2
	exit 2
}

# check_header FILE TABLE: refuse a file whose columns differ from the
# expected ones, rather than loading values into the wrong columns.
check_header() {
	local header
	IFS= read -r header <"$1" || die "$1 is empty"
	header="${header%$'\r'}"
	[ "$header" = "${COLUMNS[$2]}" ] ||
		die "$1: header is '$header', expected '${COLUMNS[$2]}'"
}

psql_quote() {
	printf "'%s'" "${1//\'/\'\'}"
}

# The column list for COPY: "timestamp" is a keyword.
copy_columns() {
	echo "${1/timestamp/\"timestamp\"}"
}

guard_sql() {
	if [ "$1" = 1 ]; then
		# api_keys references users, so it goes in the same TRUNCATE;
		# the admin keys (no owner) are put back: replacing the data
		# must not lock the operator out of a keyed service.
		echo "CREATE TEMP TABLE seed_admin_keys ON COMMIT DROP AS SELECT * FROM api_keys WHERE user_id IS NULL;"
		echo "TRUNCATE users, urls, events, api_keys, url_click_daily, url_click_hourly, url_click_facets;"
		echo "INSERT INTO api_keys SELECT * FROM seed_admin_keys;"
		return
	fi
	cat <<'EOF'
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM urls)
	    OR EXISTS (SELECT 1 FROM events)
	    OR EXISTS (SELECT 1 FROM click_packs) THEN
		RAISE EXCEPTION 'seed-load: the database already holds data; use --replace to empty it first';
	END IF;
END $$;
EOF
}

load_sql() {
	local dir="$1" replace="$2" t
	echo "BEGIN;"
	# Nobody may write between the emptiness check and the COPYs.
	echo "LOCK TABLE users, urls, events, api_keys, url_click_daily IN EXCLUSIVE MODE;"
	guard_sql "$replace"
	for t in users urls; do
		echo "\\copy $t ($(copy_columns "${COLUMNS[$t]}")) FROM $(psql_quote "$dir/$t.csv") WITH (FORMAT csv, HEADER true)"
	done
	# Events through a staging table: the click partitions of every month
	# the seed covers exist before the rows go in (db/migrations/032).
	echo "CREATE TEMP TABLE seed_events (LIKE events INCLUDING DEFAULTS) ON COMMIT DROP;"
	echo "\\copy seed_events ($(copy_columns "${COLUMNS[events]}")) FROM $(psql_quote "$dir/events.csv") WITH (FORMAT csv, HEADER true)"
	echo "\\o /dev/null"
	echo "SELECT events_clicks_month(m::date) FROM (SELECT DISTINCT date_trunc('month', \"timestamp\") AS m FROM seed_events WHERE event_type = 'click') d;"
	echo "\\o"
	echo "INSERT INTO events SELECT * FROM seed_events;"
	echo "\\o /dev/null"
	for t in "${TABLES[@]}"; do
		# is_called=false: the next id drawn is exactly max(id)+1.
		echo "SELECT setval(pg_get_serial_sequence('$t', 'id'), coalesce(max(id), 0) + 1, false) FROM $t;"
	done
	echo "\\o"
	echo "COMMIT;"
	echo "ANALYZE users, urls, events, url_click_daily;"
	echo "SELECT format('seed-load: %s users, %s urls, %s events, %s click days', (SELECT count(*) FROM users), (SELECT count(*) FROM urls), (SELECT count(*) FROM events), (SELECT count(*) FROM url_click_daily));"
}

main() {
	local replace=0 dir="" t
	while [ $# -gt 0 ]; do
		case "$1" in
		--replace) replace=1 ;;
		-h | --help) usage ;;
		-*) usage ;;
		*) [ -z "$dir" ] || usage; dir="$1" ;;
		esac
		shift
	done
	[ -n "$dir" ] || usage
	[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
	need_cmd psql
	dir="$(cd "$dir" && pwd -P)" || die "no directory $dir"
	for t in "${TABLES[@]}"; do
		[ -r "$dir/$t.csv" ] || die "missing $dir/$t.csv"
		check_header "$dir/$t.csv" "$t"
	done
	load_sql "$dir" "$replace" |
	    psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -t -A -f - ||
	    die "nothing loaded from $dir"
}

main "$@"
