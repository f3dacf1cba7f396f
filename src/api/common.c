/*
 * Shared endpoint plumbing. Error mapping lives here and nowhere else, so
 * a constraint violation means the same status on every route.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "http/respond.h"
#include "obs/log.h"

static const struct page_req	*list_page(struct api_ctx *);
static int			 list_start(struct http_request *,
				    struct api_ctx *, int);
static int			 list_finish(struct http_request *,
				    struct api_ctx *);
static int			 filter_bind(struct http_request *,
				    struct api_ctx *, const struct api_filter *, int);
static const char		*constraint_message(const char *);

/* What a violated constraint means to the client. */
static const struct {
	const char	*constraint;
	const char	*message;
} constraint_messages[] = {
	{ "users_email_lower_key", "a user with this email already exists" },
	{ "urls_short_code_key", "this short code is already taken" },
	{ "urls_user_id_fkey", "user not found" },
};

int
api_db_error(struct http_request *req, struct api_ctx *ctx)
{
	const char	*state = ctx->db.sqlstate;

	if (db_unavailable(&ctx->db)) {
		respond_unavailable(req, "the database is unavailable");
	} else if (!strcmp(state, "23505")) {
		respond_error(req, 409, NULL,
		    constraint_message(ctx->db.constraint));
	} else if (!strcmp(state, "23503")) {
		respond_error(req, 404, NULL,
		    constraint_message(ctx->db.constraint));
	} else if (!strncmp(state, "22", 2)) {
		respond_error(req, 422, NULL, "a value cannot be stored");
	} else {
		log_event(LOG_LEVEL_ERROR, "database_error",
		    "unexpected database error %s on %s",
		    state, ctx->route->template);
		respond_error(req, 500, NULL, NULL);
	}

	return (KORE_RESULT_OK);
}

int
api_invalidate(struct http_request *req, struct api_ctx *ctx,
    const char **codes, size_t count, enum urlcache_how how)
{
	if (!ctx->inval_started) {
		ctx->inval_started = 1;
		if (urlcache_invalidate(&ctx->inval, req, codes, count,
		    how) > 0)
			return (KORE_RESULT_RETRY);
	}

	return (ctx->inval.pending > 0 ? KORE_RESULT_RETRY : KORE_RESULT_OK);
}

int
api_by_id_start(struct http_request *req, struct api_ctx *ctx,
    const char *sql, const char *what)
{
	if (ctx_param_id(ctx) == 0) {
		api_not_found(req, what);
		return (0);
	}

	db_prepare(&ctx->db, sql);
	db_param_int(&ctx->db, 0, ctx_param_id(ctx));
	ctx->step = 1;
	return (1);
}

int
api_fetch_by_id(struct http_request *req, struct api_ctx *ctx,
    const char *sql, const char *what)
{
	if (ctx->step == 0 && !api_by_id_start(req, ctx, sql, what))
		return (KORE_RESULT_OK);

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, what));
	return (api_send_value(req, 200, ctx));
}

int
api_send_value(struct http_request *req, int status, struct api_ctx *ctx)
{
	respond_json(req, status, db_value(&ctx->db, 0, 0),
	    (size_t)db_length(&ctx->db, 0, 0));
	return (KORE_RESULT_OK);
}

int
api_not_found(struct http_request *req, const char *what)
{
	char	msg[64];

	(void)snprintf(msg, sizeof(msg), "%s not found", what);
	respond_error(req, 404, NULL, msg);
	return (KORE_RESULT_OK);
}

int
api_invalid(struct http_request *req, json_t *errors)
{
	respond_invalid(req, errors);
	return (KORE_RESULT_OK);
}

