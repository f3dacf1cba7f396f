/*
 * The error body.
 *
 * Every error the service sends, whether a handler's 422 or a hook's 413,
 * goes through apierror_body() so clients see one shape:
 *   {"error":"not found","code":"not_found","status":404}
 * Keys are emitted in that order (JSON_PRESERVE_ORDER) so bodies are
 * byte-for-byte stable, which keeps logs and tests readable.
 *
 * An error path has nowhere to report its own failure, so this never
 * returns NULL: allocation failure aborts, like kore_malloc(). A message
 * or code that is not valid UTF-8 (jansson refuses it) falls back to the
 * standard one for the status rather than failing.
 */

#include <stdlib.h>
#include <string.h>

#include "core/apierror.h"

struct status_text {
	int		 status;
	const char	*code;
	const char	*message;
};

static const struct status_text	*status_lookup(int status);
static json_t			*text_or(const char *s, const char *fallback);
static json_t			*must(json_t *json);

static const struct status_text	statuses[] = {
	{ 400, "bad_request",		"bad request" },
	{ 401, "unauthorized",		"unauthorized" },
	{ 403, "forbidden",		"forbidden" },
	{ 404, "not_found",		"not found" },
	{ 405, "method_not_allowed",	"method not allowed" },
	{ 408, "request_timeout",	"request timeout" },
	{ 409, "conflict",		"conflict" },
	{ 411, "length_required",	"length required" },
	{ 413, "payload_too_large",	"payload too large" },
	{ 414, "uri_too_long",		"URI too long" },
	{ 422, "validation_failed",	"validation failed" },
	{ 429, "rate_limited",		"rate limited" },
	{ 500, "internal_error",	"internal error" },
	{ 503, "service_unavailable",	"service unavailable" },
	{ 0, NULL, NULL }
};

const char *
apierror_code(int status)
{
	const struct status_text	*st;

	if ((st = status_lookup(status)) == NULL)
		return ("error");

	return (st->code);
}

const char *
apierror_message(int status)
{
	const struct status_text	*st;

	if ((st = status_lookup(status)) == NULL)
		return ("error");

	return (st->message);
}

char *
apierror_body(int status, const char *code, const char *msg,
    json_t *fields, size_t *len)
{
	json_t	*root;
	char	*body;

	root = must(json_object());
	if (json_object_set_new(root, "error",
	    text_or(msg, apierror_message(status))) == -1 ||
	    json_object_set_new(root, "code",
	    text_or(code, apierror_code(status))) == -1 ||
	    json_object_set_new(root, "status",
	    must(json_integer(status))) == -1)
		abort();

	/* json_object_set() takes its own reference: fields stays borrowed. */
	if (fields != NULL && json_object_set(root, "fields", fields) == -1)
		abort();

	body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (body == NULL)
		abort();

	if (len != NULL)
		*len = strlen(body);

	return (body);
}

static const struct status_text *
status_lookup(int status)
{
	size_t	i;

	for (i = 0; statuses[i].code != NULL; i++) {
		if (statuses[i].status == status)
			return (&statuses[i]);
	}

	return (NULL);
}

static json_t *
text_or(const char *s, const char *fallback)
{
	json_t	*json;

	if (s != NULL && (json = json_string(s)) != NULL)
		return (json);

	return (must(json_string(fallback)));
}

/* jansson constructors only fail on allocation (or invalid UTF-8). */
static json_t *
must(json_t *json)
{
	if (json == NULL)
		abort();

	return (json);
}
