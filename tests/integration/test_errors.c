/*
 * Error classes that do not belong to one resource: unknown routes, wrong
 * methods and Allow, body and URI limits, malformed and mis-encoded
 * bodies, bad query parameters, request ids, and never a 500 for anything
 * a client can send. Also the two operational endpoints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"

TestSuite(errors, .timeout = 90);
TestSuite(ops, .timeout = 30);

#define MIB	(1024 * 1024)

static int	allow_has(const char *allow, const char *method);
static void	expect_405(const char *method, const char *path,
		    const char *const *must_allow);
static char	*padded_user_body(size_t total);
static void	expect_malformed(const char *method, const char *path);
static void	expect_status(const struct http_resp *r, const char *what,
		    long status);

static int
allow_has(const char *allow, const char *method)
{
	const char	*p = allow;
	size_t		 n = strlen(method);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, method, n) == 0 && (p[n] == '\0' ||
		    p[n] == ',' || p[n] == ' '))
			return (1);
		p = strchr(p, ',');
	}
	return (0);
}

static void
expect_405(const char *method, const char *path, const char *const *must)
{
	struct http_resp	*r;
	const char		*allow;

	r = http_request(method, path, NULL, NULL, 0, 0);
	cr_expect_eq(r->status, 405, "%s %s: expected 405, got %ld %s",
	    method, path, r->status, r->body);
	allow = http_header(r, "Allow");
	cr_expect_not_null(allow, "%s %s: 405 without Allow", method, path);
	if (allow != NULL) {
		for (; *must != NULL; must++)
			cr_expect(allow_has(allow, *must), "%s %s: Allow \"%s\" "
			    "lacks %s", method, path, allow, *must);
		cr_expect(!allow_has(allow, method), "%s %s: Allow \"%s\" "
		    "lists the refused method", method, path, allow);
	}
	http_free(r);
}

/* The status a deterministic server gives, and never a 500. */
static void
expect_status(const struct http_resp *r, const char *what, long status)
{
	cr_expect_eq(r->status, status, "%s: %ld, want %ld: %.200s", what,
	    r->status, status, r->body);
}

Test(errors, unknown_routes_are_404_json)
{
	struct http_resp	*r;
	size_t			 i;
	static const char	*paths[] = {
		"/nope/deeper", "/users/1/nope", "/urls/1/stats/extra",
		"/events/1/x", "/api/users", "/users/1/urls/2",
		"/a/b/c/d/e/f",
	};

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = http_get(paths[i]);
		cr_expect_eq(r->status, 404, "%s: %ld", paths[i], r->status);
		http_free(r);
		r = http_send("POST", paths[i], "{}");
		cr_expect_eq(r->status, 404, "POST %s: %ld", paths[i], r->status);
		http_free(r);
	}
}

Test(errors, wrong_methods_are_405_with_allow)
{
	const char	*get_post[] = { "GET", "POST", NULL };
	const char	*get_put_del[] = { "GET", "PUT", "DELETE", NULL };
	const char	*get_del[] = { "GET", "DELETE", NULL };
	const char	*post[] = { "POST", NULL };
	const char	*get[] = { "GET", NULL };
	json_t		*url = make_user_url(NULL);
	const char	*code = jstr(url, "short_code");

	expect_405("DELETE", "/users", get_post);
	expect_405("PUT", "/users", get_post);
	expect_405("PATCH", "/users/", get_post);
	expect_405("PATCH", "/users/1", get_put_del);
	expect_405("POST", "/users/1", get_put_del);
	expect_405("GET", "/users/bulk", post);
	expect_405("DELETE", "/users/bulk", post);
	expect_405("DELETE", "/urls", get_post);
	expect_405("POST", "/urls/1", get_put_del);
	expect_405("PATCH", "/urls/1/", get_put_del);
	expect_405("POST", "/urls/1/stats", get);
	expect_405("PUT", "/events", get_post);
	expect_405("PUT", "/events/1", get_del);
	expect_405("POST", "/events/1", get_del);
	expect_405("POST", "/health", get);
	expect_405("DELETE", "/ready", get);
	expect_405("POST", pathf("/%s", code), get);
	expect_405("DELETE", pathf("/%s", code), get);
	expect_405("PUT", pathf("/urls/%s/redirect", code), get);
	json_decref(url);
}

