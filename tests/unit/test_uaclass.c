/* Who clicked: the isbot list, families, previews, Referer hosts. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "core/uaclass.h"

static struct botmatch	*bots;

static void
load_bots(void)
{
	const char	*path = getenv("BOT_PATTERNS"), *err;
	FILE		*f;
	char		*buf;
	long		 n;

	cr_assert_not_null(path, "BOT_PATTERNS names the isbot list");
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	bots = botmatch_create(buf, (size_t)n, &err);
	free(buf);
	cr_assert_not_null(bots, "the list compiles: %s", err ? err : "");
}

static void
free_bots(void)
{
	botmatch_free(bots);
}

TestSuite(uaclass, .init = load_bots, .fini = free_bots);

Test(uaclass, the_whole_isbot_list_compiles)
{
	cr_expect_gt(botmatch_count(bots), 100);
}

static struct ua_class
classify(const char *ua)
{
	struct ua_class	c;

	ua_classify(bots, ua, &c);
	return (c);
}

Test(uaclass, bots_are_bots)
{
	static const char *const agents[] = {
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		"curl/8.5.0",
		"python-requests/2.31.0",
		"Wget/1.21.3",
		"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
		"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
	};
	size_t	i;

	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++) {
		struct ua_class c = classify(agents[i]);

		cr_expect(c.bot, "a bot: %s", agents[i]);
		cr_expect_eq(c.device, UA_DEVICE_BOT, "%s", agents[i]);
	}
}

Test(uaclass, people_and_their_families)
{
	static const struct {
		const char	*ua;
		int		 browser, os, device;
	} people[] = {
		{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
		  "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		  UA_BROWSER_CHROME, UA_OS_WINDOWS, UA_DEVICE_DESKTOP },
		{ "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 "
		  "Firefox/125.0", UA_BROWSER_FIREFOX, UA_OS_LINUX,
		  UA_DEVICE_DESKTOP },
		{ "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
		  "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
		  "Mobile/15E148 Safari/604.1", UA_BROWSER_SAFARI, UA_OS_IOS,
		  UA_DEVICE_MOBILE },
		{ "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) "
		  "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
		  "Mobile/15E148 Safari/604.1", UA_BROWSER_SAFARI, UA_OS_IOS,
		  UA_DEVICE_TABLET },
		{ "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
		  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
		  "Safari/537.36 Edg/124.0.2478.51", UA_BROWSER_EDGE,
		  UA_OS_MACOS, UA_DEVICE_DESKTOP },
		{ "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
		  "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 "
		  "Mobile Safari/537.36", UA_BROWSER_SAMSUNG, UA_OS_ANDROID,
		  UA_DEVICE_MOBILE },
		{ "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
		  "(KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
		  UA_BROWSER_CHROME, UA_OS_ANDROID, UA_DEVICE_TABLET },
		{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
		  "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "
		  "OPR/110.0.0.0", UA_BROWSER_OPERA, UA_OS_WINDOWS,
		  UA_DEVICE_DESKTOP },
	};
	size_t	i;

	for (i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct ua_class c = classify(people[i].ua);

		cr_expect(!c.bot, "a person: %s", people[i].ua);
		cr_expect_eq(c.browser, people[i].browser, "%s", people[i].ua);
		cr_expect_eq(c.os, people[i].os, "%s", people[i].ua);
		cr_expect_eq(c.device, people[i].device, "%s", people[i].ua);
	}
	cr_expect_str_eq(ua_browser_name(UA_BROWSER_SAMSUNG),
	    "Samsung Internet");
	cr_expect_str_eq(ua_os_name(UA_OS_IOS), "iOS");
	cr_expect_str_eq(ua_device_name(UA_DEVICE_TABLET), "tablet");
	cr_expect_str_eq(ua_browser_name(999), "Other");
}

Test(uaclass, no_user_agent_is_nobody_in_particular)
{
	struct ua_class	c = classify(NULL);

	cr_expect(!c.bot);
	cr_expect_eq(c.browser, UA_BROWSER_OTHER);
	cr_expect_eq(c.device, UA_DEVICE_OTHER);
}

Test(uaclass, the_cache_answers_like_the_classifier)
{
	struct ua_cache	*cache = ua_cache_create(bots, 4);
	struct ua_class	 a, b;
	const char	*g = "Mozilla/5.0 (compatible; Googlebot/2.1)";
	const char	*f = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) "
			    "Gecko/20100101 Firefox/125.0";
	int		 i;

	for (i = 0; i < 3; i++) {
		ua_cache_classify(cache, g, &a);
		ua_classify(bots, g, &b);
		cr_expect(!memcmp(&a, &b, sizeof(a)));
		ua_cache_classify(cache, f, &a);
		ua_classify(bots, f, &b);
		cr_expect(!memcmp(&a, &b, sizeof(a)));
	}
	ua_cache_classify(cache, NULL, &a);
	cr_expect(!a.bot);
	ua_cache_free(cache);
}

Test(uaclass, link_previews)
{
	cr_expect(ua_is_link_preview("facebookexternalhit/1.1 "
	    "(+http://www.facebook.com/externalhit_uatext.php)"));
	cr_expect(ua_is_link_preview("Slackbot-LinkExpanding 1.0 "
	    "(+https://api.slack.com/robots)"));
	cr_expect(ua_is_link_preview("Mozilla/5.0 (compatible; Discordbot/2.0; "
	    "+https://discordapp.com)"));
	cr_expect(ua_is_link_preview("WhatsApp/2.23.20.0 A"));
	cr_expect(ua_is_link_preview("TWITTERBOT/1.0"), "any case");
	cr_expect(!ua_is_link_preview("Mozilla/5.0 (X11; Linux x86_64; "
	    "rv:125.0) Gecko/20100101 Firefox/125.0"));
	cr_expect(!ua_is_link_preview("Googlebot/2.1"));
	cr_expect(!ua_is_link_preview(NULL));
	cr_expect(!ua_is_link_preview(""));
	cr_expect(ua_is_link_preview("Snap URL Preview Service"),
	    "a name with spaces");
	cr_expect(!ua_is_link_preview("WhatsApp"), "the name is WhatsApp/");
	cr_expect(ua_is_link_preview("x mastodon/4.2 (http://m.example)"),
	    "any case, mid-string");
}

/*
 * The names as they were matched before the search went through a
 * lowered copy (strncasecmp at every position): the reference the
 * property test below holds ua_is_link_preview to.
 */
