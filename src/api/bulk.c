/*
 * POST /users/bulk: a CSV of users as multipart field "file".
 *
 * The CSV is parsed and every row validated (core/csvusers.c); the rows
 * that pass go to import_users() in one statement, which upserts by id,
 * moves the id sequence past the largest id and reports the rows the
 * database refused. Bad rows never stop the others, and the same file
 * imported twice leaves the same state.
 *
 * Bounded, and off the event loop. A body over BULK_BODY_MAX is a 413
 * and a file of more than BULK_MAX_ROWS rows a 422, before anything is
 * stored. The rest -- reading the multipart body (core/multipart.c),
 * parsing and validating the rows, writing them out as JSON, and
 * sending that to PostgreSQL and waiting for import_users() -- runs on
 * a thread of its own, while the worker goes on serving. The statement
 * cannot go through kore_pgsql: it sends a query with a blocking write,
 * and a 16 MiB file is some 20 MB of JSON, tens of milliseconds of a
 * stalled worker. The thread opens a connection of
 * its own with the long pool's settings (db_conninfo) and may block on
 * it as long as it likes; a failure comes back as a SQLSTATE that
 * api_db_error() maps like any other.
 *
 * The job is a heap ticket shared by the request and the thread, like
 * a Redis command's (cache/redis.c): it owns the request's body (taken
 * from Kore, not copied) and the results. The thread touches only the
 * job, libpq and pure code (libcsv, jansson, malloc), never Kore; once
 * it has ended, bulk_done() runs on the worker's loop and wakes the
 * request or, if the request is gone meanwhile (the client hung up),
 * frees the job. Nothing else frees a job whose thread still runs.
 *
 * The thread is the job's own (pthread_create), not one of Kore's task
 * threads: Kore 4.1's task thread takes the head of its queue after
 * pthread_cond_wait() without looking whether there is one (src/tasks.c,
 * task_thread(): "if", not "while"), so a wakeup that finds the queue
 * empty is a NULL dereference that kills the worker; the hostile suite
 * met it once. The thread sets `finished` as the last thing it does with
 * the job, and a timer of the worker (BULK_POLL_MS, armed only while
 * jobs run) looks at the running jobs and calls bulk_done() on its loop.
 */

#include <sys/queue.h>
#include <sys/syscall.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>

#include <libpq-fe.h>

#include "api/api.h"
#include "api/common.h"
#include "config/config.h"
#include "core/csvusers.h"
#include "core/multipart.h"
#include "db/sql_users.h"
#include "http/respond.h"
#include "obs/metrics.h"

#define MSG_EXPECTED	"expected multipart/form-data with a CSV in field 'file'"
/* SCHED_BATCH and a nice value: the import yields to the event loop. */
#define TASK_POLICY	3
#define TASK_NICE	10
/* How often the worker looks for finished imports while any runs. */
#define BULK_POLL_MS	5

struct bulk_job {
	struct http_request	*req;		/* NULL once the request is gone */
	int			 done;		/* bulk_done() has run */
	atomic_int		 finished;	/* set by the thread, last */
	TAILQ_ENTRY(bulk_job)	 list;		/* in `running` until done */
	struct kore_buf		*body;		/* taken from the request */
	size_t			 body_len;	/* Kore rewinds body->offset */
	char			 boundary[MULTIPART_BOUNDARY_MAX + 1];
	size_t			 max_rows;
	char			*conninfo;
	/* Written by the thread, read once done. */
	int			 status;	/* 0, or the error to answer */
	const char		*why;
	struct csvusers		 csv;
	int			 imported;	/* import_users() ran */
	int			 db_failed;
	char			 sqlstate[6];	/* "" unreachable */
	char			*constraint;	/* malloc'd or NULL */
	char			*result;	/* import_users()'s JSON */
	double			 db_seconds;
};

/*
 * The worker's jobs whose thread runs, and whether a one-shot timer will
 * look at them (Kore 4.1 frees a timer removed from its own callback
 * under its feet): owned by the worker's event loop, never touched by a
 * thread.
 */
static TAILQ_HEAD(, bulk_job)	 running = TAILQ_HEAD_INITIALIZER(running);
static int			 poll_armed;

static int	bulk_start(struct http_request *, struct api_ctx *);
static int	job_launch(struct bulk_job *);
static void	bulk_poll(void *, u_int64_t);
static int	st_wait_job(struct http_request *, struct api_ctx *);
static void	*bulk_run(void *);
static const char *bulk_rows(struct bulk_job *, char **);
static void	bulk_import(struct bulk_job *, const char *);
static void	bulk_done(struct bulk_job *);
static void	task_background(void);
static void	bulk_job_release(void *);
static void	bulk_job_free(struct bulk_job *);
static int	bulk_respond(struct http_request *, struct csvusers *,
		    json_t *);
static int	error_line_cmp(const void *, const void *);

