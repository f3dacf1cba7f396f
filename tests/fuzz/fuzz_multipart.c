/*
 * The multipart reader of POST /users/bulk (core/multipart.c): the
 * Content-Type and the body are the client's.
 *
 * Input, first byte even: a Content-Type value and a body, both
 * arbitrary. Whatever the reader finds lies inside the body, and a
 * boundary it accepts has RFC 2046's shape.
 *
 * First byte odd: a program that builds a body the way clients do: a
 * boundary, a preamble, parts with names (quoted or not, escaped),
 * filenames, other headers, header names in any case, padding after
 * delimiters, content of any bytes that does not hold the delimiter
 * line, an epilogue; and a Content-Type with the boundary quoted or not,
 * among other parameters. The reader must return the boundary, and for
 * each name the content of the first part of that name, byte for byte;
 * a name no part has is absent; the same body cut short before its last
 * delimiter is malformed or still finds the parts before the cut.
 */

#include <ctype.h>
#include <string.h>

#include "core/multipart.h"
#include "fuzz.h"

#define PARTS	5

struct buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void	raw(struct fz *);
static void	built(struct fz *);
static void	add(struct buf *, const void *, size_t);
static void	adds(struct buf *, const char *);
static int	boundary_shape(const char *);

static const char	*names[] = { "file", "note", "x", "file2", "a b" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz	f;

	fz_init(&f, data, size);
	if (fz_u8(&f) % 2 == 0)
		raw(&f);
	else
		built(&f);
	return (0);
}

static void
raw(struct fz *f)
{
	enum multipart_result	 r;
	const char		*data;
	char			 b[MULTIPART_BOUNDARY_MAX + 1], *ct, *body;
	size_t			 len, blen;

	ct = fz_str(f, 120);
	if (multipart_boundary(ct, b, sizeof(b)) == 0)
		CHECK(boundary_shape(b), "boundary \"%s\" from \"%s\"", b, ct);
	else
		snprintf(b, sizeof(b), "%s", "XyZ");
	blen = f->n;
	body = fz_copy(f->p, blen);
	r = multipart_find(body, blen, b, "file", &data, &len);
	if (r == MULTIPART_FOUND)
		CHECK(data >= body && data + len <= body + blen, "content "
		    "outside the body");
	free(body);
	free(ct);
}

