/*
 * seedgen: write users.csv, urls.csv and events.csv in the format of the
 * project's seed (shared/seed): same headers, same quoting, same kinds of
 * values, any size.
 *
 *	seedgen [--users N] [--urls N] [--events N] [--clicks PCT]
 *	    [--seed S] [--out DIR]
 *
 * Design. Every row is a pure function of (seed, table, row id): each row
 * seeds its own splitmix64 stream from those three numbers. A URL can
 * therefore recompute its owner's creation time, and an event its URL's
 * code and address, without keeping any table in memory: memory stays
 * constant and the output is byte-for-byte the same for a given seed and
 * size, on any machine (no libc random, no time zone, no locale).
 *
 * Invariants the loader and the tests rely on:
 *  - ids are 1..N in every file; urls.user_id and events.url_id/user_id
 *    name existing rows; an event's user is its URL's owner;
 *  - events 1..urls are the `created` events of URLs 1..urls, with the
 *    URL's short_code, original_url and created_at;
 *  - short codes are unique: code(i) is a keyed permutation of i over
 *    [0, 62^6) (a Feistel network with cycle walking), so no set of
 *    codes seen is needed;
 *  - emails are unique, all lower case: "username@domain" the first time a
 *    (username, domain) pair comes up, "username.id@domain" after that;
 *  - timestamps: users < URLs < their events, all before 2026-03-01.
 *
 * Rows are formatted by hand into a 64 KiB buffer: millions of rows take
 * seconds, not minutes.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUFSZ	(64 * 1024)

/* Time span of the data, UTC seconds (see the seed's ranges). */
#define T_USERS_FROM	1704067200ULL	/* 2024-01-01 */
#define T_USERS_TO	1769904000ULL	/* 2026-02-01 */
#define T_URLS_FROM	1735689600ULL	/* 2025-01-01 */
#define T_URLS_TO	1771632000ULL	/* 2026-02-21 */
#define T_EVENTS_TO	1772323200ULL	/* 2026-03-01 */

#define CODE_LEN	6
#define CODE_SPACE	56800235584ULL	/* 62^6 */
#define CODE_HALF_BITS	18		/* 2^36 > 62^6: Feistel on 36 bits */
#define CODE_ROUNDS	4

#define MAX_ROWS	1000000000ULL

/* Streams: one per table, so that tables do not share random numbers. */
#define STREAM_USER	1
#define STREAM_URL	2
#define STREAM_EVENT	3
#define STREAM_CODE	4

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct rng {
	uint64_t	s;
};

struct out {
	FILE		*fp;
	char		*path;
	char		*tmp;
	size_t		len;
	char		buf[OUT_BUFSZ];
};

struct user {
	unsigned	adj, noun, num, domain;
	uint64_t	created;
};

struct url {
	uint64_t	id;
	uint64_t	user_id;
	unsigned	domain, adj, noun;
	unsigned	title_prefix, title_noun;
	int		active;
	uint64_t	created, updated;
	char		code[CODE_LEN + 1];
};

struct opts {
	uint64_t	users, urls, events, seed;
	unsigned	click_pct;
	int		have_users, have_urls, have_events;
	const char	*dir;
};

static uint64_t	mix64(uint64_t);
static void	rng_init(struct rng *, uint64_t, uint64_t, uint64_t);
static uint64_t	rng_next(struct rng *);
static uint64_t	rng_below(struct rng *, uint64_t);
static uint64_t	rng_between(struct rng *, uint64_t, uint64_t);

static void	user_make(uint64_t, uint64_t, struct user *);
static void	url_make(const struct opts *, uint64_t, struct url *);
static void	code_make(uint64_t, uint64_t, char *);
static uint64_t	code_permute(uint64_t, uint64_t);
static int	code_reserved(const char *);

static void	write_users(const struct opts *);
static void	write_urls(const struct opts *);
static void	write_events(const struct opts *);
static void	write_event(struct out *, const struct opts *, uint64_t);
static size_t	url_format(const struct url *, char *, size_t);

