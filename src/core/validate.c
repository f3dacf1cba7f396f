/*
 * Field validation.
 *
 * Every validator takes a pointer and a length, not a C string, because
 * JSON strings may legally contain "\u0000" and PostgreSQL text cannot
 * store a NUL: such a value must become a 422 here, not a database error
 * (500) later. For the same reason each validator checks UTF-8 itself even
 * though jansson already did for JSON bodies: the CSV import hands raw
 * bytes from the file, and checking twice costs one pass over a short
 * string.
 *
 * Lengths are in code points, which is what a user means by "64
 * characters" and what PostgreSQL's char_length() counts.
 *
 * Each check answers with a static message; the caller puts it under the
 * field's name in the "fields" object of a 422, so messages do not repeat
 * the field name.
 */

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/shortcode.h"
#include "core/urlhost.h"
#include "core/validate.h"

#define MSG_NUL		"must not contain NUL characters"
#define MSG_UTF8	"must be valid UTF-8"
#define MSG_EMPTY	"must not be empty"
#define MSG_BLANK	"must not be blank"
#define MSG_CONTROL	"must not contain control characters"
#define MSG_SPACE	"must not contain whitespace"
#define MSG_BIDI	"must not contain bidirectional control characters"

/* What one pass over a string found; see text_scan(). */
struct text_info {
	int	has_nul;
	int	bad_utf8;
	int	has_control;
	int	has_space;	/* Unicode White_Space or invisible */
	int	all_blank;
	size_t	length;		/* code points */
};

/* Length and content rules of a free-text field. */
struct text_rule {
	size_t		 min;
	size_t		 max;
	int		 no_control;
	int		 no_blank;
	const char	*too_long;
};

static void		text_scan(const char *s, size_t len,
			    struct text_info *ti);
static const char	*text_check(const char *s, size_t len,
			    const struct text_rule *rule);
static int		cp_is_control(uint32_t cp);
static int		cp_is_blank(uint32_t cp);
static int		is_alpha(unsigned char c);
static int		is_digit(unsigned char c);
static int		is_alnum(unsigned char c);
static int		in_set(unsigned char c, const char *set);
static int		email_local_ok(const char *s, size_t len);
static int		email_domain_ok(const char *s, size_t len);
static int		email_label_ok(const char *s, size_t len);
static int		email_tld_ok(const char *s, size_t len);
static const char	*url_authority(const char *s, size_t len);
static int		cp_is_bidi(uint32_t cp);
static int		has_bidi(const char *s, size_t len);
static int		url_port_ok(const char *s, size_t len);
static int		ts_shape_ok(const char *s, size_t len);
static int		ts_number(const char *s, size_t n, int *out);
static int		ts_days_in_month(int year, int month);

static const struct text_rule	rule_username = {
	1, USERNAME_MAX, 1, 1, "must be at most 64 characters"
};
static const struct text_rule	rule_title = {
	0, TITLE_MAX, 0, 0, "must be at most 200 characters"
};
static const struct text_rule	rule_event_type = {
	1, EVENT_TYPE_MAX, 1, 1, "must be at most 64 characters"
};
static const struct text_rule	rule_key_name = {
	1, KEY_NAME_MAX, 1, 1, "must be at most 100 characters"
};

const char *
validate_username(const char *s, size_t len)
{
	return (text_check(s, len, &rule_username));
}

const char *
validate_title(const char *s, size_t len)
{
	return (text_check(s, len, &rule_title));
}

const char *
validate_event_type(const char *s, size_t len)
{
	return (text_check(s, len, &rule_event_type));
}

const char *
validate_key_name(const char *s, size_t len)
{
	return (text_check(s, len, &rule_key_name));
}

/*
 * "Plausible" rather than RFC 5322: one '@', a dot-atom local part and a
 * dotted domain whose last label looks like a TLD. Quoted local parts and
 * IP-literal domains are legal but never seen from real users, and
 * accepting them would let junk through. Neither the local part (64) nor
 * labels (63) are capped separately: the contract only promises 254.
 */
