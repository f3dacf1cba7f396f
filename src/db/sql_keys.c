/*
 * Every statement on api_keys. Only hashes cross to PostgreSQL: a key
 * itself is never a parameter, so no statement log (a slow statement's
 * parameters are logged) can hold one.
 */

#include "db/sql_keys.h"
#include "db/sql_list.h"

#define KEYS_FILTER \
	"($7::bigint IS NULL OR user_id = $7) AND " \
	"($8::text IS NULL OR scope = $8) AND " \
	"($9::bigint IS NULL OR user_id = $9)"

const char sql_keys_page[] = LIST_SQL_PAGE("api_keys", "api_key_json",
    KEYS_FILTER);
const char sql_keys_batch[] = LIST_SQL_BATCH("api_keys", "api_key_json",
    KEYS_FILTER);

const char sql_keys_lookup[] =
	"SELECT id, scope, user_id,"
	" (extract(epoch FROM expires_at) * 1000)::bigint"
	" FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
	" AND (expires_at IS NULL OR expires_at > now() AT TIME ZONE 'UTC')";

const char sql_keys_create[] =
	"INSERT INTO api_keys (name, prefix, key_hash, scope, user_id,"
	"    expires_at)"
	" SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint,"
	"    $6::timestamp"
	" WHERE $6::timestamp IS NULL OR $6 > now() AT TIME ZONE 'UTC'"
	" RETURNING api_key_json(api_keys), id";

const char sql_keys_get[] =
	"SELECT api_key_json(k) FROM api_keys k WHERE id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2)";

const char sql_keys_revoke[] =
	"UPDATE api_keys SET revoked_at = coalesce(revoked_at,"
	"    now() AT TIME ZONE 'UTC')"
	" WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)"
	" RETURNING key_hash";
