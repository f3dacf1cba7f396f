/*
 * Field validators and UTF-8 helpers. Lengths are tested at and one past
 * every limit, with multibyte characters so that bytes and code points
 * disagree; every string validator is checked against an embedded NUL.
 */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "core/urlhost.h"
#include "core/validate.h"

/* Literal with its length, so an embedded NUL counts. */
#define LIT(s)		(s), (sizeof(s) - 1)
#define OK(fn, s)	cr_assert_null(fn(LIT(s)), "%s(\"%s\") refused: %s", \
			    #fn, (s), fn(LIT(s)))
#define BAD(fn, s)	cr_assert_not_null(fn(LIT(s)), "%s(\"%s\") accepted", \
			    #fn, (s))

#define MSG_NUL		"must not contain NUL characters"

static char	*repeat(const char *prefix, const char *unit, size_t n,
		    const char *suffix);
static void	 check_len(const char *(*fn)(const char *, size_t),
		    const char *prefix, const char *unit, size_t n,
		    const char *suffix, int ok);

/* ---------------------------------------------------------------- UTF-8 */

Test(utf8, valid_sequences)
{
	cr_assert(utf8_valid(LIT("")));
	cr_assert(utf8_valid(LIT("plain ascii")));
	cr_assert(utf8_valid(LIT("\xc2\x80")));			/* U+0080 */
	cr_assert(utf8_valid(LIT("\xdf\xbf")));			/* U+07FF */
	cr_assert(utf8_valid(LIT("\xe0\xa0\x80")));		/* U+0800 */
	cr_assert(utf8_valid(LIT("\xed\x9f\xbf")));		/* U+D7FF */
	cr_assert(utf8_valid(LIT("\xee\x80\x80")));		/* U+E000 */
	cr_assert(utf8_valid(LIT("\xef\xbf\xbf")));		/* U+FFFF */
	cr_assert(utf8_valid(LIT("\xf0\x90\x80\x80")));	/* U+10000 */
	cr_assert(utf8_valid(LIT("\xf4\x8f\xbf\xbf")));	/* U+10FFFF */
	cr_assert(utf8_valid(LIT("caf\xc3\xa9 \xf0\x9f\x98\x80")));
	/* NUL is valid UTF-8; validators refuse it separately. */
	cr_assert(utf8_valid(LIT("a\0b")));
}

Test(utf8, overlongs)
{
	cr_assert_not(utf8_valid(LIT("\xc0\x80")));
	cr_assert_not(utf8_valid(LIT("\xc0\xaf")));
	cr_assert_not(utf8_valid(LIT("\xc1\xbf")));
	cr_assert_not(utf8_valid(LIT("\xe0\x80\x80")));
	cr_assert_not(utf8_valid(LIT("\xe0\x9f\xbf")));
	cr_assert_not(utf8_valid(LIT("\xf0\x80\x80\x80")));
	cr_assert_not(utf8_valid(LIT("\xf0\x8f\xbf\xbf")));
}

Test(utf8, surrogates)
{
	cr_assert_not(utf8_valid(LIT("\xed\xa0\x80")));		/* D800 */
	cr_assert_not(utf8_valid(LIT("\xed\xaf\xbf")));		/* DBFF */
	cr_assert_not(utf8_valid(LIT("\xed\xb0\x80")));		/* DC00 */
	cr_assert_not(utf8_valid(LIT("\xed\xbf\xbf")));		/* DFFF */
	/* A CESU-8 pair is still two surrogates. */
	cr_assert_not(utf8_valid(LIT("\xed\xa0\xbd\xed\xb8\x80")));
}

