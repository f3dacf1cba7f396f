/*
 * Coalesced short code lookups.
 *
 * A flight is one query for one code; requests join it as waiters. The
 * flight runs on its own (db_start, not bound to a request), so a waiter
 * whose client goes away simply leaves, and the others still get their
 * answer. Flights live in a small hash table keyed by code, per worker.
 */

#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "core/shortcode.h"
#include "db/codelookup.h"
#include "db/db.h"
#include "db/sql_urls.h"

#define FLIGHT_BUCKETS	256

struct lookup_flight {
	char				 code[SHORTCODE_CUSTOM_MAX + 1];
	struct db_call			 query;
	TAILQ_HEAD(, lookup_waiter)	 waiters;
	LIST_ENTRY(lookup_flight)	 bucket;
};

static struct lookup_flight	*flight_find(const char *, unsigned int *);
static void			 flight_done(struct db_call *, void *);
static unsigned int		 code_hash(const char *);

/* Owned by this worker: flights in progress, by code. */
static LIST_HEAD(, lookup_flight)	flights[FLIGHT_BUCKETS];

void
code_lookup(struct lookup_waiter *w, struct http_request *req,
    const char *code)
{
	struct lookup_flight	*f;
	unsigned int		 b;

	memset(w, 0, sizeof(*w));
	w->req = req;
	w->status = LOOKUP_PENDING;

	if ((f = flight_find(code, &b)) == NULL) {
		f = kore_calloc(1, sizeof(*f));
		kore_strlcpy(f->code, code, sizeof(f->code));
		TAILQ_INIT(&f->waiters);
		LIST_INSERT_HEAD(&flights[b], f, bucket);

		db_prepare(&f->query, sql_urls_lookup);
		db_param_ref(&f->query, 0, f->code);
		TAILQ_INSERT_TAIL(&f->waiters, w, list);
		w->flight = f;
		http_request_sleep(req);
		db_start(&f->query, flight_done, f);
		return;
	}

	TAILQ_INSERT_TAIL(&f->waiters, w, list);
	w->flight = f;
	http_request_sleep(req);
}

void
code_lookup_release(struct lookup_waiter *w)
{
	if (w->flight != NULL) {
		TAILQ_REMOVE(&w->flight->waiters, w, list);
		w->flight = NULL;
	}
	free(w->url);
	w->url = NULL;
}

/*
 * Hands the answer to every waiter still there. A flight without waiters
 * still completes (its query cannot be taken back cheaply) and is freed.
 */
static void
flight_done(struct db_call *db, void *arg)
{
	struct lookup_flight	*f = arg;
	struct lookup_waiter	*w;
	PGresult		*res = db->status == DB_DONE ? db->result : NULL;

	LIST_REMOVE(f, bucket);

	while ((w = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, w, list);
		w->flight = NULL;

		if (res == NULL) {
			w->status = LOOKUP_FAILED;
		} else if (PQntuples(res) == 0) {
			w->status = LOOKUP_ABSENT;
		} else {
			w->status = LOOKUP_FOUND;
			w->url_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			w->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			w->expires_at = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
			w->capped = PQgetvalue(res, 0, 4)[0] == 't';
			w->url = strdup(PQgetvalue(res, 0, 2));
			if (w->url == NULL)
				fatal("strdup: out of memory");
		}
		http_request_wakeup(w->req);
	}

	db_cleanup(&f->query);
	kore_free(f);
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
