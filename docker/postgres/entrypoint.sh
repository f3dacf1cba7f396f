#!/bin/sh
#
# postgres-entrypoint: initialise an empty data directory (superuser
# POSTGRES_USER with POSTGRES_PASSWORD, database POSTGRES_DB, password
# authentication for every TCP client), include the project's settings
# when they are mounted, then run the server in the
# foreground as PID 1, so that Docker's signals reach it.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pwfile="$(mktemp)"
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 \
	    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
	rm -f "$pwfile"
	printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
	cat >>"$PGDATA/postgresql.auto.conf" <<-CONF
	listen_addresses = '*'
	max_connections = 200
	log_timezone = 'UTC'
	timezone = 'UTC'
	CONF
	if [ "$db" != postgres ]; then
		echo "CREATE DATABASE \"$db\"" |
		    postgres --single -D "$PGDATA" -j postgres >/dev/null
	fi
fi
# The project's settings, when mounted (docker-compose.yml), on every
# start: postgresql.auto.conf (above: addresses, connections) still wins.
if [ -r /etc/shortener/postgresql.conf ] &&
    ! grep -q '^include_if_exists = .*/etc/shortener/postgresql.conf' "$PGDATA/postgresql.conf"; then
	echo "include_if_exists = '/etc/shortener/postgresql.conf'" >>"$PGDATA/postgresql.conf"
fi
exec postgres -D "$PGDATA" "$@"
