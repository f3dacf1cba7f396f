/*
 * Query strings and pagination.
 *
 * query_parse() copies the raw query string once into q->buf and decodes
 * it in place: percent-decoding only ever shrinks a string, so every key
 * and value is a NUL-terminated slice of that one buffer and freeing it
 * frees them all. Because the decoded values are C strings handed to SQL
 * as text, a decoded NUL is refused (PostgreSQL text cannot hold one) and
 * so is invalid UTF-8 (PostgreSQL would fail the query with a 500).
 *
 * Pagination has two modes. Offset mode (page, per_page) is what the
 * contract describes. Keyset mode (after_id) skips the OFFSET scan for
 * deep pages: "WHERE id > after_id ORDER BY id LIMIT per_page" costs the
 * same on page 1 and page 10000. When after_id is given, page is ignored.
 *
 * Numbers out of range are clamped, not refused, as the contract asks;
 * that includes numbers too large for int64, so int64_scan() tells
 * "not a number" (a 400) apart from "too large" (clamped).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/query.h"
#include "core/validate.h"
#include "core/xalloc.h"

/* A growable string for the Link header. */
struct strbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static int		 decode_inplace(char *s);
static int		 hex_value(unsigned char c);
static int		 int64_scan(const char *s, int64_t *out);
static int64_t		 clamp(int64_t v, int64_t min, int64_t max);
static const char	*scan_clamped(const struct query *q, const char *key,
			    int64_t min, int64_t max, int64_t *out, int *seen);
static int		 is_page_key(const char *key);
static int		 given_later(const struct query *q, size_t i);
static int		 name_in(const char *, const char *const *);
static void		 link_append(struct strbuf *b, const char *path,
			    const struct query *q, const char *key, int64_t val,
			    int64_t per_page, const char *rel);
static void		 sb_append(struct strbuf *b, const char *s, size_t len);
static void		 sb_puts(struct strbuf *b, const char *s);
static void		 sb_encode(struct strbuf *b, const char *s);

int
query_parse(struct query *q, const char *qs)
{
	char	*rest, *seg, *value;

	memset(q, 0, sizeof(*q));
	q->buf = xstrdup(qs == NULL ? "" : qs);

	rest = q->buf;
	while ((seg = strsep(&rest, "&")) != NULL) {
		if (*seg == '\0')
			continue;	/* "a=1&&b=2" */
		if (q->count == QUERY_MAX_ARGS)
			return (-1);

		value = seg;
		(void)strsep(&value, "=");
		if (value == NULL)
			value = seg + strlen(seg);	/* "flag" means "" */

		if (decode_inplace(seg) == -1 || decode_inplace(value) == -1)
			return (-1);

		q->args[q->count].key = seg;
		q->args[q->count].value = value;
		q->count++;
	}

	return (0);
}

void
query_free(struct query *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

const char *
query_get(const struct query *q, const char *key)
{
	size_t	i;

	for (i = q->count; i > 0; i--) {
		if (strcmp(q->args[i - 1].key, key) == 0)
			return (q->args[i - 1].value);
	}

	return (NULL);
}

int
query_int64(const char *s, int64_t *out)
{
	int64_t	v;

	if (int64_scan(s, &v) != 0)
		return (-1);

	*out = v;
	return (0);
}

int
query_bool(const char *s, int *out)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
		*out = 1;
		return (0);
	}
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return (0);
	}

	return (-1);
}

const char *
page_parse(const struct query *q, struct page_req *p)
{
	int	seen;

	memset(p, 0, sizeof(*p));
	p->page = 1;
	p->per_page = PER_PAGE_DEFAULT;

	if (scan_clamped(q, "page", 1, PAGE_MAX, &p->page, &seen) != NULL)
		return ("page");
	p->paginated |= seen;

	if (scan_clamped(q, "per_page", 1, PER_PAGE_MAX, &p->per_page,
	    &seen) != NULL)
		return ("per_page");
	p->paginated |= seen;

	/* Ids start at 1, so any negative after_id means "from the start". */
	if (scan_clamped(q, "after_id", 0, INT64_MAX, &p->after_id,
	    &p->has_after) != NULL)
		return ("after_id");

	return (NULL);
}

int64_t
page_limit(const struct page_req *p)
{
	return (p->paginated ? p->per_page : -1);
}

int64_t
page_offset(const struct page_req *p)
{
	if (!p->paginated || p->has_after)
		return (0);

	/* page <= PAGE_MAX keeps this product inside int64. */
	return ((p->page - 1) * p->per_page);
}

const char *const page_params[] = { "page", "per_page", "after_id", NULL };

const char *
query_unknown(const struct query *q, const char *const *a,
    const char *const *b)
{
	size_t	i;

	for (i = 0; i < q->count; i++) {
		if (!name_in(q->args[i].key, a) && !name_in(q->args[i].key, b))
			return (q->args[i].key);
	}

	return (NULL);
}

