/*
 * Route table and matcher.
 *
 * Paths are split into at most three segments; the first one picks the
 * resource, the rest its shape. A one-segment path that is no resource is
 * a short code, but only when it has a short code's shape: anything else
 * is a plain 404 and never reaches the cache or the database.
 */

#include <string.h>

#include "core/route.h"
#include "core/shortcode.h"

#define MAX_SEGMENTS	3

struct segment {
	const char	*s;
	size_t		 len;
};

static int	split_path(const char *, struct segment *, size_t *);
static int	seg_is(const struct segment *, const char *);
static void	match_users(struct segment *, size_t, struct route_match *);
static void	match_urls(struct segment *, size_t, struct route_match *);
static void	match_events(struct segment *, size_t, struct route_match *);
static void	match_keys(struct segment *, size_t, struct route_match *);
static void	found(struct route_match *, enum route_id,
		    const struct segment *);

static const struct route routes[ROUTE_COUNT] = {
	{ ROUTE_USERS,		"/users" },
	{ ROUTE_USERS_BULK,	"/users/bulk" },
	{ ROUTE_USER,		"/users/:id" },
	{ ROUTE_URLS,		"/urls" },
	{ ROUTE_URL,		"/urls/:id" },
	{ ROUTE_URL_STATS,	"/urls/:id/stats" },
	{ ROUTE_URL_REDIRECT,	"/urls/:code/redirect" },
	{ ROUTE_EVENTS,		"/events" },
	{ ROUTE_EVENT,		"/events/:id" },
	{ ROUTE_KEYS,		"/keys" },
	{ ROUTE_KEY,		"/keys/:id" },
	{ ROUTE_HEALTH,		"/health" },
	{ ROUTE_READY,		"/ready" },
	{ ROUTE_METRICS,	"/metrics" },
	{ ROUTE_REDIRECT,	"/:code" },
	{ ROUTE_HOME,		"/" },
	{ ROUTE_DOCS,		"/docs" },
	{ ROUTE_OPENAPI,	"/openapi.json" },
	{ ROUTE_STATIC,		"/static/:file" },
	{ ROUTE_URL_QR_SVG,	"/urls/:id/qr.svg" },
	{ ROUTE_URL_QR_PNG,	"/urls/:id/qr.png" },
	{ ROUTE_NOT_FOUND,	"unmatched" },
};

void
route_match(const char *path, struct route_match *m)
{
	struct segment	seg[MAX_SEGMENTS];
	size_t		n;

	found(m, ROUTE_NOT_FOUND, NULL);

	if (split_path(path, seg, &n) == -1)
		return;

	if (n == 0 && path[1] == '\0')
		found(m, ROUTE_HOME, NULL);
	else if (n == 0)
		return;
	else if (seg_is(&seg[0], "users"))
		match_users(seg, n, m);
	else if (seg_is(&seg[0], "urls"))
		match_urls(seg, n, m);
	else if (seg_is(&seg[0], "events"))
		match_events(seg, n, m);
	else if (seg_is(&seg[0], "keys"))
		match_keys(seg, n, m);
	else if (seg_is(&seg[0], "static") && n == 2)
		found(m, ROUTE_STATIC, &seg[1]);
	else if (n != 1)
		return;
	else if (seg_is(&seg[0], "docs"))
		found(m, ROUTE_DOCS, NULL);
	else if (seg_is(&seg[0], "openapi.json"))
		found(m, ROUTE_OPENAPI, NULL);
	else if (seg_is(&seg[0], "health"))
		found(m, ROUTE_HEALTH, NULL);
	else if (seg_is(&seg[0], "ready"))
		found(m, ROUTE_READY, NULL);
	else if (seg_is(&seg[0], "metrics"))
		found(m, ROUTE_METRICS, NULL);
	else if (shortcode_is_wellformed(seg[0].s, seg[0].len))
		found(m, ROUTE_REDIRECT, &seg[0]);
}

const struct route *
route_get(enum route_id id)
{
	return (&routes[id]);
}

