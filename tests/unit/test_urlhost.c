/*
 * Hostile links: every class the URL validator refuses (user information,
 * backslashes, invisible and bidirectional characters, internal
 * addresses in every spelling a browser accepts, the service's own host,
 * the operator's blocklist), each with the message the 422 carries, and
 * the neighbours that must still pass.
 */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/urlhost.h"
#include "core/validate.h"

#define LIT(s)		(s), (sizeof(s) - 1)
#define OK(s)		cr_expect_null(validate_url(LIT(s)), \
			    "\"%s\" refused: %s", (s), validate_url(LIT(s)))
#define REFUSED(s, why)	do {						\
		const char *got_ = validate_url(LIT(s));		\
		cr_expect_not_null(got_, "\"%s\" accepted", (s));	\
		if (got_ != NULL)					\
			cr_expect_str_eq(got_, (why), "\"%s\"", (s));	\
	} while (0)

#define MSG_USERINFO	"must not contain user information (user@host)"
#define MSG_BACKSLASH	"must not contain a backslash before the path"
#define MSG_INVISIBLE	"must not contain invisible or bidirectional " \
			"control characters in the host"
#define MSG_BIDI	"must not contain bidirectional control characters"
#define MSG_SPACE	"must not contain whitespace"
#define MSG_INTERNAL	"must not point to a loopback, private or " \
			"link-local address"
#define MSG_HOST	"must have a valid host"
#define MSG_OWN		"must not point to this service (a redirect loop)"
#define MSG_BLOCKED	"points to a blocked host"

static struct urlhost_policy	policy;

static void
use(int allow_internal, const char *base, const char *list)
{
	char	err[128];

	cr_assert_eq(urlhost_policy_init(&policy, allow_internal, base, list,
	    list != NULL ? strlen(list) : 0, err, sizeof(err)), 0, "%s", err);
	urlhost_policy_use(&policy);
}

static void
reset(void)
{
	urlhost_policy_use(NULL);
	urlhost_policy_free(&policy);
}

TestSuite(urlhost, .fini = reset);

Test(urlhost, userinfo_is_refused)
{
	REFUSED("http://a@b/", MSG_USERINFO);
	REFUSED("http://user:pass@example.com/", MSG_USERINFO);
	REFUSED("https://@example.com/", MSG_USERINFO);
	REFUSED("https://example.com@evil.com/", MSG_USERINFO);
	REFUSED("http://a:b@c@example.com/", MSG_USERINFO);
}

Test(urlhost, backslash_in_the_authority_is_refused)
{
	REFUSED("http://a\\@b/", MSG_BACKSLASH);
	REFUSED("http://good.com\\@evil.com/", MSG_BACKSLASH);
	REFUSED("http://evil.com\\.good.com/", MSG_BACKSLASH);
	REFUSED("http://example.com\\path", MSG_BACKSLASH);
	OK("http://example.com/path\\with\\backslashes");
}

Test(urlhost, invisible_characters_in_the_host_are_refused)
{
	/* Soft hyphen: IDNA would delete it, the reader does not see it. */
	REFUSED("http://pay\xc2\xadpal.com/", MSG_INVISIBLE);
	REFUSED("http://exam\xcd\x8fple.com/", MSG_INVISIBLE);	/* CGJ */
	REFUSED("http://example\xef\xb8\x8f.com/", MSG_INVISIBLE); /* VS16 */
	REFUSED("http://ex\xf3\xa0\x81\x81mple.com/", MSG_INVISIBLE); /* tag */
	REFUSED("http://ex\xe2\x81\xa4mple.com/", MSG_INVISIBLE); /* U+2064 */
	REFUSED("http://ex\xe1\x85\x9fmple.com/", MSG_INVISIBLE); /* filler */
	/* Zero-width space and joiners are whitespace anywhere. */
	REFUSED("http://exa\xe2\x80\x8bmple.com/", MSG_SPACE);
	REFUSED("http://exa\xe2\x80\x8dmple.com/", MSG_SPACE);
	/* Controls, C0 and C1, anywhere. */
	cr_expect_not_null(validate_url(LIT("http://exa\x01mple.com/")));
	cr_expect_not_null(validate_url(LIT("http://exa\xc2\x85mple.com/")));
	cr_expect_not_null(validate_url(LIT("http://example.com\r\n/")));
}

