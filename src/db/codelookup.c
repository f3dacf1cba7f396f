/*
 * Coalesced, batched short code lookups.
 *
 * A flight is one code being looked up; requests join it as waiters, so
 * a burst of misses for one code costs one row. Flights live in a small
 * hash table keyed by code, per worker, until their answer comes.
 *
 * Flights travel to PostgreSQL in batches: one statement,
 * `short_code = ANY($1)`, for every code waiting (up to LOOKUP_BATCH_MAX).
 * While a batch is out, misses wait in `pending` and leave with the next
 * batch. Every statement costs PostgreSQL its protocol and wake-up
 * whatever it carries, and its parse and plan too unless prepared (the
 * lookup is: db_prepare_named, once per connection), so under load a miss
 * pays a share of that and its index probe, and the larger the batches
 * the smaller the share.
 *
 * When the pending codes leave is core/lookupgate.c's rule: at once for
 * an idle worker; while a batch is out, when it comes back; and a busy
 * worker lets a short list gather for up to LOOKUP_GATHER_MS, so that its
 * batches are a few times larger than one per round trip.
 *
 * A batch that takes longer than LOOKUP_HOLD_MS (a stalled database, a
 * connection being made) no longer holds the next one back: up to
 * LOOKUP_INFLIGHT_MAX go out at once, each on its own connection, so a
 * stalled statement delays only the codes it carries and the next batch
 * meets whatever the database layer decides (a fast failure while the
 * database is known to be down).
 *
 * A batch the database could not take (core/sqlstate.h's "unavailable":
 * no connection, a connect refused or unreachable, the server shutting
 * down) does not fail its flights at once. A lookup is a read, safe to
 * send again, and its waiters are redirects an end user clicked: a
 * database restarting for a second, or an instance whose network was cut
 * while they waited (their answers reach nobody until it is back, and
 * then a 503 would be stale), is met with patience rather than a 503.
 * Such flights rest on the `resting` list for up to LOOKUP_RETRY_MS (one
 * timer for all: the connect gate's own hold-off, db/dbgate.c, so most
 * retries meet a fresh decision) and go out again, until
 * LOOKUP_PATIENCE_MS after they began;
 * then they fail (503). They fail at once, too, when more than
 * LOOKUP_PATIENT_MAX requests already wait here: an outage under a flood
 * of misses is answered quickly, not held in memory. A waiter that has
 * somewhere better to ask (a redirect whose Redis lookup was only over its
 * budget may find the link cached on a second look) is not patient: it
 * hears of the failure at once, and the flight rests for the others. A
 * worker that is stopping (code_lookup_drain) lets nothing rest.
 *
 * A batch runs on its own (db_start, not bound to a request), so a waiter
 * whose client goes away simply leaves, and the others still get their
 * answer. A flight without waiters still completes and is freed (a
 * resting one is dropped when its rest ends).
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "core/lookupgate.h"
#include "core/shortcode.h"
#include "core/sqlstate.h"
#include "db/codelookup.h"
#include "db/db.h"
#include "db/sql_urls.h"
#include "obs/metrics.h"

#define FLIGHT_BUCKETS		256
/* Codes per statement: a 32-char code is ~35 bytes of the literal. */
#define LOOKUP_BATCH_MAX	256
/*
 * Batches out at once, each on its own connection, when one has been out
 * LOOKUP_HOLD_MS (core/lookupgate.h). Measured (MISS at saturation, 2
 * cores): one at a time gave PostgreSQL 19-25 us per miss against 29-37
 * us with two (smaller batches).
 */
#define LOOKUP_INFLIGHT_MAX	4
/*
 * Patience with an unavailable database (above). LOOKUP_PATIENCE_MS stays
 * well below nginx's proxy_read_timeout (10 s, nginx.conf): a lookup
 * still waiting then would cost a retry elsewhere and count against the
 * instance (max_fails), all instances at once during an outage.
 */
#define LOOKUP_RETRY_MS		250
#define LOOKUP_PATIENCE_MS	5000
#define LOOKUP_PATIENT_MAX	512

