/*
 * Cross-origin requests (CORS) from the browser origins the operator
 * lists in CORS_ALLOWED_ORIGINS, and the OPTIONS method: an allowed
 * origin's requests get Access-Control-Allow-Origin, its preflights the
 * methods and headers it may use; everyone else gets no CORS header, so
 * a browser keeps other sites' scripts out. Without the setting, no
 * origin is allowed.
 */
#ifndef CORS_H
#define CORS_H

struct http_request;

/* Once per worker, after config_load(). */
void	cors_init(void);
/* Every request: the headers an allowed Origin needs (and Vary). */
void	cors_headers(struct http_request *req);
/*
 * Answers OPTIONS on a route whose methods are given (ROUTE_* bits):
 * 204 with Allow and, for a preflight of one of those methods from an
 * allowed origin, the Access-Control-Allow-* headers.
 */
void	cors_options(struct http_request *req, int methods);

#endif
