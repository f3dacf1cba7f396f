/*
 * API keys as requests carry them (core/apikey.c): X-Api-Key and
 * Authorization are any bytes a client sends, and the scope names come
 * from request bodies (POST /keys).
 *
 * Input: a selector byte (which headers are present), then NUL-separated
 * strings: an X-Api-Key value, an Authorization value, a scope name.
 *
 * Properties: apikey_from_headers() says what a model written here says:
 * absent exactly when neither header is there; an Authorization of
 * another scheme than Bearer is refused alone and ignored beside an
 * X-Api-Key; both given must name the same key (blanks and tabs around
 * it do not count); the key is "shk_" and 40 letters or digits, and when
 * present it is returned as a span inside the header it came from;
 * apikey_hash() is 64 lowercase hex digits, the same for the same key;
 * a scope name parses exactly when it is one of the three names, and
 * names back to itself; text_header_safe() refuses exactly the control
 * bytes and DEL.
 */

#include <string.h>
#include <strings.h>

#include "core/apikey.h"
#include "core/text.h"
#include "fuzz.h"

static void	check_headers(const char *, const char *);
static int	model_wellformed(const char *, size_t);
static size_t	model_trim(const char **, size_t);
static void	check_hash(const char *, size_t);
static void	check_scope(const char *);
static void	check_header_safe(const char *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, *s[3];
	size_t	 n, off, i;

	if (size < 1)
		return (0);
	n = size - 1;
	if ((text = malloc(n + 1)) == NULL)
		abort();
	memcpy(text, data + 1, n);
	text[n] = '\0';
	for (i = 0, off = 0; i < 3; i++) {
		s[i] = text + off;
		off += strlen(text + off);
		if (off < n)
			off++;
	}
	check_headers((data[0] & 1) ? s[0] : NULL, (data[0] & 2) ? s[1] :
	    NULL);
	check_scope(s[2]);
	check_header_safe((const char *)data + 1, n);
	free(text);
	return (0);
}

static void
check_headers(const char *x, const char *auth)
{
	enum apikey_given	 got, want;
	const char		*key = NULL, *a = NULL, *b = NULL, *t;
	size_t			 len = 0, alen = 0, blen = 0, n;
	int			 is_bearer = 0;

	if (x != NULL) {
		a = x;
		alen = model_trim(&a, strlen(x));
	}
	if (auth != NULL) {
		t = auth;
		n = model_trim(&t, strlen(auth));
		if (n >= 7 && !strncasecmp(t, "bearer", 6) &&
		    (t[6] == ' ' || t[6] == '\t')) {
			is_bearer = 1;
			b = t + 7;
			blen = model_trim(&b, n - 7);
		}
	}
	if (auth != NULL && !is_bearer && x == NULL)
		want = APIKEY_INVALID;
	else if (a == NULL && b == NULL)
		want = APIKEY_ABSENT;
	else if (a != NULL && b != NULL && (alen != blen || memcmp(a, b, alen)))
		want = APIKEY_INVALID;
	else
		want = model_wellformed(a != NULL ? a : b, a != NULL ? alen :
		    blen) ? APIKEY_PRESENT : APIKEY_INVALID;

	got = apikey_from_headers(x, auth, &key, &len);
	CHECK(got == want, "X-Api-Key \"%s\", Authorization \"%s\": %d, want "
	    "%d", x != NULL ? x : "(none)", auth != NULL ? auth : "(none)",
	    got, want);
	CHECK((got == APIKEY_ABSENT) == (x == NULL && auth == NULL),
	    "absent %d", got);
	if (got != APIKEY_PRESENT)
		return;
	CHECK(len == APIKEY_LEN && apikey_wellformed(key, len), "a key of "
	    "%zu bytes", len);
	CHECK((x != NULL && key >= x && key + len <= x + strlen(x)) ||
	    (auth != NULL && key >= auth && key + len <= auth + strlen(auth)),
	    "the key is not inside a header");
	CHECK(!memcmp(key, a != NULL ? a : b, len), "not the header's key");
	check_hash(key, len);
}

/* "shk_" and 40 of [A-Za-z0-9], nothing else. */
static int
model_wellformed(const char *s, size_t len)
{
	size_t	i;

	if (len != 44 || memcmp(s, "shk_", 4) != 0)
		return (0);
	for (i = 4; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return (0);
	}
	return (1);
}

static size_t
model_trim(const char **s, size_t n)
{
	while (n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		n--;
	}
	while (n > 0 && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t'))
		n--;
	return (n);
}

static void
check_hash(const char *key, size_t len)
{
	char	h1[APIKEY_HASH_LEN + 1], h2[APIKEY_HASH_LEN + 1];
	size_t	i;

	apikey_hash(key, len, h1);
	apikey_hash(key, len, h2);
	CHECK(strlen(h1) == APIKEY_HASH_LEN && !strcmp(h1, h2), "hash "
	    "\"%s\"", h1);
	for (i = 0; i < APIKEY_HASH_LEN; i++)
		CHECK((h1[i] >= '0' && h1[i] <= '9') || (h1[i] >= 'a' &&
		    h1[i] <= 'f'), "hash \"%s\"", h1);
}

static void
check_scope(const char *s)
{
	static const char	*names[] = { "admin", "user", "read-only" };
	enum apikey_scope	 sc;
	size_t			 i;
	int			 known = 0;

	for (i = 0; i < 3; i++)
		known |= !strcmp(s, names[i]);
	sc = apikey_scope_parse(s, strlen(s));
	CHECK((sc != APIKEY_SCOPE_NONE) == known, "scope \"%s\": %d", s, sc);
	if (known)
		CHECK(!strcmp(apikey_scope_name(sc), s), "scope \"%s\" named "
		    "\"%s\"", s, apikey_scope_name(sc));
	CHECK(apikey_scope_name(APIKEY_SCOPE_NONE) == NULL, "a name for none");
}

static void
check_header_safe(const char *s, size_t len)
{
	size_t	i;
	int	safe = 1;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			safe = 0;
	}
	CHECK(text_header_safe(s, len) == safe, "text_header_safe %d",
	    !safe);
}
