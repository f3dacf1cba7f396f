/*
 * GET /<code> and its alias GET /urls/<code>/redirect.
 *
 * The cache first (cache/urlcache.c: the worker's local copy of a recent
 * hit, answered at once, else Redis), then, on a miss, a database lookup
 * shared by every request of the worker asking for the same code
 * (db/codelookup.c), whose answer fills the cache. When Redis is down or
 * over its time budget the request goes straight to the database and
 * says so (X-Cache: BYPASS). The click is handed to the click writer; the
 * redirect never waits for it to be stored. Unknown and inactive codes are
 * a 404 and record nothing; HEAD answers the same without a click, for
 * monitors, and so does a GET from a link-preview fetcher
 * (core/uaclass.h).
 *
 * Lifecycle (db/migrations/020). An expired link is a 410, decided from
 * the expiry that the cache entry or the database row carries, with this
 * machine's clock: no invalidation, every replica at once. A link with a
 * click cap is a 410 once the cap is reached; every counted redirect of
 * such a link first claims its click with a conditional UPDATE
 * (sql_urls_claim), which the row lock serialises across all workers of
 * all instances: the cap holds exactly, and only capped links pay a
 * database round trip on a cache hit. HEAD and previews only look.
 *
 * Whatever path the URL came by (the worker's copy, Redis, PostgreSQL),
 * it is checked once more before it becomes a Location: a value with a
 * control character would split the response. The API refuses such
 * URLs and the schema cannot store them (db/migrations/014), so one here
 * means a cache or a database written behind the service's back: it is
 * logged and the link answered as not found. The redirect tells the
 * browser to send the destination no Referer (Referrer-Policy:
 * no-referrer): the page a link was clicked on is the clicker's
 * business, not the destination's (docs/decisions.md).
 */

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/common.h"
#include "cache/urlcache.h"
#include "clicks/clickwriter.h"
#include "core/shortcode.h"
#include "core/text.h"
#include "core/uaclass.h"
#include "db/codelookup.h"
#include "db/sql_urls.h"
#include "http/respond.h"
#include "obs/log.h"
#include "obs/metrics.h"

/* Longest User-Agent or Referer kept in a click event, in bytes. */
#define CLICK_HEADER_MAX	512

struct redirect_state {
	struct urlcache_get	cached;
	struct lookup_waiter	lookup;
	const char		*cache;		/* X-Cache */
	int			 fill;		/* cache what the database says */
	int			 asked_again;	/* the cache, after the database failed */
	int64_t			 url_id;	/* the link found, for the claim */
	int64_t			 user_id;
	const char		*url;		/* in cached or lookup */
	int			 counted;	/* this request is a click */
};

static int	st_start(struct http_request *, struct api_ctx *);
static int	st_wait_cache(struct http_request *, struct api_ctx *);
static int	st_wait_database(struct http_request *, struct api_ctx *);
static int	lookup_database(struct http_request *, struct api_ctx *);
static int	ask_cache_again(struct http_request *, struct api_ctx *);
static int	may_ask_again(const struct redirect_state *);
static int	lookup_patiently(struct http_request *, struct api_ctx *);
static void	redirect_state_free(void *);
static int	redirect_found(struct http_request *, struct api_ctx *,
		    const struct cache_entry *);
static int	st_wait_claim(struct http_request *, struct api_ctx *);
static int	redirect_gone(struct http_request *, struct api_ctx *,
		    const char *, const char *);
static int	redirect_respond(struct http_request *, struct api_ctx *);
static void	click_record(struct http_request *, const char *, int64_t,
		    int64_t);
static char	*header_copy(struct http_request *, const char *);

int
redirect(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	return (st_start(req, ctx));
}

static int
st_start(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st;

	if (!shortcode_is_wellformed(ctx->http.param, strlen(ctx->http.param))) {
		metrics_redirect(METRICS_REDIRECT_NOT_FOUND);
		return (api_not_found(req, "short link"));
	}

	st = kore_calloc(1, sizeof(*st));
	ctx->state = st;
	ctx->state_free = redirect_state_free;

	switch (urlcache_get(&st->cached, req, ctx->http.param)) {
	case -1:
		metrics_cache_lookup(METRICS_CACHE_BYPASS);
		st->cache = "BYPASS";
		return (lookup_database(req, ctx));
	case 1:
		return (st_wait_cache(req, ctx));
	}

	ctx->resume = st_wait_cache;
	return (KORE_RESULT_RETRY);
}

