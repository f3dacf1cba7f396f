/*
 * Statements over kore_pgsql: the one driver of the database layer.
 *
 * Every statement runs in kore_pgsql's callback mode, whoever waits for
 * it. A request's statement (db_run) parks the request and its callback
 * wakes it; the worker's own statements (db_start: the click writer, the
 * shared redirect lookups) get the callback. Nothing else talks to
 * kore_pgsql, and the exit flush uses the same statements synchronously
 * (db_run_sync).
 *
 * kore_pgsql reports every state change through the callback, including
 * from inside kore_pgsql_continue() (releasing the connection reports
 * COMPLETE) and from its wait queue (INIT: a connection became free). The
 * in_continue flag keeps the nested calls from finishing a statement
 * twice.
 *
 * A statement run very often (the redirect lookup) can be named
 * (db_prepare_named): each connection prepares it once, and then only
 * executes it. kore_pgsql knows only unnamed statements, so these two
 * steps are sent here with libpq on the connection kore_pgsql handed out,
 * and then left to kore_pgsql to read like any other (send_named).
 *
 * Failures come in two kinds. A statement the server refused has a
 * SQLSTATE and is the caller's to map (core/sqlstate.h). A failure
 * without one means the connection or the server is gone; after a
 * PostgreSQL restart each pooled connection fails once like that before
 * Kore drops it. Such a statement never ran (its backend was dead), so it
 * is retried on a fresh connection a few times before its caller hears.
 *
 * One failure kore_pgsql never reports to a callback: when the server
 * closes a connection while a statement waits on it (a PostgreSQL
 * restart), Kore's epoll error path tears the connection down and tells
 * nobody. A watchdog timer therefore looks at every statement in flight a
 * few times a second and finishes the ones Kore has silently failed
 * (state ERROR, no connection left).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/sqlstate.h"
#include "db/db.h"
#include "db/dbgate.h"
#include "obs/metrics.h"
#include "obs/log.h"

/*
 * After a PostgreSQL restart every idle connection of the worker's pool
 * (pgsql_conn_max, 8) is dead and fails once: one attempt more than the
 * pool holds, so a statement always reaches a fresh connection. With 3, a
 * read met three dead ones in a row and answered 503 (the chaos suite's
 * rolling restart, right after its PostgreSQL restart). A failure to
 * connect is not retried at all (docs/decisions.md).
 */
#define DB_MAX_ATTEMPTS	9
#define WATCHDOG_MS	250
/* Connection options the app adds to DATABASE_URL's own. */
#define DB_OPTIONS_MAX	1024

static void		launch(struct db_call *);
static void		send_query(struct db_call *);
static const char	*pool_of(const struct db_call *);
static int		named_ready(struct db_call *);
static void		named_add(PGconn *, int, const char *);
static void		named_forget(PGconn *);
static void		send_named(struct db_call *);
static int		prepared(struct db_call *, int);
static void		pgsql_cb(struct kore_pgsql *, void *);
static void		finish(struct db_call *, int);
static void		notify(struct db_call *);
static void		release(struct db_call *);
static void		track(struct db_call *, int);
static void		watchdog(void *, u_int64_t);
static void		drop_if_broken(struct kore_pgsql *);
static void		note_reachable(int);
static void		probe_done(struct db_call *, void *);
static char		*pool_register(const char *, int, const char *);
static char		*conninfo_with(const char *, const char *);
static void		 conninfo_append(struct kore_buf *, const char *,
			    const char *);

/* Owned by this worker: whether the database answered last time. */
static int	database_reachable = -1;

/* Set once per worker by db_init(): each pool's connection string. */
static char	*conninfo_main;
static char	*conninfo_long;

/*
 * Owned by this worker: the connections that have a named statement
 * (db_prepare_named), a slot for each connection and name: four names
 * (url_lookup, event_get, events_page_user, events_batch_user) on at most
 * pgsql_conn_max (8) connections of the pool they run on, 32, with room to
 * spare. A connection whose slot was reused prepares again and meets 42P05.
 * Told apart by PGconn and backend pid: a connection Kore makes again at
 * the same address is not the old one.
 */
#define NAMED_SLOTS	64
static struct {
	PGconn		*conn;
	int		 pid;
	const char	*name;
} named[NAMED_SLOTS];
static int	named_next;

/* Owned by this worker: statements in flight, for the watchdog. */
static TAILQ_HEAD(, db_call)	in_flight = TAILQ_HEAD_INITIALIZER(in_flight);
static int			watchdog_armed;

