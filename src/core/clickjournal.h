/*
 * The click journal: every click a worker answers, appended to a ring in
 * a memory-mapped file before its 302 goes out, and read back by the
 * worker that takes its place after a crash. Pure logic over a region of
 * memory; clicks/clickwriter.c maps the file (docs/decisions.md, "Clicks
 * that survive a crash").
 *
 * Layout: a header (CLICKJ_HEADER bytes) then the ring. Records are
 * 8-byte aligned, never wrap (a WRAP marker sends the reader back to the
 * start) and carry a sequence number, consecutive within a journal. The
 * header holds logical offsets that only grow: `head` (the end of the
 * last whole record) and `tail` (the first record not yet stored), and the
 * sequence numbers of the last click stored (`written_seq`) and of the last
 * click of the batch out (`sent_last`). A record becomes visible when
 * `head` moves past it, after its bytes are written, so a process killed
 * mid-append leaves no half record behind.
 */
#ifndef CLICKJOURNAL_H
#define CLICKJOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/clickqueue.h"

#define CLICKJ_HEADER	4096
#define CLICKJ_ID_LEN	32	/* hex digits */

struct clickj_header {
	char		magic[8];
	char		id[CLICKJ_ID_LEN + 1];
	char		pad[7];
	uint64_t	cap;		/* bytes of the ring */
	uint64_t	head;
	uint64_t	tail;
	uint64_t	written_seq;
	uint64_t	sent_last;
	uint64_t	seq_hwm;	/* the highest seq ever given out */
	char		boot[40];	/* the kernel's boot id at creation */
};

struct clickj {
	struct clickj_header	*h;
	unsigned char		*ring;
	uint64_t		 cap;
	uint64_t		 next_seq;
};

/*
 * Attaches to len bytes at base (a mapped file). A region without a valid
 * header (a new file, another format, another size) is initialised with
 * id (32 hex digits) and is empty; so is one written before the machine
 * last booted (boot, the kernel's boot id: its header may be older than
 * its ring or the database, so its sequence numbers cannot be trusted).
 * 1: fresh, 0: an existing journal, -1: too small. *dropped: the clicks a
 * reset journal still held.
 */
int	clickj_attach(struct clickj *j, void *base, size_t len,
	    const char *id, const char *boot, uint64_t *dropped);

/*
 * Appends c; sets c->seq and c->jend (the logical offset past its record).
 * -1 when the ring is full or c cannot be recorded (a field too long).
 */
int	clickj_append(struct clickj *j, struct click *c);

/*
 * Reads the record at *pos (from j->h->tail on), skipping a WRAP marker
 * and records of clicks already stored (seq below want_seq: a worker
 * killed between storing a batch and moving the tail): 1 and the click in
 * out (strings allocated: click_release frees them), 0 at the end, -1
 * when what is there is not a record in sequence (the rest cannot be
 * trusted). *pos moves past what was read.
 */
int	clickj_read(struct clickj *j, uint64_t *pos, uint64_t want_seq,
	    struct click *out);

/* The batch ending at seq last goes to the database. */
void	clickj_sent(struct clickj *j, uint64_t last);

/* Every click up to seq last (its record ending at end) is stored. */
void	clickj_written(struct clickj *j, uint64_t last, uint64_t end);

/* Unstored clicks in the journal. */
uint64_t	clickj_pending(const struct clickj *j);

#endif
