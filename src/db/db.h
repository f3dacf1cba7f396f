/*
 * One asynchronous SQL statement on behalf of a request.
 *
 * Every endpoint is written as a single statement (data-modifying CTEs
 * make a create-plus-event or a delete-plus-event atomic without a
 * transaction block), so a request needs no more than this: fill in the
 * parameters, call db_run() each time Kore re-enters the handler until
 * it stops answering DB_PENDING, then read the result.
 */
#ifndef DB_H
#define DB_H

#include <stdint.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#define DB_MAX_PARAMS	12

enum db_status {
	DB_PENDING,	/* return KORE_RESULT_RETRY; Kore wakes the request */
	DB_DONE,	/* result holds the rows */
	DB_FAILED	/* sqlstate says why; "" means the database is gone */
};

struct db_call {
	struct kore_pgsql	 sql;
	const char		*dbname;	/* pool; NULL is DB_NAME */
	const char		*query;
	int			 nparams;
	char			*values[DB_MAX_PARAMS];	/* owned, NULL = NULL */
	int			 lengths[DB_MAX_PARAMS];
	int			 bound;
	int			 sent;
	int			 attempts;
	struct timespec		 started;	/* this attempt's, for metrics */
	PGresult		*result;	/* owned once DB_DONE */
	char			 sqlstate[6];
	char			*constraint;	/* owned; on errors, or NULL */
};

/*
 * Registers the worker's pools (DB_NAME, DB_LONG_NAME) with the app's
 * session options; once per worker, after config_load().
 */
void		db_init(void);

/* Starts a fresh statement (same pool); frees what a previous one left. */
void		db_prepare(struct db_call *db, const char *query);
void		db_param_text(struct db_call *db, int i, const char *s,
		    size_t len);
void		db_param_str(struct db_call *db, int i, const char *s);
void		db_param_int(struct db_call *db, int i, int64_t v);
void		db_param_bool(struct db_call *db, int i, int v);
void		db_param_null(struct db_call *db, int i);

enum db_status	db_run(struct http_request *req, struct db_call *db);
/* Makes a finished or failed statement ready to run again, same query. */
void		db_rearm(struct db_call *db);
void		db_cleanup(struct db_call *db);
/* Hands the finished result to the caller, who db_result_free()s it. */
PGresult	*db_take_result(struct db_call *db);
void		db_result_free(PGresult *res);

/* Convenience readers on db->result. */
int		db_rows(const struct db_call *db);
const char	*db_value(const struct db_call *db, int row, int col);
int		db_length(const struct db_call *db, int row, int col);
int		db_isnull(const struct db_call *db, int row, int col);
int64_t		db_int(const struct db_call *db, int row, int col);

/*
 * Drops sql's connection when libpq says it is dead: kore_pgsql would
 * otherwise put it back in the pool for the next statement to fail on.
 */
void		db_drop_if_broken(struct kore_pgsql *sql);

/*
 * At worker start: one "SELECT 1", so that a database missing at start
 * is a log line at once rather than at the first request.
 */
void		db_probe(void);

/* 1 when the last failure was the database being unreachable. */
int		db_unavailable(const struct db_call *db);
/* The same for a SQLSTATE ("" when there was none). */
int		db_sqlstate_unavailable(const char *sqlstate);
/* Per worker: did the last statement reach the database? */
int		db_reachable(void);

#endif
