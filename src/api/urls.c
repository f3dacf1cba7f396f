/*
 * /urls: create, list, read, update, delete, stats.
 *
 * Every write and the event that records it are one statement, so the
 * audit log can never disagree with the table. Random short codes come
 * from the CSPRNG; the unique index is the arbiter of collisions, and a
 * collision simply draws again.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/common.h"
#include "api/list.h"
#include "db/sql_urls.h"
#include "core/bodies.h"
#include "core/shortcode.h"
#include "core/validate.h"
#include "http/respond.h"

#define CODE_ATTEMPTS	5
#define STATS_DAYS_DEFAULT	30
#define STATS_DAYS_MAX		366

static const struct api_filter list_filters[] = {
	{ "user_id",	API_FILTER_INT,		0 },
	{ "is_active",	API_FILTER_BOOL,	1 },
	{ "short_code",	API_FILTER_TEXT,	0 },
	{ "q",		API_FILTER_TEXT,	0 },
	{ NULL,		0,			0 },
};

const char *const urls_list_names[] = {
	"user_id", "is_active", "short_code", "q", NULL
};

/* GET /urls/<id>/stats: the period. */
const char *const url_stats_names[] = { "from", "to", NULL };

static const struct api_list urls_list_def = {
	"urls", list_filters, urls_list_names,
	sql_urls_page, sql_urls_batch, NULL,
};

struct url_create {
	int	custom_code;
};

static int	create_bind(struct http_request *, struct api_ctx *);
static int	create_collided(const struct api_ctx *);
static void	bind_random_code(struct api_ctx *);
static int	update_bind(struct http_request *, struct api_ctx *);
static int	st_wait_stats(struct http_request *, struct api_ctx *);
static int	stats_period(struct http_request *, struct api_ctx *, char *,
		    char *);
static int	stats_bad(struct http_request *, const char *, const char *);
static int	st_wait_insert(struct http_request *, struct api_ctx *);
static int	st_wait_update(struct http_request *, struct api_ctx *);
static int	st_wait_delete(struct http_request *, struct api_ctx *);
static int	respond_created(struct http_request *, struct api_ctx *);
static int	respond_updated(struct http_request *, struct api_ctx *);
static int	respond_deleted(struct http_request *, struct api_ctx *);

int
urls_list(struct http_request *req, struct http_ctx *h)
{
	return (api_list(req, api_ctx(h), &urls_list_def));
}

int
urls_create(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!create_bind(req, ctx))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_insert));
}

/* A random code that collides is drawn again, CODE_ATTEMPTS times. */
static int
st_wait_insert(struct http_request *req, struct api_ctx *ctx)
{
	struct url_create	*st = ctx->state;
	const char		*code;

	switch (db_run(req, &ctx->db)) {
	case DB_PENDING:
		return (KORE_RESULT_RETRY);
	case DB_FAILED:
		if (!st->custom_code && create_collided(ctx) &&
		    ++ctx->tries < CODE_ATTEMPTS) {
			bind_random_code(ctx);
			return (st_wait_insert(req, ctx));
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
	return (api_invalidate(req, ctx, &code, 1, st->custom_code ?
	    URLCACHE_TOMBSTONE : URLCACHE_DELETE, respond_created));
}

static int
respond_created(struct http_request *req, struct api_ctx *ctx)
{
	return (api_created(req, ctx, "urls", 0, 2));
}

int
url_get(struct http_request *req, struct http_ctx *h)
{
	return (api_fetch_by_id(req, h, sql_urls_get, "url"));
}

int
url_update(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!update_bind(req, ctx))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_update));
}

static int
st_wait_update(struct http_request *req, struct api_ctx *ctx)
{
	const char	*code;

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));
	code = db_value(&ctx->db, 0, 1);
	return (api_invalidate(req, ctx, &code, 1, URLCACHE_TOMBSTONE,
	    respond_updated));
}

static int
respond_updated(struct http_request *req, struct api_ctx *ctx)
{
	return (api_send_value(req, 200, ctx));
}

int
url_delete(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!api_by_id_start(req, ctx, sql_urls_delete, "url"))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_delete));
}

static int
st_wait_delete(struct http_request *req, struct api_ctx *ctx)
{
	const char	*code;

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));
	code = db_value(&ctx->db, 0, 0);
	return (api_invalidate(req, ctx, &code, 1, URLCACHE_TOMBSTONE,
	    respond_deleted));
}

