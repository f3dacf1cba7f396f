/* The key management routes and the word they reserve. */

#include <criterion/criterion.h>
#include <string.h>

#include "core/route.h"
#include "core/shortcode.h"

static enum route_id
match(const char *path, const char **param)
{
	struct route_match	m;

	route_match(path, &m);
	*param = m.param;
	return (m.route->id);
}

Test(route, keys)
{
	const char	*p;

	cr_expect_eq(match("/keys", &p), ROUTE_KEYS);
	cr_expect_eq(match("/keys/", &p), ROUTE_KEYS);
	cr_expect_eq(match("/keys/12", &p), ROUTE_KEY);
	cr_expect(strncmp(p, "12", 2) == 0);
	cr_expect_eq(match("/keys/12/x", &p), ROUTE_NOT_FOUND);
	cr_expect_str_eq(route_get(ROUTE_KEY)->template, "/keys/:id");
	cr_expect(shortcode_is_reserved("keys"));
	cr_expect(shortcode_is_reserved("KEYS"));
}

Test(route, allow_lists_options)
{
	char	buf[64];

	route_allow(ROUTE_GET | ROUTE_HEAD | ROUTE_OPTIONS, buf, sizeof(buf));
	cr_expect_str_eq(buf, "GET, HEAD, OPTIONS");
}
