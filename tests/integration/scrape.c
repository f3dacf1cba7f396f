/*
 * Scrapes of GET /metrics, parsed the way Prometheus reads the text
 * format 0.0.4, but stricter: the service never writes timestamps, blank
 * lines or free comments, so any of those is reported as an error too.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

#include "client.h"
#include "fixtures.h"
#include "scrape.h"

static void	parse_line(struct scrape *, const char *, size_t, size_t);
static void	parse_comment(struct scrape *, const char *, size_t, size_t);
static void	parse_sample(struct scrape *, const char *, size_t, size_t);
static const char *parse_name(const char *, const char *);
static const char *parse_labels(const char *, const char *);
static struct scrape_family *family(struct scrape *, const char *, size_t);
static void	fail(struct scrape *, size_t, const char *, const char *,
		    size_t);
static char	*dup_n(const char *, size_t);

struct scrape *
scrape_fetch(void)
{
	static const char *const	 hdrs[] = { "Connection: close", NULL };
	struct http_resp		*r;
	struct scrape			*s;
	const char			*ct;

	r = http_request("GET", "/metrics", hdrs, NULL, 0, HTTP_TEXT);
	cr_assert_eq(r->status, 200, "GET /metrics: %ld %.300s", r->status,
	    r->body);
	ct = http_header(r, "Content-Type");
	cr_assert(ct != NULL && !strncmp(ct, "text/plain; version=0.0.4", 25),
	    "GET /metrics: Content-Type %s", ct ? ct : "(none)");
	s = scrape_parse(r->body);
	http_free(r);
	return (s);
}

struct scrape *
scrape_parse(const char *text)
{
	struct scrape	*s;
	const char	*p, *nl;
	size_t		 line;

	s = calloc(1, sizeof(*s));
	cr_assert_not_null(s);
	s->text = strdup(text);
	cr_assert_not_null(s->text);

	if (*text == '\0')
		fail(s, 0, "empty scrape", "", 0);
	for (p = text, line = 1; *p != '\0'; p = nl + 1, line++) {
		if ((nl = strchr(p, '\n')) == NULL) {
			fail(s, line, "last line without a newline", p,
			    strlen(p));
			break;
		}
		parse_line(s, p, nl - p, line);
	}

	return (s);
}

void
scrape_free(struct scrape *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsamples; i++) {
		free(s->samples[i].name);
		free(s->samples[i].labels);
	}
	for (i = 0; i < s->nfamilies; i++) {
		free(s->families[i].name);
		free(s->families[i].type);
	}
	free(s->samples);
	free(s->families);
	free(s->error);
	free(s->text);
	free(s);
}

double
scrape_value(const struct scrape *s, const char *name, const char *labels)
{
	size_t	i;

	for (i = 0; i < s->nsamples; i++) {
		if (!strcmp(s->samples[i].name, name) &&
		    !strcmp(s->samples[i].labels, labels))
			return (s->samples[i].value);
	}
	return (0);
}

const struct scrape_family *
scrape_family_of(const struct scrape *s, const char *name)
{
	static const char *const	 suffixes[] = {
		"_bucket", "_sum", "_count"
	};
	size_t				 i, j, n, len;

	len = strlen(name);
	for (i = 0; i < s->nfamilies; i++) {
		if (!strcmp(s->families[i].name, name))
			return (&s->families[i]);
	}
	for (j = 0; j < sizeof(suffixes) / sizeof(suffixes[0]); j++) {
		n = strlen(suffixes[j]);
		if (len <= n || strcmp(name + len - n, suffixes[j]))
			continue;
		for (i = 0; i < s->nfamilies; i++) {
			if (strlen(s->families[i].name) == len - n &&
			    !strncmp(s->families[i].name, name, len - n) &&
			    s->families[i].type != NULL &&
			    !strcmp(s->families[i].type, "histogram"))
				return (&s->families[i]);
		}
	}
	return (NULL);
}

double
scrape_wait_value(const char *name, const char *labels, double want,
    int timeout_ms)
{
	struct scrape	*s;
	double		 v, deadline;

	deadline = now_seconds() + timeout_ms / 1000.0;
	for (;;) {
		s = scrape_fetch();
		cr_assert_null(s->error, "scrape: %s", s->error);
		v = scrape_value(s, name, labels);
		scrape_free(s);
		if (v >= want || now_seconds() >= deadline)
			return (v);
		sleep_ms(50);
	}
}

pid_t
app_parent_pid(void)
{
	const char	*path = getenv("SHORTENER_APP_PIDFILE");
	FILE		*f;
	long		 pid = 0;

	if (path == NULL || *path == '\0' || (f = fopen(path, "r")) == NULL)
		return (0);
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return ((pid_t)pid);
}

size_t
app_worker_pids(pid_t parent, pid_t *out, size_t max)
{
	DIR		*d;
	struct dirent	*e;
	FILE		*f;
	char		 path[300], buf[512], *p;
	long		 ppid;
	size_t		 n = 0;

	d = opendir("/proc");
	cr_assert_not_null(d, "opendir /proc");
	while ((e = readdir(d)) != NULL && n < max) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		/* "pid (comm) state ppid ...": comm may hold ") ". */
		if ((p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != parent)
			continue;
		out[n++] = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return (n);
}

