/*
 * /urls: create, list, read, update, delete, stats.
 *
 * Every write and the event that records it are one statement, so the
 * audit log can never disagree with the table. Random short codes come
 * from the CSPRNG; the unique index is the arbiter of collisions, and a
 * collision simply draws again.
 */

#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/bodies.h"
#include "core/shortcode.h"
#include "http/respond.h"

#define CODE_ATTEMPTS	5

#define URLS_FILTER \
	"($1::bigint IS NULL OR user_id = $1) AND " \
	"($2::boolean IS NULL OR is_active = $2) AND " \
	"($3::text IS NULL OR short_code = $3)"

static const char sql_list[] =
	"WITH page AS (SELECT u FROM urls u WHERE " URLS_FILTER
	"    AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $5 OFFSET $6)"
	" SELECT CASE WHEN $7 THEN (SELECT count(*) FROM urls WHERE "
	URLS_FILTER " AND ($4::bigint IS NULL OR id > $4)) END,"
	" coalesce((SELECT json_agg(url_json(page.u) ORDER BY (page.u).id)"
	"     FROM page), '[]'),"
	" (SELECT max((page.u).id) FROM page)";

static const struct api_filter list_filters[] = {
	{ "user_id",	API_FILTER_INT },
	{ "is_active",	API_FILTER_BOOL },
	{ "short_code",	API_FILTER_TEXT },
};

static const char sql_create[] =
	"WITH u AS (INSERT INTO urls (user_id, short_code, original_url,"
	"    title, is_active) VALUES ($1, $2, $3, $4, $5)"
	"    RETURNING urls AS r, id, user_id, short_code, original_url,"
	"    created_at),"
	" logged AS (INSERT INTO events (url_id, user_id, event_type,"
	"    \"timestamp\", details) SELECT id, user_id, 'created', created_at,"
	"    jsonb_build_object('short_code', short_code,"
	"    'original_url', original_url) FROM u)"
	" SELECT url_json(u.r), u.short_code FROM u";

static const char sql_get[] =
	"SELECT url_json(u) FROM urls u WHERE id = $1";

/*
 * old is read under a row lock in the same snapshot the update runs in,
 * so the events name exactly the fields this request changed.
 */
static const char sql_update[] =
	"WITH old AS (SELECT * FROM urls WHERE id = $1 FOR UPDATE),"
	" new AS (UPDATE urls u SET"
	"    title = CASE WHEN $2 THEN $3 ELSE u.title END,"
	"    is_active = coalesce($4, u.is_active),"
	"    original_url = coalesce($5, u.original_url),"
	"    updated_at = now() AT TIME ZONE 'UTC'"
	"    FROM old WHERE u.id = old.id RETURNING u AS r),"
	" logged AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT (n.r).id, (n.r).user_id, 'updated',"
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

static const char sql_delete[] =
	"WITH d AS (DELETE FROM urls WHERE id = $1"
	"    RETURNING id, user_id, short_code),"
	" logged AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT id, user_id, 'deleted', jsonb_build_object("
	"    'reason', 'user_requested', 'short_code', short_code) FROM d)"
	" SELECT short_code FROM d";

/* Thirty UTC days, oldest first, days without clicks included. */
static const char sql_stats[] =
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
	" WHERE u.id = $1";

struct url_create {
	int	custom_code;
};

static int	create_bind(struct http_request *, struct api_ctx *);
static int	create_collided(const struct api_ctx *);
static void	bind_random_code(struct api_ctx *);
static int	update_bind(struct http_request *, struct api_ctx *);

int
urls_list(struct http_request *req, struct api_ctx *ctx)
{
	return (api_list(req, ctx, sql_list, list_filters,
	    sizeof(list_filters) / sizeof(list_filters[0])));
}

int
urls_create(struct http_request *req, struct api_ctx *ctx)
{
	struct url_create	*st;
	const char		*code;

	if (ctx->step == 0) {
		if (!create_bind(req, ctx))
			return (KORE_RESULT_OK);
		ctx->step = 1;
	}

	st = ctx->state;
	switch (db_run(req, &ctx->db)) {
	case DB_PENDING:
		return (KORE_RESULT_RETRY);
	case DB_FAILED:
		if (!st->custom_code && create_collided(ctx) &&
		    ++ctx->tries < CODE_ATTEMPTS) {
			bind_random_code(ctx);
			return (urls_create(req, ctx));
		}
		return (api_db_error(req, ctx));
	case DB_DONE:
		break;
	}

	/*
	 * A negative cache entry for this code must not outlive it. A custom
	 * code may have been probed (and its absence read) a moment ago, so
	 * it gets a tombstone; a random one only needs the key gone.
	 */
	code = db_value(&ctx->db, 0, 1);
	if (api_invalidate(req, ctx, &code, 1, st->custom_code ?
	    URLCACHE_TOMBSTONE : URLCACHE_DELETE) == KORE_RESULT_RETRY)
		return (KORE_RESULT_RETRY);
	return (api_send_value(req, 201, ctx));
}

