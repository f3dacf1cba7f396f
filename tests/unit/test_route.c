/*
 * The route table: paths onto routes and their parameter, the Allow
 * list, and the copy of the parameter the dispatcher keeps.
 */

#include <string.h>

#include <criterion/criterion.h>

#include "core/route.h"

static void
match_is(const char *path, enum route_id id, const char *param)
{
	struct route_match	m;

	route_match(path, &m);
	cr_expect_eq(m.route->id, id, "%s: route %d, want %d", path,
	    m.route->id, id);
	if (param == NULL) {
		cr_expect_eq(m.param_len, 0, "%s", path);
		return;
	}
	cr_expect_eq(m.param_len, strlen(param), "%s", path);
	if (m.param != NULL && m.param_len == strlen(param))
		cr_expect(!memcmp(m.param, param, m.param_len), "%s", path);
}

Test(route, resources)
{
	match_is("/users", ROUTE_USERS, NULL);
	match_is("/users/", ROUTE_USERS, NULL);
	match_is("/users/bulk", ROUTE_USERS_BULK, NULL);
	match_is("/users/42", ROUTE_USER, "42");
	match_is("/urls/7/", ROUTE_URL, "7");
	match_is("/urls/7/stats", ROUTE_URL_STATS, "7");
	match_is("/urls/abc/redirect", ROUTE_URL_REDIRECT, "abc");
	match_is("/events/3", ROUTE_EVENT, "3");
	match_is("/health", ROUTE_HEALTH, NULL);
	match_is("/metrics/", ROUTE_METRICS, NULL);
	match_is("/launch-2025", ROUTE_REDIRECT, "launch-2025");
}

Test(route, unmatchable)
{
	match_is("", ROUTE_NOT_FOUND, NULL);
	match_is("/", ROUTE_NOT_FOUND, NULL);
	match_is("users", ROUTE_NOT_FOUND, NULL);
	match_is("//users", ROUTE_NOT_FOUND, NULL);
	match_is("/users//", ROUTE_NOT_FOUND, NULL);
	match_is("/users/1/2/3", ROUTE_NOT_FOUND, NULL);
	match_is("/urls/1/other", ROUTE_NOT_FOUND, NULL);
	match_is("/ab", ROUTE_NOT_FOUND, NULL);		/* too short a code */
	match_is("/a.b.c", ROUTE_NOT_FOUND, NULL);
	match_is("/health/x", ROUTE_NOT_FOUND, NULL);
}

Test(route, allow_list)
{
	char	buf[64];

	route_allow(route_get(ROUTE_USER)->methods, buf, sizeof(buf));
	cr_expect_str_eq(buf, "GET, HEAD, PUT, DELETE");
	route_allow(route_get(ROUTE_USERS_BULK)->methods, buf, sizeof(buf));
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
