/*
 * GET /metrics: the text format parses (every line a HELP, a TYPE or
 * "name{labels} value"), every family has its HELP and TYPE, histograms
 * are cumulative, routes are labelled by template, promtool accepts the
 * scrape, and counts are the instance's, not one worker's: after N
 * requests of a kind no other test sends (DELETE /metrics, a 405), every
 * scrape, on whichever worker it lands, has counted exactly N more.
 *
 * Other tests run in parallel against the same instance, so everything
 * else is checked as "at least what this test caused".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"
#include "scrape.h"

#define DELETES		40
#define SCRAPES		6
#define COUNT_WAIT_MS	3000

/* The series only this file's requests_counted_across_workers makes. */
#define OWN_LABELS	"route=\"/metrics\",method=\"DELETE\",status=\"405\""
#define OWN_HIST	"route=\"/metrics\",method=\"DELETE\""

TestSuite(metrics, .timeout = 120);

static const struct {
	const char	*name;
	const char	*type;
} families[] = {
	{ "http_requests_total",			"counter" },
	{ "http_request_duration_seconds",		"histogram" },
	{ "shortener_http_requests_in_flight",		"gauge" },
	{ "shortener_redirects_total",			"counter" },
	{ "shortener_cache_lookups_total",		"counter" },
	{ "shortener_db_query_duration_seconds",	"histogram" },
	{ "shortener_db_errors_total",			"counter" },
	{ "shortener_postgres_up",			"gauge" },
	{ "shortener_redis_up",				"gauge" },
	{ "shortener_click_queue_depth",		"gauge" },
	{ "shortener_clicks_written_total",		"counter" },
	{ "shortener_clicks_dropped_total",		"counter" },
	{ "shortener_click_batch_size",			"histogram" },
	{ "shortener_lookup_batch_size",		"histogram" },
	{ "process_cpu_seconds_total",			"counter" },
	{ "process_resident_memory_bytes",		"gauge" },
	{ "process_open_fds",				"gauge" },
	{ "process_start_time_seconds",			"gauge" },
	{ "shortener_build_info",			"gauge" },
};

/* core/route.c's templates: the only route label values there may be. */
static const char *const templates[] = {
	"/users", "/users/bulk", "/users/:id", "/urls", "/urls/:id",
	"/urls/:id/stats", "/urls/:code/redirect", "/events", "/events/:id",
	"/health", "/ready", "/metrics", "/:code", "unmatched",
};

static void	 check_histograms(const struct scrape *);
static void	 check_route_label(const struct scrape_sample *);
static double	 sum_of(const struct scrape *, const char *);
static void	 delete_metrics(int);

/* Buckets never decrease, +Inf ends each series and equals _count. */
static void
check_histograms(const struct scrape *s)
{
	const struct scrape_sample	*b;
	const struct scrape_family	*f;
	char				 key[1280], prev[1280], labels[1024];
	char				 count[256];
	const char			*le;
	double				 last = 0;
	size_t				 i, n;

	prev[0] = '\0';
	for (i = 0; i < s->nsamples; i++) {
		b = &s->samples[i];
		if ((f = scrape_family_of(s, b->name)) == NULL ||
		    strcmp(f->type, "histogram") ||
		    strcmp(b->name + strlen(f->name), "_bucket"))
			continue;

		/* le is the last label: the series is what comes before. */
		if (!strncmp(b->labels, "le=\"", 4))
			le = b->labels;
		else if ((le = strstr(b->labels, ",le=\"")) != NULL)
			le++;
		cr_assert_not_null(le, "line %zu: bucket without le", b->line);
		n = le - b->labels;
		snprintf(labels, sizeof(labels), "%.*s", (int)(n ? n - 1 : 0),
		    b->labels);
		snprintf(key, sizeof(key), "%.200s{%s}", f->name, labels);
		if (strcmp(key, prev)) {
			snprintf(prev, sizeof(prev), "%s", key);
			last = 0;
		}
		cr_expect_geq(b->value, last, "line %zu: %s{%s} decreases",
		    b->line, b->name, b->labels);
		last = b->value;

		if (strcmp(le, "le=\"+Inf\""))
			continue;
		snprintf(count, sizeof(count), "%s_count", f->name);
		cr_expect_eq(scrape_value(s, count, labels), b->value,
		    "%s: +Inf bucket %g is not _count", key, b->value);
	}
}

