/*
 * Asynchronous statements over kore_pgsql.
 *
 * kore_pgsql hands out pooled connections and parks the request while a
 * statement runs; this file hides its state machine behind db_run().
 *
 * Failures come in two kinds. A statement the server refused has a
 * SQLSTATE and is the caller's to map (23505 is a 409, and so on). A
 * failure without one means the connection or the server is gone; after
 * a PostgreSQL restart each pooled connection fails once like that before
 * Kore drops it. Such a statement never ran (its backend was dead), so it
 * is retried on a fresh connection a few times before the request gets a
 * 503.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/config.h"
#include "db/db.h"
#include "db/dbasync.h"
#include "db/dbgate.h"
#include "obs/metrics.h"
#include "obs/log.h"

#define DB_MAX_ATTEMPTS	3
/* Connection options the app adds to DATABASE_URL's own. */
#define DB_OPTIONS_MAX	1024

static enum db_status	db_start(struct http_request *, struct db_call *);
static enum db_status	db_poll(struct http_request *, struct db_call *);
static enum db_status	db_fail(struct http_request *, struct db_call *);
static void		db_release(struct db_call *);
static void		db_note_reachable(int);
static char		*conninfo_with(const char *, const char *);
static void		 conninfo_append(struct kore_buf *, const char *,
			    const char *);

/* Owned by this worker: whether the database answered last time. */
static int	database_reachable = -1;

/*
 * Two pools on the same database that differ only in their statement
 * timeout: DB_NAME for everything, DB_LONG_NAME for the few routes whose
 * one statement may write a hundred thousand rows (see the route table).
 * Both timeouts stay below nginx's proxy_read_timeout, so no request
 * outlives the proxy that waits for it. Every session also learns the
 * public base URL that url_json() builds short_url from.
 */
void
db_init(void)
{
	char	opts[DB_OPTIONS_MAX];
	char	*ci;

	(void)snprintf(opts, sizeof(opts), "-c statement_timeout=%d "
	    "-c shortener.public_base_url=%s", config.db_statement_timeout_ms,
	    config.public_base_url);
	ci = conninfo_with(config.database_url, opts);
	kore_pgsql_register(DB_NAME, ci);
	kore_free(ci);

	(void)snprintf(opts, sizeof(opts), "-c statement_timeout=%d "
	    "-c shortener.public_base_url=%s",
	    config.db_long_statement_timeout_ms, config.public_base_url);
	ci = conninfo_with(config.database_url, opts);
	kore_pgsql_register(DB_LONG_NAME, ci);
	kore_free(ci);
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
	memset(db, 0, sizeof(*db));
	kore_pgsql_init(&db->sql);
	db->query = query;
	db->dbname = dbname;
}

void
db_param_text(struct db_call *db, int i, const char *s, size_t len)
{
	if (i >= DB_MAX_PARAMS)
		fatal("db_param_text: parameter %d out of range", i);

	kore_free(db->values[i]);
	db->values[i] = kore_malloc(len + 1);
	memcpy(db->values[i], s, len);
	db->values[i][len] = '\0';
	db->lengths[i] = (int)len;
	if (i >= db->nparams)
		db->nparams = i + 1;
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
	if (i >= DB_MAX_PARAMS)
		fatal("db_param_null: parameter %d out of range", i);

	kore_free(db->values[i]);
	db->values[i] = NULL;
	db->lengths[i] = 0;
	if (i >= db->nparams)
		db->nparams = i + 1;
}

enum db_status
db_run(struct http_request *req, struct db_call *db)
{
	if (db->result != NULL)
		return (DB_DONE);
	if (!db->sent)
		return (db_start(req, db));
	return (db_poll(req, db));
}

void
db_rearm(struct db_call *db)
{
	db_release(db);
	if (db->result != NULL)
		PQclear(db->result);
	kore_free(db->constraint);
	db->result = NULL;
	db->constraint = NULL;
	db->sqlstate[0] = '\0';
	db->sent = 0;
	db->bound = 0;
	db->attempts = 0;
	kore_pgsql_init(&db->sql);
}

