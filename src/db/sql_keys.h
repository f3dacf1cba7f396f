/* The statements on api_keys (db/sql_keys.c). */
#ifndef SQL_KEYS_H
#define SQL_KEYS_H

/*
 * Lists: db/sql_list.h; filters $7 user_id, $8 scope; $9 owner (keys
 * are an admin's business: always NULL, there for the list's shape).
 */
extern const char	sql_keys_page[];
extern const char	sql_keys_batch[];
/*
 * $1 key_hash: (id, scope, user_id, expires_at in ms since the epoch or
 * NULL) of a key neither revoked nor expired; no row otherwise.
 */
extern const char	sql_keys_lookup[];
/*
 * $1 name, $2 prefix, $3 key_hash, $4 scope, $5 user_id or NULL, $6
 * expires_at or NULL: (api_key_json, id); no row when expires_at is not
 * in the future.
 */
extern const char	sql_keys_create[];
/* $1 id, $2 owner: api_key_json. */
extern const char	sql_keys_get[];
/* $1 id, $2 owner: key_hash of the key, revoked now or before. */
extern const char	sql_keys_revoke[];

#endif