Test(errors, request_id_is_echoed_or_generated)
{
	struct http_resp	*r, *r2;
	char			 hdr[128];
	const char		*hdrs[2] = { hdr, NULL };
	const char		*a, *b;

	/* The client checks the echo on every response that sent one. */
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("GET", "/health", hdrs, NULL, 0, 0));
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("GET", "/users/999999999999", hdrs, NULL, 0, 0));
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("DELETE", "/users", hdrs, NULL, 0, 0));
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("POST", "/users", hdrs, "{}", 2, 0));
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("POST", "/users", hdrs, "nope", 4, 0));
	snprintf(hdr, sizeof(hdr), "X-Request-Id: %s", uniq("rid"));
	http_free(http_request("GET", "/nOsUcHcOdE9", hdrs, NULL, 0, 0));

	r = http_get("/health");
	r2 = http_get("/health");
	a = http_header(r, "X-Request-Id");
	b = http_header(r2, "X-Request-Id");
	if (a != NULL && b != NULL)
		cr_expect_str_neq(a, b, "generated request ids must differ");
	http_free(r);
	http_free(r2);
}

/* {"username":..,"email":..,"pad":"xxx..."} of exactly total bytes. */
static char *
padded_user_body(size_t total)
{
	char	*body, head[512];
	int	 n;

	n = snprintf(head, sizeof(head), "{\"username\":\"%s\",\"email\":\"%s\","
	    "\"pad\":\"", uniq("big"), uniq_email());
	cr_assert(total > (size_t)n + 2);
	body = malloc(total + 1);
	cr_assert_not_null(body);
	memcpy(body, head, (size_t)n);
	memset(body + n, 'x', total - (size_t)n - 2);
	memcpy(body + total - 2, "\"}", 2);
	body[total] = '\0';
	return (body);
}

Test(errors, body_of_exactly_1_mib_is_accepted)
{
	struct http_resp	*r;
	char			*body = padded_user_body(MIB);

	r = http_request("POST", "/users", NULL, body, MIB, 0);
	cr_expect_eq(r->status, 201, "a 1 MiB body is within the limit: %ld "
	    "%.200s", r->status, r->body);
	http_free(r);
	free(body);
}

Test(errors, body_over_1_mib_is_413_json)
{
	struct http_resp	*r;
	json_t			*url = make_user_url(NULL);
	char			*body = padded_user_body(MIB + 1);
	char			*big = padded_user_body(2 * MIB);

	r = http_request("POST", "/users", NULL, body, MIB + 1, 0);
	expect_error(r, 413, NULL);
	http_free(r);
	r = http_request("POST", "/urls", NULL, big, 2 * MIB, 0);
	expect_error(r, 413, NULL);
	http_free(r);
	r = http_request("POST", "/events", NULL, big, 2 * MIB, 0);
	expect_error(r, 413, NULL);
	http_free(r);
	r = http_request("PUT", pathf("/urls/%lld", (long long)jint(url, "id")),
	    NULL, big, 2 * MIB, 0);
	expect_error(r, 413, NULL);
	http_free(r);
	r = http_request("PUT", pathf("/users/%lld",
	    (long long)jint(url, "user_id")), NULL, big, 2 * MIB, 0);
	expect_error(r, 413, NULL);
	http_free(r);
	free(body);
	free(big);
	json_decref(url);
}

