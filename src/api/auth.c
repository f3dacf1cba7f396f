/*
 * The gate every API request passes before its endpoint runs: who is
 * calling (an API key, or nobody), how often (a budget per key, or per
 * client address), and whether the endpoint is theirs to call. What the
 * scopes mean is docs/security.md; the choices, docs/decisions.md.
 *
 *  1. Open endpoints (redirects, /health, /ready, /metrics) pass at
 *     once: no header is read, nothing is counted, so a redirect pays
 *     nothing for any of this.
 *  2. With API_KEYS_REQUIRED=0 everyone is an admin and is counted by
 *     address; key management (/keys) still wants an admin key.
 *  3. Otherwise the key (X-Api-Key or Authorization: Bearer) is hashed
 *     and looked up: in this worker's key cache (core/keycache.c) for
 *     API_KEY_CACHE_MS after the database said so, else in the
 *     database, one probe of a unique index. A value that cannot be a
 *     key is refused without a lookup.
 *  4. The request is counted: a known key against its own budget
 *     (RATE_LIMIT_PER_KEY), anyone else against their address's
 *     (RATE_LIMIT_PER_ADDRESS) -- refusals included, so that guessing
 *     keys runs into 429s. Every counted response says where its budget
 *     stands (X-RateLimit-Limit, -Remaining, -Reset).
 *  5. Over budget: 429 with Retry-After. No or a wrong key: 401. A key
 *     whose scope does not reach the endpoint: 403 -- only where the
 *     answer is the same whatever the ids in the request, so it reveals
 *     nothing (a read-only key writing, a user key calling an admin
 *     endpoint). A user key asking for another user's row is not
 *     refused here: the statements themselves are scoped to its owner
 *     (api_bind_owner), so such a row is "not found", exactly as one
 *     that does not exist.
 *
 * The gate keeps its state in its own part of the context and may
 * sleep twice (the lookup, the count); the dispatcher calls it again on
 * each wake-up until it says pass or has answered.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "api/common.h"
#include "api/routes.h"
#include "config/config.h"
#include "core/apikey.h"
#include "core/keycache.h"
#include "db/sql_keys.h"
#include "http/respond.h"
#include "obs/log.h"

#define KEYCACHE_SLOTS	1024

enum gate_stage {
	STAGE_START = 0,
	STAGE_LOOKUP,
	STAGE_COUNT
};

#define MSG_MISSING	"an API key is required: send it as X-Api-Key " \
			"or Authorization: Bearer"
#define MSG_INVALID	"the API key is invalid, expired or revoked"
#define MSG_READ_ONLY	"a read-only key cannot change anything"
#define MSG_ADMIN	"this call needs an admin key"

static enum gate_result	 gate_start(struct http_request *, struct api_ctx *);
static enum gate_result	 gate_wait_lookup(struct http_request *,
			    struct api_ctx *);
static enum gate_result	 gate_count(struct http_request *,
			    struct api_ctx *);
static enum gate_result	 gate_decide(struct http_request *,
			    struct api_ctx *);
static enum gate_result	 refuse(struct http_request *, struct api_ctx *,
			    const char *);
static void		 found(struct api_ctx *,
			    const struct keycache_entry *);
static int		 expired(const struct keycache_entry *);
static int64_t		 wall_ms(void);
static enum api_access	 access_of(const struct api_ctx *);

/* Owned by this worker: the keys it looked up lately. */
static struct keycache	keys;

void
api_auth_init(void)
{
	if (keycache_init(&keys, KEYCACHE_SLOTS) == -1)
		fatal("key cache: out of memory");
}

void
api_auth_forget(const char *hash)
{
	keycache_drop(&keys, hash);
}

enum gate_result
api_gate(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	switch (ctx->gate.stage) {
	case STAGE_LOOKUP:
		return (gate_wait_lookup(req, ctx));
	case STAGE_COUNT:
		if (ctx->gate.limit.pending)
			return (GATE_WAIT);
		return (gate_decide(req, ctx));
	default:
		return (gate_start(req, ctx));
	}
}

void
api_gate_release(struct api_ctx *ctx)
{
	limiter_release(&ctx->gate.limit);
}

static enum gate_result
gate_start(struct http_request *req, struct api_ctx *ctx)
{
	struct keycache_entry	 e;
	enum api_access		 access = access_of(ctx);
	const char		*xkey, *auth, *key;
	size_t			 len;

	if (access == API_ACCESS_OPEN)
		return (GATE_PASS);

	if (!config.keys_required && access != API_ACCESS_KEYS) {
		ctx->who.scope = APIKEY_SCOPE_ADMIN;
		return (gate_count(req, ctx));
	}

	if (!http_request_header(req, "x-api-key", &xkey))
		xkey = NULL;
	if (!http_request_header(req, "authorization", &auth))
		auth = NULL;
	switch (apikey_from_headers(xkey, auth, &key, &len)) {
	case APIKEY_ABSENT:
		return (refuse(req, ctx, MSG_MISSING));
	case APIKEY_INVALID:
		return (refuse(req, ctx, MSG_INVALID));
	case APIKEY_PRESENT:
		break;
	}

	apikey_hash(key, len, ctx->gate.hash);
	if (keycache_get(&keys, ctx->gate.hash, kore_time_ms(), &e)) {
		if (expired(&e))
			return (refuse(req, ctx, MSG_INVALID));
		found(ctx, &e);
		return (gate_count(req, ctx));
	}

	ctx->db.dbname = NULL;
	db_prepare(&ctx->db, sql_keys_lookup);
	db_param_str(&ctx->db, 0, ctx->gate.hash);
	ctx->gate.stage = STAGE_LOOKUP;
	return (gate_wait_lookup(req, ctx));
}