/*
 * Three pools on the same database: DB_NAME for everything, DB_LONG_NAME
 * for the few routes whose one statement may write a hundred thousand
 * rows (see the route table), with a longer statement timeout, and
 * DB_NAMED_NAME for the named statements (db_name), whose sessions plan
 * every statement generically (plan_cache_mode): a named statement is
 * planned once per connection, at its first run, not five times with its
 * parameters first as PostgreSQL's default does. That matters because
 * Kore hands out a worker's free connections in turn, so each of them
 * meets a statement anew, and planning the statements on events visits
 * every partition (5-10 ms each at 10M events, more on a new connection).
 * The other pools keep the default: their statements are planned for
 * their parameters (optional filters), which a generic plan cannot use.
 * The timeouts stay below nginx's proxy_read_timeout, so no request
 * outlives the proxy that waits for it. Every session also learns the
 * public base URL that url_json() builds short_url from.
 */
void
db_init(void)
{
	kore_free(conninfo_main);
	conninfo_main = pool_register(DB_NAME,
	    config.db_statement_timeout_ms, NULL);
	kore_free(pool_register(DB_NAMED_NAME, config.db_statement_timeout_ms,
	    "plan_cache_mode=force_generic_plan"));
	kore_free(conninfo_long);
	conninfo_long = pool_register(DB_LONG_NAME,
	    config.db_long_statement_timeout_ms, NULL);
}

/*
 * Registers the pool name with Kore: DATABASE_URL, the pool's statement
 * timeout, the public base URL the views read, and one more setting if
 * any. Returns the connection string, the caller's.
 */
static char *
pool_register(const char *name, int timeout_ms, const char *extra)
{
	char	opts[DB_OPTIONS_MAX];
	char	*ci;

	(void)snprintf(opts, sizeof(opts), "-c statement_timeout=%d "
	    "-c shortener.public_base_url=%s%s%s", timeout_ms,
	    config.public_base_url, extra != NULL ? " -c " : "",
	    extra != NULL ? extra : "");
	ci = conninfo_with(config.database_url, opts);
	kore_pgsql_register(name, ci);
	return (ci);
}

char *
db_conninfo(const char *dbname)
{
	if (dbname != NULL && !strcmp(dbname, DB_LONG_NAME))
		return (kore_strdup(conninfo_long));
	return (kore_strdup(conninfo_main));
}

void
db_fail(struct db_call *db, const char *sqlstate, const char *constraint)
{
	(void)snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    sqlstate != NULL ? sqlstate : "");
	kore_free(db->constraint);
	db->constraint = constraint != NULL ? kore_strdup(constraint) : NULL;
	db->status = DB_FAILED;
}

/*
 * DATABASE_URL may be a URI or key=value pairs: libpq parses either, and
 * the pairs are written back as key='value' with the app's options after
 * any the operator gave (a later -c wins in PostgreSQL).
 */
static char *
conninfo_with(const char *url, const char *options)
{
	PQconninfoOption	*opts, *o;
	struct kore_buf		 buf;
	char			*err, *merged, *out;
	size_t			 len;

	if ((opts = PQconninfoParse(url, &err)) == NULL)
		fatal("DATABASE_URL: %s", err != NULL ? err : "out of memory");

	kore_buf_init(&buf, 256);
	merged = NULL;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL)
			continue;
		if (!strcmp(o->keyword, "options")) {
			len = strlen(o->val) + strlen(options) + 2;
			merged = kore_malloc(len);
			(void)snprintf(merged, len, "%s %s", o->val, options);
			continue;
		}
		conninfo_append(&buf, o->keyword, o->val);
	}
	conninfo_append(&buf, "options", merged != NULL ? merged : options);
	kore_free(merged);
	PQconninfoFree(opts);

	out = kore_buf_stringify(&buf, NULL);
	out = kore_strdup(out);
	kore_buf_cleanup(&buf);
	return (out);
}

/* key='value', with \ and \' escaped as libpq wants. */
static void
conninfo_append(struct kore_buf *buf, const char *key, const char *val)
{
	const char	*p;

	if (buf->offset > 0)
		kore_buf_append(buf, " ", 1);
	kore_buf_appendf(buf, "%s='", key);
	for (p = val; *p != '\0'; p++) {
		if (*p == '\\' || *p == '\'')
			kore_buf_append(buf, "\\", 1);
		kore_buf_append(buf, p, 1);
	}
	kore_buf_append(buf, "'", 1);
}

