/*
 * /events: create with strict types and existing references, read,
 * delete, and the url_id / user_id / event_type filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(events, .timeout = 60);

static void	expect_event_shape(const json_t *e);
static void	expect_rejected(const char *body, const char *field);
static json_t	*post_event(json_int_t url_id, json_int_t user_id,
		    const char *type, const char *details_json);

static void
expect_event_shape(const json_t *e)
{
	cr_assert(json_is_object(e), "event is not an object");
	cr_expect(jint(e, "id") > 0);
	cr_expect(json_is_string(json_object_get(e, "event_type")));
	cr_expect(is_timestamp(jstr(e, "timestamp")), "timestamp: %s",
	    jstr(e, "timestamp"));
	cr_expect(json_is_object(json_object_get(e, "details")),
	    "details must always be an object");
	cr_expect_eq(json_object_size(e), 6, "an event is exactly {id, url_id, "
	    "user_id, event_type, timestamp, details}");
}

static json_t *
post_event(json_int_t url_id, json_int_t user_id, const char *type,
    const char *details_json)
{
	struct http_resp	*r;

	if (details_json != NULL)
		r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":"
		    "%lld,\"event_type\":\"%s\",\"details\":%s}",
		    (long long)url_id, (long long)user_id, type, details_json);
	else
		r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":"
		    "%lld,\"event_type\":\"%s\"}", (long long)url_id,
		    (long long)user_id, type);
	cr_assert_eq(r->status, 201, "POST /events: %ld %s", r->status,
	    r->body);
	expect_location(r, "events");
	return (take_json(r));
}

Test(events, create_returns_201_and_the_event)
{
	struct http_resp	*r;
	json_t			*user, *url, *e, *want;
	const char		*details = "{\"channel\":\"email\",\"n\":3,"
				    "\"nested\":{\"a\":[1,2,null]},\"ok\":true}";

	url = make_user_url(&user);
	e = post_event(jint(url, "id"), jint(user, "id"), "share", details);
	expect_event_shape(e);
	cr_expect_eq(jint(e, "url_id"), jint(url, "id"));
	cr_expect_eq(jint(e, "user_id"), jint(user, "id"));
	cr_expect_str_eq(jstr(e, "event_type"), "share");
	want = json_loads(details, 0, NULL);
	cr_expect(json_equal(json_object_get(e, "details"), want),
	    "details must round-trip");
	json_decref(want);

	r = http_get(pathf("/events/%lld", (long long)jint(e, "id")));
	cr_assert_eq(r->status, 200);
	cr_expect(json_equal(r->json, e), "GET differs from POST: %s", r->body);
	http_free(r);
	r = http_get(pathf("/events/%lld/", (long long)jint(e, "id")));
	cr_expect_eq(r->status, 200, "/events/<id>/: %ld", r->status);
	http_free(r);
	json_decref(e);
	json_decref(url);
	json_decref(user);
}

Test(events, details_default_to_an_empty_object)
{
	json_t	*user, *url, *e;

	url = make_user_url(&user);
	e = post_event(jint(url, "id"), jint(user, "id"), "view", NULL);
	cr_expect(json_is_object(json_object_get(e, "details")) &&
	    json_object_size(json_object_get(e, "details")) == 0,
	    "absent details must be {}");
	json_decref(e);
	json_decref(url);
	json_decref(user);
}

Test(events, details_unicode_round_trips)
{
	json_t	*user, *url, *e, *d;

	url = make_user_url(&user);
	e = post_event(jint(url, "id"), jint(user, "id"), "note",
	    "{\"note\":\"caf\\u00e9 \\ud83d\\ude00\"}");
	d = json_object_get(e, "details");
	cr_expect_str_eq(jstr(d, "note"), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_decref(e);
	json_decref(url);
	json_decref(user);
}

Test(events, unknown_fields_are_ignored)
{
	struct http_resp	*r;
	json_t			*user, *url;

	url = make_user_url(&user);
	r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":%lld,"
	    "\"event_type\":\"x\",\"id\":1,\"timestamp\":\"nope\","
	    "\"other\":[1]}", (long long)jint(url, "id"),
	    (long long)jint(user, "id"));
	cr_expect_eq(r->status, 201, "%ld %s", r->status, r->body);
	if (r->status == 201) {
		cr_expect_neq(jint(r->json, "id"), 1);
		cr_expect(is_timestamp(jstr(r->json, "timestamp")));
		cr_expect_null(json_object_get(r->json, "other"));
	}
	http_free(r);
	json_decref(url);
	json_decref(user);
}

static void
expect_rejected(const char *body, const char *field)
{
	struct http_resp	*r;

	r = http_send("POST", "/events", body);
	cr_expect_eq(r->status, 422, "POST /events %.200s: expected 422, got "
	    "%ld %.300s", body, r->status, r->body);
	if (r->status == 422)
		expect_error(r, 422, field);
	http_free(r);
}

Test(events, details_must_be_an_object)
{
	json_t		*user, *url;
	char		 body[512];
	size_t		 i;
	static const char *bad[] = { "\"x\"", "[1]", "3", "true", "\"{}\"" };

	url = make_user_url(&user);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"url_id\":%lld,\"user_id\":%lld,"
		    "\"event_type\":\"x\",\"details\":%s}",
		    (long long)jint(url, "id"), (long long)jint(user, "id"),
		    bad[i]);
		expect_rejected(body, "details");
	}
	json_decref(url);
	json_decref(user);
}

Test(events, unknown_references_are_404)
{
	struct http_resp	*r;
	json_t			*user, *url;

	url = make_user_url(&user);
	r = http_sendf("POST", "/events", "{\"url_id\":999999999999,\"user_id\":"
	    "%lld,\"event_type\":\"x\"}", (long long)jint(user, "id"));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":"
	    "999999999999,\"event_type\":\"x\"}", (long long)jint(url, "id"));
	expect_error(r, 404, NULL);
	http_free(r);

	/* A deleted URL no longer exists either. */
	r = http_delete(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 204);
	http_free(r);
	r = http_sendf("POST", "/events", "{\"url_id\":%lld,\"user_id\":%lld,"
	    "\"event_type\":\"x\"}", (long long)jint(url, "id"),
	    (long long)jint(user, "id"));
	expect_error(r, 404, NULL);
	http_free(r);
	json_decref(url);
	json_decref(user);
}