Test(utf8, beyond_max_and_bad_bytes)
{
	cr_assert_not(utf8_valid(LIT("\xf4\x90\x80\x80")));	/* 110000 */
	cr_assert_not(utf8_valid(LIT("\xf5\x80\x80\x80")));
	cr_assert_not(utf8_valid(LIT("\xf8\x88\x80\x80\x80")));
	cr_assert_not(utf8_valid(LIT("\xff")));
	cr_assert_not(utf8_valid(LIT("\xfe")));
	cr_assert_not(utf8_valid(LIT("\x80")));
	cr_assert_not(utf8_valid(LIT("a\xbf")));
}

Test(utf8, truncated_and_broken)
{
	cr_assert_not(utf8_valid(LIT("\xc3")));
	cr_assert_not(utf8_valid(LIT("\xe2\x82")));
	cr_assert_not(utf8_valid(LIT("\xf0\x9f\x98")));
	cr_assert_not(utf8_valid(LIT("\xe2\x82\x41")));
	cr_assert_not(utf8_valid(LIT("\xc3\xc3\xa9")));
	/* The length bounds the scan: a valid prefix of a longer buffer. */
	cr_assert(utf8_valid("\xc3\xa9\xc3", 2));
	cr_assert_not(utf8_valid("\xc3\xa9\xc3", 3));
}

Test(utf8, length)
{
	cr_assert_eq(utf8_length(LIT("")), 0);
	cr_assert_eq(utf8_length(LIT("hello")), 5);
	cr_assert_eq(utf8_length(LIT("h\xc3\xa9llo")), 5);
	cr_assert_eq(utf8_length(LIT("\xe6\x97\xa5\xe6\x9c\xac")), 2);
	cr_assert_eq(utf8_length(LIT("\xf0\x9f\x98\x80!")), 2);
	cr_assert_eq(utf8_length(LIT("a\0b")), 3);
}

/* ------------------------------------------------------------- username */

Test(username, accepted)
{
	OK(validate_username, "alice");
	OK(validate_username, "a");
	OK(validate_username, "Jos\xc3\xa9 Garc\xc3\xad" "a");
	OK(validate_username, "\xe6\x97\xa5\xe6\x9c\xac");
	OK(validate_username, "  padded  ");
	OK(validate_username, "dawnwindow68");
}

Test(username, length_in_code_points)
{
	check_len(validate_username, "", "a", 64, "", 1);
	check_len(validate_username, "", "a", 65, "", 0);
	/* 2-byte chars: 64 of them are 128 bytes and still fine. */
	check_len(validate_username, "", "\xc3\xa9", 64, "", 1);
	check_len(validate_username, "", "\xc3\xa9", 65, "", 0);
	check_len(validate_username, "", "\xf0\x9f\x98\x80", 64, "", 1);
	check_len(validate_username, "", "\xf0\x9f\x98\x80", 65, "", 0);
}

Test(username, empty_and_blank)
{
	BAD(validate_username, "");
	BAD(validate_username, " ");
	BAD(validate_username, "     ");
	BAD(validate_username, "\xc2\xa0");		/* no-break space */
	BAD(validate_username, "\xe3\x80\x80");		/* ideographic */
	BAD(validate_username, "\xe2\x80\x8b");		/* zero width */
	BAD(validate_username, " \xe2\x80\x83 ");	/* em space */
	cr_assert_str_eq(validate_username(LIT("   ")), "must not be blank");
	cr_assert_str_eq(validate_username(LIT("")), "must not be empty");
}

Test(username, control_characters)
{
	BAD(validate_username, "a\nb");
	BAD(validate_username, "a\rb");
	BAD(validate_username, "\tab");
	BAD(validate_username, "ab\x1b");
	BAD(validate_username, "a\x7f");
	BAD(validate_username, "a\xc2\x85");		/* NEL, C1 */
	BAD(validate_username, "a\xc2\x9f");
	cr_assert_str_eq(validate_username(LIT("a\nb")),
	    "must not contain control characters");
}