static void	out_open(struct out *, const char *, const char *);
static void	out_close(struct out *);
static void	out_flush(struct out *);
static void	out_bytes(struct out *, const char *, size_t);
static void	out_str(struct out *, const char *);
static void	out_char(struct out *, char);
static void	out_u64(struct out *, uint64_t);
static void	out_ts(struct out *, uint64_t);
static void	out_csv(struct out *, const char *);
static void	json_str(char **, char *, const char *);

static void	opts_parse(struct opts *, int, char **);
static int	opt_is(const char *, const char *);
static uint64_t	parse_u64(const char *, const char *);
static void	mkdir_p(const char *);
static void	usage(void) __attribute__((noreturn));
static void	fatal(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));

static const char *adjectives[] = {
	"amber", "brisk", "calm", "clear", "cobalt", "dawn", "ember", "forest",
	"gold", "harbor", "ivory", "jade", "keen", "lively", "mellow", "navy",
	"opal", "proud", "quiet", "rapid", "silver", "tidy", "urban", "vivid",
	"warm", "young",
};

static const char *nouns[] = {
	"anchor", "beacon", "canyon", "delta", "engine", "field", "garden",
	"harvest", "island", "journey", "kernel", "lagoon", "meadow", "network",
	"orbit", "pioneer", "quartz", "river", "signal", "trail", "uplink",
	"valley", "window", "yard", "zenith",
};

static const char *domains[] = {
	"acme.dev", "example.com", "hackstack.io", "opswise.net",
	"relay.cloud", "seeded.app",
};

static const char *title_prefixes[] = {
	"Alert feed", "Campaign page", "Demo link", "Incident notes",
	"Launch deck", "Ops review", "Quarterly brief", "Roadmap update",
	"Service guide", "Status board",
};

static const char *delete_reasons[] = {
	"duplicate", "expired", "policy_cleanup", "user_requested",
};

static const char *user_agents[] = {
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
	    "Mobile/15E148 Safari/604.1",
	"curl/7.88.1",
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
};

static const char *referers[] = {
	"", "", "https://news.ycombinator.com/", "https://www.google.com/",
	"https://t.co/", "https://mail.example.com/inbox?id=\"42\"",
};

static const char code_alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* One bit per (adjective, noun, number, domain): has the email been used? */
#define EMAIL_COMBOS	(NELEM(adjectives) * NELEM(nouns) * 100 * NELEM(domains))
static uint8_t	email_used[EMAIL_COMBOS / 8 + 1];

int
main(int argc, char **argv)
{
	struct opts	o;

	opts_parse(&o, argc, argv);
	mkdir_p(o.dir);

	write_users(&o);
	write_urls(&o);
	write_events(&o);

	fprintf(stderr, "seedgen: %" PRIu64 " users, %" PRIu64 " urls, %"
	    PRIu64 " events in %s (seed %" PRIu64 ")\n",
	    o.users, o.urls, o.events, o.dir, o.seed);
	return (0);
}

/* splitmix64's finaliser: a good 64-bit mixer. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static void
rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
	r->s = mix64(mix64(seed ^ (stream * 0x9e3779b97f4a7c15ULL)) + index);
}

static uint64_t
rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return (mix64(r->s));
}

/* Modulo bias is below 2^-40 for the small ranges used here. */
static uint64_t
rng_below(struct rng *r, uint64_t n)
{
	return (rng_next(r) % n);
}

static uint64_t
rng_between(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return (lo);
	return (lo + rng_below(r, hi - lo));
}

/* The order of draws is part of the format: append, never reorder. */
static void
user_make(uint64_t seed, uint64_t id, struct user *u)
{
	struct rng	r;

	rng_init(&r, seed, STREAM_USER, id);
	u->adj = rng_below(&r, NELEM(adjectives));
	u->noun = rng_below(&r, NELEM(nouns));
	u->num = rng_below(&r, 100);
	u->domain = rng_below(&r, NELEM(domains));
	u->created = rng_between(&r, T_USERS_FROM, T_USERS_TO);
}

