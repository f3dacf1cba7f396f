/*
 * API keys.
 *
 * Stored as SHA-256, not a password hash (bcrypt, scrypt, Argon2): those
 * exist to make guessing a low-entropy secret slow, and a key of 238
 * random bits cannot be guessed however fast the hash is. A fast hash
 * lets the database find a key by its hash through a unique index, one
 * lookup per request without a salt to try, and costs a microsecond
 * (docs/decisions.md).
 *
 * The shape is checked before anything else: a value that cannot be a
 * key is refused without a lookup, so garbage in a header costs nothing.
 */

#include <openssl/evp.h>

#include <string.h>
#include <strings.h>

#include "core/apikey.h"
#include "core/shortcode.h"

static size_t	trim(const char **, size_t);
static int	bearer(const char *, const char **, size_t *);

static const struct {
	enum apikey_scope	 scope;
	const char		*name;
} scopes[] = {
	{ APIKEY_SCOPE_ADMIN, "admin" },
	{ APIKEY_SCOPE_USER, "user" },
	{ APIKEY_SCOPE_READ, "read-only" },
};

int
apikey_generate(char out[APIKEY_LEN + 1])
{
	memcpy(out, APIKEY_TAG, APIKEY_TAG_LEN);
	if (shortcode_random(out + APIKEY_TAG_LEN, APIKEY_RANDOM_LEN) == -1)
		return (-1);
	out[APIKEY_LEN] = '\0';
	return (0);
}

void
apikey_hash(const char *key, size_t len, char out[APIKEY_HASH_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		md[EVP_MAX_MD_SIZE];
	unsigned int		mdlen, i;

	if (EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 != APIKEY_HASH_LEN) {
		/* Only an OpenSSL without SHA-256: nothing can be verified. */
		memset(out, '-', APIKEY_HASH_LEN);
		out[APIKEY_HASH_LEN] = '\0';
		return;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[APIKEY_HASH_LEN] = '\0';
}

int
apikey_wellformed(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len != APIKEY_LEN || memcmp(s, APIKEY_TAG, APIKEY_TAG_LEN) != 0)
		return (0);
	for (i = APIKEY_TAG_LEN; i < len; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9')))
			return (0);
	}
	return (1);
}

enum apikey_given
apikey_from_headers(const char *x_api_key, const char *authorization,
    const char **key, size_t *len)
{
	const char	*a = NULL, *b = NULL;
	size_t		 alen = 0, blen = 0;

	if (x_api_key != NULL) {
		a = x_api_key;
		alen = trim(&a, strlen(a));
	}
	if (authorization != NULL && !bearer(authorization, &b, &blen)) {
		/* Basic or another scheme: ignored beside an X-Api-Key. */
		if (x_api_key == NULL)
			return (APIKEY_INVALID);
		b = NULL;
	}

	if (a == NULL && b == NULL)
		return (APIKEY_ABSENT);
	if (a != NULL && b != NULL && (alen != blen || memcmp(a, b, alen)))
		return (APIKEY_INVALID);
	*key = a != NULL ? a : b;
	*len = a != NULL ? alen : blen;
	return (apikey_wellformed(*key, *len) ? APIKEY_PRESENT :
	    APIKEY_INVALID);
}

const char *
apikey_scope_name(enum apikey_scope s)
{
	size_t	i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		if (scopes[i].scope == s)
			return (scopes[i].name);
	}
	return (NULL);
}

enum apikey_scope
apikey_scope_parse(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		if (strlen(scopes[i].name) == len &&
		    memcmp(scopes[i].name, s, len) == 0)
			return (scopes[i].scope);
	}
	return (APIKEY_SCOPE_NONE);
}

/* "Bearer <token>", the scheme in any case (RFC 9110 11.1). */
static int
bearer(const char *v, const char **token, size_t *len)
{
	size_t	n;

	n = strlen(v);
	*token = v;
	n = trim(token, n);
	if (n < 7 || strncasecmp(*token, "bearer", 6) != 0 ||
	    ((*token)[6] != ' ' && (*token)[6] != '\t'))
		return (0);
	*token += 7;
	*len = trim(token, n - 7);
	return (1);
}

static size_t
trim(const char **s, size_t n)
{
	while (n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		n--;
	}
	while (n > 0 && ((*s)[n - 1] == ' ' || (*s)[n - 1] == '\t'))
		n--;
	return (n);
}
