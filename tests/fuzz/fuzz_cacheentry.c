/*
 * The redirect cache's values: what Redis hands back for "sc:<code>" is
 * untrusted (another deploy's format, a value written by hand, a
 * corrupted one), and a wrong decode means a wrong redirect. Also the
 * worker-local copies of hits (core/localcache.c) the decoded entries go
 * into.
 *
 * Input, first byte 0: a Redis value through cache_entry_decode(). A
 * decoded URL entry has positive ids and a non-empty URL without control
 * bytes lying inside the value, and encodes back to exactly the same
 * bytes (the format has a single spelling); "!" and "~" are the only
 * negative and tombstone values.
 *
 * First byte 1: an entry built from the input encodes and decodes back to
 * itself when its URL has no control byte, and decodes as invalid (a
 * miss, never a redirect) when it has one; cache_key() fits or refuses.
 *
 * First byte 2: a program of puts, gets (at chosen times) and clears on a
 * small local cache, against a model: a get never returns another code's
 * entry nor an expired or replaced one, and what it returns is exactly
 * what was put last for that code.
 */

#include <string.h>

#include "core/cacheentry.h"
#include "core/localcache.h"
#include "fuzz.h"

#define CODES	8

static void	decode(const uint8_t *, size_t);
static void	encode(struct fz *);
static void	local(struct fz *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	f;

	if (size == 0)
		return (0);
	fz_init(&f, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		decode(data + 1, size - 1);
		break;
	case 1:
		encode(&f);
		break;
	default:
		local(&f);
		break;
	}
	return (0);
}

static void
decode(const uint8_t *data, size_t size)
{
	struct cache_entry	 e;
	enum cache_entry_kind	 k;
	char			*value, *again;
	size_t			 len, i;

	value = fz_copy(data, size);
	k = cache_entry_decode(value, size, &e);
	CHECK((k == CACHE_ENTRY_ABSENT) == (size == 1 && value[0] == '!') &&
	    (k == CACHE_ENTRY_TOMBSTONE) == (size == 1 && value[0] == '~'),
	    "kind %d for \"%.*s\"", k, (int)size, value);
	if (k == CACHE_ENTRY_URL) {
		CHECK(e.url_id > 0 && e.user_id > 0 && e.url_len > 0 &&
		    e.url >= value && e.url + e.url_len == value + size,
		    "entry of \"%.*s\"", (int)size, value);
		for (i = 0; i < e.url_len; i++)
			CHECK((unsigned char)e.url[i] >= 0x20 &&
			    e.url[i] != 0x7f, "control byte in the URL");
		again = cache_entry_encode(&e, &len);
		CHECK(len == size && !memcmp(again, value, size), "\"%.*s\" "
		    "encodes back as \"%s\"", (int)size, value, again);
		free(again);
	}
	free(value);
}

static void
encode(struct fz *f)
{
	struct cache_entry	 e, back;
	enum cache_entry_kind	 k;
	char			*url, *value, *code, key[CACHE_KEY_MAX];
	size_t			 len, ulen, i;
	int			 clean;

	e.url_id = (int64_t)(fz_u64(f) >> 1) | 1;
	e.user_id = (int64_t)(fz_u64(f) >> 1) | 1;
	code = fz_str(f, 64);
	url = fz_str(f, 600);
	ulen = strlen(url);
	e.url = url;
	e.url_len = ulen;

	value = cache_entry_encode(&e, &len);
	CHECK(strlen(value) == len, "length of \"%s\"", value);
	k = cache_entry_decode(value, len, &back);
	clean = ulen > 0;
	for (i = 0; i < ulen; i++)
		clean = clean && (unsigned char)url[i] >= 0x20 &&
		    url[i] != 0x7f;
	if (clean) {
		CHECK(k == CACHE_ENTRY_URL && back.url_id == e.url_id &&
		    back.user_id == e.user_id && back.url_len == ulen &&
		    !memcmp(back.url, url, ulen), "\"%s\" decodes otherwise",
		    value);
	} else {
		CHECK(k == CACHE_ENTRY_INVALID, "\"%s\" with a control byte "
		    "or no URL decodes as %d", value, k);
	}

	if (cache_key(key, sizeof(key), code) == 0)
		CHECK(!strncmp(key, CACHE_KEY_PREFIX, 3) &&
		    !strcmp(key + 3, code), "key \"%s\"", key);
	else
		CHECK(strlen(code) + 3 >= sizeof(key), "key of \"%s\" refused",
		    code);
	free(value);
	free(url);
	free(code);
}

/* The model: the last put of each code and when it expires. */
struct model {
	int		 live;
	uint64_t	 until;
	int64_t		 url_id;
	char		 url[32];
};

static void
local(struct fz *f)
{
	static const char	*codes[CODES] = {
		"abc", "abd", "launch-2025", "x_y", "zzzzzz", "0Tnlrx",
		"a234567890123456789012345678901", "AbC",
	};
	struct localcache	 lc;
	struct model		 m[CODES];
	struct cache_entry	 e;
	uint64_t		 now = 1000;
	size_t			 c, steps;
	int			 got;

	memset(m, 0, sizeof(m));
	CHECK(localcache_init(&lc, 1 + fz_range(f, 7)) == 0, "init");
	for (steps = 0; steps < 64 && f->n > 0; steps++) {
		c = fz_range(f, CODES - 1);
		switch (fz_u8(f) % 4) {
		case 0:
			e.url_id = (int64_t)fz_u8(f) + 1;
			e.user_id = 7;
			snprintf(m[c].url, sizeof(m[c].url), "https://e.co/%d",
			    fz_u8(f));
			e.url = m[c].url;
			e.url_len = strlen(m[c].url);
			m[c].until = now + fz_range(f, 40);
			m[c].url_id = e.url_id;
			CHECK(localcache_put(&lc, codes[c], &e, m[c].until) ==
			    0, "put %s", codes[c]);
			m[c].live = 1;
			break;
		case 1:
			now += fz_range(f, 30);
			/* FALLTHROUGH */
		case 2:
			got = localcache_get(&lc, codes[c], now, &e);
			if (got) {
				CHECK(m[c].live && now < m[c].until &&
				    e.url_id == m[c].url_id && e.user_id == 7 &&
				    e.url_len == strlen(m[c].url) &&
				    !memcmp(e.url, m[c].url, e.url_len),
				    "get %s at %llu: a stale, replaced or "
				    "foreign entry", codes[c],
				    (unsigned long long)now);
			} else {
				/* A miss may be an eviction; never a ghost. */
				m[c].live = m[c].live && now < m[c].until;
			}
			break;
		default:
			localcache_clear(&lc);
			memset(m, 0, sizeof(m));
			break;
		}
	}
	localcache_free(&lc);
}
