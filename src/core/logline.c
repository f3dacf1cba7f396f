/*
 * JSON log lines without allocation: logging sits on every request's
 * path, so a line is formatted straight into a stack buffer. Each field
 * is written to the side first and committed only if it fits whole;
 * logline_end() always leaves room for the closing "}\n".
 */

#include <stdio.h>
#include <string.h>

#include "core/logline.h"
#include "core/numfmt.h"
#include "core/validate.h"

#define CLOSING		2	/* "}\n" */

/*
 * The bytes a value cannot hold as they are: quote, backslash, control
 * bytes and DEL, and every byte of 0x80 and above, which goes through the
 * UTF-8 check. The NUL that ends a string stops a run too. A table,
 * because the scan runs over every byte of every line.
 */
#define C8(c)	c, c, c, c, c, c, c, c
static const unsigned char	escape[256] = {
	C8(1), C8(1), C8(1), C8(1),		/* 0x00-0x1f */
	0, 0, 1, 0, 0, 0, 0, 0,			/* 0x20-0x27: '"' */
	C8(0), C8(0), C8(0), C8(0), C8(0), C8(0),
	0, 0, 0, 0, 1, 0, 0, 0,			/* 0x58-0x5f: '\\' */
	C8(0), C8(0), C8(0),
	0, 0, 0, 0, 0, 0, 0, 1,			/* 0x78-0x7f: DEL */
	C8(1), C8(1), C8(1), C8(1), C8(1), C8(1), C8(1), C8(1),
	C8(1), C8(1), C8(1), C8(1), C8(1), C8(1), C8(1), C8(1),
};

static int	put(struct logline *, const char *, size_t);
static int	put_escaped(struct logline *, const char *);
static int	put_key(struct logline *, const char *);
static int	put_plain(struct logline *, const char *, const char *);
static void	commit(struct logline *, size_t, int);

void
logline_begin(struct logline *l, char *buf, size_t cap)
{
	l->buf = buf;
	l->cap = cap;
	l->len = 0;
	l->truncated = 0;
	(void)put(l, "{", 1);
}

void
logline_str(struct logline *l, const char *key, const char *value)
{
	size_t	mark = l->len;
	int	ok;

	if (value != NULL && put_plain(l, key, value))
		return;

	ok = put_key(l, key);
	if (value == NULL)
		ok = ok && put(l, "null", 4);
	else
		ok = ok && put(l, "\"", 1) && put_escaped(l, value) &&
		    put(l, "\"", 1);
	commit(l, mark, ok);
}

void
logline_int(struct logline *l, const char *key, int64_t value)
{
	char	num[NUMFMT_INT64_MAX];
	size_t	mark = l->len;
	int	ok;

	ok = put_key(l, key) && put(l, num, numfmt_int64(num, value));
	commit(l, mark, ok);
}

/*
 * Milliseconds with three decimals, rounded to the microsecond. Anything
 * that is not a plausible duration (negative, NaN, over 10^12 ms) is
 * written as null rather than as something that is not JSON.
 */
void
logline_ms(struct logline *l, const char *key, double value)
{
	char		num[2 * NUMFMT_INT64_MAX + 1];
	size_t		mark = l->len, n;
	uint64_t	us;
	int		ok;

	if (!(value >= 0.0 && value < 1e12)) {
		ok = put_key(l, key) && put(l, "null", 4);
		commit(l, mark, ok);
		return;
	}

	us = (uint64_t)(value * 1000.0 + 0.5);
	n = numfmt_pad(num, us / 1000, 1);
	num[n++] = '.';
	n += numfmt_pad(num + n, us % 1000, 3);
	ok = put_key(l, key) && put(l, num, n);
	commit(l, mark, ok);
}

size_t
logline_end(struct logline *l)
{
	/* put() kept CLOSING bytes free for exactly this. */
	memcpy(l->buf + l->len, "}\n", CLOSING);
	l->len += CLOSING;
	return (l->len);
}

static int
put(struct logline *l, const char *s, size_t n)
{
	if (l->len + n + CLOSING > l->cap)
		return (0);
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return (1);
}

/*
 * Keys are the callers' string constants, plain ASCII as a rule: copied
 * as they are, with the separator and quotes in one go. A key that needs
 * escaping goes the general way.
 */
static int
put_key(struct logline *l, const char *key)
{
	size_t	n, first = l->len > 1 ? 0 : 1;

	for (n = 0; !escape[(unsigned char)key[n]]; n++)
		;
	if (key[n] != '\0')
		return (put(l, &",\""[first], 2 - first) &&
		    put_escaped(l, key) && put(l, "\":", 2));
	if (l->len + n + 4 + CLOSING > l->cap)
		return (0);
	memcpy(l->buf + l->len, &",\""[first], 2 - first);
	l->len += 2 - first;
	memcpy(l->buf + l->len, key, n);
	l->len += n;
	memcpy(l->buf + l->len, "\":", 2);
	l->len += 2;
	return (1);
}

/*
 * The common case in one go: a value with nothing to escape (ids,
 * methods, routes, addresses, most paths) that fits, written with one
 * bounds check. 0: anything else, left to the general path.
 */
static int
put_plain(struct logline *l, const char *key, const char *value)
{
	size_t	kn, vn, sep = l->len > 1;
	char	*p;

	for (vn = 0; !escape[(unsigned char)value[vn]]; vn++)
		;
	if (value[vn] != '\0')
		return (0);
	for (kn = 0; !escape[(unsigned char)key[kn]]; kn++)
		;
	if (key[kn] != '\0')
		return (0);
	if (l->len + sep + kn + vn + 5 + CLOSING > l->cap)
		return (0);

	p = l->buf + l->len;
	if (sep)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, kn);
	p += kn;
	memcpy(p, "\":\"", 3);
	p += 3;
	memcpy(p, value, vn);
	p += vn;
	*p++ = '"';
	l->len = (size_t)(p - l->buf);
	return (1);
}

/*
 * Quotes, backslashes and control bytes are escaped; valid UTF-8 passes
 * as it is. Values are not all trusted to be UTF-8: a request path is
 * the raw bytes of the request line. Each byte of a broken sequence is
 * written as \ufffd, the replacement character, so the line stays JSON
 * that strict parsers read and still shows where the damage was.
 */
static int
put_escaped(struct logline *l, const char *s)
{
	char		esc[8];
	unsigned char	c;
	uint32_t	cp;
	size_t		run, n;

	for (;;) {
		/* Most bytes need nothing: copy each run of them at once. */
		for (run = 0; !escape[(unsigned char)s[run]]; run++)
			;
		if (run > 0 && !put(l, s, run))
			return (0);
		s += run;
		if ((c = (unsigned char)*s) == '\0')
			return (1);

		if (c >= 0x80) {
			/* The NUL ends a truncated sequence: no over-read. */
			n = utf8_decode((const unsigned char *)s, 4, &cp);
			if (!(n > 0 ? put(l, s, n) : put(l, "\\ufffd", 6)))
				return (0);
			s += n > 0 ? n : 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (!put(l, esc, 2))
				return (0);
		} else {
			(void)snprintf(esc, sizeof(esc), "\\u%04x", c);
			if (!put(l, esc, 6))
				return (0);
		}
		s++;
	}
}


/* A field that did not fit is taken back whole. */
static void
commit(struct logline *l, size_t mark, int ok)
{
	if (ok)
		return;
	l->len = mark;
	l->truncated = 1;
}
