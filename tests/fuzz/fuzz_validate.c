/*
 * The validators of untrusted text (URLs, e-mail addresses, names, event
 * types, titles, custom short codes, timestamps), the UTF-8 primitives
 * under them, and text_clean() for stored headers: any bytes, NULs
 * included, in an exact-size buffer.
 *
 * Properties: what a validator accepts has the shape the contract gives
 * (checked here independently: one '@' and a dotted domain, an absolute
 * http(s) URL with a host, without bidirectional controls, user
 * information or a backslash in its authority, whose host (bracketed
 * IPv6 included, port excluded) urlhost_check() accepts under the policy
 * in force, lengths in code points, no NUL, no control or blank where
 * refused, an API key name of 1 to 100 characters, a real calendar
 * date); utf8_valid() agrees with
 * jansson's own UTF-8 check; utf8_length() counts what utf8_decode()
 * walks; text_clean() returns valid UTF-8 within its bound, without
 * controls or bidirectional overrides, leaves clean text alone, and a
 * smaller bound gives a prefix of a larger one's result.
 */

#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "core/shortcode.h"
#include "core/text.h"
#include "core/urlhost.h"
#include "core/validate.h"
#include "fuzz.h"

static size_t	cps(const char *, size_t);
static int	has_cp(const char *, size_t, int (*)(uint32_t));
static int	is_control(uint32_t);
static int	is_unsafe(uint32_t);
static int	is_space(uint32_t);
static int	is_bidi(uint32_t);
static void	check_email(const char *, size_t);
static void	check_url(const char *, size_t);
static void	check_url_host(const char *, size_t);
static void	check_text(const char *, size_t);
static void	check_code(const char *, size_t);
static void	check_timestamp(const char *, size_t);
static void	check_clean(const char *, size_t, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*j;
	char	*s;
	size_t	 max;

	if (size < 1)
		return (0);
	max = data[0];
	s = fz_copy(data + 1, size - 1);
	size--;

	j = json_stringn(s, size);
	CHECK((j != NULL) == (utf8_valid(s, size) != 0), "utf8_valid %d, "
	    "jansson %s", utf8_valid(s, size), j != NULL ? "accepts" :
	    "refuses");
	json_decref(j);
	if (utf8_valid(s, size))
		CHECK(utf8_length(s, size) == cps(s, size), "utf8_length");

	check_email(s, size);
	check_url(s, size);
	check_text(s, size);
	check_code(s, size);
	check_timestamp(s, size);
	check_clean(s, size, max);
	free(s);
	return (0);
}

/* Code points of valid UTF-8, by utf8_decode(). */
static size_t
cps(const char *s, size_t len)
{
	size_t		off, n, count = 0;
	uint32_t	cp;

	for (off = 0; off < len; off += n, count++) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		CHECK(n > 0 && n <= 4 && off + n <= len, "decode at %zu", off);
	}
	return (count);
}

static int
has_cp(const char *s, size_t len, int (*pred)(uint32_t))
{
	size_t		off, n;
	uint32_t	cp;

	for (off = 0; off < len; off += n) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		if (n == 0)
			return (1);
		if (pred(cp))
			return (1);
	}
	return (0);
}

static int
is_control(uint32_t cp)
{
	return (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f));
}

static int
is_unsafe(uint32_t cp)
{
	return (is_control(cp) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069));
}