Test(errors, any_valid_json_parses)
{
	struct http_resp	*r;
	json_t			*u = make_user();
	const char		*email = uniq_email();

	/* Escaped key names, escaped solidus, insignificant whitespace. */
	r = http_sendf("POST", "/users", " \r\n\t{ \"user\\u006eame\" :\n"
	    "\"esc\\/aped\\u0020\\\"q\\\"\" , \"\\u0065mail\":\"%s\" }\n ",
	    email);
	cr_expect_eq(r->status, 201, "escaped keys and whitespace: %ld %s",
	    r->status, r->body);
	if (r->status == 201) {
		cr_expect_str_eq(jstr(r->json, "username"), "esc/aped \"q\"");
		cr_expect_str_eq(jstr(r->json, "email"), email);
	}
	http_free(r);

	r = http_sendf("POST", "/urls", "{\"user_id\":%lld,\"original_url\":"
	    "\"https:\\/\\/example.com\\/a\\u002fb\"}", (long long)jint(u, "id"));
	cr_expect_eq(r->status, 201, "escaped URL: %ld %s", r->status, r->body);
	if (r->status == 201)
		cr_expect_str_eq(jstr(r->json, "original_url"),
		    "https://example.com/a/b");
	http_free(r);

	/* Unknown fields of any JSON type are ignored. */
	r = http_sendf("POST", "/urls", "{\"user_id\":%lld,\"original_url\":"
	    "\"https://example.com/n\",\"extra\":[1e300,-0.0,{\"a\":null}]}",
	    (long long)jint(u, "id"));
	cr_expect_eq(r->status, 201, "unknown fields of any type: %ld %s",
	    r->status, r->body);
	http_free(r);
	json_decref(u);
}

Test(errors, body_over_the_server_limit_is_413)
{
	struct http_resp	*r;
	char			 req[512];
	int			 n;

	/* Announce 64 MiB and send one byte: the length alone decides. */
	n = snprintf(req, sizeof(req), "POST /users HTTP/1.1\r\n"
	    "Host: itest\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n{", 64 * MIB);
	r = http_raw(req, (size_t)n, HTTP_RELAXED);
	cr_expect_eq(r->status, 413, "64 MiB announced: %ld", r->status);
	http_free(r);
}

Test(errors, uri_over_2000_bytes_is_414)
{
	struct http_resp	*r;
	char			*path, *req;
	int			 n;

	path = malloc(2200);
	cr_assert_not_null(path);
	strcpy(path, "/users?username=");
	memset(path + 16, 'a', 2100);
	path[2116] = '\0';
	r = http_request("GET", path, NULL, NULL, 0, HTTP_RELAXED);
	cr_expect_eq(r->status, 414, "long query: %ld", r->status);
	http_free(r);

	memset(path + 1, 'b', 2100);
	path[2101] = '\0';
	r = http_request("GET", path, NULL, NULL, 0, HTTP_RELAXED);
	cr_expect_eq(r->status, 414, "long path: %ld", r->status);
	http_free(r);

	n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: itest\r\n"
	    "Connection: close\r\n\r\n", path);
	cr_assert(n > 0);
	r = http_raw(req, (size_t)n, HTTP_RELAXED);
	cr_expect_eq(r->status, 414, "long path (raw): %ld", r->status);
	http_free(r);
	free(req);
	free(path);

	/* The service is still there. */
	r = http_get("/health");
	cr_expect_eq(r->status, 200);
	http_free(r);
}

Test(errors, body_without_length_is_refused)
{
	struct http_resp	*r;
	static const char	 req[] = "POST /users HTTP/1.1\r\n"
				    "Host: itest\r\nContent-Type: application/json\r\n"
				    "Connection: close\r\n\r\n";

	/*
	 * An instance leaves it to Kore, whose 411 has no body; nginx
	 * refuses it first with a JSON 400 (docs/api.md, Limits).
	 */
	r = http_raw(req, sizeof(req) - 1, HTTP_RELAXED);
	if (client_behind_nginx())
		expect_error(r, 400, NULL);
	else
		cr_expect_eq(r->status, 411, "POST without Content-Length: %ld",
		    r->status);
	http_free(r);
}

static void
expect_malformed(const char *method, const char *path)
{
	struct http_resp	*r;
	size_t			 i;
	const char		*form[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL };
	static const char	*bad[] = {
		"not json", "\"a string\"", "[1,2]", "[]", "", "null", "123",
		"true", "{", "{\"username\":", "{\"a\":1}}", "{\"a\":1,}",
		"{'a':1}", "{\"a\":NaN}", "{\"a\":01}", "{\"a\" 1}",
		"{\"a\":\"\\x\"}", "{\"a\":\"unterminated}",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = http_request(method, path, NULL, bad[i], strlen(bad[i]), 0);
		cr_expect_eq(r->status, 400, "%s %s with %s: expected 400, got "
		    "%ld %.200s", method, path, bad[i], r->status, r->body);
		http_free(r);
	}
	r = http_request(method, path, form, "username=a&email=b%40c.io",
	    strlen("username=a&email=b%40c.io"), 0);
	cr_expect_eq(r->status, 400, "%s %s form-encoded: %ld", method, path,
	    r->status);
	http_free(r);
}

