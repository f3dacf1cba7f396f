/*
 * Responses.
 *
 * Every status the API produces goes through here, so every response has
 * the same headers and every error the same JSON shape. Every response
 * says X-Content-Type-Options: nosniff (a browser never reads an error
 * body as HTML), and every JSON body Cache-Control: no-store: API
 * answers may carry a key's view of private data, and no shared cache
 * may keep them. Request ids are
 * 32 hex digits from a per-worker counter whose start is drawn from the
 * CSPRNG once: unique across workers and replicas without a syscall per
 * request.
 */

#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "config/config.h"
#include "core/apierror.h"
#include "core/numfmt.h"
#include "core/route.h"
#include "http/respond.h"

#define REQUEST_ID_MAX	(REQUEST_ID_SIZE - 1)

static int	request_id_acceptable(const char *);
static void	content_type_json(struct http_request *);

/* Owned by this worker: seeded once, advanced per request. */
static uint64_t	request_id_prefix;
static uint64_t	request_id_counter;

void
request_id_init(void)
{
	uint64_t	seed[2];

	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		fatal("getrandom failed");
	request_id_prefix = seed[0];
	request_id_counter = seed[1];
}

void
request_id_assign(struct http_request *req, char id[REQUEST_ID_SIZE])
{
	const char	*given;

	if (http_request_header(req, "x-request-id", &given) &&
	    request_id_acceptable(given)) {
		(void)snprintf(id, REQUEST_ID_SIZE, "%s", given);
	} else {
		/* 1 500 instructions through snprintf, 100 here. */
		numfmt_hex64(id, request_id_prefix);
		numfmt_hex64(id + NUMFMT_HEX64_LEN, request_id_counter++);
		id[2 * NUMFMT_HEX64_LEN] = '\0';
	}

	http_response_header(req, "x-request-id", id);
	http_response_header(req, "x-content-type-options", "nosniff");
}

void
respond_json(struct http_request *req, int status, const void *body,
    size_t len)
{
	content_type_json(req);
	http_response(req, status, body, len);
}

void
respond_content_json(struct http_request *req)
{
	content_type_json(req);
}

void
respond_object(struct http_request *req, int status, json_t *obj)
{
	char	*body;

	body = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (body == NULL)
		fatal("json_dumps: out of memory");
	respond_json(req, status, body, strlen(body));
	free(body);
}

void
respond_error(struct http_request *req, int status, const char *code,
    const char *msg)
{
	char	*body;
	size_t	 len;

	if (code == NULL)
		code = apierror_code(status);
	if (msg == NULL)
		msg = apierror_message(status);
	body = apierror_body(status, code, msg, NULL, &len);
	respond_json(req, status, body, len);
	free(body);
}

void
respond_invalid(struct http_request *req, json_t *fields)
{
	char	*body;
	size_t	 len;

	body = apierror_body(422, apierror_code(422), "request validation failed", fields,
	    &len);
	json_decref(fields);
	respond_json(req, 422, body, len);
	free(body);
}

void
respond_invalid_field(struct http_request *req, const char *field,
    const char *problem)
{
	json_t	*fields;

	fields = json_object();
	json_object_set_new(fields, field, json_string(problem));
	respond_invalid(req, fields);
}

void
respond_retry_after(struct http_request *req)
{
	char	seconds[16];

	(void)snprintf(seconds, sizeof(seconds), "%d", config.retry_after);
	http_response_header(req, "retry-after", seconds);
}

void
respond_unavailable(struct http_request *req, const char *what)
{
	respond_retry_after(req);
	respond_error(req, 503, NULL, what);
}

void
respond_bad_method(struct http_request *req, int allowed)
{
	char	allow[64];

	route_allow(allowed, allow, sizeof(allow));
	http_response_header(req, "allow", allow);
	respond_error(req, 405, NULL, NULL);
}

void
respond_no_content(struct http_request *req)
{
	http_response(req, 204, NULL, 0);
}

void
respond_text(struct http_request *req, int status, const char *content_type,
    const void *body, size_t len)
{
	http_response_header(req, "content-type", content_type);
	http_response(req, status, body, len);
}

/*
 * A client-chosen id ends up in logs and response headers: only short,
 * printable, header-safe values are echoed.
 */
static int
request_id_acceptable(const char *id)
{
	size_t	i;

	for (i = 0; id[i] != '\0'; i++) {
		if (i >= REQUEST_ID_MAX)
			return (0);
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return (0);
	}
	return (i > 0);
}

static void
content_type_json(struct http_request *req)
{
	http_response_header(req, "content-type",
	    "application/json; charset=utf-8");
	http_response_header(req, "cache-control", "no-store");
}