Test(username, nul_and_utf8)
{
	cr_assert_str_eq(validate_username(LIT("a\0b")), MSG_NUL);
	cr_assert_str_eq(validate_username(LIT("\0")), MSG_NUL);
	cr_assert_str_eq(validate_username(LIT("ab\xff")),
	    "must be valid UTF-8");
	BAD(validate_username, "\xed\xa0\x80");
}

/* ---------------------------------------------------------------- email */

Test(email, accepted)
{
	OK(validate_email, "a@b.co");
	OK(validate_email, "alice@example.com");
	OK(validate_email, "first.last+tag@sub.example.co.uk");
	OK(validate_email, "USER@EXAMPLE.COM");
	OK(validate_email, "a-b_c@my-host.io");
	OK(validate_email, "x@123.example.org");
	OK(validate_email, "x@xn--80ak6aa92e.xn--p1ai");
	OK(validate_email, "j\xc3\xbcrgen@m\xc3\xbcnchen.de");
	OK(validate_email, "dawnwindow68@acme.dev");
}

Test(email, shape_refused)
{
	BAD(validate_email, "");
	BAD(validate_email, "plainaddress");
	BAD(validate_email, "@example.com");
	BAD(validate_email, "alice@");
	BAD(validate_email, "alice@example");
	BAD(validate_email, "alice@example.c");
	BAD(validate_email, "alice@example.c0m");
	BAD(validate_email, "alice@example.12");
	BAD(validate_email, "alice@@example.com");
	BAD(validate_email, "a@b@example.com");
	BAD(validate_email, "alice@.example.com");
	BAD(validate_email, "alice@example..com");
	BAD(validate_email, "alice@example.com.");
	BAD(validate_email, "alice@-example.com");
	BAD(validate_email, "alice@example-.com");
	BAD(validate_email, "alice@exa_mple.com");
	BAD(validate_email, ".alice@example.com");
	BAD(validate_email, "alice.@example.com");
	BAD(validate_email, "al..ice@example.com");
	BAD(validate_email, "<alice>@example.com");
	BAD(validate_email, "al,ice@example.com");
	BAD(validate_email, "alice@[127.0.0.1]");
	BAD(validate_email, "Alice <alice@example.com>");
}

Test(email, whitespace_and_control)
{
	BAD(validate_email, "al ice@example.com");
	BAD(validate_email, " alice@example.com");
	BAD(validate_email, "alice@example.com ");
	BAD(validate_email, "alice@exa mple.com");
	BAD(validate_email, "alice\t@example.com");
	BAD(validate_email, "alice@example.com\n");
	BAD(validate_email, "alice\xc2\xa0@example.com");
	cr_assert_str_eq(validate_email(LIT("al ice@example.com")),
	    "must not contain whitespace");
}

Test(email, length_limit)
{
	/* 242 + "@example.com" (12) = 254 */
	check_len(validate_email, "", "a", 242, "@example.com", 1);
	check_len(validate_email, "", "a", 243, "@example.com", 0);
	/* In code points: 242 two-byte chars are 484 bytes, still fine. */
	check_len(validate_email, "", "\xc3\xa9", 242, "@example.com", 1);
	check_len(validate_email, "", "\xc3\xa9", 243, "@example.com", 0);
	/* A long domain label is fine as long as the total fits. */
	check_len(validate_email, "a@", "b", 248, ".com", 1);
}

Test(email, nul_and_utf8)
{
	cr_assert_str_eq(validate_email(LIT("alice\0@example.com")), MSG_NUL);
	cr_assert_str_eq(validate_email(LIT("alice@example.com\0")), MSG_NUL);
	BAD(validate_email, "al\xffice@example.com");
	BAD(validate_email, "alice@ex\xc0\xafmple.com");
}

/* ------------------------------------------------------------------ url */

