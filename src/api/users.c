/*
 * /users: create, list, read, update, delete. Bulk import lives in
 * bulk.c. Emails are unique whatever their case (the database's unique
 * index on lower(email) decides, so two concurrent creates cannot both
 * win); usernames repeat freely.
 */

#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/list.h"
#include "db/sql_users.h"
#include "core/bodies.h"
#include "http/respond.h"

#define ID_ATTEMPTS	3

static const struct api_filter list_filters[] = {
	{ "username",	API_FILTER_TEXT,	0 },
	{ "email",	API_FILTER_TEXT,	0 },
	{ NULL,		0,			0 },
};

const char *const users_list_names[] = { "username", "email", NULL };

static const struct api_list users_list_def = {
	"users", list_filters, users_list_names,
	sql_users_page, sql_users_batch, NULL,
};

static int	read_user(struct http_request *, struct api_ctx *, int);
static int	id_collided(const struct api_ctx *);
static int	st_wait_insert(struct http_request *, struct api_ctx *);
static int	st_wait_update(struct http_request *, struct api_ctx *);
static int	st_wait_delete(struct http_request *, struct api_ctx *);
static int	respond_deleted(struct http_request *, struct api_ctx *);

int
users_list(struct http_request *req, struct http_ctx *h)
{
	return (api_list(req, api_ctx(h), &users_list_def));
}

int
users_create(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!read_user(req, ctx, FIELD_REQUIRED))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_insert));
}

static int
st_wait_insert(struct http_request *req, struct api_ctx *ctx)
{
	switch (db_run(req, &ctx->db)) {
	case DB_PENDING:
		return (KORE_RESULT_RETRY);
	case DB_FAILED:
		/*
		 * The drawn id was taken by an explicit id a bulk import just
		 * wrote: draw again.
		 */
		if (id_collided(ctx) && ++ctx->tries < ID_ATTEMPTS) {
			db_rearm(&ctx->db);
			return (st_wait_insert(req, ctx));
		}
		return (api_db_error(req, ctx));
	case DB_DONE:
		break;
	}

	return (api_created(req, ctx, "users", 0, 1));
}

int
user_get(struct http_request *req, struct http_ctx *h)
{
	return (api_fetch_by_id(req, h, sql_users_get, "user"));
}

int
user_update(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!read_user(req, ctx, 0))
		return (KORE_RESULT_OK);
	if (ctx_param_id(&ctx->http) == 0)
		return (api_not_found(req, "user"));
	return (api_then(req, ctx, st_wait_update));
}

static int
st_wait_update(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "user"));
	return (api_send_value(req, 200, ctx));
}

int
user_delete(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!api_by_id_start(req, ctx, sql_users_delete, "user"))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_delete));
}

/*
 * The deleted user's short links stop redirecting at once. Codes come as
 * one space-separated text (a code never holds a space): a user with a
 * hundred thousand links costs one string, not a JSON document.
 */
static int
st_wait_delete(struct http_request *req, struct api_ctx *ctx)
{
	const char	**list;
	char		*codes, *p, *code;
	size_t		 n;
	int		 r;

	API_AWAIT(req, ctx);
	if (db_int(&ctx->db, 0, 0) == 0)
		return (api_not_found(req, "user"));

	codes = kore_strdup(db_value(&ctx->db, 0, 1));
	n = 0;
	for (p = codes; *p != '\0'; p++)
		n += *p == ' ';
	list = kore_calloc(n + 2, sizeof(*list));
	n = 0;
	p = codes;
	while ((code = strsep(&p, " ")) != NULL) {
		if (*code != '\0')
			list[n++] = code;
	}
	r = api_invalidate(req, ctx, list, n, URLCACHE_TOMBSTONE,
	    respond_deleted);
	kore_free(list);
	kore_free(codes);
	return (r);
}

static int
respond_deleted(struct http_request *req, struct api_ctx *ctx)
{
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

/*
 * Reads username and email (core/bodies.c) and binds them. Creation wants
 * both ($1, $2 of sql_users_create); an update takes either ($2, $3 of
 * sql_users_update, with the id as $1 and the key's owner as $4).
 */
static int
read_user(struct http_request *req, struct api_ctx *ctx, int required)
{
	struct user_body	 b;
	json_t			*errors;
	int			 base;

	errors = json_object();
	if (body_user(ctx->http.body, required, &b, errors) == -1) {
		api_invalid(req, errors);
		return (0);
	}
	json_decref(errors);

	if (required) {
		api_prepare(ctx, sql_users_create);
		base = 0;
	} else {
		api_prepare(ctx, sql_users_update);
		db_param_int(&ctx->db, 0, ctx_param_id(&ctx->http));
		base = 1;
	}

	if (b.username != NULL)
		db_param_text(&ctx->db, base, b.username, b.username_len);
	else
		db_param_null(&ctx->db, base);
	if (b.email != NULL)
		db_param_text(&ctx->db, base + 1, b.email, b.email_len);
	else
		db_param_null(&ctx->db, base + 1);
	if (!required)
		api_bind_owner(ctx, 3);

	return (1);
}

static int
id_collided(const struct api_ctx *ctx)
{
	return (!strcmp(ctx->db.sqlstate, "23505") &&
	    ctx->db.constraint != NULL &&
	    !strcmp(ctx->db.constraint, "users_pkey"));
}
