/* The statements on urls (db/sql_urls.c). */
#ifndef SQL_URLS_H
#define SQL_URLS_H

/*
 * Every statement that reads or changes existing rows takes, last, the
 * owner a key is scoped to (NULL: none): another user's URL is "not
 * found".
 */

/*
 * Lists: db/sql_list.h; filters $7 user_id, $8 is_active, $9 short_code,
 * $10 q (the code, or a piece of the URL); $11 owner.
 */
extern const char	sql_urls_page[];
extern const char	sql_urls_batch[];
/*
 * $1 user_id, $2 short_code, $3 original_url, $4 title, $5 is_active,
 * $6 expires_at, $7 max_clicks: (url_json, short_code, id).
 */
extern const char	sql_urls_create[];
/* $1 id, $2 owner: url_json. */
extern const char	sql_urls_get[];
/*
 * $1 id, $2 whether title is given, $3 title, $4 is_active, $5
 * original_url (NULL: unchanged), $6 whether expires_at is given, $7
 * expires_at, $8 whether max_clicks is given, $9 max_clicks, $10 owner:
 * (url_json, short_code).
 */
extern const char	sql_urls_update[];
/* $1 id, $2 owner: short_code. */
extern const char	sql_urls_delete[];
/*
 * $1 id, $2 and $3 the period's first and last days, $4 owner: the stats
 * JSON.
 */
extern const char	sql_urls_stats[];
/*
 * $1 text[] of short codes: (short_code, id, user_id, original_url,
 * expiry in epoch seconds or 0, capped) of each active URL among them.
 */
extern const char	sql_urls_lookup[];
/* $1 id: whether a click of a capped link was granted (and counted). */
extern const char	sql_urls_claim[];
/* $1 id: whether a capped link has a click left. */
extern const char	sql_urls_capped_left[];
/* $1 id: short_code. */
extern const char	sql_urls_code[];

#endif