/* m->param is NULL for routes without one: memcpy(3) may not be given it. */
int
route_param_copy(const struct route_match *m, char *buf, size_t len)
{
	buf[0] = '\0';
	if (m->param_len >= len)
		return (-1);
	if (m->param_len > 0)
		memcpy(buf, m->param, m->param_len);
	buf[m->param_len] = '\0';
	return (0);
}

void
route_allow(int methods, char *buf, size_t len)
{
	static const struct {
		int		 bit;
		const char	*name;
	} names[] = {
		{ ROUTE_GET, "GET" }, { ROUTE_HEAD, "HEAD" },
		{ ROUTE_POST, "POST" }, { ROUTE_PUT, "PUT" },
		{ ROUTE_DELETE, "DELETE" }, { ROUTE_PATCH, "PATCH" },
		{ ROUTE_OPTIONS, "OPTIONS" },
	};
	size_t		i, off;

	if (len == 0)
		return;

	buf[0] = '\0';
	off = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(methods & names[i].bit))
			continue;
		off += strlen(names[i].name) + (off ? 2 : 0);
		if (off >= len)
			return;
		if (buf[0] != '\0')
			strcat(buf, ", ");
		strcat(buf, names[i].name);
	}
}

/*
 * Splits "/a/b/c/" into segments. Empty segments ("//") and more than
 * MAX_SEGMENTS segments make the path unmatchable.
 */
static int
split_path(const char *path, struct segment *seg, size_t *count)
{
	const char	*p, *end;
	size_t		 n;

	*count = 0;
	if (path[0] != '/')
		return (-1);

	end = path + strlen(path);
	if (end - path > 1 && end[-1] == '/')
		end--;

	n = 0;
	p = path + 1;
	while (p < end) {
		const char *slash = memchr(p, '/', end - p);
		const char *stop = slash != NULL ? slash : end;

		if (stop == p || n == MAX_SEGMENTS)
			return (-1);
		seg[n].s = p;
		seg[n].len = stop - p;
		n++;
		p = stop + 1;
		if (slash != NULL && p == end)
			return (-1);
	}

	*count = n;
	return (0);
}

static int
seg_is(const struct segment *seg, const char *word)
{
	return (seg->len == strlen(word) && !memcmp(seg->s, word, seg->len));
}

static void
match_users(struct segment *seg, size_t n, struct route_match *m)
{
	if (n == 1)
		found(m, ROUTE_USERS, NULL);
	else if (n == 2 && seg_is(&seg[1], "bulk"))
		found(m, ROUTE_USERS_BULK, NULL);
	else if (n == 2)
		found(m, ROUTE_USER, &seg[1]);
}

static void
match_urls(struct segment *seg, size_t n, struct route_match *m)
{
	if (n == 1)
		found(m, ROUTE_URLS, NULL);
	else if (n == 2)
		found(m, ROUTE_URL, &seg[1]);
	else if (seg_is(&seg[2], "stats"))
		found(m, ROUTE_URL_STATS, &seg[1]);
	else if (seg_is(&seg[2], "redirect"))
		found(m, ROUTE_URL_REDIRECT, &seg[1]);
	else if (seg_is(&seg[2], "qr.svg"))
		found(m, ROUTE_URL_QR_SVG, &seg[1]);
	else if (seg_is(&seg[2], "qr.png"))
		found(m, ROUTE_URL_QR_PNG, &seg[1]);
}

static void
match_events(struct segment *seg, size_t n, struct route_match *m)
{
	if (n == 1)
		found(m, ROUTE_EVENTS, NULL);
	else if (n == 2)
		found(m, ROUTE_EVENT, &seg[1]);
}

static void
match_keys(struct segment *seg, size_t n, struct route_match *m)
{
	if (n == 1)
		found(m, ROUTE_KEYS, NULL);
	else if (n == 2)
		found(m, ROUTE_KEY, &seg[1]);
}

static void
found(struct route_match *m, enum route_id id, const struct segment *param)
{
	m->route = &routes[id];
	m->param = param != NULL ? param->s : NULL;
	m->param_len = param != NULL ? param->len : 0;
}