void
db_cleanup(struct db_call *db)
{
	int	i;

	if (db->query == NULL)
		return;

	db_release(db);
	for (i = 0; i < db->nparams; i++)
		kore_free(db->values[i]);
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

int
db_unavailable(const struct db_call *db)
{
	return (db_sqlstate_unavailable(db->sqlstate));
}

int
db_sqlstate_unavailable(const char *sqlstate)
{
	return (sqlstate[0] == '\0' ||
	    !strncmp(sqlstate, "08", 2) ||
	    !strncmp(sqlstate, "57P", 3) ||
	    !strcmp(sqlstate, "53300"));
}

static void
probe_done(struct db_async *a, PGresult *res, const char *sqlstate)
{
	db_note_reachable(res != NULL);
	kore_free(a);
}

void
db_probe(void)
{
	struct db_async	*a;

	a = kore_calloc(1, sizeof(*a));
	a->query = "SELECT 1";
	a->done = probe_done;
	db_async_run(a);
}

int
db_reachable(void)
{
	return (database_reachable != 0);
}

/*
 * Takes a connection and sends the statement. A full pool queues the
 * request inside kore_pgsql (state stays INIT) and wakes it later; it
 * then comes back here with bound already set.
 */
static enum db_status
db_start(struct http_request *req, struct db_call *db)
{
	if (!db->bound) {
		kore_pgsql_bind_request(&db->sql, req);
		db->bound = 1;
	}

	/* A queued request comes back here: its wait is not timed. */
	metrics_clock(&db->started);
	/* Closed since a connect failed (db/dbgate.h): a 503 at once. */
	if (!db_connect_allowed()) {
		db->attempts = DB_MAX_ATTEMPTS;
		return (db_fail(req, db));
	}
	if (!kore_pgsql_setup(&db->sql,
	    db->dbname != NULL ? db->dbname : DB_NAME, KORE_PGSQL_ASYNC)) {
		if (db->sql.state == KORE_PGSQL_STATE_INIT)
			return (DB_PENDING);
		/* No connection could be made: retrying would only wait. */
		db_connect_failed();
		db->attempts = DB_MAX_ATTEMPTS;
		return (db_fail(req, db));
	}

	if (!kore_pgsql_query_param_fields(&db->sql, db->query, 0,
	    db->nparams, (const char **)db->values, db->lengths, NULL))
		return (db_fail(req, db));

	db->sent = 1;
	return (DB_PENDING);
}

static enum db_status
db_poll(struct http_request *req, struct db_call *db)
{
	for (;;) {
		switch (db->sql.state) {
		case KORE_PGSQL_STATE_WAIT:
			return (DB_PENDING);
		case KORE_PGSQL_STATE_RESULT:
			if (db->result != NULL)
				PQclear(db->result);
			db->result = db->sql.result;
			db->sql.result = NULL;
			kore_pgsql_continue(&db->sql);
			break;
		case KORE_PGSQL_STATE_ERROR:
			return (db_fail(req, db));
		case KORE_PGSQL_STATE_DONE:
			kore_pgsql_continue(&db->sql);
			break;
		case KORE_PGSQL_STATE_COMPLETE:
			metrics_db_query(metrics_since(&db->started),
			    METRICS_DB_OK);
			db_release(db);
			db_note_reachable(1);
			if (db->result == NULL)
				db->result = PQmakeEmptyPGresult(NULL,
				    PGRES_COMMAND_OK);
			return (DB_DONE);
		default:
			return (db_fail(req, db));
		}
	}
}

/*
 * Records why the statement failed; a connection-level failure goes
 * round again on a fresh connection while attempts remain.
 */
static enum db_status
db_fail(struct http_request *req, struct db_call *db)
{
	const char	*state, *constraint;

	db->sqlstate[0] = '\0';
	if (db->sql.result != NULL) {
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

	metrics_db_query(metrics_since(&db->started), db_unavailable(db) ?
	    METRICS_DB_UNREACHABLE : METRICS_DB_REFUSED);
	if (db->sqlstate[0] != '\0' && !db_unavailable(db)) {
		db_note_reachable(1);
		db_release(db);
		return (DB_FAILED);
	}

	if (db->sql.error != NULL)
		log_event(LOG_LEVEL_DEBUG, "database_failure", "%s",
		    db->sql.error);
	db_drop_if_broken(&db->sql);
	db_release(db);

	if (++db->attempts < DB_MAX_ATTEMPTS && db->sqlstate[0] == '\0') {
		db->sent = 0;
		db->bound = 0;
		kore_pgsql_init(&db->sql);
		return (db_start(req, db));
	}

	db_note_reachable(0);
	return (DB_FAILED);
}

void
db_drop_if_broken(struct kore_pgsql *sql)
{
	if (sql->conn == NULL || PQstatus(sql->conn->db) != CONNECTION_BAD)
		return;
	kore_pgsql_handle(sql->conn, 1);
}

static void
db_release(struct db_call *db)
{
	kore_pgsql_cleanup(&db->sql);
}

static void
db_note_reachable(int up)
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
