/*
 * What every endpoint does alike: its context, its states, waiting for
 * its statement, turning database failures into API errors, sending a
 * rendered JSON value.
 *
 * A handler is a small state machine whose states are functions named
 * after what they wait for (st_wait_insert). The endpoint's handler is
 * the first state; api_then() moves the request to the next one and runs
 * it, and API_RESUME sends every later wake-up of the request there.
 */
#ifndef COMMON_H
#define COMMON_H

#include <kore/kore.h>
#include <kore/http.h>

#include "cache/limiter.h"
#include "cache/urlcache.h"
#include "core/apikey.h"
#include "db/db.h"
#include "http/context.h"

struct api_ctx;

typedef int	(*api_state)(struct http_request *, struct api_ctx *);

/*
 * Who makes the request, as the gate (api/auth.c) found: the scope of
 * its key and the user it is scoped to. Without API_KEYS_REQUIRED every
 * request is an admin's.
 */
struct api_who {
	enum apikey_scope	 scope;
	int64_t			 owner;		/* user id; 0: all users */
	int64_t			 key_id;	/* 0: no key */
};

/* The gate's own state, kept apart from the handler's. */
struct api_gate {
	int			 stage;
	int			 refuse;	/* 401 once counted */
	const char		*refusal;
	struct limiter_call	 limit;
	char			 hash[APIKEY_HASH_LEN + 1];
};

/* A request's context in the API: the dispatcher's part first. */
struct api_ctx {
	struct http_ctx		 http;
	struct api_who		 who;
	struct api_gate		 gate;
	struct db_call		 db;
	struct urlcache_inval	 inval;
	api_state		 after;		/* once invalidated */
	int			 tries;
	const char		*what;		/* "user": for 404 messages */
	api_state		 resume;	/* the state the request is in */
	void			*state;		/* handler-owned */
	void			(*state_free)(void *);
};

static inline struct api_ctx *
api_ctx(struct http_ctx *h)
{
	return ((struct api_ctx *)h);
}

#define API_RESUME(req, ctx)						\
	do {								\
		if ((ctx)->resume != NULL)				\
			return ((ctx)->resume((req), (ctx)));		\
	} while (0)

/* Moves the request to state next and runs it. */
int	api_then(struct http_request *req, struct api_ctx *ctx,
	    api_state next);

/* db_prepare() on the pool of the request's route (its time budget). */
void	api_prepare(struct api_ctx *ctx, const char *sql);
/* Parameter i: the owner the request's key is scoped to, or NULL. */
void	api_bind_owner(struct api_ctx *ctx, int i);

/* The dispatcher's table and hooks (api/routes.c); once per worker. */
void	api_routes_register(void);

/*
 * Runs ctx->db; returns from the handler while the statement is pending
 * or once a failure was answered, falls through when rows are ready.
 */
#define API_AWAIT(req, ctx)						\
	do {								\
		switch (db_run((req), &(ctx)->db)) {			\
		case DB_PENDING:					\
			return (KORE_RESULT_RETRY);			\
		case DB_FAILED:						\
			return (api_db_error((req), (ctx)));		\
		case DB_DONE:						\
			break;						\
		}							\
	} while (0)

/*
 * After a write that changes what codes redirect to: invalidates their
 * cache entries, then runs state next once Redis has confirmed and local
 * copies have expired (cache/urlcache.c); the write may be acknowledged
 * there.
 */
int	api_invalidate(struct http_request *req, struct api_ctx *ctx,
	    const char **codes, size_t count, enum urlcache_how how,
	    api_state next);

/*
 * The shape of most /<resource>/<id> calls: a statement taking the id as
 * $1 and the owner (api_bind_owner) as $2. api_by_id_start() answers 404
 * (returns 0) for an id that cannot exist; api_fetch_by_id() is all of a
 * GET whose first column is the response, with no row a 404 naming what.
 * api_fetch_by_id_named() is the same with a statement each connection
 * prepares once as `name` (db_prepare_named): for a statement whose
 * planning costs more than running it.
 */
int	api_by_id_start(struct http_request *req, struct api_ctx *ctx,
	    const char *sql, const char *what);
int	api_fetch_by_id(struct http_request *req, struct http_ctx *h,
	    const char *sql, const char *what);
int	api_fetch_by_id_named(struct http_request *req, struct http_ctx *h,
	    const char *name, const char *sql, const char *what);

/* Maps a failed statement to 503, 409, 404, 422 or 500. */
int	api_db_error(struct http_request *req, struct api_ctx *ctx);
/*
 * 201 with the JSON in column value_col of row 0 and a Location naming
 * the new resource: <public base URL>/<collection>/<column id_col>.
 */
int	api_created(struct http_request *req, struct api_ctx *ctx,
	    const char *collection, int value_col, int id_col);
/* Sends column 0 of row 0 (a JSON value rendered by PostgreSQL). */
int	api_send_value(struct http_request *req, int status,
	    struct api_ctx *ctx);
int	api_not_found(struct http_request *req, const char *what);
/* 422 with the collected field errors, when there are any. */
int	api_invalid(struct http_request *req, json_t *errors);

#endif