void
db_prepare(struct db_call *db, const char *query)
{
	const char	*dbname = db->dbname;

	db_cleanup(db);
	db->query = query;
	db->dbname = dbname;
}

void
db_prepare_named(struct db_call *db, const char *name, const char *query)
{
	db_prepare(db, query);
	db_name(db, name);
}

void
db_name(struct db_call *db, const char *name)
{
	db->stmt_name = name;
}

/* The pool a statement runs on: named ones on theirs (db_init). */
static const char *
pool_of(const struct db_call *db)
{
	if (db->stmt_name != NULL)
		return (DB_NAMED_NAME);
	return (db->dbname != NULL ? db->dbname : DB_NAME);
}

void
db_param_text(struct db_call *db, int i, const char *s, size_t len)
{
	char	*copy;

	copy = kore_malloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	db_param_null(db, i);
	db->owned[i] = copy;
	db->values[i] = copy;
	db->lengths[i] = (int)len;
}

void
db_param_str(struct db_call *db, int i, const char *s)
{
	if (s == NULL)
		db_param_null(db, i);
	else
		db_param_text(db, i, s, strlen(s));
}

void
db_param_ref(struct db_call *db, int i, const char *s)
{
	db_param_null(db, i);
	db->values[i] = s;
	db->lengths[i] = s != NULL ? (int)strlen(s) : 0;
}

void
db_param_int(struct db_call *db, int i, int64_t v)
{
	char	buf[24];
	int	len;

	len = snprintf(buf, sizeof(buf), "%" PRId64, v);
	db_param_text(db, i, buf, (size_t)len);
}

void
db_param_bool(struct db_call *db, int i, int v)
{
	db_param_str(db, i, v ? "true" : "false");
}

void
db_param_null(struct db_call *db, int i)
{
	if (i < 0 || i >= DB_MAX_PARAMS)
		fatal("db: parameter %d out of range", i);

	kore_free(db->owned[i]);
	db->owned[i] = NULL;
	db->values[i] = NULL;
	db->lengths[i] = 0;
	if (i >= db->nparams)
		db->nparams = i + 1;
}

enum db_status
db_run(struct http_request *req, struct db_call *db)
{
	if (db->running)
		return (DB_PENDING);
	if (db->status != DB_PENDING)
		return (db->status);

	db->req = req;
	http_request_sleep(req);
	launch(db);
	if (db->running)
		return (DB_PENDING);
	http_request_wakeup(req);
	return (db->status);
}

void
db_start(struct db_call *db, db_done done, void *arg)
{
	db->done = done;
	db->arg = arg;
	launch(db);
}

void
db_rearm(struct db_call *db)
{
	release(db);
	if (db->result != NULL)
		PQclear(db->result);
	kore_free(db->constraint);
	db->result = NULL;
	db->constraint = NULL;
	db->sqlstate[0] = '\0';
	db->status = DB_PENDING;
	db->attempts = 0;
}

void
db_cleanup(struct db_call *db)
{
	int	i;

	/*
	 * Never prepared (a redirect answered from the cache): nothing was
	 * allocated, and freeing 24 NULLs and clearing the call cost a HIT
	 * about 500 of its 30 000 instructions (callgrind).
	 */
	if (db->query == NULL)
		return;
	release(db);
	for (i = 0; i < DB_MAX_PARAMS; i++)
		kore_free(db->owned[i]);
	if (db->result != NULL)
		PQclear(db->result);
	kore_free(db->constraint);
	memset(db, 0, sizeof(*db));
}

PGresult *
db_take_result(struct db_call *db)
{
	PGresult	*res = db->result;

	db->result = NULL;
	return (res);
}

void
db_result_free(PGresult *res)
{
	if (res != NULL)
		PQclear(res);
}

int
db_rows(const struct db_call *db)
{
	return (db->result != NULL ? PQntuples(db->result) : 0);
}

const char *
db_value(const struct db_call *db, int row, int col)
{
	return (PQgetvalue(db->result, row, col));
}

int
db_length(const struct db_call *db, int row, int col)
{
	return (PQgetlength(db->result, row, col));
}

int
db_isnull(const struct db_call *db, int row, int col)
{
	return (PQgetisnull(db->result, row, col));
}

int64_t
db_int(const struct db_call *db, int row, int col)
{
	return (strtoll(PQgetvalue(db->result, row, col), NULL, 10));
}