const char *
validate_email(const char *s, size_t len)
{
	struct text_info	 ti;
	const char		*at;

	text_scan(s, len, &ti);
	if (ti.has_nul)
		return (MSG_NUL);
	if (ti.bad_utf8)
		return (MSG_UTF8);
	if (ti.length == 0)
		return (MSG_EMPTY);
	if (ti.length > EMAIL_MAX)
		return ("must be at most 254 characters");
	if (ti.has_control)
		return (MSG_CONTROL);
	if (ti.has_space)
		return (MSG_SPACE);

	if ((at = memchr(s, '@', len)) == NULL ||
	    memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
		return ("must contain exactly one '@'");
	if (!email_local_ok(s, (size_t)(at - s)) ||
	    !email_domain_ok(at + 1, len - (size_t)(at - s) - 1))
		return ("must be a valid email address (local@domain.tld)");

	return (NULL);
}

/*
 * Only absolute http(s) URLs with a host: the value ends up in a Location
 * header, so anything else (relative, javascript:, data:) would either
 * not work or be dangerous. Whitespace and control characters are
 * refused, not encoded: CR/LF in a Location header is response splitting.
 * Bidirectional controls are refused anywhere: they make a link read in
 * another order than it goes ("/\u202egnp.exe"). The authority holds no
 * user information and no backslash, which browsers and this validator
 * would split differently (http://good.com\@evil.com/ goes to
 * good.com in a browser, to evil.com by RFC 3986); what the host may be
 * is core/urlhost.c's to say. Beyond the authority the URL is stored
 * verbatim.
 */
const char *
validate_url(const char *s, size_t len)
{
	struct text_info	ti;

	text_scan(s, len, &ti);
	if (ti.has_nul)
		return (MSG_NUL);
	if (ti.bad_utf8)
		return (MSG_UTF8);
	if (ti.length == 0)
		return (MSG_EMPTY);
	if (ti.length > URL_MAX)
		return ("must be at most 2048 characters");
	if (ti.has_control)
		return (MSG_CONTROL);
	if (ti.has_space)
		return (MSG_SPACE);
	if (has_bidi(s, len))
		return (MSG_BIDI);

	if (len >= 7 && strncasecmp(s, "http://", 7) == 0)
		return (url_authority(s + 7, len - 7));
	if (len >= 8 && strncasecmp(s, "https://", 8) == 0)
		return (url_authority(s + 8, len - 8));

	return ("must be an absolute http or https URL");
}

const char *
validate_custom_code(const char *s, size_t len)
{
	char	buf[SHORTCODE_CUSTOM_MAX + 1];

	if (memchr(s, '\0', len) != NULL)
		return (MSG_NUL);
	if (!shortcode_is_wellformed(s, len)) {
		return ("must be 3 to 32 characters of A-Z, a-z, 0-9, "
		    "'_' or '-'");
	}

	/* Well-formed means len <= SHORTCODE_CUSTOM_MAX: it fits. */
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (shortcode_is_reserved(buf))
		return ("is a reserved word");

	return (NULL);
}

/*
 * The format PostgreSQL prints and the seed files use, in UTC without a
 * zone suffix, optionally with up to 6 fractional digits (microseconds,
 * PostgreSQL's precision). Leap seconds are refused: PostgreSQL would
 * silently roll :60 into the next minute.
 */
const char *
validate_timestamp(const char *s, size_t len)
{
	int	year, month, day, hour, min, sec;

	if (memchr(s, '\0', len) != NULL)
		return (MSG_NUL);
	if (!ts_shape_ok(s, len))
		return ("must be a timestamp YYYY-MM-DD HH:MM:SS");

	(void)ts_number(s, 4, &year);
	(void)ts_number(s + 5, 2, &month);
	(void)ts_number(s + 8, 2, &day);
	(void)ts_number(s + 11, 2, &hour);
	(void)ts_number(s + 14, 2, &min);
	(void)ts_number(s + 17, 2, &sec);

	if (year < 1 || month < 1 || month > 12 || day < 1 ||
	    day > ts_days_in_month(year, month) || hour > 23 || min > 59 ||
	    sec > 59)
		return ("must be a real date and time");

	return (NULL);
}

const char *
validate_expiry(const char *s, size_t len)
{
	const char	*why;

	if (len != 19 || s[10] != 'T')
		return ("must be a timestamp YYYY-MM-DDTHH:MM:SS (UTC)");
	if ((why = validate_timestamp(s, len)) != NULL)
		return (why);
	if (strncmp(s, "2000", 4) < 0)
		return ("must be a date from year 2000 on");
	return (NULL);
}

const char *
validate_date(const char *s, size_t len)
{
	char	ts[20];

	if (len != 10 || memchr(s, '\0', len) != NULL)
		return ("must be a date YYYY-MM-DD");
	memcpy(ts, s, 10);
	memcpy(ts + 10, "T00:00:00", 10);
	if (validate_expiry(ts, 19) != NULL)
		return ("must be a real date YYYY-MM-DD from year 2000 on");
	return (NULL);
}

/* Days from 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
int64_t
date_days(const char *s)
{
	int	y, m, d;
	int64_t	era, yoe, doy, doe;

	(void)ts_number(s, 4, &y);
	(void)ts_number(s + 5, 2, &m);
	(void)ts_number(s + 8, 2, &d);
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

int64_t
timestamp_epoch(const char *s)
{
	int	hour, min, sec;

	(void)ts_number(s + 11, 2, &hour);
	(void)ts_number(s + 14, 2, &min);
	(void)ts_number(s + 17, 2, &sec);
	return (date_days(s) * 86400 + hour * 3600 + min * 60 + sec);
}

size_t
utf8_length(const char *s, size_t len)
{
	size_t	i, n;

	/* Every code point has exactly one byte that is not a continuation byte. */
	n = 0;
	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}

	return (n);
}