int
url_get(struct http_request *req, struct api_ctx *ctx)
{
	return (api_fetch_by_id(req, ctx, sql_get, "url"));
}

int
url_update(struct http_request *req, struct api_ctx *ctx)
{
	const char	*code;

	if (ctx->step == 0) {
		if (!update_bind(req, ctx))
			return (KORE_RESULT_OK);
		ctx->step = 1;
	}

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));
	code = db_value(&ctx->db, 0, 1);
	if (api_invalidate(req, ctx, &code, 1, URLCACHE_TOMBSTONE) ==
	    KORE_RESULT_RETRY)
		return (KORE_RESULT_RETRY);
	return (api_send_value(req, 200, ctx));
}

int
url_delete(struct http_request *req, struct api_ctx *ctx)
{
	const char	*code;

	if (ctx->step == 0 &&
	    !api_by_id_start(req, ctx, sql_delete, "url"))
		return (KORE_RESULT_OK);

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));
	code = db_value(&ctx->db, 0, 0);
	if (api_invalidate(req, ctx, &code, 1, URLCACHE_TOMBSTONE) ==
	    KORE_RESULT_RETRY)
		return (KORE_RESULT_RETRY);
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

int
url_stats(struct http_request *req, struct api_ctx *ctx)
{
	return (api_fetch_by_id(req, ctx, sql_stats, "url"));
}

static int
create_bind(struct http_request *req, struct api_ctx *ctx)
{
	struct url_create	*st;
	struct url_body		 b;
	json_t			*errors;

	errors = json_object();
	if (body_url_create(ctx->body, &b, errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	st = kore_calloc(1, sizeof(*st));
	st->custom_code = b.short_code != NULL;
	ctx->state = st;
	ctx->state_free = kore_free;

	db_prepare(&ctx->db, sql_create);
	db_param_int(&ctx->db, 0, b.user_id);
	if (st->custom_code)
		db_param_text(&ctx->db, 1, b.short_code, b.short_code_len);
	else
		bind_random_code(ctx);
	db_param_text(&ctx->db, 2, b.original_url, b.original_url_len);
	if (b.title == FIELD_SET)
		db_param_text(&ctx->db, 3, b.title_text, b.title_len);
	else
		db_param_null(&ctx->db, 3);
	db_param_bool(&ctx->db, 4, b.is_active);

	return (1);
}

/* The statement failed on the short code's unique index. */
static int
create_collided(const struct api_ctx *ctx)
{
	return (!strcmp(ctx->db.sqlstate, "23505") &&
	    ctx->db.constraint != NULL &&
	    !strcmp(ctx->db.constraint, "urls_short_code_key"));
}

/* Draws a new code into parameter $2, ready for a (re)run. */
static void
bind_random_code(struct api_ctx *ctx)
{
	char	code[SHORTCODE_LEN + 1];

	if (shortcode_generate(code) == -1)
		fatal("shortcode_generate: no randomness");

	db_rearm(&ctx->db);
	db_param_text(&ctx->db, 1, code, SHORTCODE_LEN);
}

static int
update_bind(struct http_request *req, struct api_ctx *ctx)
{
	struct url_body		 b;
	json_t			*errors;

	errors = json_object();
	if (body_url_update(ctx->body, &b, errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	if (ctx_param_id(ctx) == 0)
		return (api_not_found(req, "url"), 0);

	db_prepare(&ctx->db, sql_update);
	db_param_int(&ctx->db, 0, ctx_param_id(ctx));
	db_param_bool(&ctx->db, 1, b.title == FIELD_SET ||
	    b.title == FIELD_NULL);
	if (b.title == FIELD_SET)
		db_param_text(&ctx->db, 2, b.title_text, b.title_len);
	else
		db_param_null(&ctx->db, 2);
	if (b.has_active)
		db_param_bool(&ctx->db, 3, b.is_active);
	else
		db_param_null(&ctx->db, 3);
	if (b.original_url != NULL)
		db_param_text(&ctx->db, 4, b.original_url,
		    b.original_url_len);
	else
		db_param_null(&ctx->db, 4);

	return (1);
}
