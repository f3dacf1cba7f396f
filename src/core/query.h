/*
 * Query strings and list pagination. Kore only hands validated, declared
 * arguments to handlers and silently drops the rest; the API must answer
 * a malformed parameter with a 400 instead, so the raw query string is
 * parsed here. Pure logic, no Kore.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX_ARGS		32
#define PER_PAGE_DEFAULT	50
#define PER_PAGE_MAX		1000
/* Larger pages are clamped so that (page - 1) * per_page fits in int64. */
#define PAGE_MAX		(INT64_MAX / PER_PAGE_MAX)

struct query_arg {
	char	*key;
	char	*value;
};

struct query {
	struct query_arg	 args[QUERY_MAX_ARGS];
	size_t			 count;
	char			*buf;	/* owns every key and value */
};

/*
 * Splits and percent-decodes qs, the part after '?' ('+' is a space; a key
 * without '=' has the value ""; empty segments are skipped). qs may be
 * NULL (empty). Returns 0, or -1 on a bad escape, a decoded NUL, a key or
 * value that is not valid UTF-8 once decoded, or more than QUERY_MAX_ARGS
 * arguments; q is always safe to query_free() afterwards.
 */
int		 query_parse(struct query *q, const char *qs);
void		 query_free(struct query *q);
/* The last value given for key, or NULL. */
const char	*query_get(const struct query *q, const char *key);

/* Strict decimal integer, optional leading '-', no spaces; 0 or -1. */
int		 query_int64(const char *s, int64_t *out);
/* true/false/1/0 (case-insensitive words); 0 or -1. */
int		 query_bool(const char *s, int *out);

struct page_req {
	int	paginated;	/* page or per_page was given */
	int64_t	page;		/* >= 1 */
	int64_t	per_page;	/* 1..PER_PAGE_MAX */
	int	has_after;
	int64_t	after_id;	/* keyset: only ids > after_id */
};

/*
 * Reads page, per_page and after_id from q. Out-of-range numbers are
 * clamped (page to 1..PAGE_MAX, per_page to 1..PER_PAGE_MAX, after_id to
 * >= 0), including numbers too large for int64; a non-number (also an
 * empty value) returns the offending parameter name (static), NULL on
 * success. after_id alone does not make the list paginated; with after_id,
 * page is ignored (keyset mode).
 */
const char	*page_parse(const struct query *q, struct page_req *p);
/* LIMIT/OFFSET for SQL; limit -1 means no limit; offset is 0 in keyset mode. */
int64_t		 page_limit(const struct page_req *p);
int64_t		 page_offset(const struct page_req *p);

/* What a page turned out to hold, for its Link header. */
struct page_result {
	int64_t	total;		/* rows matching the filters (a lower bound
				   when larger than any page can reach) */
	int64_t	last_id;	/* largest id on this page, 0 when empty */
	int	has_more;	/* rows follow last_id */
	int64_t	offset_max;	/* deepest OFFSET a page number may reach */
};

/*
 * RFC 8288 Link header value with "next" and "prev" for a paginated list
 * at path; other query arguments of q are kept in order, percent-encoded
 * (RFC 3986 unreserved characters stay), a repeated key once with its
 * last value (the one query_get() read), followed by page (or after_id)
 * and per_page. Every link parses back with query_parse() as long as q
 * has at most QUERY_MAX_ARGS - 2 distinct other keys (the API's list
 * routes take a handful):
 *   </users?email=a%40b.c&page=3&per_page=10>; rel="next",
 *   </users?email=a%40b.c&page=1&per_page=10>; rel="prev"
 *
 * "next" exists when has_more. In offset mode it is page + 1 while that
 * page starts within offset_max rows, and after_id=last_id beyond: a
 * client that follows the links walks into keyset mode instead of into
 * a refused page. "prev" (offset mode only; keyset cannot express it)
 * exists when page > 1 and points at the last non-empty page when page is
 * beyond the end (or at the deepest page offset_max allows, if sooner).
 *
 * Returns a malloc'd string, or NULL when the list is not paginated or
 * there is neither a next nor a prev page.
 */
char		*page_link_header(const char *path, const struct query *q,
		    const struct page_req *p, const struct page_result *r);

/* The paging parameters every list accepts, NULL-terminated. */
extern const char *const page_params[];

/*
 * The first argument of q whose key is in neither list (both
 * NULL-terminated; either may be NULL), or NULL when all are known.
 */
const char	*query_unknown(const struct query *q, const char *const *a,
		    const char *const *b);

#endif
