/*
 * Every statement on urls. Each write logs its event (created, updated
 * per field, deleted) in the same statement, through db/sql_events.h, so
 * the audit log can never disagree with the table.
 */

#include "db/sql_events.h"
#include "db/sql_list.h"
#include "db/sql_urls.h"

/*
 * $10, q: a search, the exact code or a piece of the original URL (any
 * case; LIKE's wildcards in it are literal), served by the trigram index
 * of db/migrations/022.
 */
/* $11: the owner a key is scoped to. */
#define URLS_FILTER \
	"($7::bigint IS NULL OR user_id = $7) AND " \
	"($8::boolean IS NULL OR is_active = $8) AND " \
	"($9::text IS NULL OR short_code = $9) AND " \
	"($10::text IS NULL OR short_code = $10 OR original_url ILIKE" \
	" '%' || replace(replace(replace($10, '\\', '\\\\'), '%', '\\%')," \
	" '_', '\\_') || '%') AND " \
	"($11::bigint IS NULL OR user_id = $11)"

const char sql_urls_page[] = LIST_SQL_PAGE("urls", "url_json", URLS_FILTER);
const char sql_urls_batch[] = LIST_SQL_BATCH("urls", "url_json",
    URLS_FILTER);

const char sql_urls_create[] =
	"WITH u AS (INSERT INTO urls (user_id, short_code, original_url,"
	"    title, is_active, expires_at, max_clicks)"
	"    VALUES ($1, $2, $3, $4, $5, $6, $7)"
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
 * so the events name exactly the fields this request changed. A cap put
 * on a link that had none starts from the clicks it has had
 * (db/migrations/020).
 */
const char sql_urls_update[] =
	"WITH old AS (SELECT * FROM urls WHERE id = $1"
	"    AND ($10::bigint IS NULL OR user_id = $10) FOR UPDATE),"
	" new AS (UPDATE urls u SET"
	"    title = CASE WHEN $2 THEN $3 ELSE u.title END,"
	"    is_active = coalesce($4, u.is_active),"
	"    original_url = coalesce($5, u.original_url),"
	"    expires_at = CASE WHEN $6 THEN $7 ELSE u.expires_at END,"
	"    max_clicks = CASE WHEN $8 THEN $9 ELSE u.max_clicks END,"
	"    cap_used = CASE WHEN $8 AND $9::bigint IS NOT NULL"
	"        AND u.max_clicks IS NULL THEN (SELECT coalesce(sum(clicks), 0)"
	"        FROM (SELECT clicks FROM url_click_daily WHERE url_id = u.id"
	"        UNION ALL SELECT clicks FROM url_click_hourly"
	"        WHERE url_id = u.id) c)"
	"        ELSE u.cap_used END,"
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
	"        (n.r).original_url <> o.original_url),"
	"    ('expires_at', to_jsonb(api_ts((n.r).expires_at)),"
	"        (n.r).expires_at IS DISTINCT FROM o.expires_at),"
	"    ('max_clicks', to_jsonb((n.r).max_clicks),"
	"        (n.r).max_clicks IS DISTINCT FROM o.max_clicks))"
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

/*
 * The contract's fields (daily: thirty UTC days, oldest first, days
 * without clicks included) and the period $2..$3 (dates, inclusive),
 * from the aggregates of db/migrations/021 and url_click_daily (clicks
 * without classification): a few hundred rows read by primary key,
 * whatever the size of events. Hours are sparse (only those with
 * clicks); days are dense.
 */
#define STATS_HOURS \
	"url_click_hourly WHERE url_id = u.id AND hour >= $2::date" \
	" AND hour < $3::date + 1"
#define STATS_DAYS(d0, d1) \
	"generate_series(" d0 ", " d1 ", interval '1 day') AS d(day)" \
	" LEFT JOIN url_clicks_by_day(u.id, " d0 ", " d1 ") c" \
	" ON c.day = d.day::date"
#define TODAY	"(now() AT TIME ZONE 'UTC')::date"