struct lookup_batch;

struct lookup_flight {
	char				 code[SHORTCODE_CUSTOM_MAX + 1];
	u_int64_t			 born;	/* kore_time_ms() */
	struct lookup_batch		*batch;	/* NULL while pending, resting */
	TAILQ_HEAD(, lookup_waiter)	 waiters;
	LIST_ENTRY(lookup_flight)	 bucket;
	TAILQ_ENTRY(lookup_flight)	 queue;	/* pending, resting, a batch's */
};

TAILQ_HEAD(flight_list, lookup_flight);

struct lookup_batch {
	struct db_call		 query;
	struct kore_buf		 codes;		/* the text[] literal */
	struct flight_list	 flights;
};

static void			 batch_send(void);
static void			 hold_until(u_int64_t);
static void			 hold_expired(void *, u_int64_t);
static void			 batch_done(struct db_call *, void *);
static int			 flight_rest(struct lookup_flight *,
				    struct lookup_batch *);
static void			 rest_expired(void *, u_int64_t);
static void			 flight_free(struct lookup_flight *);
static void			 waiter_answer(struct lookup_waiter *,
				    PGresult *, int);
static void			 literal_add(struct kore_buf *, const char *);
static void			 flight_answer(struct lookup_flight *,
				    PGresult *, int);
static struct lookup_flight	*flight_find(const char *, unsigned int *);
static unsigned int		 code_hash(const char *);

/* Owned by this worker: flights in progress, by code. */
static LIST_HEAD(, lookup_flight)	flights[FLIGHT_BUCKETS];
/* Owned by this worker: flights waiting for a batch, and batches out. */
static struct flight_list	pending = TAILQ_HEAD_INITIALIZER(pending);
static u_int32_t		npending;
static u_int32_t		nwaiting;	/* requests asleep here */
static int			in_flight;
static u_int64_t		last_sent;	/* kore_time_ms() */
static struct kore_timer	*hold_timer;	/* armed while held */
static u_int64_t		hold_at;	/* when it fires */
/* Owned by this worker: flights waiting out an unavailable database. */
static struct flight_list	resting = TAILQ_HEAD_INITIALIZER(resting);
static struct kore_timer	*rest_timer;	/* armed while any rests */
static int			draining;	/* code_lookup_drain() ran */

void
code_lookup(struct lookup_waiter *w, struct http_request *req,
    const char *code, int patient)
{
	struct lookup_flight	*f;
	unsigned int		 b;

	memset(w, 0, sizeof(*w));
	w->req = req;
	w->status = LOOKUP_PENDING;
	w->patient = patient;

	if ((f = flight_find(code, &b)) == NULL) {
		f = kore_calloc(1, sizeof(*f));
		kore_strlcpy(f->code, code, sizeof(f->code));
		f->born = kore_time_ms();
		TAILQ_INIT(&f->waiters);
		LIST_INSERT_HEAD(&flights[b], f, bucket);
		TAILQ_INSERT_TAIL(&pending, f, queue);
		npending++;
	}

	TAILQ_INSERT_TAIL(&f->waiters, w, list);
	w->flight = f;
	nwaiting++;
	http_request_sleep(req);
	batch_send();
}

void
code_lookup_release(struct lookup_waiter *w)
{
	if (w->flight != NULL) {
		TAILQ_REMOVE(&w->flight->waiters, w, list);
		w->flight = NULL;
		nwaiting--;
	}
	free(w->url);
	w->url = NULL;
}

/*
 * Sends what is pending when core/lookupgate.c says so; else a timer
 * comes back then (or sooner, when a batch comes back). db_start
 * may finish a batch at once (database known down): batch_done then runs
 * inside it and calls back here with a shorter pending list.
 */
