/*
 * Worker-local cache table: see localcache.h.
 */

#include <stdlib.h>
#include <string.h>

#include "core/localcache.h"

static size_t	slot_of(const struct localcache *, const char *);
static void	slot_empty(struct localcache_slot *);

int
localcache_init(struct localcache *lc, size_t slots)
{
	size_t	n;

	for (n = 1; n < slots && n <= SIZE_MAX / 2; n <<= 1)
		;
	if ((lc->slots = calloc(n, sizeof(*lc->slots))) == NULL)
		return (-1);
	lc->mask = n - 1;
	return (0);
}

void
localcache_free(struct localcache *lc)
{
	if (lc->slots == NULL)
		return;
	localcache_clear(lc);
	free(lc->slots);
	lc->slots = NULL;
}

int
localcache_get(struct localcache *lc, const char *code, uint64_t now_ms,
    struct cache_entry *e)
{
	struct localcache_slot	*s;

	if (lc->slots == NULL)
		return (0);
	s = &lc->slots[slot_of(lc, code)];
	if (s->url == NULL || strcmp(s->code, code) != 0)
		return (0);
	if (now_ms >= s->valid_until_ms) {
		slot_empty(s);
		return (0);
	}

	e->url_id = s->url_id;
	e->user_id = s->user_id;
	e->expires_at = s->expires_at;
	e->capped = s->capped;
	e->url = s->url;
	e->url_len = s->url_len;
	return (1);
}

int
localcache_put(struct localcache *lc, const char *code,
    const struct cache_entry *e, uint64_t valid_until_ms)
{
	struct localcache_slot	*s;
	char			*url;
	size_t			 len;

	len = strlen(code);
	if (lc->slots == NULL || len == 0 || len >= sizeof(s->code))
		return (-1);
	if ((url = malloc(e->url_len + 1)) == NULL)
		return (-1);
	memcpy(url, e->url, e->url_len);
	url[e->url_len] = '\0';

	s = &lc->slots[slot_of(lc, code)];
	slot_empty(s);
	memcpy(s->code, code, len + 1);
	s->valid_until_ms = valid_until_ms;
	s->url_id = e->url_id;
	s->user_id = e->user_id;
	s->expires_at = e->expires_at;
	s->capped = e->capped;
	s->url = url;
	s->url_len = e->url_len;
	return (0);
}

void
localcache_clear(struct localcache *lc)
{
	size_t	i;

	if (lc->slots == NULL)
		return;
	for (i = 0; i <= lc->mask; i++)
		slot_empty(&lc->slots[i]);
}

/* FNV-1a: short keys, no adversary gains from collisions but a miss. */
static size_t
slot_of(const struct localcache *lc, const char *code)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *code != '\0'; code++) {
		h ^= (unsigned char)*code;
		h *= 1099511628211ULL;
	}
	return ((size_t)h & lc->mask);
}

static void
slot_empty(struct localcache_slot *s)
{
	free(s->url);
	s->url = NULL;
	s->url_len = 0;
	s->code[0] = '\0';
}
