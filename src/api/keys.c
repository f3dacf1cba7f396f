/*
 * /keys: API keys, for admin keys only (api/routes.c). A key is drawn
 * here from the CSPRNG (core/apikey.c), shown once in the 201 and
 * stored as its SHA-256; listings and reads show its visible prefix,
 * never more. DELETE revokes: the row stays, with revoked_at, as the
 * record of what the key could do; this worker forgets the key at once,
 * the others within API_KEY_CACHE_MS (docs/security.md). Operators have
 * the same from the command line (scripts/apikey.py), for the first key.
 */

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/common.h"
#include "api/list.h"
#include "config/config.h"
#include "core/apikey.h"
#include "core/fields.h"
#include "core/validate.h"
#include "db/sql_keys.h"
#include "http/respond.h"

static const struct api_filter list_filters[] = {
	{ "user_id",	API_FILTER_INT,		0 },
	{ "scope",	API_FILTER_TEXT,	0 },
	{ NULL,		0,			0 },
};

const char *const keys_list_names[] = { "user_id", "scope", NULL };

static const struct api_list keys_list_def = {
	"api_keys", list_filters, keys_list_names,
	sql_keys_page, sql_keys_batch, NULL,
};

/* The secret, between the insert and the 201 that shows it. */
struct key_create {
	char	key[APIKEY_LEN + 1];
};

static int		 create_bind(struct http_request *, struct api_ctx *);
static const char	*check_scope(const char *, size_t);
static int		 st_wait_insert(struct http_request *,
			    struct api_ctx *);
static int		 st_wait_revoke(struct http_request *,
			    struct api_ctx *);
static void		 key_create_free(void *);

int
keys_list(struct http_request *req, struct http_ctx *h)
{
	return (api_list(req, api_ctx(h), &keys_list_def));
}

int
keys_create(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!create_bind(req, ctx))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_insert));
}

/* 201 with the row and, this once, the key itself. */
static int
st_wait_insert(struct http_request *req, struct api_ctx *ctx)
{
	struct key_create	*st = ctx->state;
	json_t			*body;
	json_error_t		 err;
	char			 location[640];

	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0) {
		respond_invalid_field(req, "expires_at",
		    "must be in the future");
		return (KORE_RESULT_OK);
	}

	body = json_loadb(db_value(&ctx->db, 0, 0),
	    (size_t)db_length(&ctx->db, 0, 0), 0, &err);
	if (body == NULL)
		fatal("api_key_json returned invalid JSON: %s", err.text);
	json_object_set_new(body, "key", json_string(st->key));
	explicit_bzero(st->key, sizeof(st->key));

	(void)snprintf(location, sizeof(location), "%s/keys/%s",
	    config.public_base_url, db_value(&ctx->db, 0, 1));
	http_response_header(req, "location", location);
	respond_object(req, 201, body);
	return (KORE_RESULT_OK);
}

int
key_get(struct http_request *req, struct http_ctx *h)
{
	return (api_fetch_by_id(req, h, sql_keys_get, "key"));
}

int
key_revoke(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!api_by_id_start(req, ctx, sql_keys_revoke, "key"))
		return (KORE_RESULT_OK);
	return (api_then(req, ctx, st_wait_revoke));
}

static int
st_wait_revoke(struct http_request *req, struct api_ctx *ctx)
{
	API_AWAIT(req, ctx);
	if (db_rows(&ctx->db) == 0)
		return (api_not_found(req, "key"));
	api_auth_forget(db_value(&ctx->db, 0, 0));
	respond_no_content(req);
	return (KORE_RESULT_OK);
}

/*
 * name (required), scope (required), user_id (required for a user key,
 * refused for an admin key, optional for a read-only one), expires_at
 * (optional, a UTC timestamp in the future).
 */
static int
create_bind(struct http_request *req, struct api_ctx *ctx)
{
	struct key_create	*st;
	json_t			*errors;
	const char		*name, *scope, *expires;
	char			 hash[APIKEY_HASH_LEN + 1];
	size_t			 name_len, scope_len, expires_len;
	int64_t			 user_id;
	enum field_result	 has_scope, has_user, has_expires;
	enum apikey_scope	 sc = APIKEY_SCOPE_NONE;

	errors = json_object();
	field_string(ctx->http.body, "name", FIELD_REQUIRED, validate_key_name,
	    errors, &name, &name_len);
	has_scope = field_string(ctx->http.body, "scope", FIELD_REQUIRED,
	    check_scope, errors, &scope, &scope_len);
	has_user = field_int(ctx->http.body, "user_id", FIELD_NULLABLE, errors,
	    &user_id);
	has_expires = field_string(ctx->http.body, "expires_at",
	    FIELD_NULLABLE, validate_timestamp, errors, &expires,
	    &expires_len);

	if (has_scope == FIELD_SET)
		sc = apikey_scope_parse(scope, scope_len);
	if (sc == APIKEY_SCOPE_USER && has_user != FIELD_SET &&
	    has_user != FIELD_INVALID)
		json_object_set_new(errors, "user_id",
		    json_string("is required for a user key"));
	if (sc == APIKEY_SCOPE_ADMIN && has_user == FIELD_SET)
		json_object_set_new(errors, "user_id",
		    json_string("must be null for an admin key"));
	if (has_user == FIELD_SET && user_id <= 0)
		json_object_set_new(errors, "user_id",
		    json_string("must be a positive integer"));

	if (json_object_size(errors) > 0)
		return (api_invalid(req, errors), 0);
	json_decref(errors);

	st = kore_calloc(1, sizeof(*st));
	ctx->state = st;
	ctx->state_free = key_create_free;
	if (apikey_generate(st->key) == -1)
		fatal("apikey_generate: no randomness");
	apikey_hash(st->key, APIKEY_LEN, hash);

	api_prepare(ctx, sql_keys_create);
	db_param_text(&ctx->db, 0, name, name_len);
	db_param_text(&ctx->db, 1, st->key, APIKEY_PREFIX_LEN);
	db_param_str(&ctx->db, 2, hash);
	db_param_text(&ctx->db, 3, scope, scope_len);
	if (has_user == FIELD_SET)
		db_param_int(&ctx->db, 4, user_id);
	else
		db_param_null(&ctx->db, 4);
	if (has_expires == FIELD_SET)
		db_param_text(&ctx->db, 5, expires, expires_len);
	else
		db_param_null(&ctx->db, 5);
	return (1);
}

static const char *
check_scope(const char *s, size_t len)
{
	if (apikey_scope_parse(s, len) == APIKEY_SCOPE_NONE)
		return ("must be admin, user or read-only");
	return (NULL);
}

static void
key_create_free(void *arg)
{
	struct key_create	*st = arg;

	explicit_bzero(st->key, sizeof(st->key));
	kore_free(st);
}