static void
url_make(const struct opts *o, uint64_t id, struct url *u)
{
	struct rng	r;
	struct user	owner;

	rng_init(&r, o->seed, STREAM_URL, id);
	u->id = id;
	u->user_id = 1 + rng_below(&r, o->users);
	u->domain = rng_below(&r, NELEM(domains));
	u->adj = rng_below(&r, NELEM(adjectives));
	u->noun = rng_below(&r, NELEM(nouns));
	u->title_prefix = rng_below(&r, NELEM(title_prefixes));
	u->title_noun = rng_below(&r, NELEM(nouns));
	u->active = rng_below(&r, 100) < 82;

	/* Nobody shortens a link before signing up. */
	user_make(o->seed, u->user_id, &owner);
	u->created = rng_between(&r,
	    owner.created > T_URLS_FROM ? owner.created : T_URLS_FROM,
	    T_URLS_TO);
	u->updated = rng_between(&r, u->created, T_URLS_TO + 1);
	code_make(o->seed, id, u->code);
}

static void
code_make(uint64_t seed, uint64_t id, char *code)
{
	uint64_t	x;
	int		i;

	/*
	 * Cycle walking: apply the permutation of [0, 2^36) until the value
	 * falls in [0, 62^6); the result is a permutation of [0, 62^6).
	 * Codes spelling a reserved route are walked past too; ids stay far
	 * below their values, so this cannot meet another id's code.
	 */
	x = id - 1;
	for (;;) {
		do {
			x = code_permute(seed, x);
		} while (x >= CODE_SPACE);

		for (i = CODE_LEN - 1; i >= 0; i--) {
			code[i] = code_alphabet[x % 62];
			x /= 62;
		}
		code[CODE_LEN] = '\0';
		if (!code_reserved(code))
			break;
		for (x = 0, i = 0; i < CODE_LEN; i++)
			x = x * 62 + (uint64_t)(strchr(code_alphabet, code[i]) -
			    code_alphabet);
	}
}

static uint64_t
code_permute(uint64_t seed, uint64_t x)
{
	const uint64_t	mask = (1ULL << CODE_HALF_BITS) - 1;
	uint64_t	left, right, t;
	int		round;

	left = x >> CODE_HALF_BITS;
	right = x & mask;
	for (round = 0; round < CODE_ROUNDS; round++) {
		t = right;
		right = left ^ (mix64(right ^ mix64(seed + STREAM_CODE +
		    (uint64_t)round)) & mask);
		left = t;
	}
	return ((left << CODE_HALF_BITS) | right);
}

/* Six-letter route names that a random code could spell. */
static int
code_reserved(const char *code)
{
	static const char	*words[] = { "events", "health", "static" };
	size_t			i;

	for (i = 0; i < NELEM(words); i++) {
		if (strcmp(code, words[i]) == 0)
			return (1);
	}
	return (0);
}

static void
write_users(const struct opts *o)
{
	struct out	out;
	struct user	u;
	uint64_t	id;
	size_t		combo;
	char		name[64];

	out_open(&out, o->dir, "users.csv");
	out_str(&out, "id,username,email,created_at\n");
	memset(email_used, 0, sizeof(email_used));

	for (id = 1; id <= o->users; id++) {
		user_make(o->seed, id, &u);
		snprintf(name, sizeof(name), "%s%s%02u", adjectives[u.adj],
		    nouns[u.noun], u.num);

		out_u64(&out, id);
		out_char(&out, ',');
		out_str(&out, name);
		out_char(&out, ',');
		out_str(&out, name);
		/* A (name, domain) pair seen before gets the id appended. */
		combo = ((u.adj * NELEM(nouns) + u.noun) * 100 + u.num) *
		    NELEM(domains) + u.domain;
		if (email_used[combo / 8] & (1U << (combo % 8))) {
			out_char(&out, '.');
			out_u64(&out, id);
		}
		email_used[combo / 8] |= (uint8_t)(1U << (combo % 8));
		out_char(&out, '@');
		out_str(&out, domains[u.domain]);
		out_char(&out, ',');
		out_ts(&out, u.created);
		out_char(&out, '\n');
	}
	out_close(&out);
}

