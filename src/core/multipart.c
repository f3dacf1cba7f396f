/*
 * multipart/form-data.
 *
 * A body is a preamble, then parts each opened by a delimiter line
 * ("--" boundary, optional blanks, CRLF), then a close delimiter ("--"
 * boundary "--") and an epilogue. Every delimiter but a first one at the
 * very start of the body is preceded by CRLF, which belongs to the
 * delimiter, not to the content before it. A part is header lines, an
 * empty line, and content.
 *
 * Each part is located by searching for the next delimiter first, and
 * only then split into headers and content inside that span, so a part
 * with a missing blank line cannot swallow the next one. "\r\n--b"
 * followed by anything else than "--" or blanks and CRLF is not a
 * delimiter but content (RFC 2046 delimiters are whole lines). Each byte
 * is looked at a bounded number of times: linear in the body.
 * Header names are case-insensitive; only Content-Disposition is read.
 * Parameter values are tokens or quoted strings (backslash escapes, as
 * browsers never send but RFC 2045 allows). Bare LF line ends are not
 * accepted: RFC 2046 requires CRLF, and every client sends it.
 */

#include <string.h>
#include <strings.h>

#include "core/multipart.h"

#define DELIM_MAX	(2 + MULTIPART_BOUNDARY_MAX + 2)	/* CRLF -- b */
#define PARAM_MAX	256

/* The delimiter of one body: CRLF "--" boundary. */
struct delim {
	char	text[DELIM_MAX];
	size_t	len;
};

/* A bounded string being scanned. */
struct span {
	const char	*p;
	const char	*end;
};

static int	delim_init(struct delim *, const char *);
static const char *delim_next(const struct delim *, const char *,
		    const char *);
static const char *delim_rest(const char *, const char *, int *);
static int	boundary_char(unsigned char);
static int	token_char(unsigned char);
static void	skip_blanks(struct span *);
static int	read_token(struct span *, char *, size_t);
static int	read_value(struct span *, char *, size_t);
static int	read_param(struct span *, char *, size_t, char *, size_t);
static int	disposition_names(const char *, const char *, const char *);
static int	headers_name(const char *, const char *, const char *);

int
multipart_boundary(const char *content_type, char *buf, size_t len)
{
	struct span	s;
	char		type[64], name[PARAM_MAX], value[PARAM_MAX];
	size_t		n;
	int		found;

	if (len < MULTIPART_BOUNDARY_MAX + 1)
		return (-1);

	s.p = content_type;
	s.end = content_type + strlen(content_type);
	skip_blanks(&s);
	if (!read_token(&s, type, sizeof(type)) ||
	    strcasecmp(type, "multipart/form-data") != 0)
		return (-1);

	found = 0;
	while (s.p < s.end) {
		if (!read_param(&s, name, sizeof(name), value, sizeof(value)))
			return (-1);
		if (strcasecmp(name, "boundary") != 0)
			continue;
		if (found)
			return (-1);	/* two boundaries: which one? */
		n = strlen(value);
		if (n == 0 || n > MULTIPART_BOUNDARY_MAX ||
		    value[n - 1] == ' ')
			return (-1);
		while (n-- > 0) {
			if (!boundary_char((unsigned char)value[n]))
				return (-1);
		}
		memcpy(buf, value, strlen(value) + 1);
		found = 1;
	}

	return (found ? 0 : -1);
}

enum multipart_result
multipart_find(const char *body, size_t len, const char *boundary,
    const char *name, const char **data, size_t *data_len)
{
	struct delim	 d;
	const char	*end, *after, *head, *next, *blank;
	int		 close;

	if (!delim_init(&d, boundary))
		return (MULTIPART_MALFORMED);
	end = body + len;

	/* The first delimiter may open the body, without the CRLF. */
	if (len >= d.len - 2 && memcmp(body, d.text + 2, d.len - 2) == 0 &&
	    delim_rest(body + d.len - 2, end, &close) != NULL)
		after = body + d.len - 2;
	else if ((next = delim_next(&d, body, end)) != NULL)
		after = next + d.len;
	else
		return (MULTIPART_MALFORMED);

	for (;;) {
		/* after follows a boundary known to end a delimiter. */
		head = delim_rest(after, end, &close);
		if (close)
			return (MULTIPART_ABSENT);
		if ((next = delim_next(&d, head, end)) == NULL)
			return (MULTIPART_MALFORMED);

		/* Headers, then CRLF CRLF; no headers: CRLF at once. */
		if (next - head >= 2 && head[0] == '\r' && head[1] == '\n')
			blank = head;
		else if ((blank = memmem(head, (size_t)(next - head),
		    "\r\n\r\n", 4)) != NULL)
			blank += 2;
		else
			return (MULTIPART_MALFORMED);

		if (headers_name(head, blank, name)) {
			*data = blank + 2;
			*data_len = (size_t)(next - (blank + 2));
			return (MULTIPART_FOUND);
		}
		after = next + d.len;
	}
}

