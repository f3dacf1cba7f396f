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
 * Splits and percent-decodes qs ('+' is a space). qs may be NULL (empty).
 * Returns 0, or -1 on a bad escape, a decoded NUL or too many arguments;
 * q is always safe to query_free() afterwards.
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
 * clamped; a non-number returns the offending parameter name (static),
 * NULL on success.
 */
const char	*page_parse(const struct query *q, struct page_req *p);
/* LIMIT/OFFSET for SQL; limit -1 means no limit. */
int64_t		 page_limit(const struct page_req *p);
int64_t		 page_offset(const struct page_req *p);

/*
 * RFC 8288 Link header value with "next" and "prev" for a paginated list
 * at path; other query arguments of q are kept, re-encoded. last_id is the
 * largest id on this page (keyset lists continue after it). Returns a
 * malloc'd string, or NULL when there is neither a next nor a prev page.
 */
char		*page_link_header(const char *path, const struct query *q,
		    const struct page_req *p, int64_t total, int64_t last_id);

#endif