static size_t
url_format(const struct url *u, char *buf, size_t len)
{
	int	n;

	n = snprintf(buf, len, "https://%s/%s/%s/%" PRIu64,
	    domains[u->domain], adjectives[u->adj], nouns[u->noun], u->id);
	if (n < 0 || (size_t)n >= len)
		fatal("url too long");
	return ((size_t)n);
}

static void
write_urls(const struct opts *o)
{
	struct out	out;
	struct url	u;
	uint64_t	id;
	char		addr[256];

	out_open(&out, o->dir, "urls.csv");
	out_str(&out, "id,user_id,short_code,original_url,title,is_active,"
	    "created_at,updated_at\n");

	for (id = 1; id <= o->urls; id++) {
		url_make(o, id, &u);
		out_u64(&out, id);
		out_char(&out, ',');
		out_u64(&out, u.user_id);
		out_char(&out, ',');
		out_str(&out, u.code);
		out_char(&out, ',');
		out_bytes(&out, addr, url_format(&u, addr, sizeof(addr)));
		out_char(&out, ',');
		out_str(&out, title_prefixes[u.title_prefix]);
		out_char(&out, ' ');
		out_str(&out, nouns[u.title_noun]);
		out_str(&out, u.active ? ",True," : ",False,");
		out_ts(&out, u.created);
		out_char(&out, ',');
		out_ts(&out, u.updated);
		out_char(&out, '\n');
	}
	out_close(&out);
}

static void
write_events(const struct opts *o)
{
	struct out	out;
	uint64_t	id;

	out_open(&out, o->dir, "events.csv");
	out_str(&out, "id,url_id,user_id,event_type,timestamp,details\n");
	for (id = 1; id <= o->events; id++)
		write_event(&out, o, id);
	out_close(&out);
}

/*
 * Events 1..urls create URLs 1..urls. Later ones pick a URL and happen
 * after its creation: a click (click_pct of them), else an update or,
 * less often, a deletion, in the seed's proportions (85:15).
 */
static void
write_event(struct out *out, const struct opts *o, uint64_t id)
{
	struct rng	r;
	struct url	u;
	const char	*type;
	uint64_t	ts;
	char		details[1024], addr[256], value[256], *p;

	rng_init(&r, o->seed, STREAM_EVENT, id);
	url_make(o, id <= o->urls ? id : 1 + rng_below(&r, o->urls), &u);
	url_format(&u, addr, sizeof(addr));
	p = details;

	if (id <= o->urls) {
		type = "created";
		ts = u.created;
		p += sprintf(p, "{\"short_code\":");
		json_str(&p, details, u.code);
		p += sprintf(p, ",\"original_url\":");
		json_str(&p, details, addr);
	} else if (rng_below(&r, 100) < o->click_pct) {
		type = "click";
		ts = rng_between(&r, u.created, T_EVENTS_TO);
		p += sprintf(p, "{\"short_code\":");
		json_str(&p, details, u.code);
		p += sprintf(p, ",\"user_agent\":");
		json_str(&p, details,
		    user_agents[rng_below(&r, NELEM(user_agents))]);
		p += sprintf(p, ",\"referer\":");
		json_str(&p, details, referers[rng_below(&r, NELEM(referers))]);
	} else if (rng_below(&r, 100) < 85) {
		type = "updated";
		ts = rng_between(&r, u.created, T_EVENTS_TO);
		switch (rng_below(&r, 3)) {
		case 0:
			p += sprintf(p, "{\"field\":\"title\",\"new_value\":");
			snprintf(value, sizeof(value), "%s %s",
			    title_prefixes[rng_below(&r, NELEM(title_prefixes))],
			    nouns[rng_below(&r, NELEM(nouns))]);
			break;
		case 1:
			p += sprintf(p, "{\"field\":\"is_active\",\"new_value\":");
			snprintf(value, sizeof(value), "%s",
			    rng_below(&r, 2) ? "true" : "false");
			break;
		default:
			p += sprintf(p, "{\"field\":\"original_url\",\"new_value\":");
			snprintf(value, sizeof(value), "https://%s/%s/%" PRIu64,
			    domains[rng_below(&r, NELEM(domains))],
			    nouns[rng_below(&r, NELEM(nouns))],
			    rng_below(&r, 10000));
			break;
		}
		json_str(&p, details, value);
	} else {
		type = "deleted";
		ts = rng_between(&r, u.created, T_EVENTS_TO);
		p += sprintf(p, "{\"reason\":");
		json_str(&p, details,
		    delete_reasons[rng_below(&r, NELEM(delete_reasons))]);
	}
	*p++ = '}';
	*p = '\0';

	out_u64(out, id);
	out_char(out, ',');
	out_u64(out, u.id);
	out_char(out, ',');
	out_u64(out, u.user_id);
	out_char(out, ',');
	out_str(out, type);
	out_char(out, ',');
	out_ts(out, ts);
	out_char(out, ',');
	out_csv(out, details);
	out_char(out, '\n');
}

