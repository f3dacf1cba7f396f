/*
 * Each resource's body reader: required and optional fields, nulls, the
 * defaults the handlers bind, and one 422 listing every problem.
 */

#include <string.h>

#include <criterion/criterion.h>

#include "core/bodies.h"

/* 2026-01-01T00:00:00: the readers' clock, passed in. */
#define NOW	INT64_C(1767225600)

static json_t *
parse(const char *text)
{
	json_t	*j = json_loads(text, JSON_ALLOW_NUL, NULL);

	cr_assert_not_null(j, "test JSON must parse: %s", text);
	return (j);
}

static const char *
problem(json_t *errors, const char *field)
{
	return (json_string_value(json_object_get(errors, field)));
}

Test(bodies, user_create_and_update)
{
	struct user_body	 b;
	json_t			*body, *errors;

	body = parse("{\"username\":\"ann\",\"email\":\"a@b.co\",\"x\":1}");
	errors = json_object();
	cr_expect_eq(body_user(body, 1, &b, errors), 0);
	cr_expect_eq(b.username_len, 3);
	cr_expect(!strcmp(b.email, "a@b.co"));
	json_decref(body);

	body = parse("{\"email\":\"a@b.co\"}");
	cr_expect_eq(body_user(body, 0, &b, errors), 0, "update takes either");
	cr_expect_null(b.username);
	cr_expect_eq(body_user(body, 1, &b, errors), -1);
	cr_expect_str_eq(problem(errors, "username"), "is required");
	json_decref(body);
	json_decref(errors);
}

Test(bodies, every_problem_at_once)
{
	struct url_body	 b;
	json_t		*body, *errors;

	body = parse("{\"user_id\":\"1\",\"original_url\":\"ftp://x\","
	    "\"title\":7,\"is_active\":1,\"short_code\":\"users\"}");
	errors = json_object();
	cr_expect_eq(body_url_create(body, NOW, FIELD_REQUIRED, &b, errors), -1);
	cr_expect_eq(json_object_size(errors), 5);
	cr_expect_str_eq(problem(errors, "user_id"), "must be an integer");
	cr_expect_str_eq(problem(errors, "is_active"), "must be a boolean");
	cr_expect_str_eq(problem(errors, "short_code"), "is a reserved word");
	json_decref(body);
	json_decref(errors);
}

Test(bodies, url_defaults_and_nulls)
{
	struct url_body	 b;
	json_t		*body, *errors;

	errors = json_object();
	body = parse("{\"user_id\":4,\"original_url\":\"https://e.co/\","
	    "\"title\":null,\"short_code\":null}");
	cr_expect_eq(body_url_create(body, NOW, FIELD_REQUIRED, &b, errors), 0);
	cr_expect_eq(b.user_id, 4);
	cr_expect_eq(b.title, FIELD_NULL);
	cr_expect_eq(b.is_active, 1, "is_active defaults to true");
	cr_expect_null(b.short_code, "null: a random code");
	json_decref(body);

	body = parse("{\"title\":\"t\",\"is_active\":false}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), 0);
	cr_expect_null(b.original_url);
	cr_expect_eq(b.title, FIELD_SET);
	cr_expect(b.has_active && !b.is_active);
	json_decref(body);

	body = parse("{}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), 0);
	cr_expect_eq(b.title, FIELD_ABSENT);
	cr_expect(!b.has_active);
	json_decref(body);
	json_decref(errors);
}

/* expires_at later than the clock or null; max_clicks 1..10^12 or null. */
/* A key scoped to a user: user_id may be left out, and is read if given. */
Test(bodies, url_user_for_a_scoped_key)
{
	struct url_body	 b;
	json_t		*body, *errors;

	errors = json_object();
	body = parse("{\"original_url\":\"https://e.co/\"}");
	cr_expect_eq(body_url_create(body, NOW, 0, &b, errors), 0);
	cr_expect(!b.has_user_id);
	cr_expect_eq(body_url_create(body, NOW, FIELD_REQUIRED, &b, errors), -1);
	cr_expect_str_eq(problem(errors, "user_id"), "is required");
	json_object_clear(errors);
	json_decref(body);

	body = parse("{\"user_id\":7,\"original_url\":\"https://e.co/\"}");
	cr_expect_eq(body_url_create(body, NOW, 0, &b, errors), 0);
	cr_expect(b.has_user_id && b.user_id == 7);
	json_decref(body);
	json_decref(errors);
}

Test(bodies, url_lifecycle)
{
	struct url_body	 b;
	json_t		*body, *errors;

	errors = json_object();
	body = parse("{\"user_id\":4,\"original_url\":\"https://e.co/\","
	    "\"expires_at\":\"2026-01-01T00:00:01\",\"max_clicks\":1}");
	cr_expect_eq(body_url_create(body, NOW, FIELD_REQUIRED, &b, errors), 0);
	cr_expect_eq(b.expires_at, FIELD_SET);
	cr_expect_eq(b.expires_at_len, 19);
	cr_expect_eq(b.max_clicks, FIELD_SET);
	cr_expect_eq(b.max_clicks_value, 1);
	json_decref(body);

	body = parse("{\"expires_at\":null,\"max_clicks\":null}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), 0);
	cr_expect_eq(b.expires_at, FIELD_NULL, "null: no expiry");
	cr_expect_eq(b.max_clicks, FIELD_NULL, "null: no cap");
	json_decref(body);

	body = parse("{}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), 0);
	cr_expect_eq(b.expires_at, FIELD_ABSENT);
	cr_expect_eq(b.max_clicks, FIELD_ABSENT);
	json_decref(body);

	body = parse("{\"expires_at\":\"2026-01-01T00:00:00\","
	    "\"max_clicks\":1000000000001}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), -1);
	cr_expect_str_eq(problem(errors, "expires_at"), "must be in the future");
	cr_expect_str_eq(problem(errors, "max_clicks"),
	    "must be an integer from 1 to 1000000000000");
	json_object_clear(errors);
	json_decref(body);

	body = parse("{\"expires_at\":\"2027-02-30T00:00:00\","
	    "\"max_clicks\":0}");
	cr_expect_eq(body_url_update(body, NOW, &b, errors), -1);
	cr_expect_not_null(problem(errors, "expires_at"));
	cr_expect_not_null(problem(errors, "max_clicks"));
	json_decref(body);
	json_decref(errors);
}

Test(bodies, event_details)
{
	struct event_body	 b;
	json_t			*body, *errors;

	errors = json_object();
	body = parse("{\"url_id\":1,\"user_id\":2,\"event_type\":\"x\","
	    "\"details\":{\"k\":[1]}}");
	cr_expect_eq(body_event_create(body, &b, errors), 0);
	cr_expect(json_is_object(b.details));
	json_decref(body);

	body = parse("{\"url_id\":1,\"user_id\":2,\"event_type\":\"x\","
	    "\"details\":null}");
	cr_expect_eq(body_event_create(body, &b, errors), 0);
	cr_expect_null(b.details);
	json_decref(body);

	body = parse("{\"url_id\":1,\"user_id\":2,\"event_type\":\"a\\u0000\","
	    "\"details\":\"{}\"}");
	cr_expect_eq(body_event_create(body, &b, errors), -1);
	cr_expect_str_eq(problem(errors, "event_type"),
	    "must not contain NUL characters");
	cr_expect_str_eq(problem(errors, "details"), "must be a JSON object");
	json_decref(body);
	json_decref(errors);
}
