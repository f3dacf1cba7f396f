/*
 * /users: create, read, partial update, delete (with its cascade onto the
 * user's URLs but not their events), exact filters, strict validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(users, .timeout = 60);

static void	expect_user_shape(const json_t *u);
static void	expect_rejected(const char *body, const char *field,
		    const char *email);
static void	expect_put_rejected(json_int_t id, const char *body,
		    const char *field);

static void
expect_user_shape(const json_t *u)
{
	cr_assert(json_is_object(u), "user is not an object");
	cr_expect(jint(u, "id") > 0, "id must be a positive integer");
	cr_expect(json_is_string(json_object_get(u, "username")));
	cr_expect(json_is_string(json_object_get(u, "email")));
	cr_expect(is_timestamp(jstr(u, "created_at")),
	    "created_at must be YYYY-MM-DDTHH:MM:SS, is %s",
	    jstr(u, "created_at"));
	cr_expect_eq(json_object_size(u), 4,
	    "a user is exactly {id, username, email, created_at}");
}

Test(users, create_returns_201_and_the_user)
{
	struct http_resp	*r;
	json_t			*u;
	const char		*name = uniq("alice"), *email = uniq_email();

	r = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, email);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	expect_location(r, "users");
	u = take_json(r);
	expect_user_shape(u);
	cr_expect_str_eq(jstr(u, "username"), name);
	cr_expect_str_eq(jstr(u, "email"), email);
	cr_expect(labs(ts_age(jstr(u, "created_at"))) < 300,
	    "created_at must be the current UTC time, is %s",
	    jstr(u, "created_at"));

	r = http_get(pathf("/users/%lld", (long long)jint(u, "id")));
	cr_assert_eq(r->status, 200);
	cr_expect(json_equal(r->json, u), "GET differs from POST: %s", r->body);
	http_free(r);
	json_decref(u);
}

Test(users, trailing_slash_names_the_same_resource)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *list;

	r = http_get(pathf("/users/%lld/", (long long)jint(u, "id")));
	cr_expect_eq(r->status, 200, "/users/<id>/: %ld", r->status);
	cr_expect(json_equal(r->json, u));
	http_free(r);

	list = get_list("/users/?email=%s", qenc(jstr(u, "email")));
	cr_expect_eq(json_array_size(list), 1, "/users/ must list like /users");
	json_decref(list);

	r = http_sendf("POST", "/users/", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    uniq("slash"), uniq_email());
	cr_expect_eq(r->status, 201, "POST /users/: %ld %s", r->status,
	    r->body);
	http_free(r);
	json_decref(u);
}

Test(users, unknown_id_is_404)
{
	struct http_resp	*r;

	r = http_get("/users/999999999999");
	expect_error(r, 404, NULL);
	http_free(r);

	r = http_get("/users/0");
	expect_error(r, 404, NULL);
	http_free(r);

	/* Not an id at all: not a resource either (404), or a bad request. */
	r = http_get("/users/abc");
	cr_expect(r->status == 404 || r->status == 400,
	    "/users/abc: %ld", r->status);
	http_free(r);
}

Test(users, email_is_unique_case_insensitively)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *list;
	const char		*email = jstr(u, "email");
	size_t			 i;

	r = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    uniq("dup"), email);
	expect_error(r, 409, NULL);
	http_free(r);

	r = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    uniq("dup"), upper(email));
	expect_error(r, 409, NULL);
	http_free(r);

	/* The filter may match case-insensitively; only the original may show. */
	list = get_list("/users?email=%s", qenc(upper(email)));
	for (i = 0; i < json_array_size(list); i++)
		cr_expect_eq(jint(json_array_get(list, i), "id"), jint(u, "id"),
		    "the 409'd upper-case copy was stored");
	json_decref(list);
	cr_expect_eq(db_available() ? db_scalar("SELECT count(*) FROM users "
	    "WHERE lower(email) = lower($1)", 1, &email) : 1, 1);
	json_decref(u);
}

