/*
 * Routing: any request path (Kore hands the module a C string of up to
 * 2000 bytes) through route_match(), and the dispatcher's copy of the
 * matched :id or :code (route_param_copy, into the same 64 bytes as
 * struct api_ctx).
 *
 * Properties: the match is a real route whose parameter lies inside the
 * path, has no '/', and is there exactly when the template has one; a
 * short code has a short code's shape; the copy is the parameter or ""
 * when it does not fit; the same path with a trailing slash matches the
 * same way; rebuilding the path from the template and the parameter
 * matches again (round trip). The Allow list (route_allow) of a method
 * mask taken from the input's last byte reads back as that mask: which
 * methods a route has is the endpoint table's (api/routes.c), above the
 * core, so any mask is fuzzed instead.
 */

#include <string.h>

#include "core/route.h"
#include "core/shortcode.h"
#include "fuzz.h"

#define PARAM_SIZE	64	/* sizeof(((struct api_ctx *)0)->param) */

static void	check_match(const char *, const struct route_match *);
static void	check_copy(const struct route_match *);
static void	check_rebuild(const struct route_match *);
static void	check_allow(int);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_match	 m, again;
	char			*path, *slashed;
	size_t			 len;

	path = fz_cstr(data, size);
	len = strlen(path);
	route_match(path, &m);
	check_match(path, &m);
	check_copy(&m);
	check_allow(size > 0 ? data[size - 1] & 0x7f : 0);

	if (m.route->id != ROUTE_NOT_FOUND) {
		check_rebuild(&m);
		if (len > 1 && path[len - 1] != '/') {
			if ((slashed = malloc(len + 2)) == NULL)
				abort();
			memcpy(slashed, path, len);
			memcpy(slashed + len, "/", 2);
			route_match(slashed, &again);
			CHECK(again.route == m.route &&
			    again.param_len == m.param_len &&
			    (m.param_len == 0 ||
			    !memcmp(again.param, m.param, m.param_len)),
			    "\"%s\" and its trailing-slash twin differ", path);
			free(slashed);
		}
	}

	free(path);
	return (0);
}

static void
check_match(const char *path, const struct route_match *m)
{
	const struct route	*r = m->route;
	int			 has_param;

	CHECK(r != NULL && r->id < ROUTE_COUNT && route_get(r->id) == r,
	    "no route for \"%s\"", path);
	has_param = strchr(r->template, ':') != NULL;
	if (m->param == NULL) {
		CHECK(m->param_len == 0 && (!has_param ||
		    r->id == ROUTE_NOT_FOUND), "\"%s\": %s without its "
		    "parameter", path, r->template);
		return;
	}
	CHECK(has_param, "\"%s\": a parameter for %s", path, r->template);
	CHECK(m->param >= path && m->param + m->param_len <= path +
	    strlen(path) && m->param_len > 0, "\"%s\": parameter outside the "
	    "path", path);
	CHECK(memchr(m->param, '/', m->param_len) == NULL,
	    "\"%s\": a '/' in the parameter", path);
	if (r->id == ROUTE_REDIRECT)
		CHECK(shortcode_is_wellformed(m->param, m->param_len),
		    "\"%s\": a redirect to a malformed code", path);
}

static void
check_copy(const struct route_match *m)
{
	char	buf[PARAM_SIZE];
	int	rc;

	memset(buf, 'x', sizeof(buf));
	rc = route_param_copy(m, buf, sizeof(buf));
	if (m->param_len < sizeof(buf)) {
		CHECK(rc == 0 && strlen(buf) == m->param_len &&
		    !memcmp(buf, m->param != NULL ? m->param : "",
		    m->param_len), "copy of a %zu-byte parameter",
		    m->param_len);
	} else {
		CHECK(rc == -1 && buf[0] == '\0', "copy of a %zu-byte "
		    "parameter into %zu bytes", m->param_len, sizeof(buf));
	}
}

/* The template with its parameter put back matches the same way. */
static void
check_rebuild(const struct route_match *m)
{
	const char		*t = m->route->template, *colon, *rest;
	struct route_match	 again;
	char			*path;
	size_t			 n;

	if ((colon = strchr(t, ':')) == NULL) {
		route_match(t, &again);
		CHECK(again.route == m->route, "%s does not match itself", t);
		return;
	}
	rest = strchr(colon, '/');
	if (rest == NULL)
		rest = colon + strlen(colon);
	n = (size_t)(colon - t);
	if ((path = malloc(n + m->param_len + strlen(rest) + 1)) == NULL)
		abort();
	memcpy(path, t, n);
	memcpy(path + n, m->param, m->param_len);
	strcpy(path + n + m->param_len, rest);
	route_match(path, &again);
	CHECK(again.route == m->route && again.param_len == m->param_len &&
	    !memcmp(again.param, m->param, m->param_len),
	    "%s rebuilt as \"%s\" matches %s", t, path, again.route->template);
	free(path);
}

/* "GET, HEAD, ...": each name once, in table order, all of the bits. */
static void
check_allow(int methods)
{
	static const char	*names[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"
	};
	char			 buf[64], *p, *tok;
	int			 seen = 0, i, last = -1;

	route_allow(methods, buf, sizeof(buf));
	for (p = buf; (tok = strsep(&p, ",")) != NULL;) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		for (i = 0; i < 7 && strcmp(tok, names[i]) != 0; i++)
			;
		CHECK(i < 7 && i > last, "Allow \"%s\" for %#x", buf, methods);
		seen |= 1 << i;
		last = i;
	}
	CHECK(seen == methods, "Allow \"%s\" for %#x", buf, methods);
}