Test(errors, malformed_bodies_are_400)
{
	json_t	*user, *url;

	url = make_user_url(&user);
	expect_malformed("POST", "/users");
	expect_malformed("POST", "/urls");
	expect_malformed("POST", "/events");
	expect_malformed("PUT", pathf("/users/%lld",
	    (long long)jint(user, "id")));
	expect_malformed("PUT", pathf("/urls/%lld", (long long)jint(url, "id")));
	json_decref(url);
	json_decref(user);
}

Test(errors, invalid_utf8_is_400)
{
	struct http_resp	*r;
	char			 body[512], req[1024];
	size_t			 i;
	int			 n;
	static const char	*bad[] = {
		"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
		"caf\xe9", "\xf8\x88\x80\x80\x80", "\xf4\x90\x80\x80",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *email = uniq_email();

		n = snprintf(body, sizeof(body), "{\"username\":\"%s\","
		    "\"email\":\"%s\"}", bad[i], email);
		r = http_request("POST", "/users", NULL, body, (size_t)n, 0);
		cr_expect_eq(r->status, 400, "invalid UTF-8 #%zu: %ld %.200s",
		    i, r->status, r->body);
		http_free(r);
		cr_expect_eq(json_array_size(get_list("/users?email=%s",
		    qenc(email))), 0, "invalid UTF-8 #%zu was stored", i);
	}

	/* The same through a raw socket, outside any string too. */
	n = snprintf(body, sizeof(body), "{\"username\":\"ok\",\"email\":\"%s\""
	    "\xff}", uniq_email());
	n = snprintf(req, sizeof(req), "POST /users HTTP/1.1\r\nHost: itest\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n%s", n, body);
	r = http_raw(req, (size_t)n, 0);
	cr_expect_eq(r->status, 400, "raw invalid UTF-8: %ld", r->status);
	http_free(r);
}

Test(errors, lone_surrogates_are_rejected_and_not_stored)
{
	struct http_resp	*r;
	json_t			*list;
	size_t			 i;
	static const char	*bad[] = {
		"\\ud800", "x\\ud800y", "\\udc00", "\\ud83d\\u0041",
		"\\ude00\\ud83d",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *email = uniq_email();

		r = http_sendf("POST", "/users", "{\"username\":\"%s\","
		    "\"email\":\"%s\"}", bad[i], email);
		cr_expect_eq(r->status, 400, "lone surrogate %s: %ld %.200s",
		    bad[i], r->status, r->body);
		http_free(r);
		if (db_available())
			cr_expect_eq(db_scalar("SELECT count(*) FROM users WHERE "
			    "lower(email) = lower($1)", 1, &email), 0,
			    "lone surrogate %s was stored", bad[i]);
		list = get_list("/users?email=%s", qenc(email));
		cr_expect_eq(json_array_size(list), 0,
		    "lone surrogate %s was stored", bad[i]);
		json_decref(list);
	}
}

Test(errors, nul_characters_never_500)
{
	struct http_resp	*r;

	r = http_sendf("POST", "/users", "{\"username\":\"a\\u0000b\","
	    "\"email\":\"%s\"}", uniq_email());
	expect_status(r, "NUL in username", 422);
	http_free(r);
	r = http_sendf("POST", "/users", "{\"username\":\"ab\","
	    "\"email\":\"a\\u0000@example.com\"}");
	expect_status(r, "NUL in email", 422);
	http_free(r);
}