int
users_bulk(struct http_request *req, struct http_ctx *h)
{
	struct api_ctx	*ctx = api_ctx(h);

	API_RESUME(req, ctx);
	if (!bulk_start(req, ctx))
		return (KORE_RESULT_OK);
	ctx->resume = st_wait_job;
	return (KORE_RESULT_RETRY);
}

/* Checks what costs nothing to check, then hands the body to a thread. */
static int
bulk_start(struct http_request *req, struct api_ctx *ctx)
{
	struct bulk_job	*job;
	const char	*type;
	char		 boundary[MULTIPART_BOUNDARY_MAX + 1];

	if (req->http_body_length > config.bulk_body_max) {
		respond_error(req, 413, NULL, "the file is larger than "
		    "BULK_BODY_MAX allows (docs/configuration.md)");
		return (0);
	}
	if (!http_request_header(req, "content-type", &type) ||
	    multipart_boundary(type, boundary, sizeof(boundary)) == -1 ||
	    req->http_body == NULL) {
		respond_error(req, 400, NULL, MSG_EXPECTED);
		return (0);
	}

	job = kore_calloc(1, sizeof(*job));
	job->req = req;
	job->body = req->http_body;
	job->body_len = req->http_body_length;
	req->http_body = NULL;
	memcpy(job->boundary, boundary, sizeof(job->boundary));
	job->max_rows = (size_t)config.bulk_max_rows;
	job->conninfo = db_conninfo(DB_LONG_NAME);
	ctx->state = job;
	ctx->state_free = bulk_job_release;

	if (!job_launch(job)) {
		ctx->state = NULL;
		bulk_job_free(job);
		respond_error(req, 503, NULL, "the import could not start; "
		    "try again");
		return (0);
	}
	http_request_sleep(req);
	return (1);
}

/* The job's thread, detached; 0 when it could not start. */
static int
job_launch(struct bulk_job *job)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	int		rc;

	if (pthread_attr_init(&attr) != 0)
		return (0);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, bulk_run, job);
	(void)pthread_attr_destroy(&attr);
	if (rc != 0)
		return (0);
	TAILQ_INSERT_TAIL(&running, job, list);
	if (!poll_armed) {
		(void)kore_timer_add(bulk_poll, BULK_POLL_MS, NULL,
		    KORE_TIMER_ONESHOT);
		poll_armed = 1;
	}
	return (1);
}

/* On the worker's loop: the jobs whose thread is done are done. */
static void
bulk_poll(void *arg, u_int64_t now)
{
	struct bulk_job	*job, *next;

	(void)arg;
	(void)now;
	poll_armed = 0;
	for (job = TAILQ_FIRST(&running); job != NULL; job = next) {
		next = TAILQ_NEXT(job, list);
		if (!atomic_load_explicit(&job->finished,
		    memory_order_acquire))
			continue;
		TAILQ_REMOVE(&running, job, list);
		bulk_done(job);
	}
	if (!TAILQ_EMPTY(&running)) {
		(void)kore_timer_add(bulk_poll, BULK_POLL_MS, NULL,
		    KORE_TIMER_ONESHOT);
		poll_armed = 1;
	}
}

/* On the job's thread: nothing but the job, libpq and pure code. */
static void *
bulk_run(void *arg)
{
	struct bulk_job	*job = arg;
	char		*rows = NULL;

	task_background();
	job->why = bulk_rows(job, &rows);
	if (rows != NULL)
		bulk_import(job, rows);
	free(rows);
	/* The last touch of the job: the worker may free it from now on. */
	atomic_store_explicit(&job->finished, 1, memory_order_release);
	return (NULL);
}

/*
 * The thread is background work: on a busy machine the worker's loop
 * (which asked for a short slice, app/schedslice.c, inherited here)
 * must win the CPU over it. SCHED_BATCH at nice 10 asks for that
 * without privileges; a kernel that refuses leaves it as it was.
 */
static void
task_background(void)
{
	struct {
		uint32_t	size, policy;
		uint64_t	flags;
		int32_t		nice;
		uint32_t	priority;
		uint64_t	runtime, deadline, period;
	} attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.policy = TASK_POLICY;
	attr.nice = TASK_NICE;
	(void)syscall(SYS_sched_setattr, 0, &attr, 0);
}

/* The rows import_users() takes, as JSON in *rows (none: NULL). */
static const char *
bulk_rows(struct bulk_job *job, char **rows)
{
	const char	*data, *why;
	size_t		 len;
	json_t		*json;

	switch (multipart_find((const char *)job->body->data, job->body_len,
	    job->boundary, "file", &data, &len)) {
	case MULTIPART_FOUND:
		break;
	case MULTIPART_ABSENT:
		job->status = 400;
		return (MSG_EXPECTED);
	case MULTIPART_MALFORMED:
		job->status = 400;
		return ("malformed multipart/form-data body");
	}

	if (csvusers_parse_max(data, len, job->max_rows, &job->csv,
	    &why) == -1) {
		job->status = why == csvusers_too_many ? 422 : 400;
		return (why);
	}
	if (job->csv.nrows == 0)
		return (NULL);

	json = csvusers_rows_json(&job->csv);
	*rows = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (*rows == NULL)
		abort();
	return (NULL);
}

