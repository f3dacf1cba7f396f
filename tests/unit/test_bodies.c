/*
 * Each resource's body reader: required and optional fields, nulls, the
 * defaults the handlers bind, and one 422 listing every problem.
 */

#include <string.h>

#include <criterion/criterion.h>

#include "core/bodies.h"

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
	cr_expect_eq(body_url_create(body, &b, errors), -1);
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
	cr_expect_eq(body_url_create(body, &b, errors), 0);
	cr_expect_eq(b.user_id, 4);
	cr_expect_eq(b.title, FIELD_NULL);
	cr_expect_eq(b.is_active, 1, "is_active defaults to true");
	cr_expect_null(b.short_code, "null: a random code");
	json_decref(body);

	body = parse("{\"title\":\"t\",\"is_active\":false}");
	cr_expect_eq(body_url_update(body, &b, errors), 0);
	cr_expect_null(b.original_url);
	cr_expect_eq(b.title, FIELD_SET);
	cr_expect(b.has_active && !b.is_active);
	json_decref(body);

	body = parse("{}");
	cr_expect_eq(body_url_update(body, &b, errors), 0);
	cr_expect_eq(b.title, FIELD_ABSENT);
	cr_expect(!b.has_active);
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