Test(users, usernames_repeat)
{
	struct http_resp	*r1, *r2;
	const char		*name = uniq("same");
	json_t			*list;

	r1 = http_sendf("POST", "/users",
	    "{\"username\":\"%s\",\"email\":\"%s\"}", name, uniq_email());
	r2 = http_sendf("POST", "/users",
	    "{\"username\":\"%s\",\"email\":\"%s\"}", name, uniq_email());
	cr_assert_eq(r1->status, 201);
	cr_assert_eq(r2->status, 201, "same username twice: %ld %s",
	    r2->status, r2->body);
	cr_expect_neq(jint(r1->json, "id"), jint(r2->json, "id"));

	list = get_list("/users?username=%s", qenc(name));
	cr_expect_eq(json_array_size(list), 2);
	expect_ascending_ids(list);
	json_decref(list);
	http_free(r1);
	http_free(r2);
}

static void
expect_rejected(const char *body, const char *field, const char *email)
{
	struct http_resp	*r;
	json_t			*list;

	r = http_send("POST", "/users", body);
	cr_expect_eq(r->status, 422, "POST /users %s: expected 422, got %ld %s",
	    body, r->status, r->body);
	if (r->status == 422)
		expect_error(r, 422, field);
	http_free(r);
	if (email != NULL) {
		list = get_list("/users?email=%s", qenc(email));
		cr_expect_eq(json_array_size(list), 0, "rejected %s was stored",
		    body);
		json_decref(list);
	}
}

Test(users, invalid_username_is_422)
{
	char		 body[1024], big[80];
	const char	*e;

	memset(big, 'x', 65);
	big[65] = '\0';
#define U_CASE(frag) do {						\
	e = uniq_email();						\
	snprintf(body, sizeof(body), "{" frag ", \"email\":\"%s\"}", e);\
	expect_rejected(body, "username", e);				\
} while (0)
	U_CASE("\"username\":\"\"");
	U_CASE("\"username\":\"   \"");
	U_CASE("\"username\":null");
	U_CASE("\"username\":123");
	U_CASE("\"username\":true");
	U_CASE("\"username\":[\"a\"]");
	U_CASE("\"username\":{\"a\":1}");
	U_CASE("\"nousername\":\"x\"");
#undef U_CASE
	e = uniq_email();
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s\"}",
	    big, e);
	expect_rejected(body, "username", e);
}

Test(users, invalid_email_is_422)
{
	char		 body[1024], big[300];
	const char	*n = uniq("bademail");
	size_t		 i;
	static const char *bad[] = {
		"\"email\":\"notanemail\"", "\"email\":\"a@b\"",
		"\"email\":\"@example.com\"", "\"email\":\"a b@example.com\"",
		"\"email\":\"a@\"", "\"email\":\"\"", "\"email\":null",
		"\"email\":5", "\"email\":true", "\"email\":[\"a@b.io\"]",
		"\"mail\":\"a@b.io\"",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"username\":\"%s\", %s}", n,
		    bad[i]);
		expect_rejected(body, "email", NULL);
	}
	/* 255 characters: one over the limit. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 255 - 12, "@example.com", 12);
	big[255] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s\"}",
	    n, big);
	expect_rejected(body, "email", big);
}

Test(users, username_length_counts_code_points)
{
	struct http_resp	*r;
	char			 name[200], body[512];
	int			 i;

	/* 64 "é" (128 bytes) is 64 characters: accepted. */
	for (i = 0; i < 64; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[128] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, uniq_email());
	r = http_send("POST", "/users", body);
	cr_expect_eq(r->status, 201, "64 two-byte characters: %ld %s",
	    r->status, r->body);
	if (r->status == 201)
		cr_expect_str_eq(jstr(r->json, "username"), name);
	http_free(r);

	/* 64 ASCII characters: accepted. */
	memset(name, 'q', 64);
	name[64] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, uniq_email());
	r = http_send("POST", "/users", body);
	cr_expect_eq(r->status, 201, "64 characters: %ld %s", r->status,
	    r->body);
	http_free(r);

	/* 65 of them: not. */
	for (i = 0; i < 65; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[130] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, uniq_email());
	expect_rejected(body, "username", NULL);
}