static void
parse_line(struct scrape *s, const char *p, size_t len, size_t line)
{
	size_t	before = s->nsamples;

	if (len == 0) {
		fail(s, line, "blank line", p, len);
		return;
	}
	if (p[0] == '#') {
		parse_comment(s, p, len, line);
		return;
	}

	parse_sample(s, p, len, line);
	if (s->nsamples == before)
		fail(s, line, "not name{labels} value", p, len);
}

static void
parse_comment(struct scrape *s, const char *p, size_t len, size_t line)
{
	struct scrape_family	*f;
	const char		*end = p + len, *name, *after;

	if (len < 7 || (strncmp(p, "# HELP ", 7) && strncmp(p, "# TYPE ", 7))) {
		fail(s, line, "a comment that is no HELP or TYPE", p, len);
		return;
	}
	name = p + 7;
	if ((after = parse_name(name, end)) == NULL || after == end ||
	    *after != ' ') {
		fail(s, line, "HELP/TYPE without a name and text", p, len);
		return;
	}

	f = family(s, name, after - name);
	if (p[2] == 'H') {
		f->help++;
		return;
	}

	f->types++;
	free(f->type);
	f->type = dup_n(after + 1, end - after - 1);
	if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") &&
	    strcmp(f->type, "histogram") && strcmp(f->type, "summary") &&
	    strcmp(f->type, "untyped"))
		fail(s, line, "unknown TYPE", p, len);
	if (f->samples > 0)
		fail(s, line, "TYPE after the family's samples", p, len);
}

static void
parse_sample(struct scrape *s, const char *p, size_t len, size_t line)
{
	const struct scrape_family	*cf;
	struct scrape_family		*f;
	struct scrape_sample		*smp;
	const char			*end = p + len, *q, *ne, *lb, *le;
	char				*num, *stop;
	double				 v;

	if ((q = ne = parse_name(p, end)) == NULL)
		return;
	lb = le = q;
	if (q < end && *q == '{') {
		lb = q + 1;
		if ((q = parse_labels(lb, end)) == NULL)
			return;
		le = q - 1;
	}
	if (q >= end || *q != ' ' || q + 1 >= end)
		return;

	/* One number, nothing after it: no timestamps here. */
	num = dup_n(q + 1, end - q - 1);
	v = strtod(num, &stop);
	if (stop == num || *stop != '\0' || isspace((unsigned char)*num)) {
		free(num);
		return;
	}
	free(num);

	s->samples = realloc(s->samples, (s->nsamples + 1) *
	    sizeof(*s->samples));
	cr_assert_not_null(s->samples);
	smp = &s->samples[s->nsamples++];
	smp->name = dup_n(p, ne - p);
	smp->labels = dup_n(lb, le - lb);
	smp->value = v;
	smp->line = line;

	if ((cf = scrape_family_of(s, smp->name)) == NULL) {
		fail(s, line, "sample before its family's HELP/TYPE", p, len);
		return;
	}
	f = &s->families[cf - s->families];
	f->samples++;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*; returns the end, or NULL. */
static const char *
parse_name(const char *p, const char *end)
{
	const char	*start = p;

	while (p < end && (isalnum((unsigned char)*p) || *p == '_' ||
	    *p == ':')) {
		if (p == start && isdigit((unsigned char)*p))
			return (NULL);
		p++;
	}
	return (p == start ? NULL : p);
}

/* name="value",... up to and past '}'; escapes \\ \" \n only. */
static const char *
parse_labels(const char *p, const char *end)
{
	for (;;) {
		if (p < end && *p == '}')
			return (p + 1);
		if ((p = parse_name(p, end)) == NULL || p + 1 >= end ||
		    p[0] != '=' || p[1] != '"')
			return (NULL);
		for (p += 2; p < end && *p != '"'; p++) {
			if (*p == '\n')
				return (NULL);
			if (*p != '\\')
				continue;
			if (++p >= end || (*p != '\\' && *p != '"' && *p != 'n'))
				return (NULL);
		}
		if (p >= end)
			return (NULL);
		p++;
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			return (NULL);
	}
}

static struct scrape_family *
family(struct scrape *s, const char *name, size_t len)
{
	struct scrape_family	*f;
	size_t			 i;

	for (i = 0; i < s->nfamilies; i++) {
		if (strlen(s->families[i].name) == len &&
		    !strncmp(s->families[i].name, name, len))
			return (&s->families[i]);
	}

	s->families = realloc(s->families, (s->nfamilies + 1) *
	    sizeof(*s->families));
	cr_assert_not_null(s->families);
	f = &s->families[s->nfamilies++];
	memset(f, 0, sizeof(*f));
	f->name = dup_n(name, len);
	return (f);
}

static void
fail(struct scrape *s, size_t line, const char *why, const char *p,
    size_t len)
{
	char	buf[512];

	if (s->error != NULL)
		return;
	snprintf(buf, sizeof(buf), "line %zu: %s: \"%.*s\"", line, why,
	    (int)(len > 300 ? 300 : len), p);
	s->error = strdup(buf);
}

static char *
dup_n(const char *p, size_t len)
{
	char	*s = malloc(len + 1);

	cr_assert_not_null(s);
	memcpy(s, p, len);
	s[len] = '\0';
	return (s);
}