/* Append s as a JSON string at *p (the buffer is sized for our values). */
static void
json_str(char **p, char *base, const char *s)
{
	char	*d = *p;

	*d++ = '"';
	for (; *s != '\0'; s++) {
		if ((size_t)(d - base) > 1000)
			fatal("details too long");
		if (*s == '"' || *s == '\\') {
			*d++ = '\\';
			*d++ = *s;
		} else if ((unsigned char)*s < 0x20) {
			d += sprintf(d, "\\u%04x", (unsigned char)*s);
		} else {
			*d++ = *s;
		}
	}
	*d++ = '"';
	*d = '\0';
	*p = d;
}

static void
out_open(struct out *out, const char *dir, const char *name)
{
	size_t	len;

	len = strlen(dir) + strlen(name) + 8;
	if ((out->path = malloc(len)) == NULL || (out->tmp = malloc(len)) == NULL)
		fatal("out of memory");
	snprintf(out->path, len, "%s/%s", dir, name);
	snprintf(out->tmp, len, "%s/%s.tmp", dir, name);
	if ((out->fp = fopen(out->tmp, "w")) == NULL)
		fatal("%s: %s", out->tmp, strerror(errno));
	out->len = 0;
}

/* Written to NAME.tmp and renamed: a reader never sees half a file. */
static void
out_close(struct out *out)
{
	out_flush(out);
	if (fclose(out->fp) != 0)
		fatal("%s: %s", out->tmp, strerror(errno));
	if (rename(out->tmp, out->path) == -1)
		fatal("rename %s: %s", out->path, strerror(errno));
	free(out->path);
	free(out->tmp);
}

static void
out_flush(struct out *out)
{
	if (out->len > 0 && fwrite(out->buf, 1, out->len, out->fp) != out->len)
		fatal("%s: %s", out->tmp, strerror(errno));
	out->len = 0;
}

static void
out_bytes(struct out *out, const char *s, size_t len)
{
	if (out->len + len > sizeof(out->buf))
		out_flush(out);
	if (len > sizeof(out->buf))
		fatal("field too long");
	memcpy(out->buf + out->len, s, len);
	out->len += len;
}

static void
out_str(struct out *out, const char *s)
{
	out_bytes(out, s, strlen(s));
}

static void
out_char(struct out *out, char c)
{
	out_bytes(out, &c, 1);
}

static void
out_u64(struct out *out, uint64_t v)
{
	char	buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	out_bytes(out, p, (size_t)(buf + sizeof(buf) - p));
}