Test(users, unicode_escapes_round_trip_as_utf8)
{
	struct http_resp	*r;
	const char		*tag = uniq("u");
	char			 want[256];
	json_t			*list;
	json_int_t		 id;

	/* \u00e9 = é, \ud83d\ude00 = U+1F600, \u4e2d = 中 */
	r = http_sendf("POST", "/users",
	    "{\"username\":\"Jos\\u00e9 \\ud83d\\ude00 \\u4e2d %s\","
	    "\"email\":\"%s\"}", tag, uniq_email());
	cr_assert_eq(r->status, 201, "escapes must parse: %ld %s", r->status,
	    r->body);
	snprintf(want, sizeof(want), "Jos\xc3\xa9 \xf0\x9f\x98\x80 "
	    "\xe4\xb8\xad %s", tag);
	cr_expect_str_eq(jstr(r->json, "username"), want);
	/* The raw body holds UTF-8 (or escapes of it); jansson decoded it. */
	id = jint(r->json, "id");
	http_free(r);

	r = http_get(pathf("/users/%lld", (long long)id));
	cr_expect_str_eq(jstr(r->json, "username"), want);
	http_free(r);

	list = get_list("/users?username=%s", qenc(want));
	cr_expect_eq(json_array_size(list), 1,
	    "filter by a percent-encoded UTF-8 username");
	json_decref(list);
}

Test(users, unknown_fields_are_ignored)
{
	struct http_resp	*r;

	r = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\","
	    "\"nickname\":\"x\",\"admin\":true,\"extra\":{\"a\":[1,2]}}",
	    uniq("extra"), uniq_email());
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	cr_expect_null(json_object_get(r->json, "nickname"));
	cr_expect_null(json_object_get(r->json, "admin"));
	http_free(r);
}

Test(users, put_updates_username_only)
{
	struct http_resp	*r;
	json_t			*u = make_user();
	const char		*name = uniq("renamed");
	json_int_t		 id = jint(u, "id");

	r = http_sendf("PUT", pathf("/users/%lld", (long long)id),
	    "{\"username\":\"%s\"}", name);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	expect_user_shape(r->json);
	cr_expect_eq(jint(r->json, "id"), id);
	cr_expect_str_eq(jstr(r->json, "username"), name);
	cr_expect_str_eq(jstr(r->json, "email"), jstr(u, "email"));
	cr_expect_str_eq(jstr(r->json, "created_at"), jstr(u, "created_at"));
	http_free(r);

	r = http_get(pathf("/users/%lld", (long long)id));
	cr_expect_str_eq(jstr(r->json, "username"), name);
	cr_expect_str_eq(jstr(r->json, "email"), jstr(u, "email"));
	http_free(r);
	json_decref(u);
}

Test(users, put_updates_email_only)
{
	struct http_resp	*r;
	json_t			*u = make_user();
	const char		*email = uniq_email();
	json_int_t		 id = jint(u, "id");

	r = http_sendf("PUT", pathf("/users/%lld/", (long long)id),
	    "{\"email\":\"%s\"}", email);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_expect_str_eq(jstr(r->json, "email"), email);
	cr_expect_str_eq(jstr(r->json, "username"), jstr(u, "username"));
	http_free(r);

	r = http_get(pathf("/users/%lld", (long long)id));
	cr_expect_str_eq(jstr(r->json, "email"), email);
	http_free(r);
	json_decref(u);
}

