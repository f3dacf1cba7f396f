/*
 * The Prometheus text exposition format (version 0.0.4), written into a
 * growing buffer: # HELP and # TYPE lines, samples with escaped label
 * values, histograms with cumulative buckets, numbers Prometheus parses.
 * Pure logic, no Kore: obs/metrics.c decides what to write.
 */
#ifndef METRICSFMT_H
#define METRICSFMT_H

#include <stddef.h>
#include <stdint.h>

#define METRICSFMT_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Enough for any double metricsfmt_double() writes. */
#define METRICSFMT_DOUBLE_MAX	32

struct metricsfmt {
	char	*buf;		/* NUL-terminated */
	size_t	 len;
	size_t	 cap;
};

/* name must be a valid label name; value is escaped as needed. */
struct metricsfmt_label {
	const char	*name;
	const char	*value;
};

/*
 * One histogram series as stored: counts per bucket, not cumulative.
 * counts has nbounds + 1 entries, the last one for values above every
 * bound; bounds ascend and leave out +Inf.
 */
struct metricsfmt_hist {
	const double	*bounds;
	size_t		 nbounds;
	const uint64_t	*counts;
	double		 sum;
};

void	metricsfmt_init(struct metricsfmt *m);
void	metricsfmt_free(struct metricsfmt *m);
/* Hands the text over (malloc'd); m is empty again. */
char	*metricsfmt_take(struct metricsfmt *m, size_t *len);

/* type: "counter", "gauge" or "histogram". */
void	metricsfmt_family(struct metricsfmt *m, const char *name,
	    const char *type, const char *help);
void	metricsfmt_sample(struct metricsfmt *m, const char *name,
	    const struct metricsfmt_label *labels, size_t nlabels, double value);
/* name_bucket{...,le=}, name_sum and name_count lines. */
void	metricsfmt_histogram(struct metricsfmt *m, const char *name,
	    const struct metricsfmt_label *labels, size_t nlabels,
	    const struct metricsfmt_hist *h);

/* Index of the bucket v falls in: the first bound >= v, else nbounds. */
size_t	metricsfmt_bucket(const double *bounds, size_t nbounds, double v);

/*
 * The shortest text that reads back as v: integers without a fraction,
 * "0.00025", "1e-07", "+Inf", "-Inf", "NaN".
 */
void	metricsfmt_double(char *buf, size_t len, double v);

#endif
