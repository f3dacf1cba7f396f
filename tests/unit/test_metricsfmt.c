/*
 * The Prometheus text writer: exact lines for families, samples and
 * histograms, label and help escaping, bucket choice at the bounds, and
 * numbers that read back as the same double.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "core/metricsfmt.h"

static const double	bounds[] = { .0001, .00025, .001, .5, 1, 10 };
#define NBOUNDS		(sizeof(bounds) / sizeof(bounds[0]))

static char	*render_sample(const struct metricsfmt_label *, size_t,
		    double);
static void	double_is(double, const char *);

static char *
render_sample(const struct metricsfmt_label *labels, size_t n, double v)
{
	struct metricsfmt	m;
	size_t			len;
	char			*text;

	metricsfmt_init(&m);
	metricsfmt_sample(&m, "x_total", labels, n, v);
	text = metricsfmt_take(&m, &len);
	cr_assert_eq(strlen(text), len);
	return (text);
}

static void
double_is(double v, const char *want)
{
	char	buf[METRICSFMT_DOUBLE_MAX];

	metricsfmt_double(buf, sizeof(buf), v);
	cr_expect_str_eq(buf, want, "%.17g: got %s, want %s", v, buf, want);
}

Test(metricsfmt, family_lines)
{
	struct metricsfmt	m;
	size_t			len;
	char			*text;

	metricsfmt_init(&m);
	metricsfmt_family(&m, "http_requests_total", "counter",
	    "Requests, by \"route\"; a \\ and a\nnewline.");
	text = metricsfmt_take(&m, &len);
	cr_expect_str_eq(text,
	    "# HELP http_requests_total Requests, by \"route\"; a \\\\ and "
	    "a\\nnewline.\n"
	    "# TYPE http_requests_total counter\n");
	cr_expect_null(m.buf);
	free(text);
}

Test(metricsfmt, sample_without_labels)
{
	char	*text = render_sample(NULL, 0, 42);

	cr_expect_str_eq(text, "x_total 42\n");
	free(text);
}

Test(metricsfmt, sample_with_labels)
{
	const struct metricsfmt_label	l[] = {
		{ "route", "/urls/:id" }, { "method", "GET" },
		{ "status", "200" },
	};
	char	*text = render_sample(l, 3, 7);

	cr_expect_str_eq(text,
	    "x_total{route=\"/urls/:id\",method=\"GET\",status=\"200\"} 7\n");
	free(text);
}

Test(metricsfmt, label_value_escaping)
{
	const struct metricsfmt_label	l[] = {
		{ "a", "back\\slash \"quoted\"\nnext line" },
		{ "b", "" },
		{ "c", "\\\\\"\"\n\n" },
	};
	char	*text = render_sample(l, 3, 1);

	cr_expect_str_eq(text,
	    "x_total{a=\"back\\\\slash \\\"quoted\\\"\\nnext line\","
	    "b=\"\",c=\"\\\\\\\\\\\"\\\"\\n\\n\"} 1\n");
	free(text);
}

Test(metricsfmt, help_keeps_quotes)
{
	struct metricsfmt	m;

	metricsfmt_init(&m);
	metricsfmt_family(&m, "g", "gauge", "say \"hi\"");
	cr_expect_str_eq(m.buf, "# HELP g say \"hi\"\n# TYPE g gauge\n");
	metricsfmt_free(&m);
	cr_expect_null(m.buf);
}

Test(metricsfmt, bucket_choice)
{
	static const struct {
		double	v;
		size_t	want;
	} cases[] = {
		{ 0, 0 },
		{ -1, 0 },
		{ .00005, 0 },
		{ .0001, 0 },		/* le: a bound holds its own value */
		{ .00010001, 1 },
		{ .00025, 1 },
		{ .0009, 2 },
		{ .001, 2 },
		{ .3, 3 },
		{ .5, 3 },
		{ .75, 4 },
		{ 1, 4 },
		{ 9.99, 5 },
		{ 10, 5 },
		{ 10.0001, NBOUNDS },	/* above every bound: +Inf */
		{ 1e300, NBOUNDS },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(metricsfmt_bucket(bounds, NBOUNDS, cases[i].v),
		    cases[i].want, "%g", cases[i].v);
	}
	cr_expect_eq(metricsfmt_bucket(bounds, NBOUNDS, INFINITY), NBOUNDS);
	cr_expect_eq(metricsfmt_bucket(bounds, NBOUNDS, NAN), NBOUNDS);
	cr_expect_eq(metricsfmt_bucket(bounds, 0, 5), 0);
}