int
api_list(struct http_request *req, struct api_ctx *ctx, const char *sql,
    const struct api_filter *filters, int nfilters)
{
	int	i;

	if (ctx->step == 0) {
		db_prepare(&ctx->db, sql);
		for (i = 0; i < nfilters; i++) {
			if (!filter_bind(req, ctx, &filters[i], i))
				return (KORE_RESULT_OK);
		}
		if (!list_start(req, ctx, nfilters))
			return (KORE_RESULT_OK);
		ctx->step = 1;
	}

	API_AWAIT(req, ctx);
	return (list_finish(req, ctx));
}

static int
list_start(struct http_request *req, struct api_ctx *ctx, int nfilters)
{
	struct page_req	*page;
	const char	*bad;

	page = kore_calloc(1, sizeof(*page));
	ctx->state = page;
	ctx->state_free = kore_free;

	if ((bad = page_parse(&ctx->query, page)) != NULL) {
		char	msg[96];

		(void)snprintf(msg, sizeof(msg),
		    "query parameter '%s' must be an integer", bad);
		respond_error(req, 400, NULL, msg);
		return (0);
	}

	if (page->has_after)
		db_param_int(&ctx->db, nfilters, page->after_id);
	else
		db_param_null(&ctx->db, nfilters);

	if (page_limit(page) < 0)
		db_param_null(&ctx->db, nfilters + 1);
	else
		db_param_int(&ctx->db, nfilters + 1, page_limit(page));
	db_param_int(&ctx->db, nfilters + 2, page_offset(page));
	db_param_bool(&ctx->db, nfilters + 3, page->paginated);

	return (1);
}

static int
list_finish(struct http_request *req, struct api_ctx *ctx)
{
	const struct page_req	*page = list_page(ctx);
	char			*link, total_s[24];
	int64_t			 total, last_id;

	if (page->paginated && !db_isnull(&ctx->db, 0, 0)) {
		total = db_int(&ctx->db, 0, 0);
		last_id = db_isnull(&ctx->db, 0, 2) ? 0 : db_int(&ctx->db, 0, 2);
		(void)snprintf(total_s, sizeof(total_s), "%" PRId64, total);
		http_response_header(req, "x-total-count", total_s);

		link = page_link_header(req->path, &ctx->query, page, total,
		    last_id);
		if (link != NULL) {
			http_response_header(req, "link", link);
			free(link);
		}
	}

	respond_json(req, 200, db_value(&ctx->db, 0, 1),
	    (size_t)db_length(&ctx->db, 0, 1));
	return (KORE_RESULT_OK);
}

/*
 * An optional filter of the query string into parameter i: absent is
 * NULL; returns 0 after answering 400 when it is malformed.
 */
static int
filter_bind(struct http_request *req, struct api_ctx *ctx,
    const struct api_filter *f, int i)
{
	const char	*v, *want;
	int64_t		 n;
	int		 b;
	char		 msg[96];

	if ((v = query_get(&ctx->query, f->name)) == NULL) {
		db_param_null(&ctx->db, i);
		return (1);
	}

	switch (f->kind) {
	case API_FILTER_INT:
		if (query_int64(v, &n) == 0) {
			db_param_int(&ctx->db, i, n);
			return (1);
		}
		want = "an integer";
		break;
	case API_FILTER_BOOL:
		if (query_bool(v, &b) == 0) {
			db_param_bool(&ctx->db, i, b);
			return (1);
		}
		want = "true, false, 1 or 0";
		break;
	default:
		db_param_str(&ctx->db, i, v);
		return (1);
	}

	(void)snprintf(msg, sizeof(msg), "query parameter '%s' must be %s",
	    f->name, want);
	respond_error(req, 400, NULL, msg);
	return (0);
}

static const char *
constraint_message(const char *constraint)
{
	size_t	i;

	for (i = 0; constraint != NULL &&
	    i < sizeof(constraint_messages) / sizeof(constraint_messages[0]);
	    i++) {
		if (!strcmp(constraint, constraint_messages[i].constraint))
			return (constraint_messages[i].message);
	}

	return (NULL);
}

static const struct page_req *
list_page(struct api_ctx *ctx)
{
	return (ctx->state);
}
