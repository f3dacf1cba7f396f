/*
 * The Prometheus text format writer (core/metricsfmt.c). Label values
 * and numbers reach it from request data (route templates, methods,
 * status codes, durations) and from counters; a line Prometheus cannot
 * parse loses the whole scrape.
 *
 * Input: a program of families, samples and histograms with names from
 * the metric and label name alphabets, label values and help texts of
 * any valid UTF-8, and numbers of any bit pattern (NaN, infinities,
 * subnormals, -0).
 *
 * Properties: the text is valid UTF-8 and made of exactly the expected
 * lines; each reads back with the exposition format's rules: help and
 * label values unescape to what was written, every number (bucket
 * bounds included) parses back to the same double; histogram buckets are
 * cumulative and the +Inf bucket equals _count; metricsfmt_bucket() puts
 * a value in the first bucket whose bound is >= it.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/metricsfmt.h"
#include "core/validate.h"
#include "fuzz.h"

#define MAX_LABELS	3
#define MAX_BOUNDS	6

struct cursor {
	const char	*p;
	const char	*end;
};

static char	*name(struct fz *, int);
static char	*text(struct fz *, size_t);
static double	 number(struct fz *);
static char	*line(struct cursor *);
static void	 expect_family(struct cursor *, const char *, const char *,
		    const char *);
static void	 expect_sample(struct cursor *, const char *, const char *,
		    const struct metricsfmt_label *, size_t, const char *,
		    double);
static const char *labels_back(const char *, const struct metricsfmt_label *,
		    size_t, const char *);
static void	 same_number(const char *, double);
static int	 cmp_double(const void *, const void *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*types[] = { "counter", "gauge", "histogram" };
	struct fz		 f;
	struct metricsfmt	 m;
	struct cursor		 c;
	struct metricsfmt_hist	 h;
	double			 bounds[MAX_BOUNDS], v, total;
	char			*out, *fam, le[METRICSFMT_DOUBLE_MAX];
	size_t			 len, nl, i, j, nb, op, ops, kind;
	struct {
		int				 kind;
		char				*name, *help;
		const char			*type;
		struct metricsfmt_label		 labels[MAX_LABELS];
		size_t				 nlabels;
		double				 value, bounds[MAX_BOUNDS];
		uint64_t			 counts[MAX_BOUNDS + 1];
		size_t				 nbounds;
	} prog[8];

	fz_init(&f, data, size);
	metricsfmt_init(&m);
	ops = fz_range(&f, 8);
	for (op = 0; op < ops; op++) {
		kind = fz_u8(&f) % 3;
		prog[op].kind = (int)kind;
		prog[op].name = name(&f, 0);
		prog[op].help = NULL;
		prog[op].nlabels = 0;
		if (kind == 0) {
			prog[op].type = types[fz_range(&f, 2)];
			prog[op].help = text(&f, 60);
			metricsfmt_family(&m, prog[op].name, prog[op].type,
			    prog[op].help);
			continue;
		}
		nl = fz_range(&f, MAX_LABELS);
		for (i = 0; i < nl; i++) {
			prog[op].labels[i].name = name(&f, 1);
			prog[op].labels[i].value = text(&f, 40);
		}
		prog[op].nlabels = nl;
		if (kind == 1) {
			prog[op].value = number(&f);
			metricsfmt_sample(&m, prog[op].name, prog[op].labels,
			    nl, prog[op].value);
			continue;
		}
		nb = fz_range(&f, MAX_BOUNDS);
		for (i = j = 0; i < nb; i++) {
			v = number(&f);
			if (isfinite(v))
				bounds[j++] = v;
		}
		qsort(bounds, j, sizeof(bounds[0]), cmp_double);
		for (i = nb = 0; i < j; i++) {
			if (nb == 0 || bounds[i] > prog[op].bounds[nb - 1])
				prog[op].bounds[nb++] = bounds[i];
		}
		for (i = 0; i <= nb; i++)
			prog[op].counts[i] = fz_u64(&f) >> 24;
		prog[op].nbounds = nb;
		prog[op].value = number(&f);
		h.bounds = prog[op].bounds;
		h.nbounds = nb;
		h.counts = prog[op].counts;
		h.sum = prog[op].value;
		metricsfmt_histogram(&m, prog[op].name, prog[op].labels, nl,
		    &h);

		/* The bucket of an arbitrary value. */
		v = number(&f);
		i = metricsfmt_bucket(prog[op].bounds, nb, v);
		CHECK(i <= nb && (isnan(v) ? i == nb : ((i == nb ||
		    v <= prog[op].bounds[i]) && (i == 0 ||
		    v > prog[op].bounds[i - 1]))), "bucket %zu of %g", i, v);
	}

	out = metricsfmt_take(&m, &len);
	CHECK(strlen(out) == len && utf8_valid(out, len), "text of %zu bytes",
	    len);
	c.p = out;
	c.end = out + len;
	for (op = 0; op < ops; op++) {
		fam = prog[op].name;
		if (prog[op].kind == 0) {
			expect_family(&c, fam, prog[op].type, prog[op].help);
		} else if (prog[op].kind == 1) {
			expect_sample(&c, fam, "", prog[op].labels,
			    prog[op].nlabels, NULL, prog[op].value);
		} else {
			total = 0;
			for (i = 0; i <= prog[op].nbounds; i++) {
				total += (double)prog[op].counts[i];
				if (i < prog[op].nbounds)
					metricsfmt_double(le, sizeof(le),
					    prog[op].bounds[i]);
				else
					snprintf(le, sizeof(le), "+Inf");
				same_number(le, i < prog[op].nbounds ?
				    prog[op].bounds[i] : INFINITY);
				expect_sample(&c, fam, "_bucket",
				    prog[op].labels, prog[op].nlabels, le,
				    total);
			}
			expect_sample(&c, fam, "_sum", prog[op].labels,
			    prog[op].nlabels, NULL, prog[op].value);
			expect_sample(&c, fam, "_count", prog[op].labels,
			    prog[op].nlabels, NULL, total);
		}
	}
	CHECK(c.p == c.end, "text after the last line: \"%s\"", c.p);

	for (op = 0; op < ops; op++) {
		free(prog[op].name);
		free(prog[op].help);
		for (i = 0; i < prog[op].nlabels; i++) {
			free((char *)prog[op].labels[i].name);
			free((char *)prog[op].labels[i].value);
		}
	}
	free(out);
	return (0);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, without ':' for labels. */
