/*
 * /urls: create (random and custom codes), read, partial update with its
 * `updated` events, delete with its `deleted` event, strict validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(urls, .timeout = 60);

static void	expect_url_shape(const json_t *u);
static int	is_random_code(const char *s);
static void	expect_post_rejected(const char *body, const char *field);
static void	expect_put_rejected(json_int_t id, const char *body,
		    const char *field);
static json_t	*events_of(json_int_t url_id, const char *type);
static const char *custom_code(void);

static void
expect_url_shape(const json_t *u)
{
	json_t	*title = json_object_get(u, "title");

	cr_assert(json_is_object(u), "url is not an object");
	cr_expect(jint(u, "id") > 0);
	cr_expect(jint(u, "user_id") > 0);
	cr_expect(json_is_string(json_object_get(u, "short_code")));
	cr_expect(json_is_string(json_object_get(u, "original_url")));
	cr_expect(title != NULL && (json_is_null(title) ||
	    json_is_string(title)), "title must be a string or null");
	cr_expect(json_is_boolean(json_object_get(u, "is_active")),
	    "is_active must be a boolean");
	cr_expect(is_timestamp(jstr(u, "created_at")), "created_at: %s",
	    jstr(u, "created_at"));
	cr_expect(is_timestamp(jstr(u, "updated_at")), "updated_at: %s",
	    jstr(u, "updated_at"));
	cr_expect_str_eq(jstr(u, "short_url"),
	    pathf("%s/%s", public_base_url(), jstr(u, "short_code")),
	    "short_url is the public base URL and the code");
	/* The lifecycle fields (docs/api.md): null without expiry or cap. */
	cr_expect(json_object_get(u, "expires_at") != NULL &&
	    json_object_get(u, "max_clicks") != NULL &&
	    json_object_get(u, "clicks_left") != NULL,
	    "expires_at, max_clicks and clicks_left are there");
	cr_expect_eq(json_object_size(u), 12, "a URL is exactly {id, user_id, "
	    "short_code, short_url, original_url, title, is_active, "
	    "created_at, updated_at, expires_at, max_clicks, clicks_left}");
}

static int
is_random_code(const char *s)
{
	size_t	i;

	if (strlen(s) != 6)
		return (0);
	for (i = 0; i < 6; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return (0);
	return (1);
}

/* A fresh custom alias: [A-Za-z0-9_-], at most 32 characters. */
static const char *
custom_code(void)
{
	const char	*u = uniq("c");

	return (pathf("%.32s", u));
}

static json_t *
events_of(json_int_t url_id, const char *type)
{
	return (get_list("/events?url_id=%lld&event_type=%s",
	    (long long)url_id, type));
}

Test(urls, create_returns_201_and_the_url)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url;
	const char		*target = "https://example.com/a/b?c=d&e=f#frag";

	r = http_sendf("POST", "/urls", "{\"user_id\":%lld,\"original_url\":\"%s\"}",
	    (long long)jint(u, "id"), target);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	expect_location(r, "urls");
	url = take_json(r);
	expect_url_shape(url);
	cr_expect_eq(jint(url, "user_id"), jint(u, "id"));
	cr_expect_str_eq(jstr(url, "original_url"), target);
	cr_expect(is_random_code(jstr(url, "short_code")),
	    "a random code is 6 of [A-Za-z0-9]: %s", jstr(url, "short_code"));
	cr_expect(json_is_true(json_object_get(url, "is_active")),
	    "is_active defaults to true");
	cr_expect(json_is_null(json_object_get(url, "title")),
	    "title defaults to null");

	r = http_get(pathf("/urls/%lld", (long long)jint(url, "id")));
	cr_assert_eq(r->status, 200);
	cr_expect(json_equal(r->json, url), "GET differs from POST: %s",
	    r->body);
	http_free(r);
	r = http_get(pathf("/urls/%lld/", (long long)jint(url, "id")));
	cr_expect_eq(r->status, 200, "/urls/<id>/: %ld", r->status);
	cr_expect(json_equal(r->json, url));
	http_free(r);
	json_decref(url);
	json_decref(u);
}

