/*
 * One statement run on behalf of the worker rather than of a request:
 * the click writer's inserts and the shared redirect lookups. The caller
 * gets exactly one callback, with the rows or with the failure.
 */
#ifndef DBASYNC_H
#define DBASYNC_H

#include <time.h>

#include <sys/queue.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#define DB_ASYNC_MAX_PARAMS	6

struct db_async;

/*
 * result is the statement's last row set (empty for a statement that
 * returns none), or NULL on failure, when sqlstate says why ("" when the
 * database could not be reached); both are only valid during the call. The callback may free the db_async.
 */
typedef void	(*db_async_done)(struct db_async *, PGresult *result,
		    const char *sqlstate);

struct db_async {
	struct kore_pgsql	 sql;
	const char		*query;
	int			 nparams;
	const char		*values[DB_ASYNC_MAX_PARAMS];	/* borrowed */
	db_async_done		 done;
	void			*arg;
	PGresult		*result;
	int			 attempts;
	int			 in_continue;
	struct timespec		 started;	/* this attempt's, for metrics */
	int			 in_flight;
	TAILQ_ENTRY(db_async)	 list;		/* the watchdog's */
};

/* query, values (kept alive by the caller), done and arg must be set. */
void	db_async_run(struct db_async *a);
/* Abandons a statement in flight; done will not be called. */
void	db_async_cancel(struct db_async *a);

#endif
