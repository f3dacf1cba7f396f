/*
 * A worker's memory of the API keys it looked up: the key's hash to what
 * the database said of it, for API_KEY_CACHE_MS, so that a busy key
 * costs one lookup per worker and interval, not one per request. Pure
 * logic, no Kore.
 */
#ifndef KEYCACHE_H
#define KEYCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/apikey.h"

struct keycache_entry {
	char			hash[APIKEY_HASH_LEN + 1];
	int64_t			key_id;
	enum apikey_scope	scope;
	int64_t			owner;		/* user id; 0 none */
	int64_t			expires_ms;	/* wall clock; 0 never */
	uint64_t		until_ms;	/* monotonic: forget after */
};

struct keycache {
	struct keycache_entry	*slots;
	size_t			 nslots;	/* a power of two */
};

/* nslots rounded up to a power of two; -1 when out of memory. */
int	keycache_init(struct keycache *c, size_t nslots);
void	keycache_free(struct keycache *c);
/*
 * The entry for hash still good at now_ms (monotonic) into *out; 1, or
 * 0 when there is none. Whether the key has expired is the caller's to
 * judge against the wall clock (expires_ms).
 */
int	keycache_get(struct keycache *c, const char *hash, uint64_t now_ms,
	    struct keycache_entry *out);
/* Keeps e (its until_ms set by the caller), over an older entry. */
void	keycache_put(struct keycache *c, const struct keycache_entry *e);
/* Forgets hash (a key revoked through this worker). */
void	keycache_drop(struct keycache *c, const char *hash);

#endif