Test(urls, create_writes_a_created_event)
{
	json_t		*url = make_user_url(NULL), *ev, *e, *d;

	ev = events_of(jint(url, "id"), "created");
	cr_assert_eq(json_array_size(ev), 1, "one created event: %zu",
	    json_array_size(ev));
	e = json_array_get(ev, 0);
	cr_expect_eq(jint(e, "url_id"), jint(url, "id"));
	cr_expect_eq(jint(e, "user_id"), jint(url, "user_id"));
	cr_expect_str_eq(jstr(e, "event_type"), "created");
	d = json_object_get(e, "details");
	cr_assert(json_is_object(d), "details must be an object");
	cr_expect_str_eq(jstr(d, "short_code"), jstr(url, "short_code"));
	cr_expect_str_eq(jstr(d, "original_url"), jstr(url, "original_url"));
	json_decref(ev);
	json_decref(url);
}

Test(urls, same_url_twice_gets_two_codes)
{
	json_t	*u = make_user(), *a, *b;

	a = make_url(jint(u, "id"), "https://example.com/same", NULL);
	b = make_url(jint(u, "id"), "https://example.com/same", NULL);
	cr_expect_neq(jint(a, "id"), jint(b, "id"));
	cr_expect_str_neq(jstr(a, "short_code"), jstr(b, "short_code"));
	json_decref(a);
	json_decref(b);
	json_decref(u);
}

Test(urls, custom_code_is_kept_and_taken_code_is_409)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url, *list;
	const char		*code = custom_code();

	url = make_url(jint(u, "id"), "https://example.com/custom",
	    json_pack("{s:s}", "short_code", code));
	cr_expect_str_eq(jstr(url, "short_code"), code);

	r = http_sendf("POST", "/urls", "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/other\",\"short_code\":\"%s\"}",
	    (long long)jint(u, "id"), code);
	expect_error(r, 409, NULL);
	http_free(r);

	list = get_list("/urls?short_code=%s", qenc(code));
	cr_expect_eq(json_array_size(list), 1);
	cr_expect_str_eq(jstr(json_array_get(list, 0), "original_url"),
	    "https://example.com/custom", "the 409 must not overwrite");
	json_decref(list);
	json_decref(url);
	json_decref(u);
}

static void
expect_post_rejected(const char *body, const char *field)
{
	struct http_resp	*r;

	r = http_send("POST", "/urls", body);
	cr_expect_eq(r->status, 422, "POST /urls %.200s: expected 422, got "
	    "%ld %.300s", body, r->status, r->body);
	if (r->status == 422)
		expect_error(r, 422, field);
	http_free(r);
}

Test(urls, reserved_custom_codes_are_422)
{
	json_t		*u = make_user();
	char		 body[512];
	size_t		 i;
	static const char *reserved[] = {
		"users", "urls", "events", "health", "ready", "metrics",
		"docs", "static", "openapi.json", "favicon.ico", "robots.txt",
	};

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
		    "\"https://example.com/r\",\"short_code\":\"%s\"}",
		    (long long)jint(u, "id"), reserved[i]);
		expect_post_rejected(body, "short_code");
	}
	json_decref(u);
}

Test(urls, badly_shaped_custom_codes_are_422)
{
	json_t		*u = make_user();
	char		 body[512];
	size_t		 i;
	static const char *bad[] = {
		"\"a\"", "\"ab\"", "\"has space\"", "\"sl/ash\"", "\"dot.x\"",
		"\"\"", "\"abcdefghijklmnopqrstuvwxyz0123456\"",
		"\"\\u00e9t\\u00e9\"", "123456", "true", "[\"abc\"]",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
		    "\"https://example.com/r\",\"short_code\":%s}",
		    (long long)jint(u, "id"), bad[i]);
		expect_post_rejected(body, "short_code");
	}
	json_decref(u);
}

