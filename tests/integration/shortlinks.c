/*
 * Short link, cache and click helpers; see shortlinks.h.
 */
#include <sys/wait.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "fixtures.h"
#include "shortlinks.h"

#define BURST_MAX_CONNS	64
/* Longer than any redirect may take; a hung one fails the burst soon. */
#define BURST_TIMEOUT_S	5L

struct slot {
	CURL	*easy;
	char	 xcache[16];
	double	 started;
};

static size_t	burst_header(char *p, size_t size, size_t n, void *arg);
static size_t	burst_discard(char *p, size_t size, size_t n, void *arg);
static void	burst_start(CURLM *m, struct slot *s, const char *url,
		    const char *method);

const char *
xcache(const struct http_resp *r)
{
	const char	*v = http_header(r, "X-Cache");

	return (v != NULL ? v : "(none)");
}

int
xcache_is(const struct http_resp *r, const char *want)
{
	return (strcmp(xcache(r), want) == 0);
}

long
tombstone_ms(void)
{
	const char	*v = getenv("CACHE_TOMBSTONE_MS");
	long		 n;

	if (v == NULL || *v == '\0' || (n = strtol(v, NULL, 10)) < 100)
		return (2000);
	return (n);
}

struct http_resp *
cache_req(const char *method, const char *path)
{
	struct http_resp	*r;
	int			 tries = 0;

	for (;;) {
		r = http_request(method, path, NULL, NULL, 0, 0);
		if (!xcache_is(r, "BYPASS") || ++tries == 5)
			return (r);
		fprintf(stderr, "itest: %s %s: X-Cache BYPASS, asking again\n",
		    method, path);
		http_free(r);
		sleep_ms(20);
	}
}

void
expect_302(const struct http_resp *r, const char *target)
{
	const char	*loc;

	cr_assert_eq(r->status, 302, "expected a 302 to %s, got %ld (X-Cache "
	    "%s) %.300s", target, r->status, xcache(r), r->body);
	loc = http_header(r, "Location");
	cr_assert(loc != NULL && strcmp(loc, target) == 0,
	    "Location must be %s, is %s (X-Cache %s)", target,
	    loc ? loc : "(none)", xcache(r));
}

long
await_hit(const char *code, const char *target, int use_head,
    long timeout_ms)
{
	struct http_resp	*r;
	double			 t0 = now_seconds();
	double			 deadline = t0 + timeout_ms / 1000.0;
	int			 hit;

	for (;;) {
		r = use_head ? http_head(pathf("/%s", code)) :
		    http_get(pathf("/%s", code));
		expect_302(r, target);
		hit = xcache_is(r, "HIT");
		http_free(r);
		if (hit)
			return ((long)((now_seconds() - t0) * 1000));
		if (now_seconds() > deadline)
			return (-1);
		sleep_ms(20);
	}
}

void
cache_code(const char *code, const char *target)
{
	long	timeout = tombstone_ms() + 3000;

	cr_assert_geq(await_hit(code, target, 1, timeout), 0,
	    "/%s never became a cache HIT within %ld ms", code, timeout);
}

long
click_count(json_int_t url_id)
{
	struct http_resp	*r;
	const char		*total;
	long			 n;

	r = http_getf("/events?url_id=%lld&event_type=click&per_page=1",
	    (long long)url_id);
	cr_assert_eq(r->status, 200, "GET /events: %ld %.300s", r->status,
	    r->body);
	total = http_header(r, "X-Total-Count");
	cr_assert_not_null(total, "GET /events?per_page=1 without "
	    "X-Total-Count");
	n = strtol(total, NULL, 10);
	http_free(r);
	return (n);
}

long
await_clicks(json_int_t url_id, long want, long timeout_ms, long settle_ms)
{
	double	deadline = now_seconds() + timeout_ms / 1000.0;
	long	n;

	for (;;) {
		n = click_count(url_id);
		if (n >= want || now_seconds() > deadline)
			break;
		sleep_ms(50);
	}
	if (n == want && settle_ms > 0) {
		/* A surplus (a batch written twice) would show now. */
		sleep_ms(settle_ms);
		n = click_count(url_id);
	}
	return (n);
}