static char *
name(struct fz *f, int label)
{
	static const char	 alpha[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789";
	size_t			 n = 1 + fz_range(f, 11), i, k;
	char			*s = malloc(n + 1);

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++) {
		k = fz_u8(f) % (i == 0 ? 53 : 63);
		if (label && alpha[k] == ':')
			k = 52;		/* '_' */
		s[i] = alpha[k];
	}
	s[n] = '\0';
	if (label && !strcmp(s, "le"))
		s[0] = 'L';
	return (s);
}

/* Any valid UTF-8 (no NUL): what is not becomes "x". */
static char *
text(struct fz *f, size_t max)
{
	char	*s = fz_str(f, max);

	if (!utf8_valid(s, strlen(s))) {
		free(s);
		s = strdup("x");
	}
	return (s);
}

static double
number(struct fz *f)
{
	uint64_t	bits = fz_u64(f);
	double		v;

	memcpy(&v, &bits, sizeof(v));
	return (v);
}

/* The next line, without its '\n' (which must be there). */
static char *
line(struct cursor *c)
{
	const char	*nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	char		*s;

	CHECK(nl != NULL, "missing line at \"%s\"", c->p);
	s = strndup(c->p, (size_t)(nl - c->p));
	CHECK(s != NULL, "strndup");
	c->p = nl + 1;
	return (s);
}