static void
check_route_label(const struct scrape_sample *smp)
{
	const char	*p, *q;
	size_t		 i;

	if ((p = strstr(smp->labels, "route=\"")) == NULL)
		return;
	p += 7;
	q = strchr(p, '"');
	cr_assert_not_null(q);
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		if (strlen(templates[i]) == (size_t)(q - p) &&
		    !strncmp(templates[i], p, q - p))
			return;
	}
	cr_expect_fail("line %zu: route \"%.*s\" is not a route template",
	    smp->line, (int)(q - p), p);
}

/* The family's samples added up (all label values). */
static double
sum_of(const struct scrape *s, const char *name)
{
	double	v = 0;
	size_t	i;

	for (i = 0; i < s->nsamples; i++) {
		if (!strcmp(s->samples[i].name, name))
			v += s->samples[i].value;
	}
	return (v);
}

/* Each on a connection of its own, so the workers share them. */
static void
delete_metrics(int n)
{
	static const char *const	 hdrs[] = { "Connection: close", NULL };
	struct http_resp		*r;
	int				 i;

	for (i = 0; i < n; i++) {
		r = http_request("DELETE", "/metrics", hdrs, NULL, 0, 0);
		cr_assert_eq(r->status, 405, "DELETE /metrics: %ld", r->status);
		cr_expect_str_eq(http_header(r, "Allow"), "GET, HEAD, OPTIONS");
		http_free(r);
	}
}

Test(metrics, exposition_is_well_formed)
{
	const struct scrape_family	*f;
	struct scrape			*s;
	struct http_resp		*r;
	size_t				 i;

	/* A raw path with an id: it must be counted under its template. */
	r = http_get("/urls/987654321");
	cr_assert_eq(r->status, 404);
	http_free(r);
	r = http_get("/no/such/route/here");
	cr_assert_eq(r->status, 404);
	http_free(r);

	s = scrape_fetch();
	cr_assert_null(s->error, "%s", s->error);
	cr_assert_gt(s->nsamples, 0);

	for (i = 0; i < s->nfamilies; i++) {
		f = &s->families[i];
		cr_expect_eq(f->help, 1, "%s: %d HELP lines", f->name, f->help);
		cr_expect_eq(f->types, 1, "%s: %d TYPE lines", f->name,
		    f->types);
	}
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		f = scrape_family_of(s, families[i].name);
		cr_expect_not_null(f, "no family %s", families[i].name);
		if (f != NULL)
			cr_expect_str_eq(f->type, families[i].type,
			    "%s", families[i].name);
	}
	for (i = 0; i < s->nsamples; i++)
		check_route_label(&s->samples[i]);
	check_histograms(s);

	cr_expect_geq(scrape_value(s, "http_requests_total",
	    "route=\"/urls/:id\",method=\"GET\",status=\"404\""), 1);
	cr_expect_geq(scrape_value(s, "http_requests_total",
	    "route=\"unmatched\",method=\"GET\",status=\"404\""), 1);
	cr_expect_null(strstr(s->text, "987654321"),
	    "a raw path made it into a label");
	cr_expect_geq(scrape_value(s, "shortener_http_requests_in_flight", ""),
	    1, "the scrape itself is in flight");
	cr_expect_gt(scrape_value(s, "process_resident_memory_bytes", ""), 0);
	cr_expect_gt(scrape_value(s, "process_open_fds", ""), 0);
	cr_expect_gt(scrape_value(s, "process_cpu_seconds_total", ""), 0);
	cr_expect_gt(scrape_value(s, "process_start_time_seconds", ""),
	    1.5e9);
	cr_expect_eq(scrape_value(s, "shortener_postgres_up", ""), 1);
	for (i = 0; i < s->nsamples; i++) {
		if (!strcmp(s->samples[i].name, "shortener_build_info")) {
			cr_expect(!strncmp(s->samples[i].labels, "version=\"",
			    9) && strstr(s->samples[i].labels, ",commit=\""),
			    "build info labels: %s", s->samples[i].labels);
			cr_expect_eq(s->samples[i].value, 1);
		}
	}
	scrape_free(s);
}