Test(url, accepted)
{
	OK(validate_url, "http://example.com");
	OK(validate_url, "https://example.com/");
	OK(validate_url, "https://example.com/path/to?q=1&r=a%20b#frag");
	OK(validate_url, "HTTP://EXAMPLE.COM/");
	OK(validate_url, "HtTpS://example.com");
	OK(validate_url, "http://93.184.216.34:80/");
	OK(validate_url, "http://[2606:2800:220:1:248:1893:25c8:1946]/");
	OK(validate_url, "http://example.com:/");
	OK(validate_url, "http://example.com?x");
	OK(validate_url, "http://example.com#top");
	OK(validate_url, "http://example.com./");
	OK(validate_url, "http://my_host.example.com/");
	OK(validate_url, "https://m\xc3\xbcnchen.de/stra\xc3\x9f" "e");
	OK(validate_url, "https://xn--mnchen-3ya.de/");
	OK(validate_url, "https://example.com/a?b=<c>&d=\"e\"");
	/* '@' and '\\' after the authority are the path's business. */
	OK(validate_url, "https://example.com/@user");
	OK(validate_url, "https://example.com/a\\b");
	OK(validate_url, "https://example.com/?next=http://a@b/");
}

/* Internal hosts, with URL_ALLOW_PRIVATE_HOSTS=1. */
Test(url, internal_hosts_when_allowed)
{
	struct urlhost_policy	p;
	char			err[64];

	cr_assert_eq(urlhost_policy_init(&p, 1, NULL, NULL, 0, err,
	    sizeof(err)), 0);
	urlhost_policy_use(&p);
	OK(validate_url, "http://localhost");
	OK(validate_url, "http://localhost:8080/x");
	OK(validate_url, "http://127.0.0.1:80/");
	OK(validate_url, "http://[::1]/");
	OK(validate_url, "http://10.1.2.3/");
	/* Still not: what browsers and the validator would read apart. */
	BAD(validate_url, "http://user:pass@127.0.0.1/");
	BAD(validate_url, "http://127.0.0.1\\@example.com/");
	urlhost_policy_use(NULL);
	urlhost_policy_free(&p);
}

Test(url, listed_in_the_contract)
{
	BAD(validate_url, "hello");
	BAD(validate_url, "example.com");
	BAD(validate_url, "ftp://x");
	BAD(validate_url, "javascript:alert(1)");
	BAD(validate_url, "http://");
	BAD(validate_url, "http:///path");
}

Test(url, not_absolute_http)
{
	BAD(validate_url, "");
	BAD(validate_url, "/relative/path");
	BAD(validate_url, "//example.com/");
	BAD(validate_url, "http:");
	BAD(validate_url, "http:example.com");
	BAD(validate_url, "http:/example.com");
	BAD(validate_url, "https//example.com");
	BAD(validate_url, "http:\\\\example.com");
	BAD(validate_url, "httpx://example.com");
	BAD(validate_url, "ws://example.com");
	BAD(validate_url, "mailto:a@example.com");
	BAD(validate_url, "data:text/html,<b>hi</b>");
	BAD(validate_url, "JAVASCRIPT:alert(1)");
	BAD(validate_url, "file:///etc/passwd");
	cr_assert_str_eq(validate_url(LIT("ftp://x")),
	    "must be an absolute http or https URL");
}

Test(url, bad_host_or_port)
{
	BAD(validate_url, "https://");
	BAD(validate_url, "http://?q=1");
	BAD(validate_url, "http://#frag");
	BAD(validate_url, "http://:80/");
	BAD(validate_url, "http://user@/");
	BAD(validate_url, "http://exa%6dple.com/");
	BAD(validate_url, "http://-example.com/");
	BAD(validate_url, "http://exa..mple.com/");
	BAD(validate_url, "http://xn--zz.com/");
	BAD(validate_url, "http://[fe80::1%25eth0]/");
	BAD(validate_url, "http://./");
	BAD(validate_url, "http://exa<mple.com/");
	BAD(validate_url, "http://exa\\mple.com/");
	BAD(validate_url, "http://[::1/");
	BAD(validate_url, "http://[]/");
	BAD(validate_url, "http://[::1]x/");
	BAD(validate_url, "http://[zz::1]/");
	BAD(validate_url, "http://example.com:99999/");
	BAD(validate_url, "http://example.com:65536/");
	BAD(validate_url, "http://example.com:8o/");
	BAD(validate_url, "http://example.com:-1/");
	OK(validate_url, "http://example.com:65535/");
	cr_assert_str_eq(validate_url(LIT("http://")), "must have a host");
	cr_assert_str_eq(validate_url(LIT("http:///path")),
	    "must have a host");
}

