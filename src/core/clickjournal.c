/*
 * The click journal's format (core/clickjournal.h says what it is for).
 *
 * A record: a 48-byte head, then the short code, the User-Agent and the
 * Referer, padded to 8 bytes. `kind` tells a click from a WRAP marker;
 * `flags` say which headers were there (an absent one stays NULL after a
 * replay, an empty one stays ""). The reader trusts nothing it reads: a
 * length that leaves the ring, a kind or a flag it does
 * not know or a seq out of order ends the replay there, so a damaged file
 * costs the clicks it damaged, never a crash.
 *
 * Ordering: an append writes the record, then publishes the new `head`
 * with a release store. The reader is the next process, after this one
 * died; what the dead process stored before the kill is in the page cache,
 * whole, and the release keeps the compiler from moving `head` first.
 */

#include <stdio.h>
#include <string.h>

#include "core/clickjournal.h"
#include "core/xalloc.h"

#define MAGIC		"SHCJ0001"
#define KIND_CLICK	0x4b434c43u	/* "CLCK" */
#define KIND_WRAP	0x50415257u	/* "WRAP" */
#define HAS_UA		0x1u		/* flags */
#define HAS_REF		0x2u

struct rec {
	uint32_t	len;		/* the whole record, padded */
	uint32_t	kind;		/* KIND_CLICK or KIND_WRAP */
	uint64_t	seq;
	int64_t		url_id;
	int64_t		user_id;
	int64_t		at_us;
	uint16_t	code_len;
	uint16_t	ua_len;
	uint16_t	ref_len;
	uint16_t	flags;
};

static uint64_t	pad8(uint64_t);
static void	settle(struct clickj *);

int
clickj_attach(struct clickj *j, void *base, size_t len, const char *id,
    const char *boot, uint64_t *dropped)
{
	struct clickj_header	*h = base;
	int			 fresh;

	*dropped = 0;
	if (len < CLICKJ_HEADER + 4096)
		return (-1);
	j->h = h;
	j->ring = (unsigned char *)base + CLICKJ_HEADER;
	j->cap = (len - CLICKJ_HEADER) & ~(uint64_t)7;

	fresh = memcmp(h->magic, MAGIC, 8) != 0 ||
	    h->id[CLICKJ_ID_LEN] != '\0' || strlen(h->id) != CLICKJ_ID_LEN;
	if (!fresh) {
		/* What it held, for the log, before any other check. */
		if (h->seq_hwm > h->written_seq)
			*dropped = h->seq_hwm - h->written_seq;
		fresh = h->cap != j->cap || h->tail > h->head ||
		    h->head - h->tail > h->cap || h->head % 8 != 0 ||
		    h->tail % 8 != 0 || h->head > ((uint64_t)1 << 62) ||
		    h->written_seq > h->seq_hwm ||
		    strncmp(h->boot, boot, sizeof(h->boot) - 1) != 0;
		if (!fresh)
			*dropped = 0;
	}
	if (fresh) {
		memset(h, 0, sizeof(*h));
		memcpy(h->id, id, CLICKJ_ID_LEN);
		(void)snprintf(h->boot, sizeof(h->boot), "%s", boot);
		h->cap = j->cap;
		memcpy(h->magic, MAGIC, 8);
	}
	/* Never a seq given out before, whatever the replay can read. */
	j->next_seq = h->seq_hwm + 1;
	if (!fresh)
		settle(j);
	return (fresh);
}

/*
 * Moves the tail past records already stored: a worker killed between
 * storing a batch and moving the tail left them behind, and their room
 * would otherwise stay taken until the next batch is stored, which a full
 * ring would never let happen.
 */
static void
settle(struct clickj *j)
{
	struct rec	r;
	uint64_t	pos = j->h->tail, at, room;

	while (pos < j->h->head) {
		at = pos % j->cap;
		room = j->cap - at;
		if (room < sizeof(r)) {
			pos += room;
			continue;
		}
		memcpy(&r, j->ring + at, sizeof(r));
		if (r.kind == KIND_WRAP) {
			pos += room;
			continue;
		}
		if (r.kind != KIND_CLICK || r.seq > j->h->written_seq ||
		    r.len < sizeof(r) || r.len % 8 != 0 || r.len > room ||
		    pos + r.len > j->h->head)
			break;
		pos += r.len;
	}
	j->h->tail = pos;
}

