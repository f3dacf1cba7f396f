/*
 * Short codes.
 *
 * A random code is SHORTCODE_LEN characters drawn uniformly from the 62
 * characters [A-Za-z0-9]; 62^6 is about 5.7e10 codes, so collisions are
 * rare and the caller simply retries on a unique-index violation.
 *
 * The bytes come from getrandom(2): the kernel CSPRNG, no file descriptor
 * to keep open across Kore's chroot and privilege drop, and it only blocks
 * before the pool is seeded at boot. A byte maps to a character by
 * rejection sampling: 256 is not a multiple of 62, so "byte % 62" would
 * make the first 8 characters 25% more likely than the rest. Bytes at or
 * above 248 (= 4 * 62) are thrown away and the rest map evenly. One in
 * 32 bytes is rejected, so one getrandom() call of 32 bytes almost always
 * suffices.
 *
 * Reserved words are the service's top-level routes: a custom alias named
 * "users" would be shadowed by the router, so it must never be issued.
 * They are compared case-insensitively so that "Users" cannot be taken
 * either and later confuse a human reading a link.
 */

#include <sys/random.h>

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/shortcode.h"

#define SHORTCODE_ALPHABET_LEN	62
#define SHORTCODE_REJECT_AT	(256 - (256 % SHORTCODE_ALPHABET_LEN))
#define SHORTCODE_BATCH		32

static int	random_fill(unsigned char *buf, size_t len);
static int	is_code_char(unsigned char c);

static const char	alphabet[SHORTCODE_ALPHABET_LEN + 1] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Keep in sync with the router: every top-level path segment it serves. */
static const char	*reserved[] = {
	"users",
	"urls",
	"events",
	"health",
	"ready",
	"metrics",
	"docs",
	"openapi.json",
	"static",
	"favicon.ico",
	"robots.txt",
	"keys",
	NULL
};

int
shortcode_generate(char out[SHORTCODE_LEN + 1])
{
	if (shortcode_random(out, SHORTCODE_LEN) == -1)
		return (-1);
	out[SHORTCODE_LEN] = '\0';
	return (0);
}

int
shortcode_random(char *out, size_t len)
{
	unsigned char	buf[SHORTCODE_BATCH];
	size_t		i, n;

	n = 0;
	while (n < len) {
		if (random_fill(buf, sizeof(buf)) == -1)
			return (-1);
		for (i = 0; i < sizeof(buf) && n < len; i++) {
			if (buf[i] >= SHORTCODE_REJECT_AT)
				continue;
			out[n++] = alphabet[buf[i] % SHORTCODE_ALPHABET_LEN];
		}
	}

	return (0);
}

int
shortcode_is_reserved(const char *s)
{
	size_t	i;

	for (i = 0; reserved[i] != NULL; i++) {
		if (strcasecmp(s, reserved[i]) == 0)
			return (1);
	}

	return (0);
}

int
shortcode_is_wellformed(const char *s, size_t len)
{
	size_t	i;

	if (len < SHORTCODE_CUSTOM_MIN || len > SHORTCODE_CUSTOM_MAX)
		return (0);

	for (i = 0; i < len; i++) {
		if (!is_code_char((unsigned char)s[i]))
			return (0);
	}

	return (1);
}

static int
random_fill(unsigned char *buf, size_t len)
{
	ssize_t	r;
	size_t	off;

	/* Reads up to 256 bytes never come back short once seeded; be safe. */
	off = 0;
	while (off < len) {
		r = getrandom(buf + off, len - off, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		off += (size_t)r;
	}

	return (0);
}

static int
is_code_char(unsigned char c)
{
	/* Not isalnum(3): its answer depends on the locale. */
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-');
}