Test(errors, hostile_json_never_500)
{
	struct http_resp	*r;
	char			*body;
	size_t			 depth = 100000, i, n;

	/* Very deep nesting. */
	n = strlen("{\"username\":") + 2 * depth + 1;
	body = malloc(n + 1);
	cr_assert_not_null(body);
	strcpy(body, "{\"username\":");
	for (i = 0; i < depth; i++)
		body[12 + i] = '[';
	for (i = 0; i < depth; i++)
		body[12 + depth + i] = ']';
	body[12 + 2 * depth] = '}';
	body[n] = '\0';
	r = http_request("POST", "/users", NULL, body, n, 0);
	expect_status(r, "deep nesting", 400);
	http_free(r);
	free(body);

	r = http_send("POST", "/urls", "{\"user_id\":99999999999999999999999,"
	    "\"original_url\":\"https://example.com\"}");
	expect_status(r, "user_id beyond int64", 422);
	http_free(r);
	r = http_send("POST", "/urls", "{\"user_id\":1e400,"
	    "\"original_url\":\"https://example.com\"}");
	expect_status(r, "user_id 1e400", 422);
	http_free(r);
	r = http_send("POST", "/urls", "{\"user_id\":-1,"
	    "\"original_url\":\"https://example.com\"}");
	expect_status(r, "user_id -1", 404);
	http_free(r);
	r = http_send("POST", "/events", "{\"url_id\":0,\"user_id\":0,"
	    "\"event_type\":\"x\"}");
	expect_status(r, "ids 0", 404);
	http_free(r);

	r = http_get("/health");
	cr_expect_eq(r->status, 200, "the service survived");
	http_free(r);
}

Test(errors, odd_ids_in_paths_never_500)
{
	struct http_resp	*r;
	size_t			 i;
	static const char	*paths[] = {
		"/users/99999999999999999999999", "/users/-1", "/users/1e3",
		"/users/0x10", "/urls/%00", "/urls/%zz", "/events/+1",
		"/urls/1.0", "/urls/99999999999999999999/stats",
	};

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = http_get(paths[i]);
		/*
		 * nginx refuses a malformed %-escape, and one that decodes
		 * to NUL, itself, in JSON.
		 */
		if (client_behind_nginx() && (strstr(paths[i], "%zz") != NULL ||
		    strstr(paths[i], "%00") != NULL))
			expect_error(r, 400, NULL);
		else
			expect_status(r, paths[i], 404);
		http_free(r);
	}
}

Test(errors, bad_query_parameters_are_400)
{
	struct http_resp	*r;
	size_t			 i;
	static const char	*paths[] = {
		"/users?page=abc", "/users?per_page=x", "/users?page=1e2",
		"/users?per_page=", "/urls?is_active=yes", "/urls?is_active=2",
		"/urls?user_id=abc", "/urls?user_id=1.5", "/events?url_id=1.5",
		"/events?user_id=", "/urls?after_id=abc",
		"/users?username=%zz",
	};

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = http_get(paths[i]);
		cr_expect_eq(r->status, 400, "%s: %ld %.200s", paths[i],
		    r->status, r->body);
		http_free(r);
	}
}

Test(errors, collections_accept_a_trailing_slash)
{
	json_t	*l;

	l = get_list("/urls/?per_page=1");
	json_decref(l);
	l = get_list("/events/?per_page=1");
	json_decref(l);
	l = get_list("/users/?per_page=1");
	json_decref(l);
}

Test(ops, health_is_200_ok)
{
	struct http_resp	*r;
	json_t			*want = json_pack("{s:s}", "status", "ok");

	r = http_get("/health");
	cr_assert_eq(r->status, 200);
	cr_expect(json_equal(r->json, want), "/health body: %s", r->body);
	http_free(r);
	r = http_get("/health/");
	cr_expect_eq(r->status, 200);
	http_free(r);
	r = http_head("/health");
	cr_expect_eq(r->status, 200);
	http_free(r);
	json_decref(want);
}

Test(ops, ready_reports_database_and_cache)
{
	struct http_resp	*r;
	const char		*cache;

	r = http_get("/ready");
	cr_assert_eq(r->status, 200, "/ready: %ld %s", r->status, r->body);
	cr_expect_str_eq(jstr(r->json, "status"), "ready");
	cr_expect_str_eq(jstr(r->json, "database"), "ok");
	cache = jstr(r->json, "cache");
	cr_expect(strcmp(cache, "ok") == 0 || strcmp(cache, "degraded") == 0,
	    "cache must be ok or degraded, is %s", cache);
	http_free(r);
}