int
utf8_valid(const char *s, size_t len)
{
	size_t		off, n;
	uint32_t	cp;

	for (off = 0; off < len; off += n) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		if (n == 0)
			return (0);
	}

	return (1);
}

/*
 * Decodes one code point; returns its length in bytes, or 0 when the
 * sequence is truncated, overlong, a surrogate or above U+10FFFF. The
 * table of RFC 3629 section 4 is encoded in the bounds on the 2nd byte.
 */
size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char	lo, hi;
	size_t		n, i;

	lo = 0x80;
	hi = 0xbf;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		*cp = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		*cp = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return (0);
	}

	if (len < n || s[1] < lo || s[1] > hi)
		return (0);

	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}

	return (n);
}

static void
text_scan(const char *s, size_t len, struct text_info *ti)
{
	size_t		off, n;
	uint32_t	cp;

	memset(ti, 0, sizeof(*ti));
	ti->all_blank = 1;

	for (off = 0; off < len; off += n) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		if (n == 0) {
			ti->bad_utf8 = 1;
			n = 1;
			continue;
		}
		ti->length++;
		if (cp == 0)
			ti->has_nul = 1;
		if (cp_is_control(cp))
			ti->has_control = 1;
		if (cp_is_blank(cp))
			ti->has_space = 1;
		else
			ti->all_blank = 0;
	}
}

static const char *
text_check(const char *s, size_t len, const struct text_rule *rule)
{
	struct text_info	ti;

	text_scan(s, len, &ti);
	if (ti.has_nul)
		return (MSG_NUL);
	if (ti.bad_utf8)
		return (MSG_UTF8);
	if (ti.length < rule->min)
		return (MSG_EMPTY);
	if (ti.length > rule->max)
		return (rule->too_long);
	if (rule->no_control && ti.has_control)
		return (MSG_CONTROL);
	if (rule->no_blank && ti.all_blank)
		return (MSG_BLANK);

	return (NULL);
}

/* C0, DEL and C1: nothing a user means to type into a name. */
static int
cp_is_control(uint32_t cp)
{
	return (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f));
}

/*
 * Unicode White_Space plus the invisible format characters (zero width
 * space, joiners, word joiner, BOM) that make a name look empty.
 */
static int
cp_is_blank(uint32_t cp)
{
	switch (cp) {
	case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d:
	case 0x20: case 0x85: case 0xa0: case 0x1680:
	case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
	case 0x200b: case 0x200c: case 0x200d: case 0x2060: case 0xfeff:
		return (1);
	}

	return (cp >= 0x2000 && cp <= 0x200a);
}

/* ASCII only, unlike <ctype.h> whose answers depend on the locale. */
static int
is_alpha(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

static int
is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

static int
is_alnum(unsigned char c)
{
	return (is_alpha(c) || is_digit(c));
}

/* strchr(3) would also "find" the terminating NUL. */
static int
in_set(unsigned char c, const char *set)
{
	return (c != '\0' && strchr(set, c) != NULL);
}

/* Dot-atom: no RFC 5322 specials, no leading, trailing or double dot. */
static int
email_local_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return (0);

	for (i = 0; i < len; i++) {
		if (in_set((unsigned char)s[i], "\"(),:;<>[\\]"))
			return (0);
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return (0);
	}

	return (1);
}

