/*
 * The integration suite's HTTP client: one call per request, over libcurl
 * (or a raw socket for requests curl will not shape), against the service
 * named by SHORTENER_URL.
 *
 * Every response goes through the contract checks that hold for every
 * request whatever the endpoint (see check_response in client.c): a body
 * that is not a 204 or a HEAD answer is JSON with a JSON Content-Type,
 * every error has exactly the error shape with the code of its status,
 * X-Request-Id is present (and echoed when the request sent one), and no
 * status is a 5xx other than 503. The tests themselves then only assert
 * what is particular to the endpoint.
 */
#ifndef ITEST_CLIENT_H
#define ITEST_CLIENT_H

#include <stddef.h>
#include <jansson.h>

/* flags of http_request() */
#define HTTP_RELAXED	0x01	/* 414-style: status only, JSON if a body */
#define HTTP_NO_ERRSHAPE 0x02	/* an error body need not be the error shape */
#define HTTP_TEXT	0x04	/* a body that is not JSON (GET /metrics) */

struct http_header {
	char	*name;
	char	*value;
};

struct http_resp {
	long			 status;
	char			*body;		/* NUL-terminated copy */
	size_t			 body_len;
	struct http_header	*headers;
	size_t			 nheaders;
	json_t			*json;		/* NULL unless the body parsed */
	double			 elapsed;	/* seconds */
	int			 transport_error; /* curl/socket failure */
};

/* "http://127.0.0.1:41234" without a trailing slash. */
const char		*client_base_url(void);
/*
 * 1 when SHORTENER_URL is the public port (SHORTENER_BEHIND_NGINX=1, set
 * by the stack tests), where nginx answers what Kore would refuse.
 */
int			 client_behind_nginx(void);

/*
 * headers: NULL or a NULL-terminated list of "Name: value". A body without
 * a Content-Type header in headers is sent as application/json.
 */
struct http_resp	*http_request(const char *method, const char *path,
			    const char *const *headers, const void *body,
			    size_t body_len, int flags);
struct http_resp	*http_get(const char *path);
struct http_resp	*http_head(const char *path);
struct http_resp	*http_delete(const char *path);
/* JSON text bodies, sent verbatim. */
struct http_resp	*http_send(const char *method, const char *path,
			    const char *json_text);
/* The same with a printf format for the body. */
struct http_resp	*http_sendf(const char *method, const char *path,
			    const char *fmt, ...)
			    __attribute__((format(printf, 3, 4)));
/* A json_t body (not stolen). */
struct http_resp	*http_send_json(const char *method, const char *path,
			    json_t *body);
/* printf-style path. */
struct http_resp	*http_getf(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2)));

/*
 * multipart/form-data with one file part (field name, file name, data),
 * plus an optional plain text part when extra_field is not NULL.
 */
struct http_resp	*http_multipart(const char *path, const char *field,
			    const char *filename, const void *data, size_t len,
			    const char *extra_field, const char *extra_value);

/*
 * Raw bytes on a fresh TCP connection (the request should carry
 * "Connection: close"); the answer is parsed and checked like any other.
 */
struct http_resp	*http_raw(const void *req, size_t len, int flags);

/* Case-insensitive; the first value or NULL. */
const char		*http_header(const struct http_resp *r,
			    const char *name);
void			 http_free(struct http_resp *r);

/*
 * Asserts r is the error of that status: shape, code and status checked.
 * For 422, field (when not NULL) must be a key of "fields".
 */
void			 expect_error(const struct http_resp *r, long status,
			    const char *field);

#endif