Test(url, whitespace_and_control)
{
	BAD(validate_url, " http://example.com");
	BAD(validate_url, "http://example.com ");
	BAD(validate_url, "http://exa mple.com");
	BAD(validate_url, "http://example.com/a b");
	BAD(validate_url, "http://example.com/\tx");
	BAD(validate_url, "http://example.com/\r\nSet-Cookie: a=b");
	BAD(validate_url, "http://example.com/\n");
	BAD(validate_url, "http://example.com/\x7f");
	BAD(validate_url, "http://example.com/\x01");
	BAD(validate_url, "http://example.com/\xc2\xa0");
	BAD(validate_url, "http://example.com/\xe2\x80\xa8");
	cr_assert_str_eq(validate_url(LIT("http://example.com/\x01")),
	    "must not contain control characters");
}

Test(url, length_limit)
{
	/* "http://example.com/" is 19 characters. */
	check_len(validate_url, "http://example.com/", "a", 2029, "", 1);
	check_len(validate_url, "http://example.com/", "a", 2030, "", 0);
	check_len(validate_url, "http://example.com/", "\xc3\xa9", 2029, "",
	    1);
	check_len(validate_url, "http://example.com/", "\xc3\xa9", 2030, "",
	    0);
}

Test(url, nul_and_utf8)
{
	cr_assert_str_eq(validate_url(LIT("http://example.com/\0")),
	    MSG_NUL);
	cr_assert_str_eq(validate_url(LIT("http://exa\0mple.com")), MSG_NUL);
	BAD(validate_url, "http://example.com/\xff");
}

/* ---------------------------------------------------- title, event_type */

Test(title, limits)
{
	OK(validate_title, "");
	OK(validate_title, "A title");
	OK(validate_title, "two\nlines");
	check_len(validate_title, "", "x", 200, "", 1);
	check_len(validate_title, "", "x", 201, "", 0);
	check_len(validate_title, "", "\xe6\x97\xa5", 200, "", 1);
	check_len(validate_title, "", "\xe6\x97\xa5", 201, "", 0);
	cr_assert_str_eq(validate_title(LIT("t\0")), MSG_NUL);
	BAD(validate_title, "\xc3");
}

Test(event_type, limits)
{
	OK(validate_event_type, "click");
	OK(validate_event_type, "custom event");
	BAD(validate_event_type, "");
	BAD(validate_event_type, "  ");
	BAD(validate_event_type, "click\n");
	check_len(validate_event_type, "", "e", 64, "", 1);
	check_len(validate_event_type, "", "e", 65, "", 0);
	check_len(validate_event_type, "", "\xc3\xa9", 64, "", 1);
	check_len(validate_event_type, "", "\xc3\xa9", 65, "", 0);
	cr_assert_str_eq(validate_event_type(LIT("cl\0ick")), MSG_NUL);
}

/* ---------------------------------------------------------- custom code */

Test(custom_code, shape)
{
	OK(validate_custom_code, "abc");
	OK(validate_custom_code, "my-link_2025");
	OK(validate_custom_code, "ABCdef123");
	OK(validate_custom_code, "abcdefghijklmnopqrstuvwxyz012345");
	BAD(validate_custom_code, "");
	BAD(validate_custom_code, "ab");
	BAD(validate_custom_code, "abcdefghijklmnopqrstuvwxyz0123456");
	BAD(validate_custom_code, "ab.c");
	BAD(validate_custom_code, "ab c");
	BAD(validate_custom_code, "ab/c");
	BAD(validate_custom_code, "ab?c");
	BAD(validate_custom_code, "h\xc3\xa9llo");
	cr_assert_str_eq(validate_custom_code(LIT("abc\0")), MSG_NUL);
}

