/*
 * Prometheus text format writer.
 *
 * The format is line based: "# HELP name text", "# TYPE name type", then
 * samples "name{label="value",...} number". Label values escape
 * backslash, double quote and newline; help text escapes backslash and
 * newline only. A histogram is written from per-bucket counts: each
 * _bucket line carries the running total (buckets are cumulative in the
 * format, "le" meaning "less than or equal"), the +Inf bucket equals
 * _count, and _count is derived from the buckets rather than stored
 * apart, so the two can never disagree in one scrape even though the
 * counts are read while other processes keep adding to them.
 *
 * Numbers are written so that Go's strconv.ParseFloat, which Prometheus
 * uses, reads back the same double: integers in plain digits, other
 * values with the fewest significant digits that round-trip (0.1 rather
 * than 0.10000000000000001), infinities as +Inf/-Inf.
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metricsfmt.h"
#include "core/xalloc.h"

/* Below 2^53 every integer is exact in a double. */
#define EXACT_INTEGER_MAX	9007199254740992.0

static void	put(struct metricsfmt *, const char *, size_t);
static void	put_str(struct metricsfmt *, const char *);
static void	put_escaped(struct metricsfmt *, const char *, int);
static void	put_labels(struct metricsfmt *, const struct metricsfmt_label *,
		    size_t, const char *);
static void	put_value(struct metricsfmt *, double);

void
metricsfmt_init(struct metricsfmt *m)
{
	m->cap = 4096;
	m->buf = xmalloc(m->cap);
	m->buf[0] = '\0';
	m->len = 0;
}

void
metricsfmt_free(struct metricsfmt *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = m->cap = 0;
}

char *
metricsfmt_take(struct metricsfmt *m, size_t *len)
{
	char	*text = m->buf;

	*len = m->len;
	m->buf = NULL;
	m->len = m->cap = 0;
	return (text);
}

void
metricsfmt_family(struct metricsfmt *m, const char *name, const char *type,
    const char *help)
{
	put_str(m, "# HELP ");
	put_str(m, name);
	put_str(m, " ");
	put_escaped(m, help, 0);
	put_str(m, "\n# TYPE ");
	put_str(m, name);
	put_str(m, " ");
	put_str(m, type);
	put_str(m, "\n");
}

void
metricsfmt_sample(struct metricsfmt *m, const char *name,
    const struct metricsfmt_label *labels, size_t nlabels, double value)
{
	put_str(m, name);
	put_labels(m, labels, nlabels, NULL);
	put_value(m, value);
}

void
metricsfmt_histogram(struct metricsfmt *m, const char *name,
    const struct metricsfmt_label *labels, size_t nlabels,
    const struct metricsfmt_hist *h)
{
	char		le[METRICSFMT_DOUBLE_MAX];
	uint64_t	total;
	size_t		i;

	total = 0;
	for (i = 0; i <= h->nbounds; i++) {
		total += h->counts[i];
		if (i < h->nbounds)
			metricsfmt_double(le, sizeof(le), h->bounds[i]);
		else
			(void)snprintf(le, sizeof(le), "+Inf");
		put_str(m, name);
		put_str(m, "_bucket");
		put_labels(m, labels, nlabels, le);
		put_value(m, (double)total);
	}

	put_str(m, name);
	put_str(m, "_sum");
	put_labels(m, labels, nlabels, NULL);
	put_value(m, h->sum);

	put_str(m, name);
	put_str(m, "_count");
	put_labels(m, labels, nlabels, NULL);
	put_value(m, (double)total);
}

size_t
metricsfmt_bucket(const double *bounds, size_t nbounds, double v)
{
	size_t	lo, hi, mid;

	/* NaN compares false with everything: it lands in +Inf. */
	if (isnan(v))
		return (nbounds);

	lo = 0;
	hi = nbounds;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v <= bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}

	return (lo);
}

void
metricsfmt_double(char *buf, size_t len, double v)
{
	int	prec;

	if (isnan(v)) {
		(void)snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		(void)snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}

	/* The range first: casting a double outside int64 is undefined. */
	if (v < EXACT_INTEGER_MAX && v > -EXACT_INTEGER_MAX &&
	    v == (double)(int64_t)v) {
		(void)snprintf(buf, len, "%" PRId64, (int64_t)v);
		return;
	}

	for (prec = 1; prec < 17; prec++) {
		(void)snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	(void)snprintf(buf, len, "%.17g", v);
}

static void
put(struct metricsfmt *m, const char *s, size_t n)
{
	if (m->len + n + 1 > m->cap) {
		while (m->len + n + 1 > m->cap)
			m->cap *= 2;
		m->buf = xreallocarray(m->buf, m->cap, 1);
	}
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

static void
put_str(struct metricsfmt *m, const char *s)
{
	put(m, s, strlen(s));
}

/* quote: also escape '"' (label values; help text leaves it alone). */
static void
put_escaped(struct metricsfmt *m, const char *s, int quote)
{
	const char	*run;

	for (run = s; *s != '\0'; s++) {
		if (*s != '\\' && *s != '\n' && !(quote && *s == '"'))
			continue;
		put(m, run, s - run);
		if (*s == '\\')
			put_str(m, "\\\\");
		else if (*s == '\n')
			put_str(m, "\\n");
		else
			put_str(m, "\\\"");
		run = s + 1;
	}
	put(m, run, s - run);
}

/* le: when not NULL, a last label le="<le>" (histogram buckets). */
static void
put_labels(struct metricsfmt *m, const struct metricsfmt_label *labels,
    size_t nlabels, const char *le)
{
	size_t	i;

	if (nlabels == 0 && le == NULL)
		return;

	put_str(m, "{");
	for (i = 0; i < nlabels; i++) {
		if (i > 0)
			put_str(m, ",");
		put_str(m, labels[i].name);
		put_str(m, "=\"");
		put_escaped(m, labels[i].value, 1);
		put_str(m, "\"");
	}
	if (le != NULL) {
		put_str(m, nlabels > 0 ? ",le=\"" : "le=\"");
		put_str(m, le);
		put_str(m, "\"");
	}
	put_str(m, "}");
}

static void
put_value(struct metricsfmt *m, double v)
{
	char	num[METRICSFMT_DOUBLE_MAX];

	metricsfmt_double(num, sizeof(num), v);
	put_str(m, " ");
	put_str(m, num);
	put_str(m, "\n");
}