static void
built(struct fz *f)
{
	static const char	 bchars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
	struct buf		 body = { NULL, 0, 0 }, ct = { NULL, 0, 0 };
	enum multipart_result	 r;
	char			 b[MULTIPART_BOUNDARY_MAX + 1], got[72];
	char			*content[PARTS], *text, *delim;
	size_t			 clen[PARTS], blen, i, j, n, len, last;
	int			 name_of[PARTS], quoted;
	const char		*data;

	/* The boundary: 1..70 bchars, not ending in a space. */
	blen = 1 + fz_range(f, MULTIPART_BOUNDARY_MAX - 1);
	for (i = 0; i < blen; i++)
		b[i] = bchars[fz_u8(f) % (sizeof(bchars) - 1)];
	if (b[blen - 1] == ' ')
		b[blen - 1] = '-';
	b[blen] = '\0';
	quoted = strpbrk(b, "'()+,/:=? ") != NULL || fz_u8(f) % 2;

	/* The Content-Type, boundary among other parameters. */
	adds(&ct, fz_u8(f) % 2 ? "multipart/form-data" : "Multipart/Form-Data");
	if (fz_u8(f) % 2)
		adds(&ct, "; charset=utf-8");
	adds(&ct, fz_u8(f) % 2 ? "; boundary=" : " ;BOUNDARY = ");
	adds(&ct, quoted ? "\"" : "");
	adds(&ct, b);
	adds(&ct, quoted ? "\"" : "");
	if (fz_u8(f) % 2)
		adds(&ct, "; x-extra=\"y;z\"");
	add(&ct, "", 1);
	CHECK(multipart_boundary(ct.s, got, sizeof(got)) == 0 &&
	    !strcmp(got, b), "boundary of \"%s\": \"%s\"", ct.s, got);

	delim = malloc(blen + 5);
	CHECK(delim != NULL, "malloc");
	snprintf(delim, blen + 5, "\r\n--%s", b);

	/* Preamble, parts, close delimiter, epilogue. */
	if (fz_u8(f) % 2) {
		/* A preamble holds no delimiter line: no "--" at all. */
		text = fz_str(f, 20);
		for (j = 0; text[j] != '\0'; j++) {
			if (text[j] == '-')
				text[j] = '_';
		}
		adds(&body, text);
		adds(&body, "\r\n");
		free(text);
		adds(&body, delim + 2);
	} else {
		adds(&body, delim + 2);
	}
	n = 1 + fz_range(f, PARTS - 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			adds(&body, delim);
		if (fz_u8(f) % 4 == 0)
			adds(&body, " \t");
		adds(&body, "\r\n");
		name_of[i] = (int)fz_range(f, 4);
		if (fz_u8(f) % 3 == 0)
			adds(&body, "Content-Type: text/csv\r\n");
		adds(&body, fz_u8(f) % 2 ? "Content-Disposition: form-data; "
		    : "content-disposition:form-data;");
		if (fz_u8(f) % 2)
			adds(&body, "filename=\"u;sers.csv\"; ");
		adds(&body, "name=");
		if (strchr(names[name_of[i]], ' ') != NULL || fz_u8(f) % 2) {
			adds(&body, "\"");
			for (j = 0; names[name_of[i]][j] != '\0'; j++) {
				if (fz_u8(f) % 4 == 0)
					adds(&body, "\\");
				add(&body, &names[name_of[i]][j], 1);
			}
			adds(&body, "\"");
		} else {
			adds(&body, names[name_of[i]]);
		}
		adds(&body, "\r\n\r\n");
		content[i] = fz_bytes(f, 200, &clen[i]);
		/*
		 * Content must not hold a delimiter line (RFC 2046): break
		 * each up, one at its very start included, since the empty
		 * line's CRLF comes right before it.
		 */
		for (j = 0; j + blen + 4 <= clen[i]; j++) {
			if (!memcmp(content[i] + j, delim, blen + 4))
				content[i][j] = 'x';
		}
		if (clen[i] >= blen + 2 && !memcmp(content[i], delim + 2,
		    blen + 2))
			content[i][0] = 'x';
		add(&body, content[i], clen[i]);
	}
	last = body.len;
	adds(&body, delim);
	adds(&body, "--");
	if (fz_u8(f) % 2)
		adds(&body, "\r\nepilogue\r\n--not a part");

	text = fz_copy((const uint8_t *)body.s, body.len);
	for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
		for (i = 0; i < n && name_of[i] != (int)j; i++)
			;
		r = multipart_find(text, body.len, b, names[j], &data, &len);
		if (i == n) {
			CHECK(r == MULTIPART_ABSENT, "\"%s\" found (%d) in a "
			    "body without it", names[j], r);
			continue;
		}
		CHECK(r == MULTIPART_FOUND && len == clen[i] &&
		    !memcmp(data, content[i], len), "part %zu \"%s\": result "
		    "%d, %zu bytes for %zu; boundary \"%s\", body:\n%.*s", i,
		    names[j], r, len, clen[i], b, (int)body.len, body.s);
	}
	free(text);

	/* Cut before the close delimiter: no part after the cut is found. */
	text = fz_copy((const uint8_t *)body.s, last);
	r = multipart_find(text, last, b, names[name_of[n - 1]], &data, &len);
	for (i = 0; i < n - 1 && name_of[i] != name_of[n - 1]; i++)
		;
	CHECK(i < n - 1 ? r == MULTIPART_FOUND : r == MULTIPART_MALFORMED,
	    "truncated body: result %d", r);
	free(text);

	for (i = 0; i < n; i++)
		free(content[i]);
	free(delim);
	free(body.s);
	free(ct.s);
}

static void
add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			abort();
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

static int
boundary_shape(const char *b)
{
	size_t	n = strlen(b);

	return (n >= 1 && n <= MULTIPART_BOUNDARY_MAX && b[n - 1] != ' ' &&
	    strspn(b, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
	    "TUVWXYZ'()+_,-./:=? ") == n);
}
