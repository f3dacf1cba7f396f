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

static int	put(struct logline *, const char *, size_t);
static int	put_escaped(struct logline *, const char *);
static int	needs_escape(unsigned char);
static int	put_key(struct logline *, const char *);
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

static int
put_key(struct logline *l, const char *key)
{
	if (l->len > 1 && !put(l, ",", 1))
		return (0);
	return (put(l, "\"", 1) && put_escaped(l, key) && put(l, "\":", 2));
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
		for (run = 0; !needs_escape((unsigned char)s[run]); run++)
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

/* The end of the string counts: it stops a run too. */
static int
needs_escape(unsigned char c)
{
	return (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f);
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
