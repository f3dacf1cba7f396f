/*
 * CORS.
 *
 * The API is called with a key in a header, never with cookies, so a
 * page of another origin gains nothing from the browser's ambient
 * credentials; what CORS decides here is only which web applications may
 * call the API from a browser at all. Origins are compared whole
 * (scheme, host and port, case-insensitively, as browsers serialise
 * them); "*" allows every origin, which is safe for the same reason but
 * lets any page spend a key its user pasted in.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * needs no key and is answered by the dispatcher before the gate:
 * browsers send it without the request's headers. Every other OPTIONS
 * is answered the same way without the CORS headers: 204 and Allow.
 */

#include <string.h>
#include <strings.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "config/config.h"
#include "core/route.h"
#include "http/cors.h"

#define ORIGINS_MAX	32
#define ALLOW_HEADERS	"Content-Type, X-Api-Key, Authorization, X-Request-Id"
#define EXPOSE_HEADERS	"Location, Link, X-Total-Count, " \
			"X-Total-Count-Exact, X-Request-Id, X-Cache, " \
			"Retry-After, X-RateLimit-Limit, " \
			"X-RateLimit-Remaining, X-RateLimit-Reset"
#define MAX_AGE		"600"

static const char	*allowed(struct http_request *);
static int		 method_bit(const char *);

/* Set once per worker by cors_init(); read-only afterwards. */
static char		*origins[ORIGINS_MAX];
static size_t		 norigins;
static int		 any_origin;

void
cors_init(void)
{
	char	*list, *p, *o;
	size_t	 n;

	norigins = 0;
	list = kore_strdup(config.cors_origins);
	for (p = list; (o = strsep(&p, ", \t")) != NULL;) {
		n = strlen(o);
		while (n > 0 && o[n - 1] == '/')
			o[--n] = '\0';
		if (n == 0)
			continue;
		if (!strcmp(o, "*"))
			any_origin = 1;
		else if (norigins < ORIGINS_MAX)
			origins[norigins++] = kore_strdup(o);
	}
	kore_free(list);
}

void
cors_headers(struct http_request *req)
{
	const char	*origin;

	if (norigins == 0 && !any_origin)
		return;
	http_response_header(req, "vary", "Origin");
	if ((origin = allowed(req)) == NULL)
		return;
	http_response_header(req, "access-control-allow-origin", origin);
	http_response_header(req, "access-control-expose-headers",
	    EXPOSE_HEADERS);
}

void
cors_options(struct http_request *req, int methods)
{
	const char	*origin, *asked;
	char		 allow[96];

	route_allow(methods | ROUTE_OPTIONS, allow, sizeof(allow));
	http_response_header(req, "allow", allow);

	if ((origin = allowed(req)) != NULL &&
	    http_request_header(req, "access-control-request-method",
	    &asked) && (method_bit(asked) & methods)) {
		route_allow(methods, allow, sizeof(allow));
		http_response_header(req, "access-control-allow-methods",
		    allow);
		http_response_header(req, "access-control-allow-headers",
		    ALLOW_HEADERS);
		http_response_header(req, "access-control-max-age", MAX_AGE);
	}
	http_response(req, 204, NULL, 0);
}

/* The value of Access-Control-Allow-Origin for this request, or NULL. */
static const char *
allowed(struct http_request *req)
{
	const char	*origin;
	size_t		 i;

	if (!http_request_header(req, "origin", &origin))
		return (NULL);
	if (any_origin)
		return ("*");
	for (i = 0; i < norigins; i++) {
		if (!strcasecmp(origin, origins[i]))
			return (origin);
	}
	return (NULL);
}

static int
method_bit(const char *m)
{
	static const struct {
		const char	*name;
		int		 bit;
	} names[] = {
		{ "GET", ROUTE_GET }, { "HEAD", ROUTE_HEAD },
		{ "POST", ROUTE_POST }, { "PUT", ROUTE_PUT },
		{ "DELETE", ROUTE_DELETE }, { "PATCH", ROUTE_PATCH },
	};
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(m, names[i].name))
			return (names[i].bit);
	}
	return (0);
}
