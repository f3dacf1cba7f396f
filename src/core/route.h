/*
 * The API's route table and the matcher that maps a request path onto it.
 *
 * Kore routes every path to one dispatcher (see conf/shortener.conf) so that
 * an unknown path or a wrong method is answered with the API's JSON error
 * and an Allow header, which Kore's own 404/405 cannot do. Matching is a
 * walk over path segments, no regular expressions. Pure logic, no Kore.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#define ROUTE_GET	0x01
#define ROUTE_HEAD	0x02
#define ROUTE_POST	0x04
#define ROUTE_PUT	0x08
#define ROUTE_DELETE	0x10
#define ROUTE_PATCH	0x20
#define ROUTE_OPTIONS	0x40

enum route_id {
	ROUTE_USERS = 0,
	ROUTE_USERS_BULK,
	ROUTE_USER,
	ROUTE_URLS,
	ROUTE_URL,
	ROUTE_URL_STATS,
	ROUTE_URL_REDIRECT,
	ROUTE_EVENTS,
	ROUTE_EVENT,
	ROUTE_KEYS,
	ROUTE_KEY,
	ROUTE_HEALTH,
	ROUTE_READY,
	ROUTE_METRICS,
	ROUTE_REDIRECT,
	ROUTE_HOME,		/* the web app */
	ROUTE_DOCS,		/* the API reference */
	ROUTE_OPENAPI,
	ROUTE_STATIC,		/* /static/<file>: assets/ */
	ROUTE_URL_QR_SVG,
	ROUTE_URL_QR_PNG,
	ROUTE_NOT_FOUND,	/* no route: still has a template for metrics */
	ROUTE_COUNT
};

struct route {
	enum route_id	 id;
	const char	*template;	/* "/urls/:id": a metrics label */
};

struct route_match {
	const struct route	*route;
	const char		*param;		/* the :id, :code or :file segment */
	size_t			 param_len;
};

/*
 * Matches path (no query string). A single trailing slash is ignored.
 * Always fills m: an unknown path matches the ROUTE_NOT_FOUND entry.
 */
void			 route_match(const char *path, struct route_match *m);
const struct route	*route_get(enum route_id id);
/*
 * The matched :id, :code or :file as a C string in buf (len > 0): 0, or -1
 * with buf holding "" when it does not fit. A route without a parameter
 * gives "".
 */
int			 route_param_copy(const struct route_match *m, char *buf,
			    size_t len);
/*
 * "GET, HEAD, POST": for the Allow header; buf of at least 64 bytes. The
 * methods a route has are the endpoints' (http/router.h), not here.
 */
void			 route_allow(int methods, char *buf, size_t len);

#endif