Test(events, ids_must_be_integers)
{
	json_t		*user, *url;
	char		 body[512];
	long long	 uid, lid;

	url = make_user_url(&user);
	uid = (long long)jint(user, "id");
	lid = (long long)jint(url, "id");

#define E_CASE(field, fmt, ...) do {					\
	snprintf(body, sizeof(body), fmt, __VA_ARGS__);			\
	expect_rejected(body, field);					\
} while (0)
	E_CASE("url_id", "{\"url_id\":\"%lld\",\"user_id\":%lld,"
	    "\"event_type\":\"x\"}", lid, uid);
	E_CASE("url_id", "{\"url_id\":true,\"user_id\":%lld,"
	    "\"event_type\":\"x\"}", uid);
	E_CASE("url_id", "{\"url_id\":%lld.5,\"user_id\":%lld,"
	    "\"event_type\":\"x\"}", lid, uid);
	E_CASE("url_id", "{\"url_id\":null,\"user_id\":%lld,"
	    "\"event_type\":\"x\"}", uid);
	E_CASE("url_id", "{\"user_id\":%lld,\"event_type\":\"x\"}", uid);
	E_CASE("user_id", "{\"url_id\":%lld,\"user_id\":\"%lld\","
	    "\"event_type\":\"x\"}", lid, uid);
	E_CASE("user_id", "{\"url_id\":%lld,\"user_id\":false,"
	    "\"event_type\":\"x\"}", lid);
	E_CASE("user_id", "{\"url_id\":%lld,\"user_id\":%lld.25,"
	    "\"event_type\":\"x\"}", lid, uid);
	E_CASE("user_id", "{\"url_id\":%lld,\"event_type\":\"x\"}", lid);
#undef E_CASE
	json_decref(url);
	json_decref(user);
}