char *
page_link_header(const char *path, const struct query *q,
    const struct page_req *p, const struct page_result *r)
{
	struct strbuf	b;
	int64_t		last_page;

	if (!p->paginated)
		return (NULL);

	memset(&b, 0, sizeof(b));

	/* page <= PAGE_MAX keeps page * per_page inside int64. */
	if (r->has_more && !p->has_after && p->page * p->per_page <=
	    r->offset_max)
		link_append(&b, path, q, "page", p->page + 1, p->per_page,
		    "next");
	else if (r->has_more)
		link_append(&b, path, q, "after_id", r->last_id, p->per_page,
		    "next");

	/*
	 * From beyond the end, "prev" leads back to the last real page, or
	 * to the deepest one a page number may reach.
	 */
	if (!p->has_after && p->page > 1) {
		last_page = r->total <= 0 ? 1 : (r->total - 1) / p->per_page + 1;
		if (last_page - 1 > r->offset_max / p->per_page)
			last_page = r->offset_max / p->per_page + 1;
		link_append(&b, path, q, "page",
		    p->page - 1 < last_page ? p->page - 1 : last_page,
		    p->per_page, "prev");
	}

	return (b.data);
}

/* '+' is a space; %XX must be two hex digits and must not decode to NUL. */
static int
decode_inplace(char *s)
{
	char	*in, *out;
	int	 hi, lo;

	for (in = out = s; *in != '\0'; in++) {
		if (*in == '+') {
			*out++ = ' ';
		} else if (*in == '%') {
			if ((hi = hex_value((unsigned char)in[1])) == -1 ||
			    (lo = hex_value((unsigned char)in[2])) == -1)
				return (-1);
			if (hi == 0 && lo == 0)
				return (-1);
			*out++ = (char)(hi << 4 | lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';

	return (utf8_valid(s, (size_t)(out - s)) ? 0 : -1);
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);

	return (-1);
}

/*
 * Optional '-' then decimal digits, nothing else. Returns 0, -1 when s is
 * not a number, or 1 when it is one but does not fit, with *out saturated
 * towards its sign.
 */
static int
int64_scan(const char *s, int64_t *out)
{
	uint64_t	v, limit;
	unsigned int	d;
	int		neg, over;

	neg = (*s == '-');
	if (neg)
		s++;
	if (*s == '\0')
		return (-1);

	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	v = 0;
	over = 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		d = (unsigned int)(*s - '0');
		if (v > (limit - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}

	if (over) {
		*out = neg ? INT64_MIN : INT64_MAX;
		return (1);
	}

	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;

	return (0);
}

static int64_t
clamp(int64_t v, int64_t min, int64_t max)
{
	if (v < min)
		return (min);
	if (v > max)
		return (max);

	return (v);
}

/*
 * Reads key as a number clamped to [min, max] into *out (left alone when
 * absent); *seen tells whether key was given. Returns key when its value
 * is not a number, else NULL.
 */
static const char *
scan_clamped(const struct query *q, const char *key, int64_t min,
    int64_t max, int64_t *out, int *seen)
{
	const char	*v;
	int64_t		 n;

	*seen = 0;
	if ((v = query_get(q, key)) == NULL)
		return (NULL);

	*seen = 1;
	if (int64_scan(v, &n) == -1)
		return (key);

	*out = clamp(n, min, max);
	return (NULL);
}

static int
is_page_key(const char *key)
{
	return (name_in(key, page_params));
}

static int
name_in(const char *key, const char *const *names)
{
	for (; names != NULL && *names != NULL; names++) {
		if (strcmp(key, *names) == 0)
			return (1);
	}

	return (0);
}

/*
 * A key given again later: query_get() reads the last value, so the link
 * carries that one alone. Repeats would otherwise count against
 * QUERY_MAX_ARGS twice, and a link with more arguments than the parser
 * takes would be refused when followed.
 */
static int
given_later(const struct query *q, size_t i)
{
	size_t	j;

	for (j = i + 1; j < q->count; j++) {
		if (strcmp(q->args[j].key, q->args[i].key) == 0)
			return (1);
	}

	return (0);
}

/* ", <path?other&key=val&per_page=n>; rel="rel"" */
static void
link_append(struct strbuf *b, const char *path, const struct query *q,
    const char *key, int64_t val, int64_t per_page, const char *rel)
{
	char	num[64];
	size_t	i;

	if (b->len > 0)
		sb_puts(b, ", ");

	sb_puts(b, "<");
	sb_puts(b, path);
	sb_puts(b, "?");

	for (i = 0; i < q->count; i++) {
		if (is_page_key(q->args[i].key) || given_later(q, i))
			continue;
		sb_encode(b, q->args[i].key);
		sb_puts(b, "=");
		sb_encode(b, q->args[i].value);
		sb_puts(b, "&");
	}

	(void)snprintf(num, sizeof(num), "%s=%" PRId64 "&per_page=%" PRId64,
	    key, val, per_page);
	sb_puts(b, num);
	sb_puts(b, ">; rel=\"");
	sb_puts(b, rel);
	sb_puts(b, "\"");
}

static void
sb_append(struct strbuf *b, const char *s, size_t len)
{
	/* Room for the data and a NUL; doubling keeps appends linear. */
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}

	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void
sb_puts(struct strbuf *b, const char *s)
{
	sb_append(b, s, strlen(s));
}

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static void
sb_encode(struct strbuf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			esc[3];
	unsigned char		c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			sb_append(b, s, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 0x0f];
		sb_append(b, esc, 3);
	}
}