int
clickj_append(struct clickj *j, struct click *c)
{
	struct clickj_header	*h = j->h;
	struct rec		 r;
	size_t			 code, ua, ref;
	uint64_t		 need, at, room, skip;
	unsigned char		*p;

	code = c->short_code != NULL ? strlen(c->short_code) : 0;
	ua = c->user_agent != NULL ? strlen(c->user_agent) : 0;
	ref = c->referer != NULL ? strlen(c->referer) : 0;
	if (code > UINT16_MAX || ua > UINT16_MAX || ref > UINT16_MAX)
		return (-1);
	need = pad8(sizeof(r) + code + ua + ref);

	at = h->head % j->cap;
	room = j->cap - at;
	skip = room < need ? room : 0;
	if (need > j->cap || h->head + skip + need - h->tail > j->cap)
		return (-1);
	if (skip > 0) {
		/* Too little room before the end: a marker (if it fits). */
		if (room >= sizeof(uint64_t)) {
			memset(&r, 0, sizeof(r));
			r.kind = KIND_WRAP;
			memcpy(j->ring + at, &r, sizeof(uint32_t) * 2);
		}
		at = 0;
	}

	memset(&r, 0, sizeof(r));
	r.len = (uint32_t)need;
	r.kind = KIND_CLICK;
	r.flags = (c->user_agent != NULL ? HAS_UA : 0) |
	    (c->referer != NULL ? HAS_REF : 0);
	r.seq = j->next_seq;
	r.url_id = c->url_id;
	r.user_id = c->user_id;
	r.at_us = c->at_us;
	r.code_len = (uint16_t)code;
	r.ua_len = (uint16_t)ua;
	r.ref_len = (uint16_t)ref;

	p = j->ring + at;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	if (code > 0)
		memcpy(p, c->short_code, code);
	if (ua > 0)
		memcpy(p + code, c->user_agent, ua);
	if (ref > 0)
		memcpy(p + code + ua, c->referer, ref);

	c->seq = j->next_seq++;
	c->jend = h->head + skip + need;
	__atomic_store_n(&h->seq_hwm, c->seq, __ATOMIC_RELEASE);
	__atomic_store_n(&h->head, c->jend, __ATOMIC_RELEASE);
	return (0);
}

int
clickj_read(struct clickj *j, uint64_t *pos, uint64_t want_seq,
    struct click *out)
{
	struct rec		 r;
	uint64_t		 at, room, body;
	const unsigned char	*p;

	for (;;) {
		if (*pos >= j->h->head)
			return (0);
		at = *pos % j->cap;
		room = j->cap - at;
		if (room < sizeof(r)) {
			*pos += room;
			continue;
		}
		memcpy(&r, j->ring + at, sizeof(r));
		if (r.kind == KIND_WRAP) {
			*pos += room;
			continue;
		}
		body = (uint64_t)r.code_len + r.ua_len + r.ref_len;
		if (r.kind != KIND_CLICK ||
		    (r.flags & ~(HAS_UA | HAS_REF)) != 0 ||
		    r.len != pad8(sizeof(r) + body) || r.len > room ||
		    *pos + r.len > j->h->head || r.seq > want_seq)
			return (-1);
		if (r.seq == want_seq)
			break;
		*pos += r.len;		/* stored already */
	}

	memset(out, 0, sizeof(*out));
	p = j->ring + at + sizeof(r);
	out->url_id = r.url_id;
	out->user_id = r.user_id;
	out->at_us = r.at_us;
	out->short_code = xmemdup(p, r.code_len);
	if (r.flags & HAS_UA)
		out->user_agent = xmemdup(p + r.code_len, r.ua_len);
	if (r.flags & HAS_REF)
		out->referer = xmemdup(p + r.code_len + r.ua_len, r.ref_len);
	out->seq = r.seq;
	*pos += r.len;
	out->jend = *pos;
	return (1);
}

void
clickj_sent(struct clickj *j, uint64_t last)
{
	j->h->sent_last = last;
}

/*
 * written_seq before tail: a worker killed between the two leaves a tail
 * behind records already stored, which the reader skips by their seq.
 */
void
clickj_written(struct clickj *j, uint64_t last, uint64_t end)
{
	if (last > j->h->written_seq)
		__atomic_store_n(&j->h->written_seq, last, __ATOMIC_RELEASE);
	if (end > j->h->tail && end <= j->h->head)
		__atomic_store_n(&j->h->tail, end, __ATOMIC_RELEASE);
	__atomic_store_n(&j->h->sent_last, 0, __ATOMIC_RELEASE);
}

uint64_t
clickj_pending(const struct clickj *j)
{
	return (j->h->seq_hwm - j->h->written_seq);
}

static uint64_t
pad8(uint64_t n)
{
	return ((n + 7) & ~(uint64_t)7);
}
