/*
 * JSON logging.
 *
 * Lines are formatted into a stack buffer (core/logline.c) and written
 * with one write(2) to stdout: no stdio buffering to flush, no lock, and
 * a line shorter than PIPE_BUF arrives whole even when every worker
 * writes to the same pipe. A request line costs one formatting pass and
 * one system call.
 *
 * The client address is the peer's, unless TRUST_PROXY_HEADERS=1 says
 * the only peer is a trusted proxy (nginx), whose X-Real-IP is then
 * believed. Anyone who can reach the app port directly could forge that
 * header, so it is off by default.
 */

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
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
#include "obs/log.h"

#define LINE_MAX_BYTES	2048

static void		 stamp(char *, size_t);
static const char	*level_name(enum log_level);
static const char	*method_name(int);
static const char	*client_address(struct http_request *, char *,
			    size_t);
static void		 emit(struct logline *);

/* Set once per process by log_init(); read-only afterwards. */
static enum log_level	min_level = LOG_LEVEL_INFO;
static int		trust_proxy;

void
log_init(void)
{
	const char	*v;

	if ((v = getenv("LOG_LEVEL")) != NULL) {
		if (!strcasecmp(v, "debug"))
			min_level = LOG_LEVEL_DEBUG;
		else if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning"))
			min_level = LOG_LEVEL_WARN;
		else if (!strcasecmp(v, "error"))
			min_level = LOG_LEVEL_ERROR;
		else
			min_level = LOG_LEVEL_INFO;
	}

	v = getenv("TRUST_PROXY_HEADERS");
	trust_proxy = v != NULL && !strcmp(v, "1");
}

int
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
	logline_int(&l, "pid", (int64_t)getpid());
	logline_str(&l, "msg", msg);
	emit(&l);
}

void
log_request(struct http_request *req, const struct log_request *r)
{
	struct logline	l;
	char		buf[LINE_MAX_BYTES], now[32], client[INET6_ADDRSTRLEN];

	if (!log_enabled(LOG_LEVEL_INFO))
		return;

	stamp(now, sizeof(now));
	logline_begin(&l, buf, sizeof(buf));
	logline_str(&l, "time", now);
	logline_str(&l, "level", "info");
	logline_str(&l, "event", "request");
	logline_int(&l, "pid", (int64_t)getpid());
	logline_str(&l, "request_id", r->request_id);
	logline_str(&l, "method", method_name(req->method));
	logline_str(&l, "route", r->route);
	logline_int(&l, "status", r->status);
	logline_ms(&l, "duration_ms", r->duration_ms);
	logline_str(&l, "cache", r->cache);
	logline_str(&l, "client", client_address(req, client,
	    sizeof(client)));
	/* Last: a hostile path is the one field that may not fit. */
	logline_str(&l, "path", req->path);
	emit(&l);
}

static void
emit(struct logline *l)
{
	size_t	len;
	ssize_t	n;

	len = logline_end(l);
	do {
		n = write(STDOUT_FILENO, l->buf, len);
	} while (n == -1 && errno == EINTR);
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
	(void)snprintf(buf, len, "%.19s.%03dZ", secs,
	    (int)(ts.tv_nsec / 1000000) % 1000);
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

static const char *
client_address(struct http_request *req, char *buf, size_t len)
{
	struct connection	*c = req->owner;
	const char		*real;

	if (trust_proxy && http_request_header(req, "x-real-ip", &real))
		return (real);

	if (c == NULL)
		return (NULL);

	switch (c->family) {
	case AF_INET:
		return (inet_ntop(AF_INET, &c->addr.ipv4.sin_addr, buf, len));
	case AF_INET6:
		return (inet_ntop(AF_INET6, &c->addr.ipv6.sin6_addr, buf,
		    len));
	default:
		return ("unix");
	}
}
