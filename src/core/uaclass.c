/*
 * User-Agent and Referer classification (see uaclass.h).
 */

#define PCRE2_CODE_UNIT_WIDTH	8

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <pcre2.h>

#include "core/uaclass.h"
#include "core/xalloc.h"

/*
 * The list as PCRE2 runs it fastest without a JIT: the patterns anchored
 * at the start (^...) joined into one, which is tried at the first byte
 * only; every other pattern on its own, so that each can skip ahead to
 * the bytes it may start with. One alternation of all of them, as isbot
 * builds it, costs ten times more here. The list is lower case, so the
 * User-Agent is lowered once and the patterns run case-sensitively, which
 * lets PCRE2 look for a literal first byte with memchr (a pattern with an
 * upper-case letter would still be compiled caseless).
 */
struct botmatch {
	pcre2_code		*anchored;
	pcre2_code		**each;
	size_t			 neach;
	pcre2_match_data	*md;
	size_t			 count;
};

/* Longest User-Agent matched: the click writer keeps 512 bytes. */
#define UA_MATCH_MAX	1024

struct ua_slot {
	char		*ua;		/* owned; NULL when empty */
	struct ua_class	 cls;
};

struct ua_cache {
	struct botmatch	*bm;
	struct ua_slot	*slots;
	size_t		 mask;
};

/* A token and the family it names; the first that appears wins. */
struct family {
	const char	*token;
	uint8_t		 id;
};

static size_t	js_pattern_copy(char *, const char *, size_t);
static pcre2_code *compile(const char *, size_t);
static int	has(const char *, const char *);
static uint8_t	first_family(const char *, const struct family *, size_t,
		    uint8_t);
static uint8_t	device_of(const char *, uint8_t);
static size_t	ua_hash(const char *);

static const struct family browsers[] = {
	{ "Edg/", UA_BROWSER_EDGE }, { "Edge/", UA_BROWSER_EDGE },
	{ "EdgA/", UA_BROWSER_EDGE }, { "EdgiOS/", UA_BROWSER_EDGE },
	{ "OPR/", UA_BROWSER_OPERA }, { "Opera", UA_BROWSER_OPERA },
	{ "SamsungBrowser/", UA_BROWSER_SAMSUNG },
	{ "Firefox/", UA_BROWSER_FIREFOX }, { "FxiOS/", UA_BROWSER_FIREFOX },
	{ "CriOS/", UA_BROWSER_CHROME }, { "Chrome/", UA_BROWSER_CHROME },
	{ "Chromium/", UA_BROWSER_CHROME },
	{ "MSIE ", UA_BROWSER_IE }, { "Trident/", UA_BROWSER_IE },
	{ "Safari/", UA_BROWSER_SAFARI },
};

static const struct family systems[] = {
	{ "Windows", UA_OS_WINDOWS }, { "iPhone", UA_OS_IOS },
	{ "iPad", UA_OS_IOS }, { "iPod", UA_OS_IOS },
	{ "Android", UA_OS_ANDROID }, { "CrOS", UA_OS_CHROMEOS },
	{ "Macintosh", UA_OS_MACOS }, { "Mac OS X", UA_OS_MACOS },
	{ "Linux", UA_OS_LINUX }, { "X11", UA_OS_LINUX },
};

static const char *const browser_names[UA_BROWSER_COUNT] = {
	"Other", "Edge", "Opera", "Samsung Internet", "Firefox", "Chrome",
	"Safari", "Internet Explorer",
};

static const char *const os_names[UA_OS_COUNT] = {
	"Other", "Windows", "iOS", "Android", "ChromeOS", "macOS", "Linux",
};

static const char *const device_names[UA_DEVICE_COUNT] = {
	"other", "desktop", "mobile", "tablet", "bot",
};

/*
 * Fetchers that unfurl a link pasted into a chat or a post. Each is a
 * case-insensitive substring of their User-Agent; keep in step with
 * docs/api.md ("Clicks and link previews"). In lower case: the
 * User-Agent is lowered once and each name found with strstr(3), whose
 * SIMD search skips ahead. A strncasecmp(3) at every position for every
 * name cost a browser's 111-character User-Agent 128 000 instructions
 * per GET, this 5 000 (`make bench`, phase 5: docs/performance.md).
 */
static const char *const previewers[] = {
	"facebookexternalhit", "facebookcatalog", "twitterbot",
	"slackbot-linkexpanding", "slack-imgproxy", "discordbot",
	"telegrambot", "whatsapp/", "linkedinbot", "skypeuripreview",
	"iframely", "embedly", "redditbot", "pinterestbot", "vkshare",
	"google-pagerenderer", "mastodon/", "cardyb", "snap url preview",
	"microsoftpreview", "bitlybot", "kakaotalk-scrap",
	NULL
};

/* User-Agents up to this long are lowered on the stack. */
#define UA_PREVIEW_STACK	512

