#!/usr/bin/env bash
#
# db-init.sh [SEED_DIR]: the one-shot database job of docker-compose.
# Applies the migrations, stores the first admin key when ADMIN_API_KEY is
# set (scripts/apikey.py bootstrap: its hash, once; docs/security.md),
# then seeds an empty database: from SEED_DIR when given and present, else
# from the seed generator. A database that already holds users is left
# alone, so the job can run on every `up`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
	local seed="${1:-}" users tmp
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

	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	seedgen --out "$tmp" >/dev/null
	"$SCRIPTS/seed-load.sh" "$tmp"
}

main "$@"
