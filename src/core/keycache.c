/*
 * The key cache: open addressing on the first bytes of the key's hash
 * (SHA-256 is uniform, so they make a fine index), a few probes, and
 * when every probed slot is taken the one that expires first gives way.
 * Entries expire by time alone: a revocation elsewhere reaches this
 * worker when the entry does (docs/security.md), one through this worker
 * at once (keycache_drop).
 */

#include <stdlib.h>
#include <string.h>

#include "core/keycache.h"

#define PROBES	4

static size_t	slot_of(const struct keycache *, const char *);

int
keycache_init(struct keycache *c, size_t nslots)
{
	size_t	n = 1;

	while (n < nslots)
		n <<= 1;
	if ((c->slots = calloc(n, sizeof(*c->slots))) == NULL)
		return (-1);
	c->nslots = n;
	return (0);
}

void
keycache_free(struct keycache *c)
{
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
}

int
keycache_get(struct keycache *c, const char *hash, uint64_t now_ms,
    struct keycache_entry *out)
{
	struct keycache_entry	*e;
	size_t			 i, at;

	if (c->nslots == 0)
		return (0);
	at = slot_of(c, hash);
	for (i = 0; i < PROBES; i++) {
		e = &c->slots[(at + i) & (c->nslots - 1)];
		if (e->until_ms > now_ms && strcmp(e->hash, hash) == 0) {
			*out = *e;
			return (1);
		}
	}
	return (0);
}

void
keycache_put(struct keycache *c, const struct keycache_entry *e)
{
	struct keycache_entry	*s, *victim = NULL;
	size_t			 i, at;

	if (c->nslots == 0)
		return;
	at = slot_of(c, e->hash);
	for (i = 0; i < PROBES; i++) {
		s = &c->slots[(at + i) & (c->nslots - 1)];
		if (strcmp(s->hash, e->hash) == 0) {
			victim = s;
			break;
		}
		if (victim == NULL || s->until_ms < victim->until_ms)
			victim = s;
	}
	*victim = *e;
}

void
keycache_drop(struct keycache *c, const char *hash)
{
	struct keycache_entry	*s;
	size_t			 i, at;

	if (c->nslots == 0)
		return;
	at = slot_of(c, hash);
	for (i = 0; i < PROBES; i++) {
		s = &c->slots[(at + i) & (c->nslots - 1)];
		if (strcmp(s->hash, hash) == 0)
			memset(s, 0, sizeof(*s));
	}
}

/* Hex digits of the hash: 16 of them make 64 bits. */
static size_t
slot_of(const struct keycache *c, const char *hash)
{
	uint64_t	v = 0;
	size_t		i;
	char		ch;

	for (i = 0; i < 16 && hash[i] != '\0'; i++) {
		ch = hash[i];
		v = v << 4 | (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
	}
	return ((size_t)v & (c->nslots - 1));
}
