/*
 * The route matcher: every route, trailing slashes, what is no route; the
 * Allow list, and the copy of the parameter the dispatcher keeps.
 */

#include <string.h>

#include <criterion/criterion.h>

#include "core/route.h"

static void
expect(const char *path, enum route_id id, const char *param)
{
	struct route_match	m;

	route_match(path, &m);
	cr_expect_eq(m.route->id, id, "%s: route %d, want %d", path,
	    m.route->id, id);
	if (param == NULL) {
		cr_expect_null(m.param, "%s: no parameter", path);
	} else {
		cr_assert_not_null(m.param, "%s: a parameter", path);
		cr_expect_eq(m.param_len, strlen(param), "%s", path);
		cr_expect(!strncmp(m.param, param, m.param_len), "%s", path);
	}
}

Test(route, resources)
{
	expect("/users", ROUTE_USERS, NULL);
	expect("/users/", ROUTE_USERS, NULL);
	expect("/users/bulk", ROUTE_USERS_BULK, NULL);
	expect("/users/12", ROUTE_USER, "12");
	expect("/urls", ROUTE_URLS, NULL);
	expect("/urls/7", ROUTE_URL, "7");
	expect("/urls/7/stats", ROUTE_URL_STATS, "7");
	expect("/urls/abc/redirect", ROUTE_URL_REDIRECT, "abc");
	expect("/events/3/", ROUTE_EVENT, "3");
	expect("/health", ROUTE_HEALTH, NULL);
	expect("/metrics", ROUTE_METRICS, NULL);
	expect("/launch-2025", ROUTE_REDIRECT, "launch-2025");
}

Test(route, web_app_docs_and_qr_codes)
{
	expect("/", ROUTE_HOME, NULL);
	expect("/docs", ROUTE_DOCS, NULL);
	expect("/docs/", ROUTE_DOCS, NULL);
	expect("/openapi.json", ROUTE_OPENAPI, NULL);
	expect("/static/app.js", ROUTE_STATIC, "app.js");
	expect("/static/uplot.min.css", ROUTE_STATIC, "uplot.min.css");
	expect("/urls/9/qr.svg", ROUTE_URL_QR_SVG, "9");
	expect("/urls/9/qr.png", ROUTE_URL_QR_PNG, "9");
}

Test(route, no_route)
{
	expect("//", ROUTE_NOT_FOUND, NULL);
	expect("/static", ROUTE_REDIRECT, "static");	/* reserved: 404 */
	expect("/static/a/b", ROUTE_NOT_FOUND, NULL);
	expect("/urls/9/qr.gif", ROUTE_NOT_FOUND, NULL);
	expect("/docs/x", ROUTE_NOT_FOUND, NULL);
	expect("/a.b", ROUTE_NOT_FOUND, NULL);
	expect("/ab", ROUTE_NOT_FOUND, NULL);
	expect("relative", ROUTE_NOT_FOUND, NULL);
	cr_expect_str_eq(route_get(ROUTE_URL_QR_SVG)->template,
	    "/urls/:id/qr.svg");
}

Test(route, unmatchable)
{
	expect("", ROUTE_NOT_FOUND, NULL);
	expect("users", ROUTE_NOT_FOUND, NULL);
	expect("//users", ROUTE_NOT_FOUND, NULL);
	expect("/users//", ROUTE_NOT_FOUND, NULL);
	expect("/users/1/2/3", ROUTE_NOT_FOUND, NULL);
	expect("/urls/1/other", ROUTE_NOT_FOUND, NULL);
	expect("/a.b.c", ROUTE_NOT_FOUND, NULL);
	expect("/health/x", ROUTE_NOT_FOUND, NULL);
}

Test(route, allow_list)
{
	char	buf[64];

	route_allow(ROUTE_GET | ROUTE_HEAD | ROUTE_PUT | ROUTE_DELETE, buf,
	    sizeof(buf));
	cr_expect_str_eq(buf, "GET, HEAD, PUT, DELETE");
	route_allow(ROUTE_POST, buf, sizeof(buf));
	cr_expect_str_eq(buf, "POST");
	route_allow(0x7f, buf, 10);
	cr_expect_str_eq(buf, "GET, HEAD");
}

/*
 * A route without a parameter has param NULL; copying it must not hand
 * memcpy(3) a NULL source even for 0 bytes (undefined behaviour, which
 * make unit-asan reports). Too long a parameter gives "".
 */
Test(route, param_copy)
{
	struct route_match	m;
	char			buf[8], big[64];

	memset(buf, 'x', sizeof(buf));
	route_match("/health", &m);
	cr_expect_null(m.param);
	cr_expect_eq(route_param_copy(&m, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "");

	route_match("/users/1234567", &m);
	cr_expect_eq(route_param_copy(&m, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "1234567");

	route_match("/users/12345678", &m);
	cr_expect_eq(route_param_copy(&m, buf, sizeof(buf)), -1);
	cr_expect_str_eq(buf, "");

	memset(big, 'a', sizeof(big));
	memcpy(big, "/urls/", 6);
	big[sizeof(big) - 1] = '\0';
	route_match(big, &m);
	cr_expect_eq(route_param_copy(&m, buf, sizeof(buf)), -1);
	cr_expect_str_eq(buf, "");
}