Test(urls, custom_codes_of_3_and_32_characters_are_accepted)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url;
	char			 code[40];
	const char		*tag = uniq("x");
	static const char	 alnum[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int			 i, created = 0;

	/* 32: the unique tag padded with '_' */
	snprintf(code, sizeof(code), "%-32.32s", tag);
	for (i = 0; i < 32; i++)
		if (code[i] == ' ')
			code[i] = '_';
	url = make_url(jint(u, "id"), "https://example.com/32",
	    json_pack("{s:s}", "short_code", code));
	cr_expect_str_eq(jstr(url, "short_code"), code);
	json_decref(url);

	/* 3: random ones until one is free (a taken one is a 409). */
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (i = 0; i < 40 && !created; i++) {
		code[0] = alnum[random() % 62];
		code[1] = alnum[random() % 62];
		code[2] = alnum[random() % 62];
		code[3] = '\0';
		r = http_sendf("POST", "/urls", "{\"user_id\":%lld,"
		    "\"original_url\":\"https://example.com/3\","
		    "\"short_code\":\"%s\"}", (long long)jint(u, "id"), code);
		cr_expect(r->status == 201 || r->status == 409,
		    "3-character code %s: %ld %s", code, r->status, r->body);
		if (r->status == 201) {
			created = 1;
			cr_expect_str_eq(jstr(r->json, "short_code"), code);
		}
		http_free(r);
	}
	cr_expect(created, "no 3-character code was accepted");
	json_decref(u);
}

Test(urls, unknown_user_is_404)
{
	struct http_resp	*r;

	r = http_send("POST", "/urls", "{\"user_id\":999999999999,"
	    "\"original_url\":\"https://example.com/x\"}");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(urls, user_id_must_be_an_integer)
{
	json_t		*u = make_user();
	char		 body[512];
	size_t		 i;
	const char	*bad[] = {
		"\"%lld\"", "true", "%lld.5", "null", "[%lld]", "{\"id\":%lld}",
	};
	char		 val[64];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(val, sizeof(val), bad[i], (long long)jint(u, "id"));
#pragma GCC diagnostic pop
		snprintf(body, sizeof(body), "{\"user_id\":%s,\"original_url\":"
		    "\"https://example.com/t\"}", val);
		expect_post_rejected(body, "user_id");
	}
	expect_post_rejected("{\"original_url\":\"https://example.com/t\"}",
	    "user_id");
	json_decref(u);
}

Test(urls, invalid_original_urls_are_422)
{
	json_t		*u = make_user();
	char		*body, *longurl;
	size_t		 i;
	static const char *bad[] = {
		"\"hello\"", "\"example.com\"", "\"ftp://x\"",
		"\"ftp://example.com/file\"", "\"javascript:alert(1)\"",
		"\"mailto:a@example.com\"", "\"//example.com/x\"",
		"\"http://\"", "\"https://\"", "\"http:// example.com\"",
		"\"http://exa mple.com/\"", "\"https://example.com/a b\"",
		"\"https://example.com/\\ttab\"",
		"\"https://example.com/\\u0001ctl\"",
		"\"https://example.com/\\nnl\"", "\"\"", "null", "5", "true",
		"[\"https://example.com\"]",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (asprintf(&body, "{\"user_id\":%lld,\"original_url\":%s}",
		    (long long)jint(u, "id"), bad[i]) < 0)
			cr_assert_fail();
		expect_post_rejected(body, "original_url");
		free(body);
	}
	if (asprintf(&body, "{\"user_id\":%lld}", (long long)jint(u, "id")) < 0)
		cr_assert_fail();
	expect_post_rejected(body, "original_url");
	free(body);

	/* 2049 characters: one over. */
	longurl = malloc(2050);
	cr_assert_not_null(longurl);
	memset(longurl, 'a', 2049);
	memcpy(longurl, "https://example.com/", 20);
	longurl[2049] = '\0';
	if (asprintf(&body, "{\"user_id\":%lld,\"original_url\":\"%s\"}",
	    (long long)jint(u, "id"), longurl) < 0)
		cr_assert_fail();
	expect_post_rejected(body, "original_url");
	free(body);
	free(longurl);
	json_decref(u);
}