static enum gate_result
gate_wait_lookup(struct http_request *req, struct api_ctx *ctx)
{
	struct keycache_entry	e;

	switch (db_run(req, &ctx->db)) {
	case DB_PENDING:
		return (GATE_WAIT);
	case DB_FAILED:
		api_db_error(req, ctx);
		return (GATE_DONE);
	case DB_DONE:
		break;
	}

	if (db_rows(&ctx->db) == 0)
		return (refuse(req, ctx, MSG_INVALID));

	memset(&e, 0, sizeof(e));
	(void)snprintf(e.hash, sizeof(e.hash), "%s", ctx->gate.hash);
	e.key_id = db_int(&ctx->db, 0, 0);
	e.scope = apikey_scope_parse(db_value(&ctx->db, 0, 1),
	    (size_t)db_length(&ctx->db, 0, 1));
	e.owner = db_isnull(&ctx->db, 0, 2) ? 0 : db_int(&ctx->db, 0, 2);
	e.expires_ms = db_isnull(&ctx->db, 0, 3) ? 0 : db_int(&ctx->db, 0, 3);
	if (e.scope == APIKEY_SCOPE_NONE)
		return (refuse(req, ctx, MSG_INVALID));
	e.until_ms = kore_time_ms() + (uint64_t)config.key_cache_ms;
	if (config.key_cache_ms > 0)
		keycache_put(&keys, &e);
	found(ctx, &e);
	return (gate_count(req, ctx));
}

/* Whoever it is, the request is counted: against a key or an address. */
static enum gate_result
gate_count(struct http_request *req, struct api_ctx *ctx)
{
	char	bucket[RATELIMIT_BUCKET_MAX];
	long	limit;

	if (ctx->who.key_id > 0) {
		limit = config.rate_key;
		(void)snprintf(bucket, sizeof(bucket), "k:%" PRId64,
		    ctx->who.key_id);
	} else {
		limit = config.rate_address;
		(void)snprintf(bucket, sizeof(bucket), "a:%s",
		    ctx->http.client_text);
	}
	if (limit <= 0)
		return (gate_decide(req, ctx));

	ctx->gate.stage = STAGE_COUNT;
	if (limiter_hit(&ctx->gate.limit, req, bucket, (uint32_t)limit) == 0)
		return (GATE_WAIT);
	return (gate_decide(req, ctx));
}

static enum gate_result
gate_decide(struct http_request *req, struct api_ctx *ctx)
{
	const struct ratelimit_result	*r = &ctx->gate.limit.result;
	enum api_access			 access = access_of(ctx);
	char				 n[16];

	if (r->limit > 0) {
		(void)snprintf(n, sizeof(n), "%u", r->limit);
		http_response_header(req, "x-ratelimit-limit", n);
		(void)snprintf(n, sizeof(n), "%u", r->remaining);
		http_response_header(req, "x-ratelimit-remaining", n);
		(void)snprintf(n, sizeof(n), "%u", r->reset_s);
		http_response_header(req, "x-ratelimit-reset", n);
		if (!r->allowed) {
			(void)snprintf(n, sizeof(n), "%u", r->reset_s);
			http_response_header(req, "retry-after", n);
			respond_error(req, 429, NULL, "too many requests: "
			    "wait for X-RateLimit-Reset seconds");
			return (GATE_DONE);
		}
	}

	if (ctx->gate.refuse) {
		http_response_header(req, "www-authenticate",
		    "Bearer realm=\"shortener\"");
		respond_error(req, 401, NULL, ctx->gate.refusal);
		return (GATE_DONE);
	}

	if ((access == API_ACCESS_ADMIN || access == API_ACCESS_KEYS) &&
	    ctx->who.scope != APIKEY_SCOPE_ADMIN) {
		respond_error(req, 403, NULL, MSG_ADMIN);
		return (GATE_DONE);
	}
	if (ctx->who.scope == APIKEY_SCOPE_READ &&
	    req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		respond_error(req, 403, NULL, MSG_READ_ONLY);
		return (GATE_DONE);
	}
	return (GATE_PASS);
}

/* A 401, once the request has been counted against its address. */
static enum gate_result
refuse(struct http_request *req, struct api_ctx *ctx, const char *why)
{
	ctx->gate.refuse = 1;
	ctx->gate.refusal = why;
	memset(&ctx->who, 0, sizeof(ctx->who));
	return (gate_count(req, ctx));
}

static void
found(struct api_ctx *ctx, const struct keycache_entry *e)
{
	ctx->who.scope = e->scope;
	ctx->who.owner = e->scope == APIKEY_SCOPE_ADMIN ? 0 : e->owner;
	ctx->who.key_id = e->key_id;
}

/* A cached key may have expired since the database vouched for it. */
static int
expired(const struct keycache_entry *e)
{
	return (e->expires_ms > 0 && wall_ms() >= e->expires_ms);
}

static int64_t
wall_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static enum api_access
access_of(const struct api_ctx *ctx)
{
	return (((const struct api_route *)ctx->http.endpoint)->access);
}