/* "\r\n--" boundary, the text every delimiter but a leading one starts with. */
static int
delim_init(struct delim *d, const char *boundary)
{
	size_t	blen;

	blen = strlen(boundary);
	if (blen == 0 || blen > MULTIPART_BOUNDARY_MAX)
		return (0);
	memcpy(d->text, "\r\n--", 4);
	memcpy(d->text + 4, boundary, blen);
	d->len = 4 + blen;
	return (1);
}

/*
 * The first delimiter in [p, end): the CRLF that starts it, or NULL.
 * "\r\n--" boundary followed by anything but "--" or blanks and a CRLF
 * is content that merely starts like a delimiter.
 */
static const char *
delim_next(const struct delim *d, const char *p, const char *end)
{
	const char	*q;
	int		 close;

	while ((q = memmem(p, (size_t)(end - p), d->text, d->len)) != NULL) {
		if (delim_rest(q + d->len, end, &close) != NULL)
			return (q);
		p = q + 1;
	}

	return (NULL);
}

/*
 * What may follow a boundary: "--" (the close delimiter: *close is set)
 * or blanks and CRLF, after which the part's headers start (returned).
 * NULL when neither follows.
 */
static const char *
delim_rest(const char *p, const char *end, int *close)
{
	*close = 0;
	if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
		*close = 1;
		return (p + 2);
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		return (NULL);
	return (p + 2);
}

/*
 * RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (but not
 * last, which the caller checks).
 */
static int
boundary_char(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("'()+_,-./:=? ", c) != NULL));
}

/* RFC 9110 tchar, plus '/' so that a media type reads as one token. */
static int
token_char(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~/", c) != NULL));
}

static void
skip_blanks(struct span *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
}

/* A non-empty token into buf; 0 when there is none or it does not fit. */
static int
read_token(struct span *s, char *buf, size_t len)
{
	size_t	n = 0;

	while (s->p < s->end && token_char((unsigned char)*s->p)) {
		if (n + 1 >= len)
			return (0);
		buf[n++] = *s->p++;
	}
	buf[n] = '\0';
	return (n > 0);
}

/* A token or a quoted string (escapes resolved) into buf. */
static int
read_value(struct span *s, char *buf, size_t len)
{
	size_t	n = 0;

	if (s->p >= s->end || *s->p != '"')
		return (read_token(s, buf, len));

	for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
		if (*s->p == '\\' && s->p + 1 < s->end)
			s->p++;
		if (*s->p == '\0' || n + 1 >= len)
			return (0);
		buf[n++] = *s->p;
	}
	if (s->p >= s->end)
		return (0);	/* unterminated */
	s->p++;
	buf[n] = '\0';
	return (1);
}

/* ";" name "=" value, blanks allowed around the ';' and the '='. */
static int
read_param(struct span *s, char *name, size_t nlen, char *value,
    size_t vlen)
{
	skip_blanks(s);
	if (s->p >= s->end || *s->p != ';')
		return (0);
	s->p++;
	skip_blanks(s);
	if (!read_token(s, name, nlen))
		return (0);
	skip_blanks(s);
	if (s->p >= s->end || *s->p != '=')
		return (0);
	s->p++;
	skip_blanks(s);
	if (!read_value(s, value, vlen))
		return (0);
	skip_blanks(s);
	return (1);
}

/* True when the header lines in [p, end) name the part name. */
static int
headers_name(const char *p, const char *end, const char *name)
{
	const char	*eol, *colon;

	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			continue;
		if ((size_t)(colon - p) == strlen("content-disposition") &&
		    strncasecmp(p, "content-disposition", (size_t)(colon - p))
		    == 0)
			return (disposition_names(colon + 1, eol, name));
		if (eol == end)
			break;
	}

	return (0);
}

/* "form-data; name=...[; filename=...]" naming name. */
static int
disposition_names(const char *p, const char *end, const char *name)
{
	struct span	s;
	char		type[32], pname[PARAM_MAX], value[PARAM_MAX];

	s.p = p;
	s.end = end;
	skip_blanks(&s);
	if (!read_token(&s, type, sizeof(type)) ||
	    strcasecmp(type, "form-data") != 0)
		return (0);

	while (s.p < s.end) {
		if (!read_param(&s, pname, sizeof(pname), value,
		    sizeof(value)))
			return (0);
		if (strcasecmp(pname, "name") == 0)
			return (strcmp(value, name) == 0);
	}

	return (0);
}