Test(events, event_type_rules)
{
	json_t		*user, *url, *e;
	char		 body[512], type[80];
	long long	 uid, lid;
	size_t		 i;
	static const char *bad[] = { "\"\"", "123", "null", "true", "[\"x\"]" };

	url = make_user_url(&user);
	uid = (long long)jint(user, "id");
	lid = (long long)jint(url, "id");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"url_id\":%lld,\"user_id\":%lld,"
		    "\"event_type\":%s}", lid, uid, bad[i]);
		expect_rejected(body, "event_type");
	}
	snprintf(body, sizeof(body), "{\"url_id\":%lld,\"user_id\":%lld}", lid,
	    uid);
	expect_rejected(body, "event_type");

	memset(type, 't', 65);
	type[65] = '\0';
	snprintf(body, sizeof(body), "{\"url_id\":%lld,\"user_id\":%lld,"
	    "\"event_type\":\"%s\"}", lid, uid, type);
	expect_rejected(body, "event_type");

	type[64] = '\0';
	e = post_event(lid, uid, type, NULL);
	cr_expect_str_eq(jstr(e, "event_type"), type, "64 characters is fine");
	json_decref(e);
	json_decref(url);
	json_decref(user);
}

Test(events, get_and_delete_by_id)
{
	struct http_resp	*r;
	json_t			*user, *url, *e;
	const char		*path;

	url = make_user_url(&user);
	e = post_event(jint(url, "id"), jint(user, "id"), "temp", "{}");
	path = pathf("/events/%lld", (long long)jint(e, "id"));

	r = http_delete(path);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->body);
	http_free(r);
	r = http_get(path);
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_delete(path);
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get("/events/999999999999");
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_delete("/events/999999999999");
	expect_error(r, 404, NULL);
	http_free(r);
	json_decref(e);
	json_decref(url);
	json_decref(user);
}

Test(events, filters_combine)
{
	json_t		*user, *a, *b, *e1, *e2, *e3, *list;
	json_int_t	 uid;
	const char	*type = uniq("kind");
	size_t		 i;

	a = make_user_url(&user);
	uid = jint(user, "id");
	b = make_url(uid, "https://example.com/b", NULL);
	e1 = post_event(jint(a, "id"), uid, type, "{\"k\":1}");
	e2 = post_event(jint(a, "id"), uid, "view", NULL);
	e3 = post_event(jint(b, "id"), uid, type, NULL);

	list = get_list("/events?url_id=%lld", (long long)jint(a, "id"));
	cr_expect_eq(json_array_size(list), 3, "created + 2 posted for url a");
	expect_ascending_ids(list);
	for (i = 0; i < json_array_size(list); i++) {
		expect_event_shape(json_array_get(list, i));
		cr_expect_eq(jint(json_array_get(list, i), "url_id"),
		    jint(a, "id"));
	}
	json_decref(list);

	list = get_list("/events?url_id=%lld&event_type=%s",
	    (long long)jint(a, "id"), type);
	cr_assert_eq(json_array_size(list), 1);
	cr_expect(json_equal(json_array_get(list, 0), e1));
	json_decref(list);

	list = get_list("/events?event_type=%s", type);
	cr_assert_eq(json_array_size(list), 2);
	cr_expect_eq(jint(json_array_get(list, 0), "id"), jint(e1, "id"));
	cr_expect_eq(jint(json_array_get(list, 1), "id"), jint(e3, "id"));
	json_decref(list);

	list = get_list("/events?user_id=%lld", (long long)uid);
	cr_expect_eq(json_array_size(list), 5, "2 created + 3 posted");
	expect_ascending_ids(list);
	json_decref(list);

	list = get_list("/events?user_id=%lld&url_id=%lld&event_type=view",
	    (long long)uid, (long long)jint(a, "id"));
	cr_assert_eq(json_array_size(list), 1);
	cr_expect_eq(jint(json_array_get(list, 0), "id"), jint(e2, "id"));
	json_decref(list);

	list = get_list("/events?url_id=%lld&event_type=%s",
	    (long long)jint(b, "id"), "no-such-type");
	cr_expect_eq(json_array_size(list), 0);
	json_decref(list);

	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
	json_decref(a);
	json_decref(b);
	json_decref(user);
}

Test(events, bad_filter_values_are_400)
{
	struct http_resp	*r;

	r = http_get("/events?url_id=abc");
	expect_error(r, 400, NULL);
	http_free(r);
	r = http_get("/events?user_id=1x");
	expect_error(r, 400, NULL);
	http_free(r);
}
