/*
 * The per-worker queue of clicks waiting to be written, and the batches
 * taken from it. A redirect only appends here; the click writer takes up
 * to a batch at a time and turns it into one multi-row insert.
 *
 * The queue is bounded. Full means the database has been unreachable for
 * a while (or cannot keep up): a new click is then dropped and counted,
 * rather than slowing redirects down or growing without limit. Pure logic.
 */
#ifndef CLICKQUEUE_H
#define CLICKQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/uaclass.h"

struct click {
	int64_t		 url_id;
	int64_t		 user_id;
	int64_t		 at_us;		/* microseconds since 1970-01-01 UTC */
	char		*short_code;	/* owned */
	char		*user_agent;	/* owned, may be NULL */
	char		*referer;	/* owned, may be NULL */
	struct ua_class	 cls;		/* set by the writer before a batch */
	uint64_t	 seq;		/* in the worker's journal, 0: none */
	uint64_t	 jend;		/* the journal offset past its record */
};

struct clickq {
	struct click	*ring;
	size_t		 cap;
	size_t		 head;
	size_t		 len;
	uint64_t	 dropped;
};

void	clickq_init(struct clickq *q, size_t cap);
void	clickq_free(struct clickq *q);
/* Takes ownership of c's strings; 0, or -1 (dropped, counted) when full. */
int	clickq_push(struct clickq *q, struct click *c);
/* Moves up to max of the oldest clicks into out; returns how many. */
size_t	clickq_take(struct clickq *q, struct click *out, size_t max);
void	click_release(struct click *c);

/*
 * The batch as parameters of clicks_insert_packs() (db/migrations/034):
 * PostgreSQL array literals ("{1,2}", "{\"abc\",NULL}") and one text. The
 * worker builds these in its event loop, up to 1000 clicks at a time, so
 * this is kept to a sort, a copy and a scan per string, into buffers kept
 * from one batch to the next: fresh ones of a few hundred KB each came
 * from the kernel page by page, every batch.
 *
 * Columns 0-5 are the batch's packs: its clicks of one link (url_id,
 * user_id, short_code) and UTC month, in the order they came, at most
 * CLICK_PACK_MAX a pack (a pack's ids are base .. base + n - 1). One
 * element per pack: url_id, user_id, short_code, clicks (n), the first
 * click's at_us; column 5 is not an array but every pack's clicks as a
 * JSON array, the packs separated by CLICK_PACK_SEP:
 *
 *	[[at_us - first,"User-Agent","Referer",bot],...]
 *
 * (null for a missing header). PostgreSQL stores that text as it comes:
 * a click costs it a few bytes, not a row, seven array elements and three
 * index entries. User-Agent and Referer are text_clean()ed (core/text.h):
 * valid UTF-8 without control characters, so they only need '"' and '\\'
 * escaped, and never hold the separator.
 *
 * The rest are the batch's aggregates, added up here so that PostgreSQL
 * upserts one row per distinct key instead of grouping the batch itself:
 *
 *	6-10	per URL and UTC hour: url_id, hour (epoch seconds of its
 *		start), clicks, bot clicks, the latest click (at_us)
 *	11-17	per URL, UTC day and kind of visitor, people only (bots
 *		are only counted in the hourly rows): url_id, day (days
 *		since 1970-01-01), Referer host ("" without one), browser,
 *		operating system, device (core/uaclass.h names), clicks
 *
 * A URL thus costs one hourly row and, usually, one or two facet rows
 * per batch. Keys come out sorted, so that concurrent batches lock rows
 * in one order.
 */
#define CLICK_COLUMNS		18
#define CLICK_PACK_COLUMNS	6
#define CLICK_PACK_MAX		256
#define CLICK_PACK_SEP		'\x1e'

struct agg_row;
struct pack_key;

struct click_arrays {
	char		*col[CLICK_COLUMNS];	/* owned; NUL-terminated */
	size_t		 cap[CLICK_COLUMNS];
	struct agg_row	*rows;			/* owned scratch */
	size_t		 rows_cap;
	struct pack_key	*keys;			/* owned scratch */
	size_t		 keys_cap;
	char		*hosts;			/* owned scratch */
	size_t		 hosts_cap;		/* clicks it has room for */
	size_t		 packs;			/* pack rows sent */
	size_t		 hourly;		/* aggregate rows sent */
	size_t		 facets;
};

/* a starts zeroed; its buffers are reused and grown as needed. */
void	clicks_arrays(const struct click *clicks, size_t n,
	    struct click_arrays *a);
void	clicks_arrays_free(struct click_arrays *a);

#endif