Test(urls, valid_original_urls_are_accepted)
{
	json_t		*u = make_user(), *url;
	char		*longurl;
	size_t		 i;
	static const char *good[] = {
		"http://example.net:8080/x", "https://example.com",
		"https://sub.example.co.uk/a/b?c=d&e=%20f#g",
		"http://93.184.216.34:9/path", "https://example.com/caf%C3%A9",
	};

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		url = make_url(jint(u, "id"), good[i], NULL);
		cr_expect_str_eq(jstr(url, "original_url"), good[i]);
		json_decref(url);
	}
	/* Exactly 2048 characters. */
	longurl = malloc(2049);
	cr_assert_not_null(longurl);
	memset(longurl, 'b', 2048);
	memcpy(longurl, "https://example.com/", 20);
	longurl[2048] = '\0';
	url = make_url(jint(u, "id"), longurl, NULL);
	cr_expect_str_eq(jstr(url, "original_url"), longurl);
	json_decref(url);
	free(longurl);
	json_decref(u);
}

Test(urls, title_rules)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url;
	char			 title[512], body[1024];
	int			 i;

	url = make_url(jint(u, "id"), "https://example.com/t",
	    json_pack("{s:s}", "title", "Hello \xe2\x9c\x93"));
	cr_expect_str_eq(jstr(url, "title"), "Hello \xe2\x9c\x93");
	json_decref(url);

	url = make_url(jint(u, "id"), "https://example.com/t",
	    json_pack("{s:n}", "title"));
	cr_expect(json_is_null(json_object_get(url, "title")));
	json_decref(url);

	/* 200 two-byte characters: within the limit. */
	for (i = 0; i < 200; i++)
		memcpy(title + 2 * i, "\xc3\xa9", 2);
	title[400] = '\0';
	snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/t\",\"title\":\"%s\"}",
	    (long long)jint(u, "id"), title);
	r = http_send("POST", "/urls", body);
	cr_expect_eq(r->status, 201, "a 200-character title: %ld %s",
	    r->status, r->body);
	http_free(r);

	memset(title, 'x', 201);
	title[201] = '\0';
	snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/t\",\"title\":\"%s\"}",
	    (long long)jint(u, "id"), title);
	expect_post_rejected(body, "title");
	snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/t\",\"title\":5}", (long long)jint(u, "id"));
	expect_post_rejected(body, "title");
	snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/t\",\"title\":true}",
	    (long long)jint(u, "id"));
	expect_post_rejected(body, "title");
	json_decref(u);
}

Test(urls, is_active_is_a_strict_boolean)
{
	json_t		*u = make_user(), *url;
	char		 body[512];
	size_t		 i;
	static const char *bad[] = { "1", "0", "\"true\"", "\"false\"", "null" };

	url = make_url(jint(u, "id"), "https://example.com/inactive",
	    json_pack("{s:b}", "is_active", 0));
	cr_expect(json_is_false(json_object_get(url, "is_active")));
	json_decref(url);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"user_id\":%lld,\"original_url\":"
		    "\"https://example.com/t\",\"is_active\":%s}",
		    (long long)jint(u, "id"), bad[i]);
		expect_post_rejected(body, "is_active");
	}
	json_decref(u);
}

Test(urls, unknown_id_is_404)
{
	struct http_resp	*r;

	r = http_get("/urls/999999999999");
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get("/urls/999999999999/");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(urls, put_title_writes_one_updated_event_and_bumps_updated_at)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev, *d;
	json_int_t		 id = jint(url, "id");
	const char		*title = uniq("New title");

	sleep_ms(1100);	/* timestamps have one-second resolution */
	r = http_sendf("PUT", pathf("/urls/%lld", (long long)id),
	    "{\"title\":\"%s\"}", title);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	expect_url_shape(r->json);
	cr_expect_str_eq(jstr(r->json, "title"), title);
	cr_expect_str_eq(jstr(r->json, "original_url"),
	    jstr(url, "original_url"));
	cr_expect_str_eq(jstr(r->json, "short_code"), jstr(url, "short_code"));
	cr_expect(json_is_true(json_object_get(r->json, "is_active")));
	cr_expect_str_eq(jstr(r->json, "created_at"), jstr(url, "created_at"));
	cr_expect_str_gt(jstr(r->json, "updated_at"), jstr(url, "updated_at"),
	    "updated_at must move forward");
	http_free(r);

	r = http_get(pathf("/urls/%lld", (long long)id));
	cr_expect_str_eq(jstr(r->json, "title"), title);
	cr_expect_str_gt(jstr(r->json, "updated_at"), jstr(url, "updated_at"));
	http_free(r);

	ev = events_of(id, "updated");
	cr_assert_eq(json_array_size(ev), 1, "one updated event per changed "
	    "field, got %zu", json_array_size(ev));
	d = json_object_get(json_array_get(ev, 0), "details");
	cr_expect_str_eq(jstr(d, "field"), "title");
	cr_expect_str_eq(jstr(d, "new_value"), title);
	cr_expect_eq(jint(json_array_get(ev, 0), "user_id"),
	    jint(url, "user_id"));
	json_decref(ev);
	json_decref(url);
}