void
db_probe(void)
{
	struct db_call	*db;

	db = kore_calloc(1, sizeof(*db));
	db_prepare(db, "SELECT 1");
	db_start(db, probe_done, NULL);
}

static void
probe_done(struct db_call *db, void *arg)
{
	db_cleanup(db);
	kore_free(db);
}

/*
 * At exit: the statement in flight, waited for on its own connection
 * (PQgetResult blocks), so that what it wrote is known, neither lost nor
 * written twice. Only a statement actually sent on a live connection is
 * waited for.
 */
enum db_status
db_finish_sync(struct db_call *db)
{
	PGconn		*conn;
	PGresult	*res;
	int		 ok;

	if (!db->running)
		return (db->status == DB_PENDING ? DB_FAILED : db->status);
	if (db->sql.conn == NULL || db->sql.state != KORE_PGSQL_STATE_WAIT) {
		release(db);
		return (DB_FAILED);
	}

	conn = db->sql.conn->db;
	ok = 0;
	while ((res = PQgetResult(conn)) != NULL) {
		ok = PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
	}
	release(db);
	db->status = ok ? DB_DONE : DB_FAILED;
	return (db->status);
}

/* At exit, without the event loop: kore_pgsql in its blocking mode. */
enum db_status
db_run_sync(struct db_call *db)
{
	const char	*state;

	db_rearm(db);
	kore_pgsql_init(&db->sql);
	if (!kore_pgsql_setup(&db->sql, pool_of(db), KORE_PGSQL_SYNC) ||
	    !kore_pgsql_query_param_fields(&db->sql, db->query, 0,
	    db->nparams, db->values, db->lengths, NULL)) {
		state = db->sql.result != NULL ? PQresultErrorField(
		    db->sql.result, PG_DIAG_SQLSTATE) : NULL;
		(void)snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
		    state != NULL ? state : "");
		if (db->sql.error != NULL)
			log_event(LOG_LEVEL_ERROR, "database_failure", "%s",
			    db->sql.error);
		drop_if_broken(&db->sql);
		kore_pgsql_cleanup(&db->sql);
		db->status = DB_FAILED;
		return (db->status);
	}

	db->result = db->sql.result;
	db->sql.result = NULL;
	kore_pgsql_cleanup(&db->sql);
	db->status = DB_DONE;
	return (db->status);
}

/* A first attempt: bound to the callback, timed, watched. */
static void
launch(struct db_call *db)
{
	db->status = DB_PENDING;
	db->attempts = 0;
	db->running = 1;
	track(db, 1);
	kore_pgsql_init(&db->sql);
	kore_pgsql_bind_callback(&db->sql, pgsql_cb, db);
	send_query(db);
}

/*
 * Takes a connection and sends the statement. A full pool queues it
 * inside kore_pgsql (state stays INIT) and calls back when a connection
 * is free.
 */
static void
send_query(struct db_call *db)
{
	/* A queued statement comes back here: its wait is not timed. */
	metrics_clock(&db->started);
	/* Closed since a connect failed (db/dbgate.h): fail at once. */
	if (!db_connect_allowed()) {
		db->attempts = DB_MAX_ATTEMPTS;
		finish(db, 0);
		return;
	}
	if (!kore_pgsql_setup(&db->sql, pool_of(db), KORE_PGSQL_ASYNC)) {
		if (db->sql.state == KORE_PGSQL_STATE_INIT)
			return;
		/* No connection could be made: retrying would only wait. */
		db_connect_failed();
		db->attempts = DB_MAX_ATTEMPTS;
		finish(db, 0);
		return;
	}

	if (db->stmt_name != NULL) {
		send_named(db);
		return;
	}
	if (!kore_pgsql_query_param_fields(&db->sql, db->query, 0,
	    db->nparams, db->values, db->lengths, NULL))
		finish(db, 0);
}

/* Whether the connection db just took has db's named statement. */
static int
named_ready(struct db_call *db)
{
	PGconn	*conn = db->sql.conn->db;
	int	 i, pid;

	pid = PQbackendPID(conn);
	for (i = 0; i < NAMED_SLOTS; i++) {
		if (named[i].conn == conn && named[i].pid == pid &&
		    named[i].name == db->stmt_name)
			return (1);
	}
	return (0);
}

static void
named_add(PGconn *conn, int pid, const char *name)
{
	named[named_next].conn = conn;
	named[named_next].pid = pid;
	named[named_next].name = name;
	named_next = (named_next + 1) % NAMED_SLOTS;
}