static int
respond_deleted(struct http_request *req, struct api_ctx *ctx)
{
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

/*
 * The stats of a URL over a period: ?from=&to= (UTC dates, inclusive),
 * by default the thirty days up to today, at most STATS_DAYS_MAX days.
 */
int
url_stats(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);
	char		 from[11], to[11];

	API_RESUME(req, ctx);
	if (!stats_period(req, ctx, from, to))
		return (KORE_RESULT_OK);
	if (!api_by_id_start(req, ctx, sql_urls_stats, "url"))
		return (KORE_RESULT_OK);
	db_param_text(&ctx->db, 1, from, 10);
	db_param_text(&ctx->db, 2, to, 10);
	api_bind_owner(ctx, 3);
	return (api_then(req, ctx, st_wait_stats));
}

static int
st_wait_stats(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "url"));
	return (api_send_value(req, 200, ctx));
}

/* from and to (11 bytes each) from the query, or a 400 (returns 0). */
static int
stats_period(struct http_request *req, struct api_ctx *ctx, char *from,
    char *to)
{
	const char	*qf, *qt, *why;
	time_t		 now;
	struct tm	 tm;
	int64_t		 d0, d1;
	char		 msg[128];

	now = time(NULL);
	(void)gmtime_r(&now, &tm);
	(void)strftime(to, 11, "%Y-%m-%d", &tm);
	if ((qt = query_get(&ctx->http.query, "to")) != NULL) {
		if ((why = validate_date(qt, strlen(qt))) != NULL)
			return (stats_bad(req, "to", why));
		memcpy(to, qt, 11);
	}
	d1 = date_days(to);
	d0 = d1 - (STATS_DAYS_DEFAULT - 1);
	if ((qf = query_get(&ctx->http.query, "from")) != NULL) {
		if ((why = validate_date(qf, strlen(qf))) != NULL)
			return (stats_bad(req, "from", why));
		d0 = date_days(qf);
	}
	if (d0 > d1)
		return (stats_bad(req, "from", "must not be after to"));
	if (d1 - d0 + 1 > STATS_DAYS_MAX) {
		(void)snprintf(msg, sizeof(msg), "must be at most %d days "
		    "before to", STATS_DAYS_MAX - 1);
		return (stats_bad(req, "from", msg));
	}
	now = (time_t)(d0 * 86400);
	(void)gmtime_r(&now, &tm);
	(void)strftime(from, 11, "%Y-%m-%d", &tm);
	return (1);
}

static int
stats_bad(struct http_request *req, const char *param, const char *why)
{
	char	msg[192];

	(void)snprintf(msg, sizeof(msg), "query parameter '%s' %s", param,
	    why);
	respond_error(req, 400, NULL, msg);
	return (0);
}

static int
create_bind(struct http_request *req, struct api_ctx *ctx)
{
	struct url_create	*st;
	struct url_body		 b;
	json_t			*errors;

	/* A key scoped to a user creates that user's links: user_id is its. */
	errors = json_object();
	if (body_url_create(ctx->http.body, (int64_t)time(NULL),
	    ctx->who.owner > 0 ? 0 : FIELD_REQUIRED, &b, errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	if (ctx->who.owner > 0 && !b.has_user_id)
		b.user_id = ctx->who.owner;
	else if (ctx->who.owner > 0 && b.user_id != ctx->who.owner)
		return (api_not_found(req, "user"), 0);

	st = kore_calloc(1, sizeof(*st));
	st->custom_code = b.short_code != NULL;
	ctx->state = st;
	ctx->state_free = kore_free;

	api_prepare(ctx, sql_urls_create);
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
	if (b.expires_at == FIELD_SET)
		db_param_text(&ctx->db, 5, b.expires_at_text, b.expires_at_len);
	else
		db_param_null(&ctx->db, 5);
	if (b.max_clicks == FIELD_SET)
		db_param_int(&ctx->db, 6, b.max_clicks_value);
	else
		db_param_null(&ctx->db, 6);

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
	if (body_url_update(ctx->http.body, (int64_t)time(NULL), &b,
	    errors) == -1)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	if (ctx_param_id(&ctx->http) == 0)
		return (api_not_found(req, "url"), 0);

	api_prepare(ctx, sql_urls_update);
	db_param_int(&ctx->db, 0, ctx_param_id(&ctx->http));
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
	db_param_bool(&ctx->db, 5, b.expires_at != FIELD_ABSENT);
	if (b.expires_at == FIELD_SET)
		db_param_text(&ctx->db, 6, b.expires_at_text, b.expires_at_len);
	else
		db_param_null(&ctx->db, 6);
	db_param_bool(&ctx->db, 7, b.max_clicks != FIELD_ABSENT);
	if (b.max_clicks == FIELD_SET)
		db_param_int(&ctx->db, 8, b.max_clicks_value);
	else
		db_param_null(&ctx->db, 8);
	api_bind_owner(ctx, 9);

	return (1);
}