Test(urls, put_several_fields_writes_one_event_each)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev, *d, *nv;
	json_int_t		 id = jint(url, "id");
	int			 seen_title = 0, seen_active = 0, seen_url = 0;
	size_t			 i;

	r = http_send("PUT", pathf("/urls/%lld", (long long)id),
	    "{\"title\":\"T2\",\"is_active\":false,"
	    "\"original_url\":\"https://example.net/moved\"}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_expect_str_eq(jstr(r->json, "title"), "T2");
	cr_expect(json_is_false(json_object_get(r->json, "is_active")));
	cr_expect_str_eq(jstr(r->json, "original_url"),
	    "https://example.net/moved");
	http_free(r);

	ev = events_of(id, "updated");
	cr_expect_eq(json_array_size(ev), 3, "three changed fields, three "
	    "events: %zu", json_array_size(ev));
	for (i = 0; i < json_array_size(ev); i++) {
		d = json_object_get(json_array_get(ev, i), "details");
		nv = json_object_get(d, "new_value");
		if (strcmp(jstr(d, "field"), "title") == 0) {
			seen_title++;
			cr_expect_str_eq(jstr(d, "new_value"), "T2");
		} else if (strcmp(jstr(d, "field"), "is_active") == 0) {
			seen_active++;
			cr_expect(json_is_false(nv) || (json_is_string(nv) &&
			    strcmp(json_string_value(nv), "false") == 0),
			    "is_active new_value must say false");
		} else if (strcmp(jstr(d, "field"), "original_url") == 0) {
			seen_url++;
			cr_expect_str_eq(jstr(d, "new_value"),
			    "https://example.net/moved");
		}
	}
	cr_expect(seen_title == 1 && seen_active == 1 && seen_url == 1,
	    "events for title/is_active/original_url: %d/%d/%d", seen_title,
	    seen_active, seen_url);
	json_decref(ev);
	json_decref(url);
}

Test(urls, put_unchanged_value_writes_no_event)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev;
	json_int_t		 id = jint(url, "id");

	r = http_sendf("PUT", pathf("/urls/%lld", (long long)id),
	    "{\"original_url\":\"%s\",\"is_active\":true}",
	    jstr(url, "original_url"));
	cr_expect_eq(r->status, 200, "%ld %s", r->status, r->body);
	http_free(r);
	ev = events_of(id, "updated");
	cr_expect_eq(json_array_size(ev), 0, "nothing changed, no updated "
	    "event: %zu", json_array_size(ev));
	json_decref(ev);
	json_decref(url);
}

