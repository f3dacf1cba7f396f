/*
 * Redis URLs: defaults, credentials in their percent-encoded forms, IPv6
 * literals, and every malformed shape refused with a reason that does not
 * leak the password.
 */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/redisurl.h"

static void	parses(const char *url, const char *host, int port, int db,
		    const char *user, const char *password);

Test(redisurl, defaults)
{
	parses("redis://127.0.0.1", "127.0.0.1", 6379, 0, "", "");
	parses("redis://127.0.0.1/", "127.0.0.1", 6379, 0, "", "");
	parses("redis://localhost:6380", "localhost", 6380, 0, "", "");
	parses("redis://localhost:6380/0", "localhost", 6380, 0, "", "");
	parses("REDIS://cache.internal:1/15", "cache.internal", 1, 15, "", "");
	parses("redis://h:65535/2147483647", "h", 65535, 2147483647, "", "");
}

Test(redisurl, credentials)
{
	parses("redis://:secret@h:6379/1", "h", 6379, 1, "", "secret");
	/* As redis-cli: userinfo without a colon is the password. */
	parses("redis://secret@h", "h", 6379, 0, "", "secret");
	parses("redis://app:secret@h/3", "h", 6379, 3, "app", "secret");
	parses("redis://app:@h", "h", 6379, 0, "app", "");
	parses("redis://:@h", "h", 6379, 0, "", "");
	parses("redis://:p%40ss%3Aw%2Frd%25@h", "h", 6379, 0, "", "p@ss:w/rd%");
	parses("redis://:a%2fb%2F@h", "h", 6379, 0, "", "a/b/");
	/* A raw '@' in the password: the last '@' ends userinfo. */
	parses("redis://:p@ss@h:7", "h", 7, 0, "", "p@ss");
	parses("redis://:a:b@h", "h", 6379, 0, "", "a:b");
}

Test(redisurl, ipv6)
{
	parses("redis://[::1]", "::1", 6379, 0, "", "");
	parses("redis://[::1]:6380/2", "::1", 6380, 2, "", "");
	parses("redis://:pw@[2001:db8::7]:1", "2001:db8::7", 1, 0, "", "pw");
}

Test(redisurl, longest_fields)
{
	char			url[2048], host[REDISURL_HOST_MAX + 2];
	char			pw[REDISURL_PASSWORD_MAX + 2];
	struct redis_url	u;
	const char		*err;

	memset(host, 'h', REDISURL_HOST_MAX);
	host[REDISURL_HOST_MAX] = '\0';
	memset(pw, 'p', REDISURL_PASSWORD_MAX);
	pw[REDISURL_PASSWORD_MAX] = '\0';
	snprintf(url, sizeof(url), "redis://:%s@%s:1/1", pw, host);
	parses(url, host, 1, 1, "", pw);

	host[REDISURL_HOST_MAX] = 'h';
	host[REDISURL_HOST_MAX + 1] = '\0';
	snprintf(url, sizeof(url), "redis://%s", host);
	cr_assert_eq(redisurl_parse(url, &u, &err), -1);
	cr_assert_str_eq(err, "the host is too long");

	pw[REDISURL_PASSWORD_MAX] = 'p';
	pw[REDISURL_PASSWORD_MAX + 1] = '\0';
	snprintf(url, sizeof(url), "redis://:%s@h", pw);
	cr_assert_eq(redisurl_parse(url, &u, &err), -1);
	cr_assert_str_eq(err, "the user name or password is too long");
}

Test(redisurl, refused)
{
	static const struct {
		const char	*url;
		const char	*err;
	} cases[] = {
		{ "", "the URL must start with redis://" },
		{ "127.0.0.1:6379", "the URL must start with redis://" },
		{ "http://h", "the URL must start with redis://" },
		{ "redis:/h", "the URL must start with redis://" },
		{ "unix:///tmp/redis.sock", "the URL must start with redis://" },
		{ "rediss://h:6380", "rediss:// (TLS) is not supported" },
		{ "redis://", "the host is missing" },
		{ "redis:///0", "the host is missing" },
		{ "redis://:6379", "the host is missing" },
		{ "redis://:pw@", "the host is missing" },
		{ "redis://[]:1", "the host is missing" },
		{ "redis://[::1", "unterminated '[' in the host" },
		{ "redis://[::1]x", "unexpected text after the host" },
		{ "redis://a]b", "the host contains an invalid character" },
		{ "redis://a b", "the host contains an invalid character" },
		{ "redis://a\tb", "the host contains an invalid character" },
		{ "redis://h:", "the port must be a number from 1 to 65535" },
		{ "redis://h:0", "the port must be a number from 1 to 65535" },
		{ "redis://h:65536", "the port must be a number from 1 to 65535" },
		{ "redis://h:-1", "the port must be a number from 1 to 65535" },
		{ "redis://h:+1", "the port must be a number from 1 to 65535" },
		{ "redis://h:63x", "the port must be a number from 1 to 65535" },
		{ "redis://h:1:2", "the port must be a number from 1 to 65535" },
		{ "redis://h:99999999999999999999",
		    "the port must be a number from 1 to 65535" },
		{ "redis://h/x", "the database must be a non-negative number" },
		{ "redis://h/-1", "the database must be a non-negative number" },
		{ "redis://h/2147483648",
		    "the database must be a non-negative number" },
		{ "redis://h/ 1", "the database must be a non-negative number" },
		{ "redis://h/0/1", "unexpected text after the database number" },
		{ "redis://h/0?x=1", "unexpected text after the database number" },
		{ "redis://h?db=1", "query strings and fragments are not supported" },
		{ "redis://h#x", "query strings and fragments are not supported" },
		{ "redis://:p%4@h", "bad percent-encoding in the credentials" },
		{ "redis://:p%@h", "bad percent-encoding in the credentials" },
		{ "redis://:p%zz@h", "bad percent-encoding in the credentials" },
		{ "redis://u%g0:p@h", "bad percent-encoding in the credentials" },
		{ "redis://:p%00w@h", "the credentials contain a NUL (%00)" },
	};
	struct redis_url	u;
	const char		*err;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = NULL;
		cr_assert_eq(redisurl_parse(cases[i].url, &u, &err), -1,
		    "accepted \"%s\"", cases[i].url);
		cr_assert_not_null(err);
		cr_assert_str_eq(err, cases[i].err, "\"%s\": %s",
		    cases[i].url, err);
	}
}

Test(redisurl, error_never_quotes_password)
{
	struct redis_url	u;
	const char		*err;

	cr_assert_eq(redisurl_parse("redis://:hunter2@h:0", &u, &err), -1);
	cr_assert_null(strstr(err, "hunter2"));
}

static void
parses(const char *url, const char *host, int port, int db,
    const char *user, const char *password)
{
	struct redis_url	u;
	const char		*err;

	err = NULL;
	cr_assert_eq(redisurl_parse(url, &u, &err), 0, "\"%s\": %s", url,
	    err ? err : "");
	cr_assert_str_eq(u.host, host, "\"%s\"", url);
	cr_assert_eq(u.port, port, "\"%s\"", url);
	cr_assert_eq(u.db, db, "\"%s\"", url);
	cr_assert_str_eq(u.user, user, "\"%s\"", url);
	cr_assert_str_eq(u.password, password, "\"%s\"", url);
}