Test(custom_code, reserved_words)
{
	static const char	*words[] = {
		"users", "urls", "events", "health", "ready", "metrics",
		"docs", "static", "USERS", "Health", "Docs",
	};
	const char		*shape, *msg;
	size_t			 i;

	shape = validate_custom_code(LIT("a!"));
	cr_assert_not_null(shape);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		msg = validate_custom_code(words[i], strlen(words[i]));
		cr_assert_not_null(msg, "%s accepted", words[i]);
		cr_assert_str_neq(msg, shape, "%s: same message as shape",
		    words[i]);
		cr_assert_str_eq(msg, "is a reserved word");
	}

	/* Dotted reserved words cannot even take the shape. */
	BAD(validate_custom_code, "openapi.json");
	BAD(validate_custom_code, "favicon.ico");
	BAD(validate_custom_code, "robots.txt");
	OK(validate_custom_code, "userss");
	OK(validate_custom_code, "my-users");
}

/* ------------------------------------------------------------ timestamp */

Test(timestamp, accepted)
{
	OK(validate_timestamp, "2025-09-19 22:25:05");
	OK(validate_timestamp, "2025-09-19T22:25:05");
	OK(validate_timestamp, "2025-09-19T22:25:05.1");
	OK(validate_timestamp, "2025-09-19 22:25:05.123456");
	OK(validate_timestamp, "0001-01-01 00:00:00");
	OK(validate_timestamp, "9999-12-31 23:59:59");
	OK(validate_timestamp, "2024-02-29 12:00:00");
	OK(validate_timestamp, "2000-02-29 12:00:00");
	OK(validate_timestamp, "2025-04-30 12:00:00");
	OK(validate_timestamp, "2025-01-31 12:00:00");
}

Test(timestamp, calendar)
{
	BAD(validate_timestamp, "2023-02-29 12:00:00");
	BAD(validate_timestamp, "1900-02-29 12:00:00");
	BAD(validate_timestamp, "2100-02-29 12:00:00");
	BAD(validate_timestamp, "2024-02-30 12:00:00");
	BAD(validate_timestamp, "2025-04-31 12:00:00");
	BAD(validate_timestamp, "2025-06-31 12:00:00");
	BAD(validate_timestamp, "2025-01-32 12:00:00");
	BAD(validate_timestamp, "2025-01-00 12:00:00");
	BAD(validate_timestamp, "2025-00-10 12:00:00");
	BAD(validate_timestamp, "2025-13-01 12:00:00");
	BAD(validate_timestamp, "0000-01-01 00:00:00");
	BAD(validate_timestamp, "2025-01-01 24:00:00");
	BAD(validate_timestamp, "2025-01-01 23:60:00");
	BAD(validate_timestamp, "2025-01-01 23:59:60");
	cr_assert_str_eq(validate_timestamp(LIT("2023-02-29 12:00:00")),
	    "must be a real date and time");
}

