/*
 * What a click's headers say (core/uaclass.c): the User-Agent and the
 * Referer of every counted redirect are the client's bytes, classified by
 * the click writer (bot or person, browser, operating system, device) and
 * cut down to the Referer's host for the analytics.
 *
 * Input: one byte of cache size, then pairs of NUL-separated strings
 * (User-Agent, Referer); an empty Referer is also tried as none (NULL).
 * The bot list is the repository's (assets/data/isbot-patterns.json, or
 * BOT_PATTERNS), as the worker loads it.
 *
 * Properties: referer_host() writes within its REFERER_HOST_MAX + 1
 * bytes (an exact-size heap buffer) and gives what a model written here
 * gives: "" for no Referer, "(invalid)" for anything but an absolute
 * http(s) URL whose host (after the user info, before the port) is 1 to
 * 100 letters, digits, dots, dashes or underscores, else that host
 * lowercased; ua_classify() gives names in range, the device "bot"
 * exactly for bots, all zeros for no User-Agent; the one-pattern-plus-
 * rest split of the bot list decides as the patterns one by one do (a
 * botmatch of each pattern alone); the worker's table of recent
 * User-Agents (a few slots: collisions) always answers what ua_classify()
 * answers, on a miss and on a hit.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/uaclass.h"
#include "fuzz.h"

#define PAIRS	4

static struct botmatch	 *all;		/* the whole list */
static struct botmatch	**single;	/* each pattern alone */
static size_t		  nsingle;

static void	load_patterns(void);
static void	check_referer(const char *);
static void	model_host(const char *, char *);
static void	check_class(struct ua_cache *, const char *, int);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_cache	*cache;
	char		*text, *s[2 * PAIRS];
	size_t		 n = 0, i, off, slots;

	if (all == NULL)
		load_patterns();
	if (size == 0)
		return (0);
	slots = 1 + data[0] % 4;
	/* The strings and one NUL after the last: an exact-size copy. */
	if ((text = malloc(size)) == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (off = 0; off < size - 1 && n < 2 * PAIRS; n++) {
		s[n] = text + off;
		off += strlen(text + off) + 1;
	}
	cache = ua_cache_create(all, slots);
	for (i = 0; i < n; i++) {
		if (i % 2 == 0) {
			check_class(cache, s[i], 1);
			continue;
		}
		check_referer(s[i]);
		if (s[i][0] == '\0')
			check_referer(NULL);
	}
	/* Again, in the same table: now hits, or evictions by collision. */
	for (i = 0; i < n; i += 2)
		check_class(cache, s[i], 0);
	check_class(cache, NULL, 0);
	ua_cache_free(cache);
	free(text);
	return (0);
}

static void
check_referer(const char *ref)
{
	char	*out, want[REFERER_HOST_MAX + 1];

	if ((out = malloc(REFERER_HOST_MAX + 1)) == NULL)
		abort();
	referer_host(ref, out);
	model_host(ref, want);
	CHECK(!strcmp(out, want), "referer_host(\"%s\") = \"%s\", want \"%s\"",
	    ref != NULL ? ref : "(null)", out, want);
	free(out);
}

/* The documented rule, written out byte by byte. */
static void
model_host(const char *ref, char *want)
{
	const char	*p, *h;
	size_t		 alen, hl, i;

	want[0] = '\0';
	if (ref == NULL || ref[0] == '\0')
		return;
	if (!strncasecmp(ref, "https://", 8))
		p = ref + 8;
	else if (!strncasecmp(ref, "http://", 7))
		p = ref + 7;
	else
		goto invalid;
	for (alen = 0; p[alen] != '\0' && p[alen] != '/' && p[alen] != '?' &&
	    p[alen] != '#'; alen++)
		;
	h = p;
	for (i = 0; i < alen; i++) {
		if (p[i] == '@') {
			h = p + i + 1;
			break;
		}
	}
	for (hl = 0; h + hl < p + alen && h[hl] != ':'; hl++)
		;
	if (hl == 0 || hl > REFERER_HOST_MAX)
		goto invalid;
	for (i = 0; i < hl; i++) {
		unsigned char	c = (unsigned char)h[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '-' && c != '_')
			goto invalid;
		want[i] = (char)c;
	}
	want[hl] = '\0';
	return;
invalid:
	strcpy(want, "(invalid)");
}

/* reference: also decide with the patterns one by one (slow). */
static void
check_class(struct ua_cache *cache, const char *ua, int reference)
{
	struct ua_class	 c, cached;
	size_t		 i;
	int		 any = 0;

	ua_classify(all, ua, &c);
	CHECK(c.browser < UA_BROWSER_COUNT && c.os < UA_OS_COUNT &&
	    c.device < UA_DEVICE_COUNT && c.bot <= 1, "class out of range");
	CHECK((c.device == UA_DEVICE_BOT) == c.bot, "device %u, bot %u",
	    c.device, c.bot);
	CHECK(ua_browser_name(c.browser) != NULL &&
	    ua_os_name(c.os) != NULL && ua_device_name(c.device) != NULL,
	    "a class without a name");
	if (ua == NULL || ua[0] == '\0') {
		CHECK(!c.bot && !c.browser && !c.os && !c.device,
		    "a class for no User-Agent");
	} else if (reference) {
		for (i = 0; i < nsingle && !any; i++)
			any = botmatch_is_bot(single[i], ua);
		CHECK(c.bot == any, "\"%s\": bot %u, patterns one by one %d",
		    ua, c.bot, any);
	}
	(void)ua_is_link_preview(ua);

	ua_cache_classify(cache, ua, &cached);
	CHECK(!memcmp(&cached, &c, sizeof(c)), "\"%s\": the table of recent "
	    "User-Agents answers another class", ua != NULL ? ua : "(null)");
}

/*
 * The repository's list, as the worker reads it; and a botmatch of every
 * pattern alone (the same JavaScript-to-PCRE2 reading), the reference
 * for how the whole list is split and joined.
 */
static void
load_patterns(void)
{
	const char	*paths[] = { getenv("BOT_PATTERNS"),
	    "assets/data/isbot-patterns.json",
	    "../../assets/data/isbot-patterns.json" };
	json_t		*list = NULL, *item, *one;
	const char	*err;
	char		*text;
	size_t		 i;

	for (i = 0; list == NULL && i < 3; i++) {
		if (paths[i] != NULL)
			list = json_load_file(paths[i], 0, NULL);
	}
	CHECK(list != NULL && json_is_array(list), "no bot list (BOT_PATTERNS)");
	text = json_dumps(list, JSON_COMPACT);
	all = botmatch_create(text, strlen(text), &err);
	CHECK(all != NULL, "bot list: %s", err);
	free(text);
	nsingle = json_array_size(list);
	if ((single = calloc(nsingle, sizeof(*single))) == NULL)
		abort();
	json_array_foreach(list, i, item) {
		one = json_pack("[O]", item);
		text = json_dumps(one, JSON_COMPACT);
		single[i] = botmatch_create(text, strlen(text), &err);
		CHECK(single[i] != NULL, "pattern %zu: %s", i, err);
		free(text);
		json_decref(one);
	}
	json_decref(list);
}