/* ALM, LRM, RLM, embeddings, overrides and isolates. */
static int
is_bidi(uint32_t cp)
{
	return (cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* The Unicode White_Space characters. */
static int
is_space(uint32_t cp)
{
	return ((cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000);
}

static void
check_email(const char *s, size_t len)
{
	const char	*at, *dot;

	if (validate_email(s, len) != NULL)
		return;
	CHECK(utf8_valid(s, len) && memchr(s, '\0', len) == NULL,
	    "email \"%.*s\": bad bytes", (int)len, s);
	CHECK(cps(s, len) >= 1 && cps(s, len) <= EMAIL_MAX, "email length");
	CHECK(!has_cp(s, len, is_control) && !has_cp(s, len, is_space),
	    "email \"%.*s\" has a control or a blank", (int)len, s);
	at = memchr(s, '@', len);
	CHECK(at != NULL && at > s && memchr(at + 1, '@', len - (size_t)(at -
	    s) - 1) == NULL, "email \"%.*s\": not one '@'", (int)len, s);
	dot = memrchr(at, '.', len - (size_t)(at - s));
	CHECK(dot != NULL && dot > at + 1 && dot < s + len - 2,
	    "email \"%.*s\": no dotted domain", (int)len, s);
}

static void
check_url(const char *s, size_t len)
{
	size_t	i, skip;

	if (validate_url(s, len) != NULL)
		return;
	CHECK(utf8_valid(s, len) && cps(s, len) <= URL_MAX,
	    "url of %zu bytes", len);
	for (i = 0; i < len; i++)
		CHECK((unsigned char)s[i] > 0x20 && s[i] != 0x7f,
		    "url \"%.*s\": byte %#x", (int)len, s, (unsigned char)s[i]);
	CHECK(!has_cp(s, len, is_control) && !has_cp(s, len, is_space),
	    "url \"%.*s\" has a control or a blank", (int)len, s);
	if (len >= 7 && !strncasecmp(s, "http://", 7))
		skip = 7;
	else
		CHECK(len >= 8 && !strncasecmp(s, "https://", 8) &&
		    (skip = 8), "url \"%.*s\": not http(s)", (int)len, s);
	CHECK(skip < len && s[skip] != '/' && s[skip] != '?' &&
	    s[skip] != '#', "url \"%.*s\": no host", (int)len, s);
	CHECK(!has_cp(s, len, is_bidi), "url \"%.*s\": a bidirectional "
	    "control", (int)len, s);
	check_url_host(s + skip, len - skip);
}

/* The authority of an accepted URL: no user information, no backslash,
 * and a host the host rules (core/urlhost.c) accept. */
static void
check_url_host(const char *a, size_t len)
{
	size_t		 alen, hlen;
	const char	*close;

	for (alen = 0; alen < len && a[alen] != '/' && a[alen] != '?' &&
	    a[alen] != '#'; alen++)
		;
	CHECK(memchr(a, '@', alen) == NULL && memchr(a, '\\', alen) == NULL,
	    "url authority \"%.*s\": user information or a backslash",
	    (int)alen, a);
	if (a[0] == '[') {
		close = memchr(a, ']', alen);
		CHECK(close != NULL, "url authority \"%.*s\": no ']'",
		    (int)alen, a);
		hlen = (size_t)(close - a) + 1;
	} else {
		for (hlen = 0; hlen < alen && a[hlen] != ':'; hlen++)
			;
	}
	CHECK(urlhost_check(a, hlen) == NULL, "url host \"%.*s\" accepted "
	    "by validate_url, refused by urlhost_check", (int)hlen, a);
}

static void
check_text(const char *s, size_t len)
{
	size_t	n = utf8_valid(s, len) ? cps(s, len) : 0;

	if (validate_username(s, len) == NULL)
		CHECK(utf8_valid(s, len) && n >= 1 && n <= USERNAME_MAX &&
		    !has_cp(s, len, is_control), "username \"%.*s\"",
		    (int)len, s);
	if (validate_event_type(s, len) == NULL)
		CHECK(utf8_valid(s, len) && n >= 1 && n <= EVENT_TYPE_MAX &&
		    !has_cp(s, len, is_control), "event_type \"%.*s\"",
		    (int)len, s);
	if (validate_key_name(s, len) == NULL)
		CHECK(utf8_valid(s, len) && n >= 1 && n <= KEY_NAME_MAX &&
		    !has_cp(s, len, is_control), "key name \"%.*s\"",
		    (int)len, s);
	if (validate_title(s, len) == NULL)
		CHECK(utf8_valid(s, len) && n <= TITLE_MAX &&
		    memchr(s, '\0', len) == NULL, "title \"%.*s\"", (int)len,
		    s);
	/* Blank means: every code point a White_Space one. */
	if (utf8_valid(s, len) && n >= 1 && n <= USERNAME_MAX &&
	    !has_cp(s, len, is_control)) {
		size_t		off, k;
		uint32_t	cp;
		int		blank = 1;

		for (off = 0; off < len; off += k) {
			k = utf8_decode((const unsigned char *)s + off,
			    len - off, &cp);
			blank = blank && (is_space(cp) || cp == 0x200b ||
			    cp == 0x200c || cp == 0x200d || cp == 0x2060 ||
			    cp == 0xfeff);
		}
		CHECK((validate_username(s, len) == NULL) == !blank,
		    "username \"%.*s\": blank %d", (int)len, s, blank);
	}
}

/* [A-Za-z0-9_-]{3,32}, not a reserved word. */
static void
check_code(const char *s, size_t len)
{
	size_t	i;
	int	shape = len >= 3 && len <= 32;
	char	buf[40];

	for (i = 0; i < len && shape; i++) {
		unsigned char c = (unsigned char)s[i];

		shape = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-';
	}
	CHECK(shortcode_is_wellformed(s, len) == shape, "shape of \"%.*s\"",
	    (int)len, s);
	if (!shape) {
		CHECK(validate_custom_code(s, len) != NULL, "code \"%.*s\"",
		    (int)len, s);
		return;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	CHECK((validate_custom_code(s, len) == NULL) ==
	    !shortcode_is_reserved(buf), "code \"%s\"", buf);
}

/* YYYY-MM-DD[ T]HH:MM:SS[.ffffff] with a real date and time. */
static void
check_timestamp(const char *s, size_t len)
{
	static const int	mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	char			buf[32];
	int			y, mo, d, h, mi, sec, n, days;

	if (validate_timestamp(s, len) != NULL)
		return;
	CHECK(len >= 19 && len <= 26 && len != 20, "timestamp of %zu bytes",
	    len);
	memcpy(buf, s, len);
	buf[len] = '\0';
	CHECK(sscanf(buf, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h,
	    &mi, &sec, &n) == 6 && n == 19, "timestamp \"%s\"", buf);
	days = mo >= 1 && mo <= 12 ? mdays[mo - 1] : 0;
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		days = 29;
	CHECK(y >= 1 && d >= 1 && d <= days && h <= 23 && mi <= 59 &&
	    sec <= 59, "timestamp \"%s\"", buf);
	CHECK(len == 19 || buf[19] == '.', "timestamp \"%s\"", buf);
}

static void
check_clean(const char *s, size_t len, size_t max)
{
	char	*c, *full, *in;
	size_t	 n;

	/* Headers are C strings: what follows a NUL is not seen. */
	in = fz_cstr((const uint8_t *)s, len);
	n = strlen(in);
	c = text_clean(in, max);
	full = text_clean(in, 4 * n + 4);
	CHECK(strlen(c) <= max && utf8_valid(c, strlen(c)), "text_clean: "
	    "%zu bytes for %zu", strlen(c), max);
	CHECK(!has_cp(c, strlen(c), is_unsafe), "text_clean kept a control "
	    "or an override");
	CHECK(!strncmp(c, full, strlen(c)), "a smaller bound is no prefix");
	if (utf8_valid(in, n) && !has_cp(in, n, is_unsafe))
		CHECK(!strcmp(full, in), "clean text was changed");
	if (strlen(c) < strlen(full)) {
		uint32_t	cp;
		size_t		next = utf8_decode((const unsigned char *)full +
				    strlen(c), strlen(full) - strlen(c), &cp);

		CHECK(strlen(c) + next > max, "cut early: %zu of %zu bytes, "
		    "next character %zu", strlen(c), max, next);
	}
	free(c);
	free(full);
	free(in);
}
