/*
 * What a click's User-Agent and Referer say about who clicked: a bot or a
 * person, which browser family, operating system and kind of device, and
 * which site sent them (the Referer's host). Link-preview fetchers (chat
 * apps and social networks unfurling a pasted link) are told apart at the
 * redirect itself: they are answered, never counted.
 *
 * Bots are recognised by the pattern list of the npm package isbot (its
 * data, not its code), versioned in the repository as
 * assets/data/isbot-patterns.json and refreshed by `make assets`; the
 * patterns are JavaScript regular expressions, which PCRE2 reads as they
 * are (lookbehinds included), joined into one case-insensitive pattern as
 * isbot itself does. Families are a short ordered list of tokens: the
 * order matters because every browser claims to be Mozilla, Chrome claims
 * Safari, and Edge and Opera claim Chrome.
 *
 * Matching a User-Agent against two hundred patterns costs about 40
 * microseconds without a JIT (the worker's sandbox forbids executable
 * memory; see botmatch in uaclass.c for how the list is split to get
 * there from 350), and the same few User-Agents make most clicks: results
 * are kept in a table of recent User-Agents, one hash and one compare per
 * click. Pure logic (PCRE2, jansson), no Kore.
 */
#ifndef UACLASS_H
#define UACLASS_H

#include <stddef.h>
#include <stdint.h>

enum ua_browser {
	UA_BROWSER_OTHER = 0, UA_BROWSER_EDGE, UA_BROWSER_OPERA,
	UA_BROWSER_SAMSUNG, UA_BROWSER_FIREFOX, UA_BROWSER_CHROME,
	UA_BROWSER_SAFARI, UA_BROWSER_IE, UA_BROWSER_COUNT
};

enum ua_os {
	UA_OS_OTHER = 0, UA_OS_WINDOWS, UA_OS_IOS, UA_OS_ANDROID,
	UA_OS_CHROMEOS, UA_OS_MACOS, UA_OS_LINUX, UA_OS_COUNT
};

enum ua_device {
	UA_DEVICE_OTHER = 0, UA_DEVICE_DESKTOP, UA_DEVICE_MOBILE,
	UA_DEVICE_TABLET, UA_DEVICE_BOT, UA_DEVICE_COUNT
};

struct ua_class {
	uint8_t		bot;
	uint8_t		browser;	/* enum ua_browser */
	uint8_t		os;		/* enum ua_os */
	uint8_t		device;		/* enum ua_device */
};

struct botmatch;

/*
 * Compiles the isbot pattern list (a JSON array of strings). NULL and a
 * message in err (static storage) when the text is not such a list or a
 * pattern does not compile.
 */
struct botmatch	*botmatch_create(const char *json, size_t len,
		    const char **err);
void		 botmatch_free(struct botmatch *bm);
/* Patterns in the list. */
size_t		 botmatch_count(const struct botmatch *bm);
/* 1 when ua (NUL-terminated) matches a pattern. */
int		 botmatch_is_bot(struct botmatch *bm, const char *ua);

/*
 * Classifies ua (may be NULL: no User-Agent, a person's as far as isbot
 * is concerned) with the bot list bm (may be NULL: nobody is a bot).
 */
void		 ua_classify(struct botmatch *bm, const char *ua,
		    struct ua_class *out);

/* Recent User-Agents and their classes; slots rounded to a power of 2. */
struct ua_cache;

struct ua_cache	*ua_cache_create(struct botmatch *bm, size_t slots);
void		 ua_cache_free(struct ua_cache *c);
void		 ua_cache_classify(struct ua_cache *c, const char *ua,
		    struct ua_class *out);

/* Names as the stats show them ("Chrome", "Windows", "mobile"). */
const char	*ua_browser_name(unsigned int browser);
const char	*ua_os_name(unsigned int os);
const char	*ua_device_name(unsigned int device);

/*
 * 1 when ua is a link-preview fetcher (facebookexternalhit, Slackbot-
 * LinkExpanding, Discordbot, WhatsApp, ...): a redirect it asks for is
 * answered and not counted, like HEAD.
 */
int		 ua_is_link_preview(const char *ua);

#define REFERER_HOST_MAX	100

/*
 * The host of a Referer, lowercased, without port or user info, into out
 * (REFERER_HOST_MAX + 1 bytes): "" when there is no Referer, "(invalid)"
 * when it is not an absolute http(s) URL with a plausible host.
 */
void		 referer_host(const char *referer, char *out);

#endif
