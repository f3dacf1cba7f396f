/*
 * The database layer's one driver: a SQL statement over kore_pgsql.
 *
 * Every endpoint is written as a single statement (data-modifying CTEs
 * make a create-plus-event or a delete-plus-event atomic without a
 * transaction block), so a request needs no more than this: fill in the
 * parameters, call db_run() each time Kore re-enters the handler until
 * it stops answering DB_PENDING, then read the result. Work the worker
 * does on its own (the click writer's inserts, the shared redirect
 * lookups) runs the same statements with a callback instead (db_start).
 * The statements themselves live in db/sql_*.c, one file per table.
 */
#ifndef DB_H
#define DB_H

#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/pgsql.h>

#define DB_MAX_PARAMS	24

enum db_status {
	DB_PENDING,	/* return KORE_RESULT_RETRY; the request is woken */
	DB_DONE,	/* result holds the rows */
	DB_FAILED	/* sqlstate says why; "" means the database is gone */
};

struct db_call;

/* db_start()'s callback: the statement is DB_DONE or DB_FAILED. */
typedef void	(*db_done)(struct db_call *, void *);

struct db_call {
	struct kore_pgsql	 sql;
	const char		*dbname;	/* pool; NULL is DB_NAME */
	const char		*query;
	const char		*stmt_name;	/* kept prepared, or NULL */
	int			 preparing;	/* this round trip prepares it */
	PGconn			*prep_conn;	/* ... on this connection */
	int			 prep_pid;
	int			 nparams;
	const char		*values[DB_MAX_PARAMS];	/* NULL = NULL */
	int			 lengths[DB_MAX_PARAMS];
	char			*owned[DB_MAX_PARAMS];	/* copies we free */
	struct http_request	*req;		/* woken when it ends, or */
	db_done			 done;		/* called when it ends */
	void			*arg;
	int			 running;
	int			 in_continue;
	int			 attempts;
	struct timespec		 started;	/* this attempt's, for metrics */
	PGresult		*result;	/* owned once DB_DONE */
	char			 sqlstate[6];
	char			*constraint;	/* owned; on errors, or NULL */
	enum db_status		 status;
	TAILQ_ENTRY(db_call)	 list;		/* the watchdog's */
	int			 tracked;
};

/*
 * Registers the worker's pools (DB_NAME, DB_LONG_NAME, DB_NAMED_NAME)
 * with the app's session options; once per worker, after config_load().
 */
void		db_init(void);

/* Starts a fresh statement (same pool); frees what a previous one left. */
void		db_prepare(struct db_call *db, const char *query);
/*
 * The same, for a statement run often: each connection prepares it once,
 * as `name`, and then only executes it (its parse and plan kept). Named
 * statements run on their own pool (DB_NAMED_NAME), whose sessions plan
 * generically: what it reads through an index must not hang on a
 * parameter being NULL ("$1 IS NULL OR col = $1" is only a filter there).
 */
void		db_prepare_named(struct db_call *db, const char *name,
		    const char *query);
/* Names the statement db_prepare() set up, as db_prepare_named() does. */
void		db_name(struct db_call *db, const char *name);
/* Parameters are copied, except db_param_ref's: alive until the end. */
void		db_param_text(struct db_call *db, int i, const char *s,
		    size_t len);
void		db_param_str(struct db_call *db, int i, const char *s);
void		db_param_ref(struct db_call *db, int i, const char *s);
void		db_param_int(struct db_call *db, int i, int64_t v);
void		db_param_bool(struct db_call *db, int i, int v);
void		db_param_null(struct db_call *db, int i);

/* For a request: runs db, the request asleep until it ends. */
enum db_status	db_run(struct http_request *req, struct db_call *db);
/* For the worker: runs db, done(db, arg) when it ends (maybe at once). */
void		db_start(struct db_call *db, db_done done, void *arg);
/*
 * At exit, without the event loop: waits for db in flight to end, or runs
 * it (after db_prepare) now, blocking; DB_DONE or DB_FAILED.
 */
enum db_status	db_finish_sync(struct db_call *db);
enum db_status	db_run_sync(struct db_call *db);

/* Makes a finished or failed statement ready to run again, same query. */
void		db_rearm(struct db_call *db);
/* Stops a statement in flight (nothing is called) and frees everything. */
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
 * The connection string of a pool (DB_NAME, DB_LONG_NAME; its session
 * options included), for a connection of one's own: a task thread's,
 * which may block. kore_free() it.
 */
char		*db_conninfo(const char *dbname);
/*
 * Records in db the failure of a statement run elsewhere (a task
 * thread's): its SQLSTATE ("" when the database could not be reached)
 * and constraint, as api_db_error() and sqlstate_classify() read them.
 */
void		db_fail(struct db_call *db, const char *sqlstate,
		    const char *constraint);

/*
 * At worker start: one "SELECT 1", so that a database missing at start
 * is a log line at once rather than at the first request.
 */
void		db_probe(void);

#endif