Test(urlhost, bidirectional_controls_are_refused_anywhere)
{
	REFUSED("http://a\xe2\x80\xae" "b.com/", MSG_BIDI);	/* RLO */
	REFUSED("http://example.com/\xe2\x80\xaegnp.exe", MSG_BIDI);
	REFUSED("http://example.com/\xe2\x81\xa6x", MSG_BIDI);	/* LRI */
	REFUSED("http://example.com/\xe2\x80\x8f", MSG_BIDI);	/* RLM */
	REFUSED("http://example.com/\xd8\x9c", MSG_BIDI);	/* ALM */
	/* Right-to-left text itself is fine. */
	OK("https://example.com/\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
}

Test(urlhost, internal_ipv4_in_every_spelling_is_refused)
{
	static const char *const	hosts[] = {
		"127.0.0.1", "127.1", "127.0.1", "0x7f.1", "0x7F.0.0.1",
		"0177.0.0.1", "2130706433", "0x7f000001", "017700000001",
		"127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1",
		"172.31.255.255", "192.168.1.1", "169.254.169.254",
		"0.0.0.0", "0", "100.64.0.1", "198.18.0.1", "224.0.0.1",
		"255.255.255.255", "240.0.0.1", "127.0.0.1.",
		"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97\xef\xbc\x8e\xef\xbc\x90"
		"\xef\xbc\x8e\xef\xbc\x90\xef\xbc\x8e\xef\xbc\x91",
		"127\xe3\x80\x82" "0\xe3\x80\x82" "0\xe3\x80\x82" "1",
		NULL
	};
	char		url[256];
	const char	*why;
	size_t		i;

	for (i = 0; hosts[i] != NULL; i++) {
		(void)snprintf(url, sizeof(url), "http://%s:8080/x", hosts[i]);
		why = validate_url(url, strlen(url));
		cr_expect(why != NULL && strcmp(why, MSG_INTERNAL) == 0,
		    "%s: %s", url, why != NULL ? why : "accepted");
	}
}

Test(urlhost, internal_ipv6_and_localhost_are_refused)
{
	REFUSED("http://[::1]/", MSG_INTERNAL);
	REFUSED("http://[::]/", MSG_INTERNAL);
	REFUSED("http://[0:0:0:0:0:0:0:1]:80/", MSG_INTERNAL);
	REFUSED("http://[fe80::1]/", MSG_INTERNAL);
	REFUSED("http://[fc00::1]/", MSG_INTERNAL);
	REFUSED("http://[fd12:3456::1]/", MSG_INTERNAL);
	REFUSED("http://[ff02::1]/", MSG_INTERNAL);
	REFUSED("http://[::ffff:127.0.0.1]/", MSG_INTERNAL);
	REFUSED("http://[::ffff:7f00:1]/", MSG_INTERNAL);
	REFUSED("http://[::ffff:a9fe:a9fe]/", MSG_INTERNAL);
	REFUSED("http://[64:ff9b::a00:1]/", MSG_INTERNAL);	/* NAT64 10/8 */
	REFUSED("http://[2002:c0a8:101::1]/", MSG_INTERNAL);	/* 6to4 */
	REFUSED("http://localhost/", MSG_INTERNAL);
	REFUSED("http://LOCALHOST:3000/", MSG_INTERNAL);
	REFUSED("http://localhost./", MSG_INTERNAL);
	REFUSED("http://api.localhost/", MSG_INTERNAL);
}

Test(urlhost, public_addresses_pass)
{
	OK("http://8.8.8.8/");
	OK("http://172.32.0.1/");
	OK("http://11.0.0.1/");
	OK("http://192.169.0.1/");
	OK("http://134744072/");			/* 8.8.8.8 */
	OK("http://[2001:4860:4860::8888]/");
	OK("http://[64:ff9b::808:808]/");		/* NAT64 8.8.8.8 */
	OK("http://localhost.example.com/");
	OK("http://mylocalhost/");
}

Test(urlhost, what_no_browser_reads_as_a_host)
{
	REFUSED("http://256.0.0.1/", MSG_HOST);
	REFUSED("http://1.2.3.4.5/", MSG_HOST);
	REFUSED("http://example.123/", MSG_HOST);
	REFUSED("http://0x100000000/", MSG_HOST);
	/* "0x" is a number (0) to a browser: 1.2.3.0, a public address. */
	OK("http://1.2.3.0x/");
}

Test(urlhost, the_service_itself_is_refused)
{
	use(0, "https://sho.rt", NULL);
	REFUSED("https://sho.rt/abc", MSG_OWN);
	REFUSED("http://SHO.RT./abc", MSG_OWN);
	REFUSED("https://sho.rt:8443/abc", MSG_OWN);
	OK("https://sub.sho.rt/");
	OK("https://sho.rt.example.com/");
	reset();

	/* An address spelled otherwise is the same host. */
	use(1, "http://127.0.0.1:8080", NULL);
	REFUSED("http://2130706433/abc", MSG_OWN);
	REFUSED("http://127.1:8080/abc", MSG_OWN);
	OK("http://127.0.0.2/abc");
}

Test(urlhost, the_blocklist_blocks_hosts_and_their_subdomains)
{
	use(0, NULL, "# phishing\n"
	    "evil.com\n"
	    "  *.bad.org   # and every subdomain\n"
	    "\r\n"
	    "m\xc3\xbcnchen-phish.de\n"
	    "8.8.4.4\n");
	cr_expect_eq(policy.nblocked, 4);
	REFUSED("https://evil.com/login", MSG_BLOCKED);
	REFUSED("https://www.EVIL.com./login", MSG_BLOCKED);
	REFUSED("https://a.b.evil.com/", MSG_BLOCKED);
	REFUSED("https://bad.org/", MSG_BLOCKED);
	REFUSED("https://x.bad.org/", MSG_BLOCKED);
	REFUSED("https://xn--mnchen-phish-dlb.de/", MSG_BLOCKED);
	REFUSED("https://M\xc3\x9cNCHEN-phish.de/", MSG_BLOCKED);
	REFUSED("http://8.8.4.4/", MSG_BLOCKED);
	REFUSED("http://0x8.0x8.0x4.0x4/", MSG_BLOCKED);
	OK("https://notevil.com/");
	OK("https://evil.com.example.net/");
	OK("https://bad.org.example.net/");
	OK("http://8.8.8.8/");
}

/* Found by tests/fuzz/fuzz_urlhost.c: a second trailing dot. */
Test(urlhost, an_empty_last_label_is_no_host)
{
	use(0, "https://sho.rt", "evil.com\n");
	REFUSED("https://evil.com../", MSG_HOST);
	REFUSED("https://sho.rt../", MSG_HOST);
	REFUSED("https://example.com.../", MSG_HOST);
	REFUSED("https://evil.com./", MSG_BLOCKED);
}

Test(urlhost, a_bad_blocklist_entry_names_its_line)
{
	struct urlhost_policy	p;
	char			err[128];

	cr_assert_eq(urlhost_policy_init(&p, 0, NULL, "ok.com\nexa mple.com\n",
	    21, err, sizeof(err)), -1);
	cr_expect(strncmp(err, "line 2: ", 8) == 0, "%s", err);
	cr_expect_eq(p.nblocked, 0);
}

Test(urlhost, canonical_forms)
{
	struct urlhost	h;

	cr_assert_null(urlhost_parse(LIT("EXAMPLE.com."), &h));
	cr_expect_eq(h.kind, URLHOST_NAME);
	cr_expect_str_eq(h.text, "example.com");
	cr_assert_null(urlhost_parse(LIT("0x7f.1"), &h));
	cr_expect_eq(h.kind, URLHOST_IPV4);
	cr_expect_str_eq(h.text, "127.0.0.1");
	cr_assert_null(urlhost_parse(LIT("[2001:DB8:0::1]"), &h));
	cr_expect_eq(h.kind, URLHOST_IPV6);
	cr_expect_str_eq(h.text, "2001:db8::1");
	cr_assert_null(urlhost_parse(LIT("b\xc3\xbc" "cher.example"), &h));
	cr_expect_str_eq(h.text, "xn--bcher-kva.example");
}