/* A statement a connection no longer has (26000): prepared again next. */
static void
named_forget(PGconn *conn)
{
	int	i;

	for (i = 0; i < NAMED_SLOTS; i++) {
		if (named[i].conn == conn)
			named[i].conn = NULL;
	}
}

/*
 * kore_pgsql sends only unnamed statements, so a named one goes out here,
 * on the connection kore_pgsql gave us, in two steps the first time on a
 * connection: its Parse alone (PQsendPrepare), then, when that is done,
 * the statement itself on whatever connection is free next (prepared
 * again there if need be). After sending, it waits as
 * kore_pgsql_query_param_fields() does (Kore 4.1's pgsql_schedule): the
 * socket read-armed, the state WAIT; kore_pgsql reads the result and
 * calls pgsql_cb as for any statement. Nothing here blocks: a prepare
 * that waits on a lock or a stalled server waits like a statement.
 */
static void
send_named(struct db_call *db)
{
	PGconn	*conn = db->sql.conn->db;
	int	 fd, sent;

	db->preparing = !named_ready(db);
	if (db->preparing) {
		db->prep_conn = conn;
		db->prep_pid = PQbackendPID(conn);
		sent = PQsendPrepare(conn, db->stmt_name, db->query,
		    db->nparams, NULL);
	} else {
		sent = PQsendQueryPrepared(conn, db->stmt_name, db->nparams,
		    db->values, db->lengths, NULL, 0);
	}
	if (!sent || (fd = PQsocket(conn)) < 0) {
		db->preparing = 0;
		finish(db, 0);
		return;
	}
	kore_platform_schedule_read(fd, db->sql.conn);
	db->sql.state = KORE_PGSQL_STATE_WAIT;
	db->sql.flags |= KORE_PGSQL_SCHEDULED;
}

/*
 * The first step of a named statement came back: the connection has it
 * now (or had it: 42P05, its slot given to another since), and the
 * statement goes out; true. A prepare that failed otherwise is the
 * statement's failure, handled as one by finish(); false.
 */
static int
prepared(struct db_call *db, int ok)
{
	db->preparing = 0;
	if (!ok && strcmp(db->sqlstate, "42P05") != 0)
		return (0);

	named_add(db->prep_conn, db->prep_pid, db->stmt_name);
	db->sql.cb = NULL;
	kore_pgsql_cleanup(&db->sql);
	kore_pgsql_init(&db->sql);
	kore_pgsql_bind_callback(&db->sql, pgsql_cb, db);
	send_query(db);
	return (1);
}

static void
pgsql_cb(struct kore_pgsql *sql, void *arg)
{
	struct db_call	*db = arg;
	int		 nested;

	switch (sql->state) {
	case KORE_PGSQL_STATE_INIT:
		send_query(db);
		break;
	case KORE_PGSQL_STATE_WAIT:
		break;
	case KORE_PGSQL_STATE_RESULT:
		if (db->result != NULL)
			PQclear(db->result);
		db->result = sql->result;
		sql->result = NULL;
		/* FALLTHROUGH */
	case KORE_PGSQL_STATE_DONE:
		/*
		 * continue() re-enters this callback (DONE after RESULT,
		 * COMPLETE on release); only the outermost call finishes.
		 */
		nested = db->in_continue;
		db->in_continue = 1;
		kore_pgsql_continue(sql);
		db->in_continue = nested;
		if (!nested && sql->state == KORE_PGSQL_STATE_COMPLETE)
			finish(db, 1);
		break;
	case KORE_PGSQL_STATE_COMPLETE:
		if (!db->in_continue)
			finish(db, 1);
		break;
	default:
		finish(db, 0);
		break;
	}
}

/*
 * The statement has ended, one way or the other: records why it failed,
 * goes round again on a fresh connection after a connection-level
 * failure while attempts remain, else tells whoever waits.
 */