static size_t
burst_header(char *p, size_t size, size_t n, void *arg)
{
	struct slot	*s = arg;
	size_t		 len = size * n, vlen;
	const char	*v;

	if (len > 8 && strncasecmp(p, "X-Cache:", 8) == 0) {
		v = p + 8;
		while (*v == ' ' && v < p + len)
			v++;
		vlen = (size_t)(p + len - v);
		while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
			vlen--;
		if (vlen >= sizeof(s->xcache))
			vlen = sizeof(s->xcache) - 1;
		memcpy(s->xcache, v, vlen);
		s->xcache[vlen] = '\0';
	}
	return (len);
}

static size_t
burst_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return (size * n);
}

static void
burst_start(CURLM *m, struct slot *s, const char *url, const char *method)
{
	curl_easy_reset(s->easy);
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, BURST_TIMEOUT_S);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, burst_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, burst_discard);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(s->easy, CURLOPT_NOBODY, 1L);
	s->xcache[0] = '\0';
	s->started = now_seconds();
	cr_assert_eq(curl_multi_add_handle(m, s->easy), CURLM_OK);
}

void
redirect_burst(const char *method, const char *path, int n, int conns,
    struct burst *out)
{
	struct slot	 slots[BURST_MAX_CONNS];
	CURLM		*m;
	CURLMsg		*msg;
	struct slot	*s;
	char		*url;
	double		 t0, el;
	long		 status;
	int		 i, running, left, started = 0;

	cr_assert(conns > 0 && conns <= BURST_MAX_CONNS);
	memset(out, 0, sizeof(*out));
	if (asprintf(&url, "%s%s", client_base_url(), path) < 0)
		cr_assert_fail("asprintf");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	cr_assert_not_null(m);
	/* One connection per slot, kept alive across its requests. */
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conns);

	t0 = now_seconds();
	for (i = 0; i < conns && started < n; i++, started++) {
		slots[i].easy = curl_easy_init();
		cr_assert_not_null(slots[i].easy);
		burst_start(m, &slots[i], url, method);
	}
	for (; i < conns; i++)
		slots[i].easy = NULL;

	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			el = now_seconds() - s->started;
			out->sent++;
			out->sum_s += el;
			if (el > out->max_s)
				out->max_s = el;
			status = 0;
			if (msg->data.result != CURLE_OK) {
				out->transport++;
				cr_log_error("%s %s: curl: %s", method, path,
				    curl_easy_strerror(msg->data.result));
			} else {
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_RESPONSE_CODE, &status);
				if (status == 302)
					out->status302++;
				else
					out->other++;
			}
			if (strcmp(s->xcache, "HIT") == 0)
				out->hit++;
			else if (strcmp(s->xcache, "MISS") == 0)
				out->miss++;
			else if (strcmp(s->xcache, "BYPASS") == 0)
				out->bypass++;
			curl_multi_remove_handle(m, msg->easy_handle);
			if (started < n) {
				started++;
				burst_start(m, s, url, method);
				running = 1;
			}
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running || started < n || out->sent < started);
	out->wall_s = now_seconds() - t0;

	for (i = 0; i < conns; i++)
		if (slots[i].easy != NULL)
			curl_easy_cleanup(slots[i].easy);
	curl_multi_cleanup(m);
	free(url);
}

int
redis_cli_available(void)
{
	return (env_cmd("SHORTENER_REDIS_CLI") != NULL);
}

int
redis_cli(char *out, size_t outlen, const char *fmt, ...)
{
	const char	*cli = env_cmd("SHORTENER_REDIS_CLI");
	char		*args, *cmd, line[512];
	FILE		*p;
	va_list		 ap;
	int		 st;

	if (cli == NULL)
		cr_skip_test("SHORTENER_REDIS_CLI is not set");
	va_start(ap, fmt);
	if (vasprintf(&args, fmt, ap) < 0)
		cr_assert_fail("vasprintf");
	va_end(ap);
	/* --raw: values as they are, no quoting or "(nil)" decoration. */
	if (asprintf(&cmd, "%s --raw %s 2>&1", cli, args) < 0)
		cr_assert_fail("asprintf");
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	if (fgets(line, sizeof(line), p) != NULL && out != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(out, outlen, "%s", line);
	}
	while (fgets(line, sizeof(line), p) != NULL)
		;
	st = pclose(p);
	free(cmd);
	free(args);
	return (st == -1 ? -1 : WEXITSTATUS(st));
}

const char *
env_cmd(const char *name)
{
	const char	*v = getenv(name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

int
run_cmd(const char *cmd)
{
	int	st;

	fprintf(stderr, "itest: running: %s\n", cmd);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "itest: \"%s\" failed (status %d)\n", cmd, st);
	return (st == 0 ? 0 : -1);
}