static int
st_wait_cache(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;
	struct cache_entry	*e = &st->cached.entry;

	switch (st->cached.result) {
	case URLCACHE_PENDING:
		return (KORE_RESULT_RETRY);
	case URLCACHE_HIT:
		metrics_cache_lookup(st->cached.local ?
		    METRICS_CACHE_LOCAL_HIT : METRICS_CACHE_HIT);
		st->cache = "HIT";
		return (redirect_found(req, ctx, e));
	case URLCACHE_NEGATIVE:
		metrics_cache_lookup(METRICS_CACHE_NEGATIVE);
		metrics_redirect(METRICS_REDIRECT_NOT_FOUND);
		ctx->http.cache = "HIT";
		http_response_header(req, "x-cache", "HIT");
		return (api_not_found(req, "short link"));
	case URLCACHE_MISS:
		metrics_cache_lookup(METRICS_CACHE_MISS);
		st->cache = "MISS";
		st->fill = 1;
		break;
	case URLCACHE_MISS_NOFILL:
		metrics_cache_lookup(METRICS_CACHE_MISS);
		st->cache = "MISS";
		break;
	case URLCACHE_BYPASS:
		/* Redis was asked (urlcache_get returned 0): no good answer. */
		metrics_cache_lookup(METRICS_CACHE_ERROR);
		st->cache = "BYPASS";
		break;
	}

	return (lookup_database(req, ctx));
}

static int
lookup_database(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;

	/* Patient, unless a second look in the cache may do (below). */
	ctx->resume = st_wait_database;
	code_lookup(&st->lookup, req, ctx->http.param, !may_ask_again(st));
	return (KORE_RESULT_RETRY);
}

static int
st_wait_database(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;
	struct cache_entry	 e;

	switch (st->lookup.status) {
	case LOOKUP_PENDING:
		return (KORE_RESULT_RETRY);
	case LOOKUP_FAILED:
		if (ask_cache_again(req, ctx))
			return (KORE_RESULT_RETRY);
		/* Nowhere else to ask after all: wait for the database. */
		if (!st->lookup.patient)
			return (lookup_patiently(req, ctx));
		metrics_redirect(METRICS_REDIRECT_UNAVAILABLE);
		ctx->http.cache = st->cache;
		http_response_header(req, "x-cache", st->cache);
		respond_unavailable(req, "the database is unavailable");
		return (KORE_RESULT_OK);
	case LOOKUP_ABSENT:
		metrics_redirect(METRICS_REDIRECT_NOT_FOUND);
		if (st->fill)
			urlcache_fill_absent(ctx->http.param);
		ctx->http.cache = st->cache;
		http_response_header(req, "x-cache", st->cache);
		return (api_not_found(req, "short link"));
	case LOOKUP_FOUND:
		break;
	}

	e.url_id = st->lookup.url_id;
	e.user_id = st->lookup.user_id;
	e.expires_at = st->lookup.expires_at;
	e.capped = st->lookup.capped;
	e.url = st->lookup.url;
	e.url_len = strlen(st->lookup.url);
	if (st->fill)
		urlcache_fill(ctx->http.param, &e);

	return (redirect_found(req, ctx, &e));
}

/*
 * The link exists and is active: expired, capped or a plain redirect.
 * e->url lives as long as the request's state (cached or lookup).
 */
static int
redirect_found(struct http_request *req, struct api_ctx *ctx,
    const struct cache_entry *e)
{
	struct redirect_state	*st = ctx->state;
	const char		*ua;

	st->url_id = e->url_id;
	st->user_id = e->user_id;
	st->url = e->url;
	if (!http_request_header(req, "user-agent", &ua))
		ua = NULL;
	st->counted = req->method == HTTP_METHOD_GET &&
	    !ua_is_link_preview(ua);

	if (cache_entry_expired(e, (int64_t)time(NULL)))
		return (redirect_gone(req, ctx, "link_expired",
		    "this short link has expired"));
	if (!e->capped)
		return (redirect_respond(req, ctx));

	api_prepare(ctx, st->counted ? sql_urls_claim : sql_urls_capped_left);
	db_param_int(&ctx->db, 0, e->url_id);
	return (api_then(req, ctx, st_wait_claim));
}