static void
batch_send(void)
{
	struct lookup_batch	*lb;
	struct lookup_flight	*f;
	struct lookup_gate	 g;
	u_int64_t		 now, wait;
	int			 n;

	while (in_flight < LOOKUP_INFLIGHT_MAX && !TAILQ_EMPTY(&pending)) {
		now = kore_time_ms();
		g.in_flight = in_flight;
		g.pending = npending;
		g.since_sent_ms = now - last_sent;
		g.waiting = nwaiting;
		g.connections = worker_active_connections;
		if ((wait = lookup_gate_wait(&g)) > 0) {
			hold_until(wait);
			return;
		}
		last_sent = now;
		lb = kore_calloc(1, sizeof(*lb));
		TAILQ_INIT(&lb->flights);
		kore_buf_init(&lb->codes, 512);
		kore_buf_append(&lb->codes, "{", 1);
		for (n = 0; n < LOOKUP_BATCH_MAX &&
		    (f = TAILQ_FIRST(&pending)) != NULL; n++) {
			TAILQ_REMOVE(&pending, f, queue);
			npending--;
			TAILQ_INSERT_TAIL(&lb->flights, f, queue);
			f->batch = lb;
			if (n > 0)
				kore_buf_append(&lb->codes, ",", 1);
			literal_add(&lb->codes, f->code);
		}
		kore_buf_append(&lb->codes, "}", 2);	/* and the NUL */
		metrics_lookup_batch(n);

		db_prepare_named(&lb->query, "url_lookup", sql_urls_lookup);
		db_param_ref(&lb->query, 0, (const char *)lb->codes.data);
		in_flight++;
		db_start(&lb->query, batch_done, lb);
	}
}

/*
 * Comes back to batch_send in ms, or sooner if the timer armed already
 * fires sooner: a 2 ms gather must not wait out a 20 ms hold.
 */
static void
hold_until(u_int64_t ms)
{
	u_int64_t	at = kore_time_ms() + ms;

	if (hold_timer != NULL) {
		if (hold_at <= at)
			return;
		kore_timer_remove(hold_timer);
	}
	hold_at = at;
	hold_timer = kore_timer_add(hold_expired, ms, NULL,
	    KORE_TIMER_ONESHOT);
}

static void
hold_expired(void *arg, u_int64_t now)
{
	hold_timer = NULL;
	batch_send();
}

/* A quoted array element: only '"' and '\\' need a backslash. */
static void
literal_add(struct kore_buf *buf, const char *s)
{
	kore_buf_append(buf, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			kore_buf_append(buf, "\\", 1);
		kore_buf_append(buf, s, 1);
	}
	kore_buf_append(buf, "\"", 1);
}

/*
 * One row per code found; every flight of the batch left without a row is
 * absent (or failed, with the statement).
 */
static void
batch_done(struct db_call *db, void *arg)
{
	struct lookup_batch	*lb = arg;
	struct lookup_flight	*f;
	PGresult		*res = db->status == DB_DONE ? db->result : NULL;
	unsigned int		 b;
	int			 i, rows, unavailable;

	in_flight--;
	unavailable = res == NULL &&
	    sqlstate_classify(db->sqlstate) == SQLSTATE_UNAVAILABLE;
	rows = res != NULL ? PQntuples(res) : 0;
	for (i = 0; i < rows; i++) {
		f = flight_find(PQgetvalue(res, i, 0), &b);
		if (f != NULL && f->batch == lb)
			flight_answer(f, res, i);
	}
	while ((f = TAILQ_FIRST(&lb->flights)) != NULL) {
		if (unavailable && flight_rest(f, lb))
			continue;
		flight_answer(f, res, -1);
	}

	db_cleanup(&lb->query);
	kore_buf_cleanup(&lb->codes);
	kore_free(lb);
	batch_send();
}

/*
 * Moves f, whose batch found the database unavailable, from lb to the
 * resting list when its waiters may still wait (above); 0 when it must
 * fail now.
 */
