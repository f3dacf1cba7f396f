/*
 * Every statement on urls. Each write logs its event (created, updated
 * per field, deleted) in the same statement, through db/sql_events.h, so
 * the audit log can never disagree with the table.
 */

#include "db/sql_events.h"
#include "db/sql_list.h"
#include "db/sql_urls.h"

/* $10: the owner a key is scoped to. */
#define URLS_FILTER \
	"($7::bigint IS NULL OR user_id = $7) AND " \
	"($8::boolean IS NULL OR is_active = $8) AND " \
	"($9::text IS NULL OR short_code = $9) AND " \
	"($10::bigint IS NULL OR user_id = $10)"

const char sql_urls_page[] = LIST_SQL_PAGE("urls", "url_json", URLS_FILTER);
const char sql_urls_batch[] = LIST_SQL_BATCH("urls", "url_json",
    URLS_FILTER);

const char sql_urls_create[] =
	"WITH u AS (INSERT INTO urls (user_id, short_code, original_url,"
	"    title, is_active) VALUES ($1, $2, $3, $4, $5)"
	"    RETURNING urls AS r, id, user_id, short_code, original_url,"
	"    created_at),"
	" logged AS (" EVENTS_INSERT "SELECT id, user_id, 'created',"
	"    created_at, jsonb_build_object('short_code', short_code,"
	"    'original_url', original_url) FROM u)"
	" SELECT url_json(u.r), u.short_code, u.id FROM u";

const char sql_urls_get[] =
	"SELECT url_json(u) FROM urls u WHERE id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2)";

/*
 * old is read under a row lock in the same snapshot the update runs in,
 * so the events name exactly the fields this request changed.
 */
const char sql_urls_update[] =
	"WITH old AS (SELECT * FROM urls WHERE id = $1"
	"    AND ($6::bigint IS NULL OR user_id = $6) FOR UPDATE),"
	" new AS (UPDATE urls u SET"
	"    title = CASE WHEN $2 THEN $3 ELSE u.title END,"
	"    is_active = coalesce($4, u.is_active),"
	"    original_url = coalesce($5, u.original_url),"
	"    updated_at = now() AT TIME ZONE 'UTC'"
	"    FROM old WHERE u.id = old.id RETURNING u AS r),"
	" logged AS (" EVENTS_INSERT "SELECT (n.r).id, (n.r).user_id,"
	"    'updated', " EVENTS_NOW ","
	"    jsonb_build_object('field', f.field, 'new_value', f.value)"
	"    FROM new n, old o, LATERAL (VALUES"
	"    ('title', to_jsonb((n.r).title),"
	"        (n.r).title IS DISTINCT FROM o.title),"
	"    ('is_active', to_jsonb((n.r).is_active),"
	"        (n.r).is_active <> o.is_active),"
	"    ('original_url', to_jsonb((n.r).original_url),"
	"        (n.r).original_url <> o.original_url))"
	"    AS f(field, value, changed) WHERE f.changed)"
	" SELECT url_json(n.r), o.short_code FROM new n, old o";

const char sql_urls_delete[] =
	"WITH d AS (DELETE FROM urls WHERE id = $1"
	"    AND ($2::bigint IS NULL OR user_id = $2)"
	"    RETURNING id, user_id, short_code),"
	" logged AS (" EVENTS_INSERT "SELECT id, user_id, 'deleted',"
	"    " EVENTS_NOW ", jsonb_build_object("
	"    'reason', 'user_requested', 'short_code', short_code) FROM d)"
	" SELECT short_code FROM d";

/* Thirty UTC days, oldest first, days without clicks included. */
const char sql_urls_stats[] =
	"SELECT json_build_object('url_id', u.id, 'short_code', u.short_code,"
	" 'clicks', coalesce(t.clicks, 0),"
	" 'last_click_at', api_ts(t.last_click_at),"
	" 'daily', (SELECT json_agg(json_build_object("
	"     'date', to_char(d.day, 'YYYY-MM-DD'),"
	"     'clicks', coalesce(c.clicks, 0)) ORDER BY d.day)"
	"   FROM generate_series((now() AT TIME ZONE 'UTC')::date - 29,"
	"       (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)"
	"   LEFT JOIN url_click_daily c"
	"       ON c.url_id = u.id AND c.day = d.day::date))"
	" FROM urls u LEFT JOIN LATERAL (SELECT sum(clicks)::bigint AS clicks,"
	"     max(last_click_at) AS last_click_at FROM url_click_daily"
	"     WHERE url_id = u.id) t ON true"
	" WHERE u.id = $1 AND ($2::bigint IS NULL OR u.user_id = $2)";

/* The redirect's lookup (db/codelookup.c). */
const char sql_urls_lookup[] =
	"SELECT id, user_id, original_url FROM urls"
	" WHERE short_code = $1 AND is_active";