Test(metrics, requests_counted_across_workers)
{
	struct scrape	*s;
	double		 c0, h0, v;
	int		 i;

	s = scrape_fetch();
	cr_assert_null(s->error, "%s", s->error);
	c0 = scrape_value(s, "http_requests_total", OWN_LABELS);
	h0 = scrape_value(s, "http_request_duration_seconds_count", OWN_HIST);
	scrape_free(s);

	delete_metrics(DELETES);
	v = scrape_wait_value("http_requests_total", OWN_LABELS, c0 + DELETES,
	    COUNT_WAIT_MS);
	cr_assert_eq(v, c0 + DELETES, "counted %g of %d", v - c0, DELETES);

	/* Whichever worker answers, the instance's count. */
	for (i = 0; i < SCRAPES; i++) {
		s = scrape_fetch();
		cr_assert_null(s->error, "%s", s->error);
		cr_expect_eq(scrape_value(s, "http_requests_total", OWN_LABELS),
		    c0 + DELETES, "scrape %d", i);
		cr_expect_eq(scrape_value(s,
		    "http_request_duration_seconds_count", OWN_HIST),
		    h0 + DELETES, "scrape %d: histogram count", i);
		scrape_free(s);
	}
}

Test(metrics, redirects_cache_and_database_are_counted)
{
	struct scrape		*s;
	struct http_resp	*r;
	json_t			*url;
	double			 found, notfound, lookups, queries, written;
	int			 i;

	url = make_user_url(NULL);
	s = scrape_fetch();
	found = scrape_value(s, "shortener_redirects_total",
	    "outcome=\"found\"");
	notfound = scrape_value(s, "shortener_redirects_total",
	    "outcome=\"not_found\"");
	lookups = sum_of(s, "shortener_cache_lookups_total");
	queries = scrape_value(s, "shortener_db_query_duration_seconds_count",
	    "");
	written = scrape_value(s, "shortener_clicks_written_total", "");
	scrape_free(s);

	for (i = 0; i < 3; i++) {
		r = http_get(pathf("/%s", jstr(url, "short_code")));
		cr_assert_eq(r->status, 302);
		http_free(r);
	}
	r = http_get(pathf("/%s", uniq("nx") + 3));
	http_free(r);
	json_decref(url);

	/* Clicks are written in the background: give the writer time. */
	cr_expect_geq(scrape_wait_value("shortener_clicks_written_total", "",
	    written + 3, COUNT_WAIT_MS), written + 3);

	s = scrape_fetch();
	cr_expect_geq(scrape_value(s, "shortener_redirects_total",
	    "outcome=\"found\""), found + 3);
	cr_expect_geq(scrape_value(s, "shortener_redirects_total",
	    "outcome=\"not_found\""), notfound + 1);
	cr_expect_geq(sum_of(s, "shortener_cache_lookups_total"), lookups + 3);
	cr_expect_geq(scrape_value(s,
	    "shortener_db_query_duration_seconds_count", ""), queries + 1);
	scrape_free(s);
}

Test(metrics, promtool_accepts_the_scrape)
{
	struct scrape	*s;
	FILE		*p;
	char		 path[] = "/tmp/shortener-metrics.XXXXXX";
	char		 cmd[512], out[4096];
	size_t		 n;
	int		 fd, status;

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		cr_skip_test("promtool not installed (Debian: prometheus)");

	s = scrape_fetch();
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	n = strlen(s->text);
	cr_assert_eq(write(fd, s->text, n), (ssize_t)n);
	close(fd);
	scrape_free(s);

	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(path);

	cr_expect_eq(status, 0, "promtool failed: %s", out);
	cr_expect_eq(n, 0, "promtool says: %s", out);
}