Test(users, put_unknown_user_is_404)
{
	struct http_resp	*r;

	r = http_send("PUT", "/users/999999999999", "{\"username\":\"ghost\"}");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(users, put_duplicate_email_is_409)
{
	struct http_resp	*r;
	json_t			*a = make_user(), *b = make_user();
	json_int_t		 id = jint(b, "id");

	r = http_sendf("PUT", pathf("/users/%lld", (long long)id),
	    "{\"email\":\"%s\"}", upper(jstr(a, "email")));
	expect_error(r, 409, NULL);
	http_free(r);

	r = http_get(pathf("/users/%lld", (long long)id));
	cr_expect_str_eq(jstr(r->json, "email"), jstr(b, "email"),
	    "a 409 must not change the user");
	http_free(r);
	json_decref(a);
	json_decref(b);
}

Test(users, put_own_email_in_other_case_is_no_conflict)
{
	struct http_resp	*r;
	json_t			*u = make_user();

	r = http_sendf("PUT", pathf("/users/%lld", (long long)jint(u, "id")),
	    "{\"email\":\"%s\"}", upper(jstr(u, "email")));
	cr_expect_eq(r->status, 200, "re-casing one's own email: %ld %s",
	    r->status, r->body);
	http_free(r);
	json_decref(u);
}

static void
expect_put_rejected(json_int_t id, const char *body, const char *field)
{
	struct http_resp	*r;

	r = http_send("PUT", pathf("/users/%lld", (long long)id), body);
	cr_expect_eq(r->status, 422, "PUT %s: expected 422, got %ld %s", body,
	    r->status, r->body);
	if (r->status == 422)
		expect_error(r, 422, field);
	http_free(r);
}

Test(users, put_invalid_values_are_422)
{
	struct http_resp	*r;
	json_t			*u = make_user();
	json_int_t		 id = jint(u, "id");

	expect_put_rejected(id, "{\"username\":\"\"}", "username");
	expect_put_rejected(id, "{\"username\":123}", "username");
	expect_put_rejected(id, "{\"username\":null}", "username");
	expect_put_rejected(id, "{\"username\":false}", "username");
	expect_put_rejected(id, "{\"email\":\"bad\"}", "email");
	expect_put_rejected(id, "{\"email\":5}", "email");
	expect_put_rejected(id, "{\"email\":null}", "email");

	r = http_get(pathf("/users/%lld", (long long)id));
	cr_expect(json_equal(r->json, u), "a 422 must not change the user: %s",
	    r->body);
	http_free(r);
	json_decref(u);
}

Test(users, put_malformed_body_is_400)
{
	struct http_resp	*r;
	json_t			*u = make_user();

	r = http_send("PUT", pathf("/users/%lld", (long long)jint(u, "id")),
	    "username=x");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_send("PUT", pathf("/users/%lld", (long long)jint(u, "id")),
	    "[\"username\"]");
	expect_error(r, 400, NULL);
	http_free(r);
	json_decref(u);
}

Test(users, delete_is_204_then_404)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *list;
	const char		*path = pathf("/users/%lld",
				    (long long)jint(u, "id"));

	r = http_delete(path);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->body);
	http_free(r);

	r = http_get(path);
	expect_error(r, 404, NULL);
	http_free(r);

	r = http_delete(path);
	expect_error(r, 404, NULL);
	http_free(r);

	list = get_list("/users?email=%s", qenc(jstr(u, "email")));
	cr_expect_eq(json_array_size(list), 0);
	json_decref(list);
	json_decref(u);
}

