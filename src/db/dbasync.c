/*
 * kore_pgsql's callback mode, reduced to one call and one callback.
 *
 * kore_pgsql reports every state change through the callback, including
 * from inside kore_pgsql_continue() (releasing the connection reports
 * COMPLETE) and from its wait queue (INIT: a connection became free). The
 * in_continue flag keeps the nested calls from finishing the statement
 * twice. Failures without a SQLSTATE on a connection that was already
 * open are retried, as in db.c, after the dead connection is dropped.
 *
 * One failure kore_pgsql never reports to a callback: when the server
 * closes a connection while a statement waits on it (a PostgreSQL
 * restart), Kore's epoll error path tears the connection down and only
 * wakes a bound *request*. A watchdog timer therefore looks at every
 * statement in flight a few times a second and finishes the ones Kore
 * has silently failed (state ERROR, no connection left).
 */

#include <string.h>

#include "app/config.h"
#include "db/db.h"
#include "db/dbasync.h"
#include "db/dbgate.h"
#include "obs/metrics.h"
#include "obs/log.h"

#define DB_ASYNC_ATTEMPTS	3
#define WATCHDOG_MS		250

static void	async_send(struct db_async *);
static void	async_cb(struct kore_pgsql *, void *);
static void	async_finish(struct db_async *, int);
static void	async_track(struct db_async *, int);
static void	watchdog(void *, u_int64_t);

/* Owned by this worker: statements in flight, for the watchdog. */
static TAILQ_HEAD(, db_async)	in_flight = TAILQ_HEAD_INITIALIZER(in_flight);
static int			watchdog_armed;

void
db_async_run(struct db_async *a)
{
	a->result = NULL;
	a->attempts = 0;
	async_track(a, 1);
	kore_pgsql_init(&a->sql);
	kore_pgsql_bind_callback(&a->sql, async_cb, a);
	async_send(a);
}

void
db_async_cancel(struct db_async *a)
{
	async_track(a, 0);
	/* Releasing the connection would call async_cb again. */
	a->sql.cb = NULL;
	kore_pgsql_cleanup(&a->sql);
	if (a->result != NULL)
		PQclear(a->result);
	a->result = NULL;
}

static void
async_send(struct db_async *a)
{
	/* A queued statement comes back here: its wait is not timed. */
	metrics_clock(&a->started);
	if (!db_connect_allowed()) {
		a->attempts = DB_ASYNC_ATTEMPTS;
		async_finish(a, 0);
		return;
	}
	if (!kore_pgsql_setup(&a->sql, DB_NAME, KORE_PGSQL_ASYNC)) {
		/* Queued behind busy connections: async_cb runs on wakeup. */
		if (a->sql.state == KORE_PGSQL_STATE_INIT)
			return;
		db_connect_failed();
		a->attempts = DB_ASYNC_ATTEMPTS;
		async_finish(a, 0);
		return;
	}

	if (!kore_pgsql_query_param_fields(&a->sql, a->query, 0, a->nparams,
	    a->values, NULL, NULL))
		async_finish(a, 0);
}

static void
async_cb(struct kore_pgsql *sql, void *arg)
{
	struct db_async	*a = arg;
	int		 nested;

	switch (sql->state) {
	case KORE_PGSQL_STATE_INIT:
		async_send(a);
		break;
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_RESULT:
		if (a->result != NULL)
			PQclear(a->result);
		a->result = sql->result;
		sql->result = NULL;
		/* FALLTHROUGH */
	case KORE_PGSQL_STATE_DONE:
		/*
		 * continue() re-enters this callback (DONE after RESULT,
		 * COMPLETE on release); only the outermost call finishes.
		 */
		nested = a->in_continue;
		a->in_continue = 1;
		kore_pgsql_continue(sql);
		a->in_continue = nested;
		if (!nested && sql->state == KORE_PGSQL_STATE_COMPLETE)
			async_finish(a, 1);
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		if (!a->in_continue)
			async_finish(a, 1);
		break;
	default:
		async_finish(a, 0);
		break;
	}
}

static void
async_finish(struct db_async *a, int ok)
{
	const char	*state;
	char		 sqlstate[6];

	sqlstate[0] = '\0';
	if (!ok && a->sql.result != NULL) {
		state = PQresultErrorField(a->sql.result, PG_DIAG_SQLSTATE);
		if (state != NULL)
			kore_strlcpy(sqlstate, state, sizeof(sqlstate));
	}
	metrics_db_query(metrics_since(&a->started), ok ? METRICS_DB_OK :
	    db_sqlstate_unavailable(sqlstate) ? METRICS_DB_UNREACHABLE :
	    METRICS_DB_REFUSED);

	if (!ok) {
		if (a->sql.error != NULL && sqlstate[0] == '\0')
			log_event(LOG_LEVEL_DEBUG, "database_failure", "%s",
			    a->sql.error);
		db_drop_if_broken(&a->sql);
	}
	/* Releasing the connection would call async_cb again. */
	a->sql.cb = NULL;
	kore_pgsql_cleanup(&a->sql);

	if (!ok && sqlstate[0] == '\0' && ++a->attempts < DB_ASYNC_ATTEMPTS) {
		kore_pgsql_init(&a->sql);
		kore_pgsql_bind_callback(&a->sql, async_cb, a);
		async_send(a);
		return;
	}

	async_track(a, 0);
	if (ok) {
		PGresult	*res = a->result;

		/* A statement without rows still succeeded. */
		if (res == NULL)
			res = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
		a->result = NULL;
		a->done(a, res, "");
		if (res != NULL)
			PQclear(res);
	} else {
		a->done(a, NULL, sqlstate);
	}
}

static void
async_track(struct db_async *a, int on)
{
	if (on && !a->in_flight) {
		TAILQ_INSERT_TAIL(&in_flight, a, list);
		a->in_flight = 1;
	} else if (!on && a->in_flight) {
		TAILQ_REMOVE(&in_flight, a, list);
		a->in_flight = 0;
	}

	if (on && !watchdog_armed) {
		watchdog_armed = 1;
		kore_timer_add(watchdog, WATCHDOG_MS, NULL, 0);
	}
}

static void
watchdog(void *arg, u_int64_t now)
{
	struct db_async	*a, *next;

	for (a = TAILQ_FIRST(&in_flight); a != NULL; a = next) {
		next = TAILQ_NEXT(a, list);
		if (a->sql.state == KORE_PGSQL_STATE_ERROR &&
		    a->sql.conn == NULL)
			async_finish(a, 0);
	}
}
