/*
 * The click journal (core/clickjournal.c): a file a crashed worker left
 * behind is read by the next one, and a file can be damaged (a full disk,
 * an operator's mistake, another program's data).
 *
 * First byte 0: the input is a whole region (header and ring) as found on
 * disk. Attaching and replaying it must never read outside it, and every
 * click read back must come in sequence with strings inside the record.
 *
 * First byte 1: a program of appends (clicks of chosen sizes, with or
 * without their headers), "stored up to here" and simulated crashes (a
 * fresh attach and replay) on a small ring, against a model: a replay
 * returns exactly the clicks appended and not yet stored, in order, with
 * their fields; a refused append changes nothing.
 */

#include <string.h>

#include "core/clickjournal.h"
#include "fuzz.h"

#define ID		"00112233445566778899aabbccddeeff"
#define BOOT		"boot"
#define RING		(CLICKJ_HEADER + 8192)
#define MODEL_MAX	4096

struct model {
	int64_t		url_id[MODEL_MAX];
	uint64_t	jend[MODEL_MAX];
	size_t		ua_len[MODEL_MAX];	/* SIZE_MAX: absent */
	size_t		first;			/* oldest unstored */
	size_t		n;			/* appended */
};

static void	raw(const uint8_t *, size_t);
static void	program(struct fz *);
static void	check_replay(void *, const struct model *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	f;

	if (size == 0)
		return (0);
	if (data[0] % 2 == 0) {
		raw(data + 1, size - 1);
	} else {
		fz_init(&f, data + 1, size - 1);
		program(&f);
	}
	return (0);
}

static void
raw(const uint8_t *data, size_t size)
{
	struct clickj	j;
	struct click	c;
	uint64_t	pos, want;
	size_t		len = CLICKJ_HEADER + 4096 + size;
	unsigned char	*base = calloc(1, len);
	uint64_t	dropped;
	int		rc, n = 0;

	CHECK(base != NULL, "calloc");
	memcpy(base, data, size < len ? size : len);
	if (clickj_attach(&j, base, len, ID, BOOT, &dropped) == -1) {
		free(base);
		return;
	}
	pos = j.h->tail;
	want = j.h->written_seq + 1;
	while ((rc = clickj_read(&j, &pos, want, &c)) == 1 && n++ < 100000) {
		CHECK(c.seq == want, "out of sequence");
		CHECK(c.short_code != NULL, "no code");
		CHECK(c.jend == pos, "end");
		click_release(&c);
		want++;
	}
	free(base);
}

static void
program(struct fz *f)
{
	struct clickj	j;
	struct model	m;
	struct click	c;
	char		ua[600];
	uint64_t	dropped;
	void		*base = calloc(1, RING);
	size_t		len;
	int		op, rc;

	CHECK(base != NULL, "calloc");
	memset(&m, 0, sizeof(m));
	CHECK(clickj_attach(&j, base, RING, ID, BOOT, &dropped) == 1, "fresh");
	while (f->n > 0 && m.n < MODEL_MAX) {
		op = fz_u8(f) % 4;
		if (op <= 1) {
			memset(&c, 0, sizeof(c));
			c.url_id = (int64_t)m.n + 1;
			c.short_code = strdup("code");
			len = fz_range(f, sizeof(ua) - 1);
			memset(ua, 'a' + (int)(m.n % 26), len);
			ua[len] = '\0';
			c.user_agent = op == 0 ? strdup(ua) : NULL;
			rc = clickj_append(&j, &c);
			if (rc == 0) {
				CHECK(c.seq == m.n + 1, "seq");
				m.url_id[m.n] = c.url_id;
				m.jend[m.n] = c.jend;
				m.ua_len[m.n] = op == 0 ? len : SIZE_MAX;
				m.n++;
			} else {
				CHECK(clickj_pending(&j) > 0 || len > 0,
				    "an empty ring refused a small click");
			}
			click_release(&c);
		} else if (op == 2 && m.first < m.n) {
			/*
			 * Store a prefix of what is pending; odd: killed
			 * after written_seq moved, before the tail did.
			 */
			m.first += 1 + fz_range(f, m.n - m.first - 1);
			if (fz_u8(f) % 2 == 0) {
				clickj_written(&j, m.first, m.jend[m.first - 1]);
				continue;
			}
			j.h->written_seq = m.first;
			check_replay(base, &m);
			CHECK(clickj_attach(&j, base, RING, ID, BOOT,
			    &dropped) == 0, "kept");
			CHECK(clickj_pending(&j) > 0 ||
			    j.h->tail == j.h->head, "stored records kept room");
		} else {
			/* A crash: the next worker attaches and replays. */
			check_replay(base, &m);
			CHECK(clickj_attach(&j, base, RING, ID, BOOT,
			    &dropped) == 0, "kept");
		}
	}
	check_replay(base, &m);
	free(base);
}

static void
check_replay(void *base, const struct model *m)
{
	struct clickj	j;
	struct click	c;
	uint64_t	pos, want, dropped;
	size_t		i;

	CHECK(clickj_attach(&j, base, RING, ID, BOOT, &dropped) == 0, "kept");
	pos = j.h->tail;
	want = j.h->written_seq + 1;
	CHECK(want == m->first + 1, "written_seq");
	for (i = m->first; i < m->n; i++) {
		CHECK(clickj_read(&j, &pos, want, &c) == 1, "click %zu lost", i);
		CHECK(c.url_id == m->url_id[i], "wrong click");
		CHECK(c.jend == m->jend[i], "end");
		if (m->ua_len[i] == SIZE_MAX)
			CHECK(c.user_agent == NULL, "absent UA came back");
		else
			CHECK(c.user_agent != NULL &&
			    strlen(c.user_agent) == m->ua_len[i], "UA");
		click_release(&c);
		want++;
	}
	CHECK(clickj_read(&j, &pos, want, &c) == 0, "more than appended");
}