static const char *const ref_names[] = {
	"facebookexternalhit", "facebookcatalog", "Twitterbot",
	"Slackbot-LinkExpanding", "Slack-ImgProxy", "Discordbot",
	"TelegramBot", "WhatsApp/", "LinkedInBot", "SkypeUriPreview",
	"Iframely", "Embedly", "redditbot", "Pinterestbot", "vkShare",
	"Google-PageRenderer", "Mastodon/", "Cardyb", "Snap URL Preview",
	"MicrosoftPreview", "Bitlybot", "KakaoTalk-Scrap",
};

static int
ref_is_link_preview(const char *ua)
{
	size_t	 i, n, len = strlen(ua);
	const char *p;

	for (i = 0; i < sizeof(ref_names) / sizeof(ref_names[0]); i++) {
		n = strlen(ref_names[i]);
		for (p = ua; (size_t)(p - ua) + n <= len; p++) {
			if (strncasecmp(p, ref_names[i], n) == 0)
				return (1);
		}
	}
	return (0);
}

/*
 * Every name, in its own case, upper and lower case, cut by one byte at
 * either end, at the start, middle and end of User-Agents short and long
 * (over the 512 bytes lowered on the stack), and random bytes around
 * them: the same answer as the reference each time.
 */
Test(uaclass, link_previews_match_the_reference)
{
	static char	 ua[2400], name[64];
	size_t		 i, v, pad, n, at, k;
	unsigned int	 seed = 7;
	int		 want;

	for (i = 0; i < sizeof(ref_names) / sizeof(ref_names[0]); i++) {
		for (v = 0; v < 5; v++) {
			n = strlen(ref_names[i]);
			memcpy(name, ref_names[i], n + 1);
			for (k = 0; k < n; k++) {
				if (v == 1)
					name[k] = (char)toupper((unsigned char)name[k]);
				else if (v == 2)
					name[k] = (char)tolower((unsigned char)name[k]);
			}
			if (v == 3)
				name[n - 1] = '\0';
			else if (v == 4)
				memmove(name, name + 1, n);
			for (pad = 0; pad < 2000; pad = pad * 3 + 7) {
				for (at = 0; at < 3; at++) {
					n = 0;
					for (k = 0; k < pad * at / 2; k++)
						ua[n++] = (char)(32 + rand_r(&seed) % 95);
					n += (size_t)sprintf(ua + n, "%s", name);
					for (k = 0; k < pad; k++)
						ua[n++] = (char)(32 + rand_r(&seed) % 95);
					ua[n] = '\0';
					want = ref_is_link_preview(ua);
					cr_assert_eq(ua_is_link_preview(ua), want,
					    "\"%s\" in %zu bytes: expected %d",
					    name, n, want);
					if (v < 3)
						cr_assert(want);
				}
			}
		}
	}
}

Test(uaclass, referer_hosts)
{
	char	h[REFERER_HOST_MAX + 1];
	char	longref[300];

	referer_host("https://News.Example.com:8443/path?q=1", h);
	cr_expect_str_eq(h, "news.example.com");
	referer_host("http://user:pw@t.co/x", h);
	cr_expect_str_eq(h, "t.co");
	referer_host("https://example.org", h);
	cr_expect_str_eq(h, "example.org");
	referer_host("https://example.org?x", h);
	cr_expect_str_eq(h, "example.org");
	referer_host(NULL, h);
	cr_expect_str_eq(h, "");
	referer_host("", h);
	cr_expect_str_eq(h, "");
	referer_host("android-app://com.slack", h);
	cr_expect_str_eq(h, "(invalid)");
	referer_host("https:///nohost", h);
	cr_expect_str_eq(h, "(invalid)");
	referer_host("https://bad host/", h);
	cr_expect_str_eq(h, "(invalid)");
	memset(longref, 'a', sizeof(longref) - 1);
	longref[sizeof(longref) - 1] = '\0';
	memcpy(longref, "https://", 8);
	referer_host(longref, h);
	cr_expect_str_eq(h, "(invalid)", "a host over 100 bytes");
}

Test(uaclass, bad_lists_are_refused)
{
	const char	*err;

	cr_expect_null(botmatch_create("{}", 2, &err));
	cr_expect_not_null(err);
	cr_expect_null(botmatch_create("[]", 2, &err));
	cr_expect_null(botmatch_create("[1]", 3, &err));
	cr_expect_null(botmatch_create("[\"(\"]", 5, &err));
	cr_expect_str_eq(err, "a bot pattern does not compile");
}