/* "# HELP name text" with \\ and \n, then "# TYPE name type". */
static void
expect_family(struct cursor *c, const char *n, const char *type,
    const char *help)
{
	char	*l, *p, *want, *o;

	l = line(c);
	CHECK(!strncmp(l, "# HELP ", 7) && !strncmp(l + 7, n, strlen(n)) &&
	    l[7 + strlen(n)] == ' ', "HELP line \"%s\"", l);
	want = malloc(strlen(l) + 1);
	CHECK(want != NULL, "malloc");
	for (p = l + 8 + strlen(n), o = want; *p != '\0'; p++) {
		if (*p == '\\') {
			p++;
			CHECK(*p == '\\' || *p == 'n', "help escape \"\\%c\"",
			    *p);
			*o++ = *p == 'n' ? '\n' : '\\';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	CHECK(!strcmp(want, help), "help \"%s\" for \"%s\"", want, help);
	free(want);
	free(l);
	l = line(c);
	CHECK(!strncmp(l, "# TYPE ", 7) && !strncmp(l + 7, n, strlen(n)) &&
	    l[7 + strlen(n)] == ' ' && !strcmp(l + 8 + strlen(n), type),
	    "TYPE line \"%s\"", l);
	free(l);
}

static void
expect_sample(struct cursor *c, const char *n, const char *suffix,
    const struct metricsfmt_label *labels, size_t nl, const char *le,
    double v)
{
	const char	*p;
	char		*l;
	size_t		 nlen = strlen(n), slen = strlen(suffix);

	l = line(c);
	CHECK(!strncmp(l, n, nlen) && !strncmp(l + nlen, suffix, slen),
	    "sample \"%s\" for %s%s", l, n, suffix);
	p = l + nlen + slen;
	if (nl > 0 || le != NULL)
		p = labels_back(p, labels, nl, le);
	CHECK(*p == ' ', "no blank before the value in \"%s\"", l);
	same_number(p + 1, v);
	free(l);
}

/* {a="x",b="y"[,le="z"]} read back; returns what follows the '}'. */
static const char *
labels_back(const char *p, const struct metricsfmt_label *labels, size_t nl,
    const char *le)
{
	char		 val[512];
	const char	*want;
	size_t		 i, n, o;

	CHECK(*p == '{', "no '{' at \"%s\"", p);
	p++;
	for (i = 0; i < nl + (le != NULL); i++) {
		if (i > 0) {
			CHECK(*p == ',', "no ',' at \"%s\"", p);
			p++;
		}
		n = i < nl ? strlen(labels[i].name) : 2;
		CHECK(!strncmp(p, i < nl ? labels[i].name : "le", n) &&
		    p[n] == '=' && p[n + 1] == '"', "label %zu at \"%s\"", i, p);
		p += n + 2;
		for (o = 0; *p != '"'; p++) {
			CHECK(*p != '\0' && *p != '\n' && o < sizeof(val) - 1,
			    "unterminated label value");
			if (*p == '\\') {
				p++;
				CHECK(*p == '\\' || *p == '"' || *p == 'n',
				    "label escape \"\\%c\"", *p);
				val[o++] = *p == 'n' ? '\n' : *p;
			} else {
				val[o++] = *p;
			}
		}
		val[o] = '\0';
		p++;
		want = i < nl ? labels[i].value : le;
		CHECK(!strcmp(val, want), "label value \"%s\" for \"%s\"", val,
		    want);
	}
	CHECK(*p == '}', "no '}' at \"%s\"", p);
	return (p + 1);
}

/* How Prometheus (Go's strconv.ParseFloat) reads a value back. */
static void
same_number(const char *s, double want)
{
	double	got;
	char	*end;

	if (!strcmp(s, "+Inf"))
		got = INFINITY;
	else if (!strcmp(s, "-Inf"))
		got = -INFINITY;
	else if (!strcmp(s, "NaN"))
		got = NAN;
	else {
		CHECK(strspn(s, "0123456789+-.e") == strlen(s) && *s != '\0',
		    "number \"%s\"", s);
		got = strtod(s, &end);
		CHECK(*end == '\0', "number \"%s\"", s);
	}
	CHECK(isnan(want) ? isnan(got) : got == want, "\"%s\" reads back as "
	    "%.17g, not %.17g", s, got, want);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}