Test(metricsfmt, histogram_is_cumulative)
{
	struct metricsfmt		m;
	struct metricsfmt_hist		h;
	const struct metricsfmt_label	l[] = { { "route", "/:code" } };
	const double			obs[] = {
		.00005, .0001, .0002, .3, .5, 2, 10, 11, 99
	};
	uint64_t			counts[NBOUNDS + 1];
	size_t				i;

	/* Stored per bucket, as obs/metrics.c stores observations. */
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		counts[metricsfmt_bucket(bounds, NBOUNDS, obs[i])]++;

	h.bounds = bounds;
	h.nbounds = NBOUNDS;
	h.counts = counts;
	h.sum = 122.5;
	metricsfmt_init(&m);
	metricsfmt_histogram(&m, "d_seconds", l, 1, &h);
	cr_expect_str_eq(m.buf,
	    "d_seconds_bucket{route=\"/:code\",le=\"0.0001\"} 2\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"0.00025\"} 3\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"0.001\"} 3\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"0.5\"} 5\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"1\"} 5\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"10\"} 7\n"
	    "d_seconds_bucket{route=\"/:code\",le=\"+Inf\"} 9\n"
	    "d_seconds_sum{route=\"/:code\"} 122.5\n"
	    "d_seconds_count{route=\"/:code\"} 9\n");
	metricsfmt_free(&m);
}

Test(metricsfmt, histogram_without_labels)
{
	struct metricsfmt	m;
	struct metricsfmt_hist	h;
	const double		b[] = { 1, 2.5 };
	const uint64_t		c[] = { 0, 0, 0 };

	h.bounds = b;
	h.nbounds = 2;
	h.counts = c;
	h.sum = 0;
	metricsfmt_init(&m);
	metricsfmt_histogram(&m, "h", NULL, 0, &h);
	cr_expect_str_eq(m.buf,
	    "h_bucket{le=\"1\"} 0\n"
	    "h_bucket{le=\"2.5\"} 0\n"
	    "h_bucket{le=\"+Inf\"} 0\n"
	    "h_sum 0\n"
	    "h_count 0\n");
	metricsfmt_free(&m);
}

Test(metricsfmt, numbers)
{
	double_is(0, "0");
	double_is(1, "1");
	double_is(-3, "-3");
	double_is(1234567890123, "1234567890123");
	double_is(9007199254740991.0, "9007199254740991");
	double_is(0.1, "0.1");
	double_is(0.0001, "0.0001");
	double_is(0.00025, "0.00025");
	double_is(2.5, "2.5");
	double_is(1e-7, "1e-07");
	double_is(1e300, "1e+300");
	double_is(1.0 / 3, "0.3333333333333333");
	double_is(INFINITY, "+Inf");
	double_is(-INFINITY, "-Inf");
	double_is(NAN, "NaN");
}

Test(metricsfmt, numbers_round_trip)
{
	const double	v[] = {
		0.1 + 0.2, 123.456, 1e-300, 5e-324, 1.7976931348623157e308,
		0.000123456789, 3.14159265358979, 18446744073709551615.0,
	};
	char		buf[METRICSFMT_DOUBLE_MAX];
	size_t		i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		metricsfmt_double(buf, sizeof(buf), v[i]);
		cr_expect_eq(strtod(buf, NULL), v[i], "%.17g -> %s", v[i],
		    buf);
	}
}

Test(metricsfmt, grows_past_initial_buffer)
{
	struct metricsfmt		m;
	const struct metricsfmt_label	l[] = { { "i", "some value" } };
	size_t				i, len;
	char				*text;

	metricsfmt_init(&m);
	for (i = 0; i < 2000; i++)
		metricsfmt_sample(&m, "many_total", l, 1, (double)i);
	text = metricsfmt_take(&m, &len);
	cr_expect_eq(strlen(text), len);
	cr_expect(strstr(text, "many_total{i=\"some value\"} 1999\n") != NULL);
	cr_expect(!strncmp(text, "many_total{i=\"some value\"} 0\n", 29));
	free(text);
}
