/*
 * JSON logging.
 *
 * Lines are formatted into a stack buffer (core/logline.c). Event lines
 * are written at once. Request lines are gathered per worker and written
 * a batch at a time (or every FLUSH_MS): a write(2) per request cost a
 * fifth of a cache hit's CPU. Writes hold whole lines. On a pipe (a
 * supervisor, a container runtime) a batch is PIPE_BUF bytes, the most
 * the kernel writes whole while every worker writes to the same pipe. On
 * a regular file a batch is BATCH_FILE bytes: Linux serialises writes to
 * one open file (the workers share their parent's), so lines never
 * interleave whatever the size, and a write per ~250 lines instead of
 * one per ~17 took most of what logging at info cost a cache hit (the
 * write was a third of it). A worker that is killed loses at most
 * FLUSH_MS of request lines.
 *
 * Above LOG_REQUEST_RATE successful requests a second, a worker writes
 * one success line in LOG_SAMPLE_EVERY, with the number of requests it
 * stands for in "sample" (core/logsample.c); failures are always written.
 *
 * The client address is the one the dispatcher judged the client's (the
 * peer, or what a trusted proxy says: TRUSTED_PROXIES, http/dispatch.c).
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "core/logline.h"
#include "core/logsample.h"
#include "core/numfmt.h"
#include "config/config.h"
#include "obs/log.h"

#define LINE_MAX_BYTES	2048
#define FLUSH_MS	100
#define BATCH_FILE	65536

static void		 stamp(char *, size_t);
static const char	*level_name(enum log_level);
static const char	*method_name(int);
static void		 emit(struct logline *, int);
static void		 write_all(const char *, size_t);
static void		 flush_timer(void *, u_int64_t);
static pid_t		 my_pid(void);
static int		 log_enabled(enum log_level);

/* Set once per process by log_init(); read-only afterwards. */
static enum log_level	min_level = LOG_LEVEL_INFO;

/*
 * Set by log_init() and again by each worker: getpid(2) is a syscall. A
 * module reload empties it in the parent; my_pid() then asks again.
 */
static pid_t		self_pid;

/* Owned by each worker: request lines not written yet. */
static char		batch[BATCH_FILE];
static size_t		batch_len;
static size_t		batch_cap = PIPE_BUF;	/* or BATCH_FILE: a file */
static int		batching;

/* Owned by each worker: which request lines it writes (core/logsample). */
static struct logsample	sampler;

static pid_t
my_pid(void)
{
	if (self_pid == 0)
		self_pid = getpid();
	return (self_pid);
}

void
log_init(void)
{
	self_pid = getpid();
	min_level = (enum log_level)config.log_level;
}

void
log_worker_start(void)
{
	struct stat	st;

	self_pid = getpid();
	batching = 1;
	logsample_init(&sampler, (uint32_t)config.log_request_rate,
	    (uint32_t)config.log_sample_every);
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode))
		batch_cap = sizeof(batch);
	kore_timer_add(flush_timer, FLUSH_MS, NULL, 0);
}

void
log_flush(void)
{
	if (batch_len > 0)
		write_all(batch, batch_len);
	batch_len = 0;
}

static void
flush_timer(void *arg, u_int64_t now)
{
	log_flush();
}

static int
log_enabled(enum log_level level)
{
	return (level >= min_level);
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	struct logline	l;
	char		buf[LINE_MAX_BYTES], now[32], msg[1024];
	va_list		ap;

	if (!log_enabled(level))
		return;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	stamp(now, sizeof(now));
	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "time", now);
	logline_str(&l, "level", level_name(level));
	logline_str(&l, "event", event);
	logline_int(&l, "pid", (int64_t)my_pid());
	logline_str(&l, "msg", msg);
	/* Events go out at once, after the requests that came before. */
	log_flush();
	emit(&l, 0);
}

void
log_request(struct http_request *req, const struct log_request *r)
{
	struct logline	l;
	char		buf[LINE_MAX_BYTES], now[32];
	uint32_t	weight;

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	weight = logsample_take(&sampler, kore_time_ms() / 1000,
	    r->status < 400);
	if (weight == 0)
		return;

	stamp(now, sizeof(now));
	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "time", now);
	logline_str(&l, "level", "info");
	logline_str(&l, "event", "request");
	logline_int(&l, "pid", (int64_t)my_pid());
	logline_str(&l, "request_id", r->request_id);
	logline_str(&l, "method", method_name(req->method));
	logline_str(&l, "route", r->route);
	logline_int(&l, "status", r->status);
	logline_ms(&l, "duration_ms", r->duration_ms);
	logline_str(&l, "cache", r->cache);
	logline_str(&l, "client", r->client);
	if (weight > 1)
		logline_int(&l, "sample", (int64_t)weight);
	/* Last: a hostile path is the one field that may not fit. */
	logline_str(&l, "path", req->path);
	emit(&l, batching);
}

static void
emit(struct logline *l, int batched)
{
	size_t	len;

	len = logline_end(l);
	if (!batched) {
		write_all(l->buf, len);
		return;
	}

	if (batch_len + len > batch_cap)
		log_flush();
	memcpy(batch + batch_len, l->buf, len);
	batch_len += len;
}

static void
write_all(const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * "2026-11-30T05:40:01.123Z". The calendar part changes once a second
 * and is formatted only then; every line still reads the clock.
 */
static void
stamp(char *buf, size_t len)
{
	static time_t	last_sec = -1;
	static char	secs[24];
	struct timespec	ts;
	struct tm	tm;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last_sec) {
		(void)gmtime_r(&ts.tv_sec, &tm);
		(void)strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = ts.tv_sec;
	}
	if (len < 25) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, secs, 19);
	buf[19] = '.';
	(void)numfmt_pad(buf + 20, (uint64_t)(ts.tv_nsec / 1000000) % 1000, 3);
	buf[23] = 'Z';
	buf[24] = '\0';
}

static const char *
level_name(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
		return ("debug");
	case LOG_LEVEL_INFO:
		return ("info");
	case LOG_LEVEL_WARN:
		return ("warn");
	default:
		return ("error");
	}
}

static const char *
method_name(int method)
{
	switch (method) {
	case HTTP_METHOD_GET:
		return ("GET");
	case HTTP_METHOD_HEAD:
		return ("HEAD");
	case HTTP_METHOD_POST:
		return ("POST");
	case HTTP_METHOD_PUT:
		return ("PUT");
	case HTTP_METHOD_DELETE:
		return ("DELETE");
	case HTTP_METHOD_PATCH:
		return ("PATCH");
	default:
		return ("OPTIONS");
	}
}
