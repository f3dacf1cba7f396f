/*
 * GET /metrics for the tests: a scrape parsed into samples and families,
 * strictly (every line is a HELP, a TYPE or "name{labels} value"), and the
 * app's processes, for the tests that kill a worker.
 */
#ifndef ITEST_SCRAPE_H
#define ITEST_SCRAPE_H

#include <sys/types.h>

#include <stddef.h>

struct scrape_sample {
	char	*name;
	char	*labels;	/* as sent, between the braces; "" if none */
	double	 value;
	size_t	 line;
};

struct scrape_family {
	char	*name;
	char	*type;		/* NULL until its # TYPE line */
	int	 help;		/* # HELP lines seen */
	int	 types;		/* # TYPE lines seen */
	size_t	 samples;
};

struct scrape {
	char			*text;		/* the body as received */
	struct scrape_sample	*samples;
	size_t			 nsamples;
	struct scrape_family	*families;
	size_t			 nfamilies;
	char			*error;		/* first problem, or NULL */
};

/*
 * GET /metrics on a connection of its own (so that successive scrapes
 * may land on different workers); asserts a 200 in the text format.
 */
struct scrape	*scrape_fetch(void);
/* Parses text; s->error says what was wrong first. */
struct scrape	*scrape_parse(const char *text);
void		 scrape_free(struct scrape *s);

/* The sample's value, or 0 when the series is absent. */
double		 scrape_value(const struct scrape *s, const char *name,
		    const char *labels);
/* The family a sample name belongs to (name_bucket -> name), or NULL. */
const struct scrape_family *scrape_family_of(const struct scrape *s,
		    const char *sample_name);

/*
 * Polls until name{labels} reaches want (or timeout_ms passes) and
 * returns the last value seen: a request is counted just after its
 * response has left, so a scrape may run a moment before.
 */
double		 scrape_wait_value(const char *name, const char *labels,
		    double want, int timeout_ms);

/* The Kore parent's pid from SHORTENER_APP_PIDFILE, or 0. */
pid_t		 app_parent_pid(void);
/* The parent's children (the workers), at most max of them. */
size_t		 app_worker_pids(pid_t parent, pid_t *out, size_t max);

#endif