Test(timestamp, shape)
{
	BAD(validate_timestamp, "");
	BAD(validate_timestamp, "2025-09-19");
	BAD(validate_timestamp, "2025-09-19 22:25");
	BAD(validate_timestamp, "2025/09/19 22:25:05");
	BAD(validate_timestamp, "2025-09-19x22:25:05");
	BAD(validate_timestamp, "2025-09-19t22:25:05");
	BAD(validate_timestamp, "2025-09-19  22:25:05");
	BAD(validate_timestamp, "2025-9-19 22:25:05");
	BAD(validate_timestamp, "25-09-19 22:25:05");
	BAD(validate_timestamp, "+025-09-19 22:25:05");
	BAD(validate_timestamp, " 2025-09-19 22:25:05");
	BAD(validate_timestamp, "2025-09-19 22:25:05 ");
	BAD(validate_timestamp, "2025-09-19 22:25:05Z");
	BAD(validate_timestamp, "2025-09-19 22:25:05+00:00");
	BAD(validate_timestamp, "2025-09-19 22:25:05.");
	BAD(validate_timestamp, "2025-09-19 22:25:05.1234567");
	BAD(validate_timestamp, "2025-09-19 22:25:05.12a");
	BAD(validate_timestamp, "2025-09-19 22:25:05,123");
	BAD(validate_timestamp, "2025-09-19 2a:25:05");
	BAD(validate_timestamp, "\xef\xbc\x92" "025-09-19 22:25:05");
	cr_assert_str_eq(validate_timestamp(LIT("2025-09-19")),
	    "must be a timestamp YYYY-MM-DD HH:MM:SS");
	cr_assert_str_eq(validate_timestamp(LIT("2025-09-19 22:25:05\0")),
	    MSG_NUL);
}

/* ------------------------------------------------------------- helpers */

static char *
repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t	plen, ulen, slen, i;
	char	*s;

	plen = strlen(prefix);
	ulen = strlen(unit);
	slen = strlen(suffix);
	s = malloc(plen + ulen * n + slen + 1);
	cr_assert_not_null(s);

	memcpy(s, prefix, plen);
	for (i = 0; i < n; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	memcpy(s + plen + n * ulen, suffix, slen + 1);

	return (s);
}

static void
check_len(const char *(*fn)(const char *, size_t), const char *prefix,
    const char *unit, size_t n, const char *suffix, int ok)
{
	const char	*msg;
	char		*s;

	s = repeat(prefix, unit, n, suffix);
	msg = fn(s, strlen(s));
	free(s);

	if (ok)
		cr_assert_null(msg, "%zu x \"%s\" refused: %s", n, unit, msg);
	else
		cr_assert_not_null(msg, "%zu x \"%s\" accepted", n, unit);
}

Test(validate, expiry_timestamps)
{
	cr_expect_null(validate_expiry("2031-02-28T23:59:59", 19));
	cr_expect_null(validate_expiry("2032-02-29T00:00:00", 19));
	cr_expect_not_null(validate_expiry("2031-02-29T00:00:00", 19));
	cr_expect_not_null(validate_expiry("2031-02-28 23:59:59", 19),
	    "the contract's T");
	cr_expect_not_null(validate_expiry("2031-02-28T23:59:59Z", 20));
	cr_expect_not_null(validate_expiry("2031-02-28T23:59:59.5", 21));
	cr_expect_not_null(validate_expiry("2031-02-28", 10));
	cr_expect_not_null(validate_expiry("1999-12-31T23:59:59", 19));
	cr_expect_not_null(validate_expiry("2031-13-01T00:00:00", 19));
	cr_expect_not_null(validate_expiry("2031-01-01T24:00:00", 19));
	cr_expect_not_null(validate_expiry("2031-01-01T00:00:0\0", 19));
	cr_expect_eq(timestamp_epoch("2025-09-19T22:25:05"), 1758320705);
	cr_expect_eq(timestamp_epoch("2000-01-01T00:00:00"), 946684800);
}

Test(validate, dates)
{
	cr_expect_null(validate_date("2025-09-19", 10));
	cr_expect_not_null(validate_date("2025-9-19", 9));
	cr_expect_not_null(validate_date("2025-02-30", 10));
	cr_expect_not_null(validate_date("19-09-2025", 10));
	cr_expect_not_null(validate_date("1970-01-01", 10));
	cr_expect_not_null(validate_date("2025-09-19x", 11));
	cr_expect_eq(date_days("2025-09-19"), 20350);
	cr_expect_eq(date_days("2000-03-01"), 11017);
}