/* "YYYY-MM-DD HH:MM:SS" of UTC seconds (Hinnant's civil_from_days). */
static void
out_ts(struct out *out, uint64_t t)
{
	int64_t		z, era, doe, yoe, doy, mp, y, m, d;
	uint64_t	sod;
	char		buf[20];

	z = (int64_t)(t / 86400) + 719468;
	sod = t % 86400;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);

	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d",
	    (int)y, (int)m, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60),
	    (int)(sod % 60));
	out_bytes(out, buf, 19);
}

/* A CSV field, quoted (with "" for ") when it needs to be. */
static void
out_csv(struct out *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		out_str(out, s);
		return;
	}
	out_char(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			out_char(out, '"');
		out_char(out, *s);
	}
	out_char(out, '"');
}

static void
opts_parse(struct opts *o, int argc, char **argv)
{
	const char	*name, *val;
	int		i;

	memset(o, 0, sizeof(*o));
	o->users = 400;
	o->seed = 1;
	o->click_pct = 35;
	o->dir = ".";

	for (i = 1; i < argc; i++) {
		name = argv[i];
		if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
			usage();
		if ((val = strchr(name, '=')) != NULL) {
			val++;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fatal("%s needs a value", name);
		}

		if (opt_is(name, "--users")) {
			o->users = parse_u64(name, val);
			o->have_users = 1;
		} else if (opt_is(name, "--urls")) {
			o->urls = parse_u64(name, val);
			o->have_urls = 1;
		} else if (opt_is(name, "--events")) {
			o->events = parse_u64(name, val);
			o->have_events = 1;
		} else if (opt_is(name, "--clicks")) {
			o->click_pct = (unsigned)parse_u64(name, val);
			if (o->click_pct > 100)
				fatal("--clicks is a percentage (0..100)");
		} else if (opt_is(name, "--seed")) {
			o->seed = parse_u64(name, val);
		} else if (opt_is(name, "--out")) {
			o->dir = val;
		} else {
			usage();
		}
	}

	/* Unset sizes follow the given ones in the seed's proportions. */
	if (!o->have_urls)
		o->urls = o->have_users ? o->users * 5 : 2000;
	if (!o->have_events)
		o->events = o->urls + o->urls * 711 / 1000;

	if (o->users > MAX_ROWS || o->urls > MAX_ROWS || o->events > 4 * MAX_ROWS)
		fatal("too many rows (at most %llu users/urls)", MAX_ROWS);
	if (o->urls > 0 && o->users == 0)
		fatal("URLs need at least one user");
	if (o->events < o->urls)
		fatal("--events must be at least --urls (one created event per URL)");
}

/* "--name" or "--name=value". */
static int
opt_is(const char *arg, const char *name)
{
	size_t	len = strlen(name);

	return (strncmp(arg, name, len) == 0 &&
	    (arg[len] == '\0' || arg[len] == '='));
}

static uint64_t
parse_u64(const char *name, const char *val)
{
	char			*end;
	unsigned long long	v;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
		fatal("%s: not a number: %s", name, val);
	return ((uint64_t)v);
}

static void
mkdir_p(const char *dir)
{
	char	*copy, *p;

	if ((copy = strdup(dir)) == NULL)
		fatal("out of memory");
	for (p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(copy, 0755) == -1 && errno != EEXIST)
				fatal("mkdir %s: %s", copy, strerror(errno));
			if (c == '\0')
				break;
			*p = c;
		}
	}
	free(copy);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: seedgen [--users N] [--urls N] [--events N] [--clicks PCT]\n"
	    "               [--seed S] [--out DIR]\n"
	    "defaults: 400 users, 5 URLs per user (2000), events = URLs x 1.711\n"
	    "(one created event per URL, then clicks PCT%% (35), updates and\n"
	    "deletions), seed 1, DIR \".\". Same seed and sizes, same files.\n");
	exit(2);
}

static void
fatal(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "seedgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}