struct botmatch *
botmatch_create(const char *json, size_t len, const char **err)
{
	struct botmatch	*bm;
	json_error_t	 jerr;
	json_t		*list, *item;
	char		*joined, *one;
	size_t		 i, total, plen, off;

	*err = NULL;
	if ((list = json_loadb(json, len, 0, &jerr)) == NULL ||
	    !json_is_array(list) || json_array_size(list) == 0) {
		json_decref(list);
		*err = "the bot list is not a JSON array of patterns";
		return (NULL);
	}

	total = 1;
	json_array_foreach(list, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			json_decref(list);
			*err = "the bot list holds other things than "
			    "patterns";
			return (NULL);
		}
		total += 2 * json_string_length(item) + 1;
	}

	bm = xmalloc(sizeof(*bm));
	memset(bm, 0, sizeof(*bm));
	bm->count = json_array_size(list);
	bm->each = xreallocarray(NULL, bm->count, sizeof(*bm->each));
	joined = xmalloc(total);
	one = xmalloc(total);
	off = 0;
	json_array_foreach(list, i, item) {
		plen = json_string_length(item);
		if (json_string_value(item)[0] == '^') {
			if (off > 0)
				joined[off++] = '|';
			off += js_pattern_copy(joined + off,
			    json_string_value(item), plen);
			continue;
		}
		plen = js_pattern_copy(one, json_string_value(item), plen);
		if ((bm->each[bm->neach] = compile(one, plen)) == NULL)
			break;
		bm->neach++;
	}
	json_decref(list);
	if (i == bm->count && off > 0)
		bm->anchored = compile(joined, off);
	free(joined);
	free(one);
	if (i < bm->count || (off > 0 && bm->anchored == NULL)) {
		botmatch_free(bm);
		*err = "a bot pattern does not compile";
		return (NULL);
	}
	if ((bm->md = pcre2_match_data_create(1, NULL)) == NULL)
		abort();
	return (bm);
}

static pcre2_code *
compile(const char *pattern, size_t len)
{
	int		code;
	uint32_t	opts = 0;
	PCRE2_SIZE	where;
	size_t		i;

	for (i = 0; i < len; i++) {
		if (pattern[i] == '\\')
			i++;
		else if (pattern[i] >= 'A' && pattern[i] <= 'Z')
			opts = PCRE2_CASELESS;
	}
	return (pcre2_compile((PCRE2_SPTR)pattern, len, opts, &code, &where,
	    NULL));
}

/*
 * A JavaScript pattern as PCRE2 reads it. One difference matters for the
 * isbot list: in a character class, JavaScript takes a '-' after a class
 * escape ([\w\d-.]) as a literal hyphen, PCRE2 as a bad range; it gets a
 * backslash. out has room for 2 * len bytes.
 */
static size_t
js_pattern_copy(char *out, const char *p, size_t len)
{
	size_t	i, o = 0;
	int	in_class = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 1 < len) {
			out[o++] = p[i++];
			out[o++] = p[i];
			if (in_class && strchr("dDwWsS", p[i]) != NULL &&
			    i + 1 < len && p[i + 1] == '-' && i + 2 < len &&
			    p[i + 2] != ']') {
				out[o++] = '\\';
				out[o++] = p[++i];
			}
			continue;
		}
		if (p[i] == '[')
			in_class = 1;
		else if (p[i] == ']')
			in_class = 0;
		out[o++] = p[i];
	}
	return (o);
}

void
botmatch_free(struct botmatch *bm)
{
	size_t	i;

	if (bm == NULL)
		return;
	pcre2_match_data_free(bm->md);
	pcre2_code_free(bm->anchored);
	for (i = 0; i < bm->neach; i++)
		pcre2_code_free(bm->each[i]);
	free(bm->each);
	free(bm);
}

size_t
botmatch_count(const struct botmatch *bm)
{
	return (bm->count);
}

int
botmatch_is_bot(struct botmatch *bm, const char *ua)
{
	char	 low[UA_MATCH_MAX + 1];
	size_t	 i, len;
	int	 bot = 0;

	for (len = 0; len < UA_MATCH_MAX && ua[len] != '\0'; len++)
		low[len] = (char)tolower((unsigned char)ua[len]);
	low[len] = '\0';

	if (bm->anchored != NULL && pcre2_match(bm->anchored, (PCRE2_SPTR)low,
	    len, 0, 0, bm->md, NULL) >= 0)
		return (1);
	for (i = 0; i < bm->neach && !bot; i++) {
		bot = pcre2_match(bm->each[i], (PCRE2_SPTR)low, len, 0, 0,
		    bm->md, NULL) >= 0;
	}
	return (bot);
}

void
ua_classify(struct botmatch *bm, const char *ua, struct ua_class *out)
{
	memset(out, 0, sizeof(*out));
	if (ua == NULL || *ua == '\0')
		return;

	out->bot = bm != NULL && botmatch_is_bot(bm, ua);
	out->browser = first_family(ua, browsers,
	    sizeof(browsers) / sizeof(browsers[0]), UA_BROWSER_OTHER);
	out->os = first_family(ua, systems,
	    sizeof(systems) / sizeof(systems[0]), UA_OS_OTHER);
	out->device = out->bot ? UA_DEVICE_BOT : device_of(ua, out->os);
}

