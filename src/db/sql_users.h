/* The statements on users (db/sql_users.c). */
#ifndef SQL_USERS_H
#define SQL_USERS_H

/*
 * Every statement that reads or changes existing rows takes, last, the
 * owner a key is scoped to (NULL: none): a scoped key sees its owner's
 * user only, anything else is "not found".
 */

/* Lists: db/sql_list.h; filters $7 username, $8 email; $9 owner. */
extern const char	sql_users_page[];
extern const char	sql_users_batch[];
/* $1 username, $2 email: (user_json, id). */
extern const char	sql_users_create[];
/* $1 id, $2 owner: user_json. */
extern const char	sql_users_get[];
/* $1 id, $2 username or NULL, $3 email or NULL, $4 owner: user_json. */
extern const char	sql_users_update[];
/*
 * $1 id, $2 owner: (users deleted, the codes of their URLs,
 * space-separated).
 */
extern const char	sql_users_delete[];
/* $1 the rows as a JSON array: the import's report, JSON. */
extern const char	sql_users_import[];

#endif