/* One statement on a connection of the thread's own; it may block. */
static void
bulk_import(struct bulk_job *job, const char *rows)
{
	PGconn		*conn;
	PGresult	*res;
	const char	*state, *constraint;
	struct timespec	 a, b;

	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	job->imported = 1;
	conn = PQconnectdb(job->conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		job->db_failed = 1;
		PQfinish(conn);
		return;
	}

	res = PQexecParams(conn, sql_users_import, 1, NULL, &rows, NULL,
	    NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		if ((job->result = strdup(PQgetvalue(res, 0, 0))) == NULL)
			abort();
	} else {
		job->db_failed = 1;
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		(void)snprintf(job->sqlstate, sizeof(job->sqlstate), "%s",
		    state != NULL ? state : "");
		if (constraint != NULL &&
		    (job->constraint = strdup(constraint)) == NULL)
			abort();
	}
	PQclear(res);
	PQfinish(conn);
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	job->db_seconds = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* On the worker's loop, once the thread is done with the job. */
static void
bulk_done(struct bulk_job *job)
{
	job->done = 1;
	if (job->req == NULL) {
		bulk_job_free(job);
		return;
	}
	http_request_wakeup(job->req);
}

static int
st_wait_job(struct http_request *req, struct api_ctx *ctx)
{
	struct bulk_job	*job = ctx->state;
	json_t		*result;
	json_error_t	 err;
	char		 msg[96];

	if (!job->done)
		return (KORE_RESULT_RETRY);

	if (job->status == 422) {
		(void)snprintf(msg, sizeof(msg), "must have at most %zu rows "
		    "(BULK_MAX_ROWS)", job->max_rows);
		respond_invalid_field(req, "file", msg);
		return (KORE_RESULT_OK);
	}
	if (job->status != 0) {
		respond_error(req, job->status, NULL, job->why);
		return (KORE_RESULT_OK);
	}
	if (!job->imported)
		return (bulk_respond(req, &job->csv, NULL));

	if (job->db_failed) {
		metrics_db_query(job->db_seconds, job->sqlstate[0] == '\0' ?
		    METRICS_DB_UNREACHABLE : METRICS_DB_REFUSED);
		db_fail(&ctx->db, job->sqlstate, job->constraint);
		return (api_db_error(req, ctx));
	}
	metrics_db_query(job->db_seconds, METRICS_DB_OK);
	result = json_loads(job->result, 0, &err);
	if (result == NULL)
		fatal("import_users returned invalid JSON: %s", err.text);
	return (bulk_respond(req, &job->csv, result));
}

/* The request is being freed; a job whose thread still runs is left. */
static void
bulk_job_release(void *arg)
{
	struct bulk_job	*job = arg;

	if (!job->done) {
		job->req = NULL;
		return;
	}
	bulk_job_free(job);
}

static void
bulk_job_free(struct bulk_job *job)
{
	if (job->body != NULL)
		kore_buf_free(job->body);
	csvusers_free(&job->csv);
	free(job->constraint);
	free(job->result);
	kore_free(job->conninfo);
	kore_free(job);
}

/*
 * The CSV's own errors and the database's are merged by line; the
 * response carries at most CSVUSERS_MAX_ERRORS of them.
 */
static int
bulk_respond(struct http_request *req, struct csvusers *csv, json_t *result)
{
	json_t		*errors, *db_errors, *body;
	json_int_t	 created, updated, db_skipped;
	size_t		 i, n;
	json_t		**sorted;

	created = updated = db_skipped = 0;
	errors = csvusers_errors_json(csv);
	if (result != NULL) {
		created = json_integer_value(json_object_get(result, "created"));
		updated = json_integer_value(json_object_get(result, "updated"));
		db_skipped = json_integer_value(json_object_get(result,
		    "skipped"));
		db_errors = json_object_get(result, "errors");
		json_array_extend(errors, db_errors);
	}

	n = json_array_size(errors);
	sorted = kore_calloc(n + 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = json_incref(json_array_get(errors, i));
	qsort(sorted, n, sizeof(*sorted), error_line_cmp);
	json_array_clear(errors);
	for (i = 0; i < n; i++) {
		if (i < CSVUSERS_MAX_ERRORS)
			json_array_append(errors, sorted[i]);
		json_decref(sorted[i]);
	}
	kore_free(sorted);

	/* count is what was stored, as the contract says: imported. */
	body = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}",
	    "count", created + updated,
	    "imported", created + updated,
	    "created", created,
	    "updated", updated,
	    "skipped", (json_int_t)csv->skipped + db_skipped,
	    "errors", errors);

	if (result != NULL)
		json_decref(result);
	respond_object(req, 201, body);
	return (KORE_RESULT_OK);
}

static int
error_line_cmp(const void *a, const void *b)
{
	json_int_t	la, lb;

	la = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
	lb = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
	return ((la > lb) - (la < lb));
}