/*
 * Safari's token is also in every Chrome and Edge User-Agent, hence last;
 * and only Safari itself also carries "Version/" (a bare "Safari/" is some
 * other WebKit program).
 */
static uint8_t
first_family(const char *ua, const struct family *f, size_t n, uint8_t none)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!has(ua, f[i].token))
			continue;
		if (f[i].id == UA_BROWSER_SAFARI && f == browsers &&
		    !has(ua, "Version/"))
			continue;
		return (f[i].id);
	}
	return (none);
}

static uint8_t
device_of(const char *ua, uint8_t os)
{
	if (has(ua, "iPad") || has(ua, "Tablet") ||
	    (os == UA_OS_ANDROID && !has(ua, "Mobile")))
		return (UA_DEVICE_TABLET);
	if (has(ua, "Mobi") || has(ua, "iPhone") || has(ua, "iPod") ||
	    os == UA_OS_ANDROID)
		return (UA_DEVICE_MOBILE);
	if (os == UA_OS_WINDOWS || os == UA_OS_MACOS || os == UA_OS_LINUX ||
	    os == UA_OS_CHROMEOS)
		return (UA_DEVICE_DESKTOP);
	return (UA_DEVICE_OTHER);
}

static int
has(const char *ua, const char *token)
{
	return (strstr(ua, token) != NULL);
}

struct ua_cache *
ua_cache_create(struct botmatch *bm, size_t slots)
{
	struct ua_cache	*c;
	size_t		 n;

	for (n = 1; n < slots; n <<= 1)
		;
	c = xmalloc(sizeof(*c));
	c->bm = bm;
	c->mask = n - 1;
	c->slots = xreallocarray(NULL, n, sizeof(*c->slots));
	memset(c->slots, 0, n * sizeof(*c->slots));
	return (c);
}

void
ua_cache_free(struct ua_cache *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i <= c->mask; i++)
		free(c->slots[i].ua);
	free(c->slots);
	free(c);
}

void
ua_cache_classify(struct ua_cache *c, const char *ua, struct ua_class *out)
{
	struct ua_slot	*s;

	if (ua == NULL || *ua == '\0') {
		ua_classify(c->bm, ua, out);
		return;
	}
	s = &c->slots[ua_hash(ua) & c->mask];
	if (s->ua != NULL && !strcmp(s->ua, ua)) {
		*out = s->cls;
		return;
	}
	ua_classify(c->bm, ua, out);
	free(s->ua);
	s->ua = xstrdup(ua);
	s->cls = *out;
}

/* FNV-1a. */
static size_t
ua_hash(const char *s)
{
	size_t	h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return (h);
}

const char *
ua_browser_name(unsigned int browser)
{
	return (browser < UA_BROWSER_COUNT ? browser_names[browser] : "Other");
}

const char *
ua_os_name(unsigned int os)
{
	return (os < UA_OS_COUNT ? os_names[os] : "Other");
}

const char *
ua_device_name(unsigned int device)
{
	return (device < UA_DEVICE_COUNT ? device_names[device] : "other");
}

int
ua_is_link_preview(const char *ua)
{
	char		 stack[UA_PREVIEW_STACK], *low;
	size_t		 i, len;
	int		 found;

	if (ua == NULL)
		return (0);
	len = strlen(ua);
	low = len < sizeof(stack) ? stack : xmalloc(len + 1);
	/* ASCII only, as strncasecmp(3) in the C locale the workers run. */
	for (i = 0; i < len; i++) {
		low[i] = (ua[i] >= 'A' && ua[i] <= 'Z') ?
		    (char)(ua[i] - 'A' + 'a') : ua[i];
	}
	low[len] = '\0';
	found = 0;
	for (i = 0; previewers[i] != NULL && !found; i++)
		found = strstr(low, previewers[i]) != NULL;
	if (low != stack)
		free(low);
	return (found);
}

void
referer_host(const char *referer, char *out)
{
	const char	*p, *host, *end, *at;
	size_t		 len, i;

	out[0] = '\0';
	if (referer == NULL || *referer == '\0')
		return;

	if (strncasecmp(referer, "https://", 8) == 0)
		p = referer + 8;
	else if (strncasecmp(referer, "http://", 7) == 0)
		p = referer + 7;
	else
		goto invalid;

	end = p + strcspn(p, "/?#");
	host = p;
	if ((at = memchr(p, '@', (size_t)(end - p))) != NULL)
		host = at + 1;
	len = strcspn(host, ":/?#");
	if (host + len > end)
		len = (size_t)(end - host);
	if (len == 0 || len > REFERER_HOST_MAX)
		goto invalid;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)host[i];

		if (!isalnum(ch) && ch != '.' && ch != '-' && ch != '_')
			goto invalid;
		out[i] = (char)tolower(ch);
	}
	out[len] = '\0';
	return;

invalid:
	memcpy(out, "(invalid)", sizeof("(invalid)"));
}
