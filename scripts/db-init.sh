#!/usr/bin/env bash
#
# db-init.sh [SEED_DIR]: the one-shot database job of docker-compose.
# Applies the migrations, stores the first admin key when ADMIN_API_KEY is
# set (scripts/apikey.py bootstrap: its hash, once; docs/security.md),
# then seeds an empty database: from SEED_DIR when given and present, else
# from the seed generator. A database that already holds users is left
# alone, so the job can run on every `up`.
#
# The generated seed goes to a temp dir that the EXIT trap removes: a
# global, since the trap runs after main has returned (a local would be
# gone by then, and `set -u` would fail the job after a good seed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEED_TMP=""

main() {
	local seed="${1:-}" users
	: "${DATABASE_URL:?DATABASE_URL must be set}"
	"$SCRIPTS/migrate.sh"
	"$PYTHON" "$SCRIPTS/apikey.py" bootstrap

	users="$(psql "$DATABASE_URL" -X -At -c 'SELECT count(*) FROM users')"
	if [ "$users" != 0 ]; then
		log "database already seeded ($users users)"
		return 0
	fi

	if [ -n "$seed" ] && [ -f "$seed/users.csv" ]; then
		"$SCRIPTS/seed-load.sh" "$seed"
		return 0
	fi

	SEED_TMP="$(mktemp -d)"
	trap 'rm -rf "$SEED_TMP"' EXIT
	seedgen --out "$SEED_TMP" >/dev/null
	"$SCRIPTS/seed-load.sh" "$SEED_TMP"
}

main "$@"