static void
finish(struct db_call *db, int ok)
{
	const char	*state, *constraint;

	db->sqlstate[0] = '\0';
	if (!ok && db->sql.result != NULL) {
		state = PQresultErrorField(db->sql.result, PG_DIAG_SQLSTATE);
		constraint = PQresultErrorField(db->sql.result,
		    PG_DIAG_CONSTRAINT_NAME);
		if (state != NULL)
			(void)snprintf(db->sqlstate, sizeof(db->sqlstate),
			    "%s", state);
		if (constraint != NULL) {
			kore_free(db->constraint);
			db->constraint = kore_strdup(constraint);
		}
	}

	if (db->preparing && prepared(db, ok))
		return;

	metrics_db_query(metrics_since(&db->started), ok ? METRICS_DB_OK :
	    sqlstate_classify(db->sqlstate) == SQLSTATE_UNAVAILABLE ?
	    METRICS_DB_UNREACHABLE : METRICS_DB_REFUSED);

	/* The connection lost its prepared statement: prepare, try again. */
	if (!ok && db->stmt_name != NULL && db->sql.conn != NULL &&
	    strcmp(db->sqlstate, "26000") == 0) {
		named_forget(db->sql.conn->db);
		db->sqlstate[0] = '\0';
	}
	if (!ok && db->sqlstate[0] == '\0') {
		if (db->sql.error != NULL)
			log_event(LOG_LEVEL_DEBUG, "database_failure", "%s",
			    db->sql.error);
		drop_if_broken(&db->sql);
	}
	/* Releasing the connection would call pgsql_cb again. */
	db->sql.cb = NULL;
	kore_pgsql_cleanup(&db->sql);

	if (!ok && db->sqlstate[0] == '\0' &&
	    ++db->attempts < DB_MAX_ATTEMPTS) {
		kore_pgsql_init(&db->sql);
		kore_pgsql_bind_callback(&db->sql, pgsql_cb, db);
		send_query(db);
		return;
	}

	if (ok) {
		/* A statement without rows still succeeded. */
		if (db->result == NULL)
			db->result = PQmakeEmptyPGresult(NULL,
			    PGRES_COMMAND_OK);
		db->status = DB_DONE;
	} else {
		if (db->result != NULL)
			PQclear(db->result);
		db->result = NULL;
		db->status = DB_FAILED;
	}
	note_reachable(ok || sqlstate_classify(db->sqlstate) !=
	    SQLSTATE_UNAVAILABLE);
	notify(db);
}

static void
notify(struct db_call *db)
{
	db->running = 0;
	track(db, 0);
	if (db->req != NULL)
		http_request_wakeup(db->req);
	else if (db->done != NULL)
		db->done(db, db->arg);
}

/* Abandons a statement in flight: nobody is told. */
static void
release(struct db_call *db)
{
	if (!db->running)
		return;
	track(db, 0);
	/* Releasing the connection would call pgsql_cb again. */
	db->sql.cb = NULL;
	kore_pgsql_cleanup(&db->sql);
	db->running = 0;
}

static void
track(struct db_call *db, int on)
{
	if (on && !db->tracked) {
		TAILQ_INSERT_TAIL(&in_flight, db, list);
		db->tracked = 1;
	} else if (!on && db->tracked) {
		TAILQ_REMOVE(&in_flight, db, list);
		db->tracked = 0;
	}

	if (on && !watchdog_armed) {
		watchdog_armed = 1;
		kore_timer_add(watchdog, WATCHDOG_MS, NULL, 0);
	}
}

static void
watchdog(void *arg, u_int64_t now)
{
	struct db_call	*db, *next;

	for (db = TAILQ_FIRST(&in_flight); db != NULL; db = next) {
		next = TAILQ_NEXT(db, list);
		if (db->sql.state == KORE_PGSQL_STATE_ERROR &&
		    db->sql.conn == NULL)
			finish(db, 0);
	}
}

/*
 * Drops sql's connection when libpq says it is dead: kore_pgsql would
 * otherwise put it back in the pool for the next statement to fail on.
 * Kore frees the connection; it clears sql->conn only for an asynchronous
 * statement (one with a job). A synchronous one (the exit flush) kept the
 * freed pointer, which kore_pgsql_cleanup() then put back in the pool and
 * Kore's exit cleanup freed again (a double free ASan caught, at exit
 * after PostgreSQL died under the flush).
 */
static void
drop_if_broken(struct kore_pgsql *sql)
{
	if (sql->conn == NULL || PQstatus(sql->conn->db) != CONNECTION_BAD)
		return;
	kore_pgsql_handle(sql->conn, 1);
	sql->conn = NULL;
}

static void
note_reachable(int up)
{
	if (up == database_reachable)
		return;
	if (up)
		log_event(LOG_LEVEL_INFO, "database_up", "database reachable");
	else
		log_event(LOG_LEVEL_WARN, "database_down",
		    "database unreachable");
	database_reachable = up;
}