const char sql_urls_stats[] =
	"SELECT json_build_object('url_id', u.id, 'short_code', u.short_code,"
	" 'clicks', coalesce(t.clicks, 0) + coalesce(h.clicks, 0),"
	" 'last_click_at', api_ts(greatest(t.last_click_at, h.last_click_at)),"
	" 'daily', (SELECT json_agg(json_build_object("
	"     'date', to_char(d.day, 'YYYY-MM-DD'),"
	"     'clicks', coalesce(c.clicks, 0)) ORDER BY d.day)"
	"   FROM " STATS_DAYS(TODAY " - 29", TODAY) "),"
	" 'period', (SELECT json_build_object("
	"   'from', to_char($2::date, 'YYYY-MM-DD'),"
	"   'to', to_char($3::date, 'YYYY-MM-DD'),"
	"   'clicks', coalesce(sum(c.clicks), 0),"
	"   'human_clicks', coalesce(sum(c.people), 0),"
	"   'bot_clicks', coalesce(sum(c.bots), 0),"
	"   'by_day', json_agg(json_build_object("
	"       'date', to_char(d.day, 'YYYY-MM-DD'),"
	"       'clicks', coalesce(c.clicks, 0),"
	"       'human_clicks', coalesce(c.people, 0),"
	"       'bot_clicks', coalesce(c.bots, 0)) ORDER BY d.day),"
	"   'by_hour', (SELECT coalesce(json_agg(json_build_object("
	"       'hour', api_ts(hour), 'clicks', clicks,"
	"       'human_clicks', clicks - bot_clicks,"
	"       'bot_clicks', bot_clicks) ORDER BY hour), '[]')"
	"     FROM " STATS_HOURS "),"
	"   'referrers', click_facet_top(u.id, 'referrer', $2, $3, 10),"
	"   'browsers', click_facet_top(u.id, 'browser', $2, $3, 10),"
	"   'os', click_facet_top(u.id, 'os', $2, $3, 10),"
	"   'devices', click_facet_top(u.id, 'device', $2, $3, 10))"
	"   FROM " STATS_DAYS("$2::date", "$3::date") "))"
	" FROM urls u"
	" LEFT JOIN LATERAL (SELECT sum(clicks)::bigint AS clicks,"
	"     max(last_click_at) AS last_click_at FROM url_click_daily"
	"     WHERE url_id = u.id) t ON true"
	" LEFT JOIN LATERAL (SELECT sum(clicks)::bigint AS clicks,"
	"     max(last_click_at) AS last_click_at FROM url_click_hourly"
	"     WHERE url_id = u.id) h ON true"
	" WHERE u.id = $1 AND ($4::bigint IS NULL OR u.user_id = $4)";

/*
 * The redirect's lookup (db/codelookup.c), for a batch of codes at once:
 * $1 a text[] of codes; one row per code of an active URL. An expired
 * link is found, and cached with its expiry, which the redirect then
 * judges by itself. One statement per batch: its round trip and wake-up
 * are paid once for every code of the batch, and it is prepared once per
 * connection (db_prepare_named): no parse or plan per batch.
 */
const char sql_urls_lookup[] =
	"SELECT short_code, id, user_id, original_url,"
	" coalesce(extract(epoch FROM expires_at)::bigint, 0),"
	" max_clicks IS NOT NULL FROM urls"
	" WHERE short_code = ANY ($1::text[]) AND is_active";

/*
 * A redirect of a capped link claims its click: the row lock makes the
 * claims of every instance take turns, so exactly max_clicks succeed.
 * One row: whether the claim was granted.
 */
const char sql_urls_claim[] =
	"WITH c AS (UPDATE urls SET cap_used = cap_used + 1"
	"    WHERE id = $1 AND is_active AND cap_used < max_clicks"
	"    AND (expires_at IS NULL OR"
	"        expires_at > now() AT TIME ZONE 'UTC') RETURNING 1)"
	" SELECT EXISTS (SELECT 1 FROM c)";

/* A HEAD or a link preview of a capped link: whether a click is left. */
const char sql_urls_capped_left[] =
	"SELECT EXISTS (SELECT 1 FROM urls WHERE id = $1 AND is_active"
	"    AND cap_used < max_clicks)";

/* $1 id, $2 owner: the short code, for the QR code of the link. */
const char sql_urls_code[] =
	"SELECT short_code FROM urls WHERE id = $1"
	" AND ($2::bigint IS NULL OR user_id = $2)";