/* The database's word on a capped link: a click left, or none. */
static int
st_wait_claim(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 1 && db_value(&ctx->db, 0, 0)[0] == 't')
		return (redirect_respond(req, ctx));
	return (redirect_gone(req, ctx, "link_exhausted",
	    "this short link has reached its click limit"));
}

static int
redirect_gone(struct http_request *req, struct api_ctx *ctx,
    const char *code, const char *msg)
{
	struct redirect_state	*st = ctx->state;

	metrics_redirect(METRICS_REDIRECT_NOT_FOUND);
	ctx->http.cache = st->cache;
	http_response_header(req, "x-cache", st->cache);
	/* A JSON error: Cache-Control no-store, as every one (http/respond.c). */
	respond_error(req, 410, code, msg);
	return (KORE_RESULT_OK);
}

/*
 * The database failed a request that went to it because Redis was slow
 * (over budget), not because the code was missing: with the database
 * down, a second look in the cache turns a 503 into a redirect. Once.
 */
static int
ask_cache_again(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;

	if (!may_ask_again(st))
		return (0);
	st->asked_again = 1;

	code_lookup_release(&st->lookup);
	memset(&st->lookup, 0, sizeof(st->lookup));
	urlcache_get_release(&st->cached);
	if (urlcache_get(&st->cached, req, ctx->http.param) == -1)
		return (0);

	ctx->resume = st_wait_cache;
	return (1);
}

/*
 * The lookup was not patient because the cache might answer on a second
 * look, and it cannot (Redis went down or is busy meanwhile): the same
 * lookup again, patient this time.
 */
static int
lookup_patiently(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;

	st->asked_again = 1;
	code_lookup_release(&st->lookup);
	return (lookup_database(req, ctx));
}

static int
may_ask_again(const struct redirect_state *st)
{
	return (!st->asked_again && !st->fill && urlcache_up());
}

static void
redirect_state_free(void *arg)
{
	struct redirect_state	*st = arg;

	urlcache_get_release(&st->cached);
	code_lookup_release(&st->lookup);
	kore_free(st);
}

static int
redirect_respond(struct http_request *req, struct api_ctx *ctx)
{
	struct redirect_state	*st = ctx->state;

	ctx->http.cache = st->cache;
	if (!text_header_safe(st->url, strlen(st->url))) {
		log_event(LOG_LEVEL_ERROR, "unsafe_location", "short link %s "
		    "holds a URL with control characters (X-Cache %s): not "
		    "sent", ctx->http.param, st->cache);
		metrics_redirect(METRICS_REDIRECT_NOT_FOUND);
		return (api_not_found(req, "short link"));
	}

	metrics_redirect(METRICS_REDIRECT_FOUND);
	if (st->counted)
		click_record(req, ctx->http.param, st->url_id, st->user_id);

	http_response_header(req, "location", st->url);
	http_response_header(req, "cache-control", "private, max-age=0");
	http_response_header(req, "referrer-policy", "no-referrer");
	http_response_header(req, "x-cache", st->cache);
	http_response(req, 302, NULL, 0);
	return (KORE_RESULT_OK);
}

static void
click_record(struct http_request *req, const char *code, int64_t url_id,
    int64_t user_id)
{
	struct click	c;
	struct timespec	ts;

	memset(&c, 0, sizeof(c));
	c.url_id = url_id;
	c.user_id = user_id;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	c.at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if ((c.short_code = strdup(code)) == NULL)
		fatal("strdup: out of memory");
	c.user_agent = header_copy(req, "user-agent");
	c.referer = header_copy(req, "referer");
	clickwriter_push(&c);
}

static char *
header_copy(struct http_request *req, const char *name)
{
	const char	*value;

	if (!http_request_header(req, name, &value))
		return (NULL);
	return (text_clean(value, CLICK_HEADER_MAX));
}
