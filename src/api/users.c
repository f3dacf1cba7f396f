/*
 * /users: create, list, read, update, delete. Bulk import lives in
 * bulk.c. Emails are unique whatever their case (the database's unique
 * index on lower(email) decides, so two concurrent creates cannot both
 * win); usernames repeat freely.
 */

#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/bodies.h"
#include "http/respond.h"

#define ID_ATTEMPTS	3

#define USERS_FILTER \
	"($1::text IS NULL OR username = $1) AND " \
	"($2::text IS NULL OR lower(email) = lower($2))"

static const char sql_list[] =
	"WITH page AS (SELECT u FROM users u WHERE " USERS_FILTER
	"    AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4 OFFSET $5)"
	" SELECT CASE WHEN $6 THEN (SELECT count(*) FROM users WHERE "
	USERS_FILTER " AND ($3::bigint IS NULL OR id > $3)) END,"
	" coalesce((SELECT json_agg(user_json(page.u) ORDER BY (page.u).id)"
	"     FROM page), '[]'),"
	" (SELECT max((page.u).id) FROM page)";

static const struct api_filter list_filters[] = {
	{ "username",	API_FILTER_TEXT },
	{ "email",	API_FILTER_TEXT },
};

static const char sql_create[] =
	"INSERT INTO users (username, email) VALUES ($1, $2)"
	" RETURNING user_json(users)";

static const char sql_get[] =
	"SELECT user_json(u) FROM users u WHERE id = $1";

static const char sql_update[] =
	"UPDATE users SET username = coalesce($2, username),"
	" email = coalesce($3, email) WHERE id = $1 RETURNING user_json(users)";

/*
 * The user's URLs go first so that their deletion can be logged as
 * events; the foreign key's cascade then finds nothing left to do.
 */
static const char sql_delete[] =
	"WITH gone AS (DELETE FROM urls WHERE user_id = $1"
	"    RETURNING id, user_id, short_code),"
	" logged AS (INSERT INTO events (url_id, user_id, event_type, details)"
	"    SELECT id, user_id, 'deleted', jsonb_build_object("
	"    'reason', 'user_deleted', 'short_code', short_code) FROM gone),"
	" u AS (DELETE FROM users WHERE id = $1 RETURNING id)"
	" SELECT (SELECT count(*) FROM u),"
	" (SELECT coalesce(json_agg(short_code), '[]') FROM gone)";

static int	read_user(struct http_request *, struct api_ctx *, int);
static int	id_collided(const struct api_ctx *);
static int	invalidate_codes(struct http_request *, struct api_ctx *);

int
users_list(struct http_request *req, struct api_ctx *ctx)
{
	return (api_list(req, ctx, sql_list, list_filters,
	    sizeof(list_filters) / sizeof(list_filters[0])));
}

int
users_create(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->step == 0) {
		if (!read_user(req, ctx, FIELD_REQUIRED))
			return (KORE_RESULT_OK);
		ctx->step = 1;
	}

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
			return (users_create(req, ctx));
		}
		return (api_db_error(req, ctx));
	case DB_DONE:
		break;
	}

	return (api_send_value(req, 201, ctx));
}

int
user_get(struct http_request *req, struct api_ctx *ctx)
{
	return (api_fetch_by_id(req, ctx, sql_get, "user"));
}

int
user_update(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->step == 0) {
		if (!read_user(req, ctx, 0))
			return (KORE_RESULT_OK);
		if (ctx_param_id(ctx) == 0)
			return (api_not_found(req, "user"));
		ctx->step = 1;
	}

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "user"));
	return (api_send_value(req, 200, ctx));
}

int
user_delete(struct http_request *req, struct api_ctx *ctx)
{
	if (ctx->step == 0 &&
	    !api_by_id_start(req, ctx, sql_delete, "user"))
		return (KORE_RESULT_OK);

	API_AWAIT(req, ctx);
	if (db_int(&ctx->db, 0, 0) == 0)
		return (api_not_found(req, "user"));
	if (invalidate_codes(req, ctx) == KORE_RESULT_RETRY)
		return (KORE_RESULT_RETRY);
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

/* The deleted user's short links stop redirecting at once. */
static int
invalidate_codes(struct http_request *req, struct api_ctx *ctx)
{
	json_t		*codes;
	const char	**list;
	size_t		 i, n;
	int		 r;

	if (ctx->inval_started)
		return (api_invalidate(req, ctx, NULL, 0, URLCACHE_TOMBSTONE));

	codes = json_loadb(db_value(&ctx->db, 0, 1),
	    (size_t)db_length(&ctx->db, 0, 1), 0, NULL);
	if (codes == NULL)
		fatal("user delete: short codes are not JSON");

	n = json_array_size(codes);
	list = kore_calloc(n + 1, sizeof(*list));
	for (i = 0; i < n; i++)
		list[i] = json_string_value(json_array_get(codes, i));
	r = api_invalidate(req, ctx, list, n, URLCACHE_TOMBSTONE);
	kore_free(list);
	json_decref(codes);
	return (r);
}

/*
 * Reads username and email (core/bodies.c) and binds them. Creation wants both
 * ($1, $2 of sql_create); an update takes either ($2, $3 of sql_update,
 * with the id as $1).
 */
static int
read_user(struct http_request *req, struct api_ctx *ctx, int required)
{
	struct user_body	 b;
	json_t			*errors;
	int			 base;

	errors = json_object();
	if (body_user(ctx->body, required, &b, errors) == -1) {
		api_invalid(req, errors);
		return (0);
	}
	json_decref(errors);

	if (required) {
		db_prepare(&ctx->db, sql_create);
		base = 0;
	} else {
		db_prepare(&ctx->db, sql_update);
		db_param_int(&ctx->db, 0, ctx_param_id(ctx));
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

	return (1);
}

static int
id_collided(const struct api_ctx *ctx)
{
	return (!strcmp(ctx->db.sqlstate, "23505") &&
	    ctx->db.constraint != NULL &&
	    !strcmp(ctx->db.constraint, "users_pkey"));
}
