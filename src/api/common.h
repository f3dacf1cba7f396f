/*
 * What every endpoint does alike: wait for its statement, turn database
 * failures into API errors, send a rendered JSON value, serve a list.
 */
#ifndef COMMON_H
#define COMMON_H

#include <kore/kore.h>
#include <kore/http.h>

#include "http/context.h"

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
 * cache entries. Returns KORE_RESULT_RETRY while Redis has not answered
 * (call again when woken), KORE_RESULT_OK once the write may be
 * acknowledged.
 */
int	api_invalidate(struct http_request *req, struct api_ctx *ctx,
	    const char **codes, size_t count, enum urlcache_how how);

/*
 * The shape of most /<resource>/<id> calls: a statement taking the id as
 * $1. api_by_id_start() answers 404 (returns 0) for an id that cannot
 * exist; api_fetch_by_id() is all of a GET whose first column is the
 * response, with no row a 404 naming what.
 */
int	api_by_id_start(struct http_request *req, struct api_ctx *ctx,
	    const char *sql, const char *what);
int	api_fetch_by_id(struct http_request *req, struct api_ctx *ctx,
	    const char *sql, const char *what);

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
