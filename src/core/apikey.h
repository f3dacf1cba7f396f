/*
 * API keys: their shape, how one is drawn, how it is hashed for storage,
 * where a request carries it, and the scopes a key may have. Pure logic,
 * no Kore; the hash is OpenSSL's SHA-256.
 *
 * A key is "shk_" and 40 characters of [A-Za-z0-9] from the CSPRNG
 * (about 238 bits). Its first APIKEY_PREFIX_LEN characters are its
 * visible prefix, shown in listings so a human can tell keys apart; the
 * rest is never stored, only the SHA-256 of the whole key.
 */
#ifndef APIKEY_H
#define APIKEY_H

#include <stddef.h>

#define APIKEY_TAG		"shk_"
#define APIKEY_TAG_LEN		4
#define APIKEY_RANDOM_LEN	40
#define APIKEY_LEN		(APIKEY_TAG_LEN + APIKEY_RANDOM_LEN)
#define APIKEY_PREFIX_LEN	12
#define APIKEY_HASH_LEN		64	/* hex */

enum apikey_scope {
	APIKEY_SCOPE_NONE = 0,
	APIKEY_SCOPE_READ,	/* "read-only": reads only */
	APIKEY_SCOPE_USER,	/* acts as its owner user */
	APIKEY_SCOPE_ADMIN	/* everything */
};

/* Where a request put its key. */
enum apikey_given {
	APIKEY_ABSENT,		/* no X-Api-Key, no Authorization */
	APIKEY_PRESENT,		/* *key, *len: a key of the right shape */
	APIKEY_INVALID		/* not a key: wrong shape, other scheme, ... */
};

/* A fresh key and its NUL; 0, or -1 when the CSPRNG failed. */
int		 apikey_generate(char out[APIKEY_LEN + 1]);
/* Lowercase hex SHA-256 of the len bytes of key, and a NUL. */
void		 apikey_hash(const char *key, size_t len,
		    char out[APIKEY_HASH_LEN + 1]);
/* 1 when s has the shape of a key (tag and 40 alphanumerics). */
int		 apikey_wellformed(const char *s, size_t len);

/*
 * The key of a request, from X-Api-Key or Authorization: Bearer (either
 * may be NULL). Both given must name the same key; an Authorization of
 * another scheme with no X-Api-Key is APIKEY_INVALID.
 */
enum apikey_given apikey_from_headers(const char *x_api_key,
		    const char *authorization, const char **key,
		    size_t *len);

/* "admin", "user", "read-only"; NULL for APIKEY_SCOPE_NONE. */
const char	*apikey_scope_name(enum apikey_scope s);
/* APIKEY_SCOPE_NONE for anything else. */
enum apikey_scope apikey_scope_parse(const char *s, size_t len);

#endif