static int
flight_rest(struct lookup_flight *f, struct lookup_batch *lb)
{
	struct lookup_waiter	*w, *next;

	if (draining || nwaiting > LOOKUP_PATIENT_MAX ||
	    kore_time_ms() - f->born + LOOKUP_RETRY_MS > LOOKUP_PATIENCE_MS)
		return (0);
	/* Those with a better place to ask (code_lookup) hear it now. */
	for (w = TAILQ_FIRST(&f->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, list);
		if (!w->patient)
			waiter_answer(w, NULL, -1);
	}
	if (TAILQ_EMPTY(&f->waiters))
		return (0);

	TAILQ_REMOVE(&lb->flights, f, queue);
	f->batch = NULL;
	TAILQ_INSERT_TAIL(&resting, f, queue);
	if (rest_timer == NULL) {
		rest_timer = kore_timer_add(rest_expired, LOOKUP_RETRY_MS,
		    NULL, KORE_TIMER_ONESHOT);
	}
	return (1);
}

void
code_lookup_drain(void)
{
	struct lookup_flight	*f;
	struct lookup_waiter	*w;

	draining = 1;
	if (rest_timer != NULL) {
		kore_timer_remove(rest_timer);
		rest_timer = NULL;
	}
	while ((f = TAILQ_FIRST(&resting)) != NULL) {
		TAILQ_REMOVE(&resting, f, queue);
		while ((w = TAILQ_FIRST(&f->waiters)) != NULL)
			waiter_answer(w, NULL, -1);
		flight_free(f);
	}
}

/* The rest is over: flights still waited for are pending again. */
static void
rest_expired(void *arg, u_int64_t now)
{
	struct lookup_flight	*f;

	rest_timer = NULL;
	while ((f = TAILQ_FIRST(&resting)) != NULL) {
		TAILQ_REMOVE(&resting, f, queue);
		if (TAILQ_EMPTY(&f->waiters)) {
			flight_free(f);
			continue;
		}
		TAILQ_INSERT_TAIL(&pending, f, queue);
		npending++;
	}
	batch_send();
}

/* A flight that is in no list but its bucket, its waiters gone. */
static void
flight_free(struct lookup_flight *f)
{
	LIST_REMOVE(f, bucket);
	kore_free(f);
}

/*
 * Hands row (or -1: no row) of res to every waiter still there, and ends
 * the flight. res NULL: the statement failed.
 */
static void
flight_answer(struct lookup_flight *f, PGresult *res, int row)
{
	struct lookup_waiter	*w;

	TAILQ_REMOVE(&f->batch->flights, f, queue);
	while ((w = TAILQ_FIRST(&f->waiters)) != NULL)
		waiter_answer(w, res, row);
	flight_free(f);
}

/* Takes w off its flight with row of res (as flight_answer), wakes it. */
static void
waiter_answer(struct lookup_waiter *w, PGresult *res, int row)
{
	TAILQ_REMOVE(&w->flight->waiters, w, list);
	w->flight = NULL;
	nwaiting--;

	if (res == NULL) {
		w->status = LOOKUP_FAILED;
	} else if (row < 0) {
		w->status = LOOKUP_ABSENT;
	} else {
		w->status = LOOKUP_FOUND;
		w->url_id = strtoll(PQgetvalue(res, row, 1), NULL, 10);
		w->user_id = strtoll(PQgetvalue(res, row, 2), NULL, 10);
		w->expires_at = strtoll(PQgetvalue(res, row, 4), NULL, 10);
		w->capped = PQgetvalue(res, row, 5)[0] == 't';
		w->url = strdup(PQgetvalue(res, row, 3));
		if (w->url == NULL)
			fatal("strdup: out of memory");
	}
	http_request_wakeup(w->req);
}

static struct lookup_flight *
flight_find(const char *code, unsigned int *bucket)
{
	struct lookup_flight	*f;

	*bucket = code_hash(code) % FLIGHT_BUCKETS;
	LIST_FOREACH(f, &flights[*bucket], bucket) {
		if (!strcmp(f->code, code))
			return (f);
	}

	return (NULL);
}

/* FNV-1a: codes are short and random enough for anything simple. */
static unsigned int
code_hash(const char *code)
{
	unsigned int	h = 2166136261u;

	while (*code != '\0') {
		h ^= (unsigned char)*code++;
		h *= 16777619u;
	}

	return (h);
}
