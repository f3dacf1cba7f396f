#!/usr/bin/env bash
#
# migrate.sh: apply db/migrations/NNN_name.sql to $DATABASE_URL.
#
# Each file runs in its own transaction together with the insert of its row
# in schema_migrations, so a migration is either applied and recorded or
# neither. Recorded versions are skipped: running twice is a no-op. The
# whole run holds a session advisory lock, so concurrent runs (several
# replicas starting at once) apply each file exactly once: the second one
# waits, then finds everything recorded.
#
# Migration files must not contain BEGIN/COMMIT of their own.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MIGRATIONS="${MIGRATIONS_DIR:-$REPO_ROOT/db/migrations}"
# Any constant works as long as every migrator uses the same one.
LOCK_KEY=727001

# migration_files: "VERSION PATH" lines in numeric order; dies on a
# malformed name or two files with one version.
migration_files() {
	local f base v
	for f in "$MIGRATIONS"/*.sql; do
		[ -e "$f" ] || continue
		base="$(basename "$f")"
		[[ "$base" =~ ^([0-9]+)_[A-Za-z0-9_.-]+\.sql$ ]] ||
			die "bad migration file name: $base (want NNN_name.sql)"
		v=$((10#${BASH_REMATCH[1]}))
		echo "$v $f"
	done | sort -n -k1,1 | awk '
		$1 == prev { print "duplicate version " $1 > "/dev/stderr"; exit 1 }
		{ prev = $1; print }'
}

# psql's own quoting for a file name inside a backslash command.
psql_quote() {
	printf "'%s'" "${1//\'/\'\'}"
}

# script: one psql script for the whole run. psql's \if skips the files
# already recorded; ON_ERROR_STOP makes any error abort the run, and the
# open transaction dies with the connection.
script() {
	local v f
	cat <<EOF
SET client_min_messages = warning;
SELECT pg_advisory_lock($LOCK_KEY);
CREATE TABLE IF NOT EXISTS schema_migrations (
	version		int PRIMARY KEY,
	name		text NOT NULL,
	applied_at	timestamptz NOT NULL DEFAULT now()
);
EOF
	while read -r v f; do
		[ -n "$v" ] || continue
		cat <<EOF
SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $v) AS todo \\gset
\\if :todo
BEGIN;
\\i $(psql_quote "$f")
INSERT INTO schema_migrations (version, name) VALUES ($v, '$(basename "$f")');
COMMIT;
\\echo applied $(basename "$f")
\\endif
EOF
	done
	echo "SELECT pg_advisory_unlock($LOCK_KEY);"
}

main() {
	[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
	need_cmd psql
	local files out
	files="$(migration_files)"
	out="$(script <<<"$files" | psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 \
	    -t -A -o /dev/null -f -)" || {
		[ -z "$out" ] || printf '%s\n' "$out" >&2
		die "migration failed"
	}
	if [ -n "$out" ]; then
		printf '%s\n' "$out" | sed 's/^/migrate: /'
	else
		echo "migrate: nothing to apply, database is up to date"
	fi
}

main "$@"
