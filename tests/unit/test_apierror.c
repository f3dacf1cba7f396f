/*
 * The error body: codes per status, exact compact bytes in key order,
 * borrowed fields, and the fallbacks that keep it from ever failing.
 */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/apierror.h"

static void	body_is(int status, const char *code, const char *msg,
		    json_t *fields, const char *want);

Test(apierror, codes)
{
	static const struct {
		int		 status;
		const char	*code;
	} cases[] = {
		{ 400, "bad_request" },
		{ 401, "unauthorized" },
		{ 403, "forbidden" },
		{ 404, "not_found" },
		{ 405, "method_not_allowed" },
		{ 408, "request_timeout" },
		{ 409, "conflict" },
		{ 411, "length_required" },
		{ 413, "payload_too_large" },
		{ 414, "uri_too_long" },
		{ 422, "validation_failed" },
		{ 429, "rate_limited" },
		{ 500, "internal_error" },
		{ 503, "service_unavailable" },
		{ 418, "error" },
		{ 502, "error" },
		{ 200, "error" },
		{ 0, "error" },
		{ -1, "error" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_str_eq(apierror_code(cases[i].status),
		    cases[i].code, "status %d", cases[i].status);
	}
}

Test(apierror, messages)
{
	cr_assert_str_eq(apierror_message(404), "not found");
	cr_assert_str_eq(apierror_message(422), "validation failed");
	cr_assert_str_eq(apierror_message(503), "service unavailable");
	cr_assert_str_eq(apierror_message(418), "error");
}

Test(apierror, default_body)
{
	body_is(404, NULL, NULL, NULL,
	    "{\"error\":\"not found\",\"code\":\"not_found\",\"status\":404}");
	body_is(405, NULL, NULL, NULL,
	    "{\"error\":\"method not allowed\","
	    "\"code\":\"method_not_allowed\",\"status\":405}");
	body_is(418, NULL, NULL, NULL,
	    "{\"error\":\"error\",\"code\":\"error\",\"status\":418}");
}

Test(apierror, custom_code_and_message)
{
	body_is(409, "email_taken", "email already exists", NULL,
	    "{\"error\":\"email already exists\",\"code\":\"email_taken\","
	    "\"status\":409}");
	body_is(400, NULL, "bad query parameter: page", NULL,
	    "{\"error\":\"bad query parameter: page\","
	    "\"code\":\"bad_request\",\"status\":400}");
}

Test(apierror, escapes_message)
{
	body_is(400, NULL, "say \"hi\"\n\\ caf\xc3\xa9", NULL,
	    "{\"error\":\"say \\\"hi\\\"\\n\\\\ caf\xc3\xa9\","
	    "\"code\":\"bad_request\",\"status\":400}");
}

Test(apierror, invalid_utf8_falls_back)
{
	body_is(404, "bad\xff", "no\xc0\xaf", NULL,
	    "{\"error\":\"not found\",\"code\":\"not_found\",\"status\":404}");
}

Test(apierror, fields_borrowed)
{
	json_t	*fields;

	fields = json_object();
	cr_assert_not_null(fields);
	cr_assert_eq(json_object_set_new(fields, "email",
	    json_string("must contain exactly one '@'")), 0);
	cr_assert_eq(json_object_set_new(fields, "username",
	    json_string("must not be blank")), 0);

	body_is(422, NULL, NULL, fields,
	    "{\"error\":\"validation failed\",\"code\":\"validation_failed\","
	    "\"status\":422,\"fields\":{\"email\":"
	    "\"must contain exactly one '@'\","
	    "\"username\":\"must not be blank\"}}");

	/* Still ours, exactly once: apierror_body took and gave back a ref. */
	cr_assert_eq(fields->refcount, 1);
	json_decref(fields);
}

Test(apierror, body_parses_back)
{
	json_t		*root;
	json_error_t	 err;
	char		*body;
	size_t		 len;

	body = apierror_body(429, NULL, "slow down", NULL, &len);
	root = json_loadb(body, len, 0, &err);
	cr_assert_not_null(root, "%s", err.text);
	cr_assert_str_eq(json_string_value(json_object_get(root, "error")),
	    "slow down");
	cr_assert_str_eq(json_string_value(json_object_get(root, "code")),
	    "rate_limited");
	cr_assert_eq(json_integer_value(json_object_get(root, "status")),
	    429);
	cr_assert_null(json_object_get(root, "fields"));
	json_decref(root);
	free(body);
}

Test(apierror, len_may_be_null)
{
	char	*body;

	body = apierror_body(500, NULL, NULL, NULL, NULL);
	cr_assert_str_eq(body, "{\"error\":\"internal error\","
	    "\"code\":\"internal_error\",\"status\":500}");
	free(body);
}

static void
body_is(int status, const char *code, const char *msg, json_t *fields,
    const char *want)
{
	char	*body;
	size_t	 len;

	len = 0;
	body = apierror_body(status, code, msg, fields, &len);
	cr_assert_not_null(body);
	cr_expect_str_eq(body, want);
	cr_expect_eq(len, strlen(body));
	free(body);
}