Test(users, delete_unknown_is_404)
{
	struct http_resp	*r;

	r = http_delete("/users/999999999999");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(users, delete_removes_urls_but_keeps_events)
{
	struct http_resp	*r;
	json_t			*u, *url1, *url2, *ev;
	json_int_t		 uid, id1, id2;
	const char		*code1;

	url1 = make_user_url(&u);
	uid = jint(u, "id");
	url2 = make_url(uid, "https://example.org/second", NULL);
	id1 = jint(url1, "id");
	id2 = jint(url2, "id");
	code1 = jstr(url1, "short_code");

	r = http_get(pathf("/%s", code1));
	cr_assert_eq(r->status, 302, "redirect before the delete: %ld",
	    r->status);
	http_free(r);
	ev = poll_list(1, 3000, "/events?url_id=%lld&event_type=click",
	    (long long)id1);
	cr_assert_eq(json_array_size(ev), 1, "click before the delete");
	json_decref(ev);

	r = http_delete(pathf("/users/%lld", (long long)uid));
	cr_assert_eq(r->status, 204);
	http_free(r);

	r = http_get(pathf("/urls/%lld", (long long)id1));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get(pathf("/urls/%lld", (long long)id2));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get(pathf("/%s", code1));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get(pathf("/%s", jstr(url2, "short_code")));
	expect_error(r, 404, NULL);
	http_free(r);

	ev = get_list("/urls?user_id=%lld", (long long)uid);
	cr_expect_eq(json_array_size(ev), 0, "the user's URLs must be gone");
	json_decref(ev);

	/* The audit log outlives them: created + click for url1. */
	ev = get_list("/events?url_id=%lld", (long long)id1);
	cr_expect_geq(json_array_size(ev), 2, "events of a deleted user's URL "
	    "must be kept");
	json_decref(ev);
	ev = get_list("/events?user_id=%lld&event_type=created",
	    (long long)uid);
	cr_expect_eq(json_array_size(ev), 2);
	json_decref(ev);

	/* The 404 redirect after the delete wrote no click. */
	sleep_ms(500);
	ev = get_list("/events?url_id=%lld&event_type=click", (long long)id1);
	cr_expect_eq(json_array_size(ev), 1);
	json_decref(ev);
	json_decref(u);
	json_decref(url1);
	json_decref(url2);
}

Test(users, filters_are_exact)
{
	const char	*name = uniq("filt"), *ea = uniq_email(),
			*eb = uniq_email();
	struct http_resp *ra, *rb;
	json_t		*list;

	ra = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, ea);
	rb = http_sendf("POST", "/users", "{\"username\":\"%s\",\"email\":\"%s\"}",
	    name, eb);
	cr_assert_eq(ra->status, 201);
	cr_assert_eq(rb->status, 201);

	list = get_list("/users?username=%s", qenc(name));
	cr_expect_eq(json_array_size(list), 2);
	cr_expect_eq(jint(json_array_get(list, 0), "id"), jint(ra->json, "id"));
	cr_expect_eq(jint(json_array_get(list, 1), "id"), jint(rb->json, "id"));
	json_decref(list);

	list = get_list("/users?email=%s", qenc(ea));
	cr_expect_eq(json_array_size(list), 1);
	cr_expect_eq(jint(json_array_get(list, 0), "id"), jint(ra->json, "id"));
	json_decref(list);

	list = get_list("/users?username=%s&email=%s", qenc(name), qenc(eb));
	cr_expect_eq(json_array_size(list), 1);
	cr_expect_eq(jint(json_array_get(list, 0), "id"), jint(rb->json, "id"));
	json_decref(list);

	/* Exact: a prefix matches nothing. */
	list = get_list("/users?username=%.*s", (int)strlen(name) - 1, name);
	cr_expect_eq(json_array_size(list), 0, "username filter is not exact");
	json_decref(list);

	list = get_list("/users?username=%s&email=%s", qenc(name),
	    qenc(uniq_email()));
	cr_expect_eq(json_array_size(list), 0);
	json_decref(list);
	http_free(ra);
	http_free(rb);
}

Test(users, whole_list_is_a_bare_ascending_array)
{
	json_t	*u = make_user(), *list;
	size_t	 i;

	list = get_list("/users");
	cr_expect_geq(find_id(list, jint(u, "id")), 0,
	    "a new user is in the whole list");
	expect_ascending_ids(list);
	for (i = 0; i < json_array_size(list) && i < 50; i++)
		expect_user_shape(json_array_get(list, i));
	json_decref(list);
	json_decref(u);
}