Test(urls, put_title_null_clears_it)
{
	struct http_resp	*r;
	json_t			*u = make_user(), *url, *ev, *d;

	url = make_url(jint(u, "id"), "https://example.com/titled",
	    json_pack("{s:s}", "title", "to be cleared"));
	r = http_send("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    "{\"title\":null}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_expect(json_is_null(json_object_get(r->json, "title")),
	    "title null clears it: %s", r->body);
	http_free(r);
	ev = events_of(jint(url, "id"), "updated");
	cr_assert_eq(json_array_size(ev), 1);
	d = json_object_get(json_array_get(ev, 0), "details");
	cr_expect_str_eq(jstr(d, "field"), "title");
	cr_expect(json_is_null(json_object_get(d, "new_value")),
	    "new_value of a cleared title is null: %s",
	    json_dumps(d, JSON_COMPACT));
	json_decref(ev);
	json_decref(url);
	json_decref(u);
}

static void
expect_put_rejected(json_int_t id, const char *body, const char *field)
{
	struct http_resp	*r;

	r = http_send("PUT", pathf("/urls/%lld", (long long)id), body);
	cr_expect_eq(r->status, 422, "PUT %s: expected 422, got %ld %s", body,
	    r->status, r->body);
	if (r->status == 422)
		expect_error(r, 422, field);
	http_free(r);
}

Test(urls, put_invalid_values_are_422_and_change_nothing)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev;
	json_int_t		 id = jint(url, "id");
	char			 body[512];

	expect_put_rejected(id, "{\"is_active\":1}", "is_active");
	expect_put_rejected(id, "{\"is_active\":\"false\"}", "is_active");
	expect_put_rejected(id, "{\"is_active\":null}", "is_active");
	expect_put_rejected(id, "{\"original_url\":\"hello\"}", "original_url");
	expect_put_rejected(id, "{\"original_url\":\"javascript:alert(1)\"}",
	    "original_url");
	expect_put_rejected(id, "{\"original_url\":null}", "original_url");
	expect_put_rejected(id, "{\"title\":5}", "title");
	memset(body, 0, sizeof(body));
	strcpy(body, "{\"title\":\"");
	memset(body + 10, 'y', 201);
	strcat(body, "\"}");
	expect_put_rejected(id, body, "title");
	/* A valid field beside an invalid one: nothing is applied. */
	expect_put_rejected(id, "{\"title\":\"ok\",\"is_active\":0}",
	    "is_active");

	r = http_get(pathf("/urls/%lld", (long long)id));
	cr_expect(json_equal(r->json, url), "a 422 must change nothing: %s",
	    r->body);
	http_free(r);
	ev = events_of(id, "updated");
	cr_expect_eq(json_array_size(ev), 0);
	json_decref(ev);
	json_decref(url);
}

Test(urls, put_unknown_is_404)
{
	struct http_resp	*r;

	r = http_send("PUT", "/urls/999999999999", "{\"title\":\"x\"}");
	expect_error(r, 404, NULL);
	http_free(r);
}

Test(urls, delete_writes_deleted_event_and_stops_the_link)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL), *ev, *d;
	json_int_t		 id = jint(url, "id");
	const char		*code = jstr(url, "short_code");

	r = http_delete(pathf("/urls/%lld", (long long)id));
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->body);
	http_free(r);

	ev = events_of(id, "deleted");
	cr_assert_eq(json_array_size(ev), 1, "one deleted event");
	d = json_object_get(json_array_get(ev, 0), "details");
	cr_expect_str_eq(jstr(d, "reason"), "user_requested");
	cr_expect_str_eq(jstr(d, "short_code"), code);
	json_decref(ev);

	r = http_get(pathf("/urls/%lld", (long long)id));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get(pathf("/%s", code));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_get(pathf("/urls/%s/redirect", code));
	expect_error(r, 404, NULL);
	http_free(r);
	r = http_delete(pathf("/urls/%lld", (long long)id));
	expect_error(r, 404, NULL);
	http_free(r);

	sleep_ms(500);
	ev = events_of(id, "click");
	cr_expect_eq(json_array_size(ev), 0, "a 404 redirect writes no click");
	json_decref(ev);
	json_decref(url);
}

Test(urls, list_filter_by_short_code)
{
	json_t	*url = make_user_url(NULL), *list;

	list = get_list("/urls?short_code=%s", jstr(url, "short_code"));
	cr_assert_eq(json_array_size(list), 1);
	cr_expect(json_equal(json_array_get(list, 0), url));
	json_decref(list);
	list = get_list("/urls?short_code=%s", "zz-no-such-code-zz");
	cr_expect_eq(json_array_size(list), 0);
	json_decref(list);
	json_decref(url);
}
