/*
 * Every statement on users. A user's deletion takes their URLs with it
 * (their codes come back for the cache) and logs each as deleted
 * (db/sql_events.h); the bulk import is import_users() (migrations 003
 * and 005).
 */

#include "db/sql_events.h"
#include "db/sql_list.h"
#include "db/sql_users.h"

/* $9: the owner a key is scoped to, who sees only their own user. */
#define USERS_FILTER \
	"($7::text IS NULL OR username = $7) AND " \
	"($8::text IS NULL OR lower(email) = lower($8)) AND " \
	"($9::bigint IS NULL OR id = $9)"

const char sql_users_page[] = LIST_SQL_PAGE("users", "user_json",
    USERS_FILTER);
const char sql_users_batch[] = LIST_SQL_BATCH("users", "user_json",
    USERS_FILTER);

const char sql_users_create[] =
	"INSERT INTO users (username, email) VALUES ($1, $2)"
	" RETURNING user_json(users), id";

const char sql_users_get[] =
	"SELECT user_json(u) FROM users u WHERE id = $1"
	" AND ($2::bigint IS NULL OR id = $2)";

const char sql_users_update[] =
	"UPDATE users SET username = coalesce($2, username),"
	" email = coalesce($3, email) WHERE id = $1"
	" AND ($4::bigint IS NULL OR id = $4) RETURNING user_json(users)";

/*
 * The user's URLs go first so that their deletion can be logged as
 * events; the foreign key's cascade then finds nothing left to do.
 */
const char sql_users_delete[] =
	"WITH gone AS (DELETE FROM urls WHERE user_id = $1"
	"    AND ($2::bigint IS NULL OR user_id = $2)"
	"    RETURNING id, user_id, short_code),"
	" logged AS (" EVENTS_INSERT "SELECT id, user_id, 'deleted',"
	"    " EVENTS_NOW ", jsonb_build_object("
	"    'reason', 'user_deleted', 'short_code', short_code) FROM gone),"
	" u AS (DELETE FROM users WHERE id = $1"
	"    AND ($2::bigint IS NULL OR id = $2) RETURNING id)"
	" SELECT (SELECT count(*) FROM u),"
	" (SELECT coalesce(string_agg(short_code, ' '), '') FROM gone)";

const char sql_users_import[] = "SELECT import_users($1::jsonb)";