static int
email_domain_ok(const char *s, size_t len)
{
	const char	*dot, *end;
	size_t		 labels;

	end = s + len;
	labels = 0;

	for (;;) {
		dot = memchr(s, '.', (size_t)(end - s));
		if (dot == NULL)
			break;
		if (!email_label_ok(s, (size_t)(dot - s)))
			return (0);
		labels++;
		s = dot + 1;
	}

	return (labels > 0 && email_label_ok(s, (size_t)(end - s)) &&
	    email_tld_ok(s, (size_t)(end - s)));
}

/* LDH labels; bytes >= 0x80 are internationalised names in UTF-8. */
static int
email_label_ok(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return (0);

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '-' && c < 0x80)
			return (0);
	}

	return (1);
}

/* Two letters or more, or a punycode IDN TLD ("xn--p1ai"). */
static int
email_tld_ok(const char *s, size_t len)
{
	size_t	i;

	if (utf8_length(s, len) < 2)
		return (0);
	if (len > 4 && strncasecmp(s, "xn--", 4) == 0)
		return (1);

	for (i = 0; i < len; i++) {
		if (!is_alpha((unsigned char)s[i]) &&
		    (unsigned char)s[i] < 0x80)
			return (0);
	}

	return (1);
}

/* s points just after "scheme://". */
static const char *
url_authority(const char *s, size_t len)
{
	const char	*host, *port, *why;
	size_t		 alen, hlen, i;

	alen = len;
	for (i = 0; i < len; i++) {
		if (s[i] == '/' || s[i] == '?' || s[i] == '#') {
			alen = i;
			break;
		}
	}
	if (memchr(s, '\\', alen) != NULL)
		return ("must not contain a backslash before the path");
	if (memchr(s, '@', alen) != NULL)
		return ("must not contain user information (user@host)");

	host = s;
	hlen = alen;
	if (hlen > 0 && host[0] == '[') {
		port = memchr(host, ']', hlen);
		if (port == NULL)
			return ("must have a valid host");
		port++;
		if (port < host + hlen && *port != ':')
			return ("must have a valid host");
	} else {
		port = memchr(host, ':', hlen);
		if (port == NULL)
			port = host + hlen;
	}
	if (port == host)
		return ("must have a host");
	if ((why = urlhost_check(host, (size_t)(port - host))) != NULL)
		return (why);

	if (port < host + hlen &&
	    !url_port_ok(port + 1, (size_t)(host + hlen - port) - 1))
		return ("must have a valid port");

	return (NULL);
}

static int
has_bidi(const char *s, size_t len)
{
	size_t		off, n;
	uint32_t	cp;

	for (off = 0; off < len; off += n) {
		n = utf8_decode((const unsigned char *)s + off, len - off, &cp);
		if (n == 0)
			return (0);
		if (cp_is_bidi(cp))
			return (1);
	}
	return (0);
}

/* ALM, LRM, RLM, embeddings, overrides and isolates. */
static int
cp_is_bidi(uint32_t cp)
{
	return (cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* RFC 3986 allows an empty port ("http://host:/"). */
static int
url_port_ok(const char *s, size_t len)
{
	size_t	i;
	long	port;

	if (len > 5)
		return (0);

	port = 0;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return (0);
		port = port * 10 + (s[i] - '0');
	}

	return (port <= 65535);
}

/*
 * Digits and separators in place, then 1 to 6 fractional digits after a
 * '.'; the values themselves are checked by the caller.
 */
static int
ts_shape_ok(const char *s, size_t len)
{
	static const char	shape[] = "dddd-dd-dd?dd:dd:dd.";
	size_t			i;
	unsigned char		c;

	if (len < 19 || len == 20 || len > 26)
		return (0);

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (i > 19 || shape[i] == 'd') {
			if (!is_digit(c))
				return (0);
		} else if (shape[i] == '?') {
			if (c != ' ' && c != 'T')
				return (0);
		} else if (c != shape[i]) {
			return (0);
		}
	}

	return (1);
}

static int
ts_number(const char *s, size_t n, int *out)
{
	size_t	i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return (0);
		*out = *out * 10 + (s[i] - '0');
	}

	return (1);
}

static int
ts_days_in_month(int year, int month)
{
	static const int	days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (month == 2 &&
	    ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return (29);

	return (days[month - 1]);
}
