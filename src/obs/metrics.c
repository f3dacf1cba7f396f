/*
 * Metrics shared by the processes of one instance.
 *
 * The parent maps one MAP_SHARED|MAP_ANONYMOUS region before it forks the
 * workers (kore_parent_configure runs before kore_worker_init), so every
 * worker, including one respawned after a crash, sees the same memory.
 * The region holds a slot per HTTP worker, indexed by worker->id - 1.
 * Only the worker of a slot writes it, with relaxed atomic adds: no
 * locks, no cache line shared between writers, and a reader in another
 * process never sees a torn value. A scrape, on whichever worker gets it,
 * sums the slots; it is not a snapshot taken at one instant, which
 * Prometheus does not need.
 *
 * A slot has two parts. Counters only ever grow and belong to the slot,
 * not to the process: a respawned worker goes on adding to the counts its
 * predecessor left, so totals survive a crash. Values a process can only
 * sample (its CPU time, clicks its writer dropped) are added as the
 * difference since the process last looked, every SAMPLE_MS and at each
 * scrape; a new process starts from its own zero, so these stay
 * monotonic across respawns too, and only the last sampling interval of
 * a killed worker is lost. Gauges describe the current process and are
 * reset when it starts; a scrape adds them only for live workers (the
 * slot's pid is the one Kore's worker table holds for that id), so the
 * in-flight requests of a dead worker do not linger.
 *
 * Dependency gauges are what the workers saw: shortener_postgres_up is 0
 * when any live worker's last statement could not reach PostgreSQL (a
 * worker that has not run one yet does not count), shortener_redis_up is
 * 1 only when every live worker's Redis connection takes commands.
 *
 * Process metrics cover the parent too, read from /proc/<parent pid>.
 * Workers run in Kore's seccomp sandbox: open/read/getdents64/getrusage
 * are allowed (see app/init.c). The parent's start time is taken when
 * the parent maps the region, a few milliseconds after it started.
 */

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>

#include "core/metricsfmt.h"
#include "core/route.h"
#include "obs/metrics.h"

/* scripts/build.sh writes it; a plain kodev build goes without. */
#if defined(__has_include)
#if __has_include("obs/build_info.h")
#include "obs/build_info.h"
#endif
#endif
#ifndef SHORTENER_VERSION
#define SHORTENER_VERSION	"unknown"
#endif
#ifndef SHORTENER_COMMIT
#define SHORTENER_COMMIT	"unknown"
#endif

#define SAMPLE_MS		1000
#define HTTP_METHODS		7	/* ROUTE_GET .. ROUTE_OPTIONS */
#define HIST_MAX		16	/* bounds per histogram, +Inf apart */
#define STATUS_CLASSES		5	/* 1xx .. 5xx */

/* From 100 us to 10 s, for requests and statements alike. */
static const double	duration_bounds[] = {
	.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5,
	1, 2.5, 5, 10
};
/* The click writer takes up to 1000 clicks per insert. */
static const double	batch_bounds[] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Statuses that get a label of their own; any other is counted under its
 * class ("4xx") or "other". 0: no response was sent (client gone).
 */
static const int	known_statuses[] = {
	0, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401,
	403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 422,
	429, 431, 500, 501, 502, 503, 504
};
#define STATUS_KNOWN	NELEM(known_statuses)
#define STATUS_OTHER	(STATUS_KNOWN + STATUS_CLASSES)
#define STATUSES	(STATUS_OTHER + 1)

static const char *const method_names[HTTP_METHODS] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"
};
static const char *const cache_names[METRICS_CACHE_RESULTS] = {
	"hit", "local_hit", "miss", "negative", "bypass", "error"
};
static const char *const redirect_names[METRICS_REDIRECT_OUTCOMES] = {
	"found", "not_found", "unavailable"
};
static const char *const db_error_names[] = { "refused", "unreachable" };

/* Observations per bucket (not cumulative) and their sum. */
struct hist {
	uint64_t	bucket[HIST_MAX + 1];
	uint64_t	sum;		/* nanoseconds, or clicks */
};

/* Only uint64_t members: a scrape sums them as one flat array. */
struct counters {
	uint64_t	requests[ROUTE_COUNT][HTTP_METHODS][STATUSES];
	struct hist	duration[ROUTE_COUNT][HTTP_METHODS];
	uint64_t	cache[METRICS_CACHE_RESULTS];
	uint64_t	redirects[METRICS_REDIRECT_OUTCOMES];
	struct hist	db_duration;
	uint64_t	db_errors[NELEM(db_error_names)];
	uint64_t	clicks_written;
	uint64_t	clicks_dropped;
	struct hist	click_batch;
	struct hist	lookup_batch;
	uint64_t	cpu_us;
};

#define COUNTER_WORDS	(sizeof(struct counters) / sizeof(uint64_t))
_Static_assert(sizeof(struct counters) % sizeof(uint64_t) == 0,
    "struct counters must be an array of uint64_t");

#define UP_UNKNOWN	(-1)

struct gauges {
	int64_t		inflight;
	int64_t		click_queue;
	int64_t		rss_bytes;
	int64_t		open_fds;
	int64_t		postgres_up;	/* 1, 0 or UP_UNKNOWN */
	int64_t		redis_up;
};

struct slot {
	struct counters	c;
	struct gauges	g;
	int64_t		pid;		/* written last when a worker starts */
};

struct shared {
	pid_t		parent;
	double		start_time;	/* the parent's, Unix seconds */
	int		nslots;
	struct slot	slots[];
};

/* One scrape's totals. */
struct totals {
	struct counters	c;
	struct gauges	g;
	int		pg_seen;	/* some live worker has an observation */
};

static void	hist_observe(struct hist *, const double *, size_t, double,
		    uint64_t);
static void	add(uint64_t *, uint64_t);
static void	set(int64_t *, int64_t);
static int64_t	get(const int64_t *);
static size_t	status_index(int);
static void	status_label(size_t, char *, size_t);
static int	method_index(int);
static void	sample(void);
static void	sample_tick(void *, u_int64_t);
static int	slot_live(int);
static void	gather(struct totals *);
static void	render_http(struct metricsfmt *, const struct totals *);
static void	render_shortener(struct metricsfmt *, const struct totals *);
static void	render_process(struct metricsfmt *, const struct totals *);
static void	render_hist(struct metricsfmt *, const char *,
		    const struct metricsfmt_label *, size_t,
		    const struct hist *, const double *, size_t, double);
static void	render_enum(struct metricsfmt *, const char *, const char *,
		    const char *, const uint64_t *, const char *const *,
		    size_t);
static void	render_value(struct metricsfmt *, const char *, const char *,
		    const char *, double);
static int	proc_read(const char *, char *, size_t);
static int64_t	proc_fds(const char *);
static int64_t	proc_rss(const char *);
static uint64_t	proc_cpu_us(pid_t);

/*
 * Mapped by the parent; inherited by every worker. A module reload
 * (kodev reload, SIGHUP) starts this file's variables afresh while the
 * mapping stays: its address also goes into the environment, where the
 * reloaded parent's next workers find it again.
 */
static struct shared	*shm;
#define SHM_ENV		"SHORTENER_METRICS_SHM"

/* Owned by this worker process. */
static struct slot	*self;
static uint64_t		 cpu_seen_us;
static uint64_t		 dropped_seen;
static void		(*deps_source)(struct metrics_deps *);

void
metrics_init(void)
{
	struct timespec	ts;
	size_t		len;
	int		nslots;
	char		addr[32];

	/* 0 workers means one per CPU (kore_worker_init does the same). */
	nslots = worker_count != 0 ? worker_count : cpu_count;
	len = sizeof(*shm) + (size_t)nslots * sizeof(struct slot);
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		fatal("metrics: mmap of %zu bytes: %s", len, errno_s);

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	shm->parent = getpid();
	shm->start_time = ts.tv_sec + ts.tv_nsec / 1e9;
	shm->nslots = nslots;
	(void)snprintf(addr, sizeof(addr), "%p", (void *)shm);
	if (setenv(SHM_ENV, addr, 1) == -1)
		fatal("metrics: setenv: %s", errno_s);
}

void
metrics_deps_source(void (*fn)(struct metrics_deps *))
{
	deps_source = fn;
}

void
metrics_worker_start(void)
{
	struct slot	*s;
	const char	*addr;
	void		*p;

	/* Forked by a parent whose module was reloaded: find the mapping. */
	if (shm == NULL && (addr = getenv(SHM_ENV)) != NULL &&
	    sscanf(addr, "%p", &p) == 1)
		shm = p;
	if (shm == NULL || worker->id < 1 || worker->id > shm->nslots) {
		kore_log(LOG_ERR, "metrics: no slot for worker %u", worker->id);
		return;
	}

	s = &shm->slots[worker->id - 1];
	set(&s->g.inflight, 0);
	set(&s->g.click_queue, 0);
	set(&s->g.postgres_up, UP_UNKNOWN);
	set(&s->g.redis_up, 0);
	cpu_seen_us = 0;
	dropped_seen = 0;
	self = s;
	sample();
	__atomic_store_n(&s->pid, (int64_t)getpid(), __ATOMIC_RELEASE);

	kore_timer_add(sample_tick, SAMPLE_MS, NULL, 0);
}

void
metrics_clock(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
}

double
metrics_since(const struct timespec *ts)
{
	struct timespec	now;

	metrics_clock(&now);
	return ((now.tv_sec - ts->tv_sec) + (now.tv_nsec - ts->tv_nsec) / 1e9);
}

void
metrics_request(int route, int method, int status, double seconds)
{
	int	m;

	if (self == NULL || route < 0 || route >= ROUTE_COUNT ||
	    (m = method_index(method)) == -1)
		return;

	add(&self->c.requests[route][m][status_index(status)], 1);
	hist_observe(&self->c.duration[route][m], duration_bounds,
	    NELEM(duration_bounds), seconds, (uint64_t)(seconds * 1e9));
}

void
metrics_inflight(int delta)
{
	if (self != NULL)
		(void)__atomic_fetch_add(&self->g.inflight, delta,
		    __ATOMIC_RELAXED);
}

void
metrics_cache_lookup(enum metrics_cache_result r)
{
	if (self != NULL && r < METRICS_CACHE_RESULTS)
		add(&self->c.cache[r], 1);
}

void
metrics_redirect(enum metrics_redirect_outcome o)
{
	if (self != NULL && o < METRICS_REDIRECT_OUTCOMES)
		add(&self->c.redirects[o], 1);
}

void
metrics_db_query(double seconds, enum metrics_db_outcome o)
{
	if (self == NULL)
		return;

	hist_observe(&self->c.db_duration, duration_bounds,
	    NELEM(duration_bounds), seconds, (uint64_t)(seconds * 1e9));
	if (o == METRICS_DB_REFUSED)
		add(&self->c.db_errors[0], 1);
	else if (o == METRICS_DB_UNREACHABLE)
		add(&self->c.db_errors[1], 1);
	set(&self->g.postgres_up, o != METRICS_DB_UNREACHABLE);
}

void
metrics_click_batch(size_t n)
{
	if (self == NULL)
		return;

	add(&self->c.clicks_written, n);
	hist_observe(&self->c.click_batch, batch_bounds, NELEM(batch_bounds),
	    (double)n, n);
}

void
metrics_lookup_batch(size_t n)
{
	if (self == NULL)
		return;

	hist_observe(&self->c.lookup_batch, batch_bounds, NELEM(batch_bounds),
	    (double)n, n);
}

char *
metrics_render(size_t *len)
{
	struct metricsfmt	 m;
	struct totals		*t;

	metricsfmt_init(&m);
	if (shm == NULL)
		return (metricsfmt_take(&m, len));

	sample();
	t = kore_calloc(1, sizeof(*t));
	gather(t);

	render_http(&m, t);
	render_shortener(&m, t);
	render_process(&m, t);
	kore_free(t);

	return (metricsfmt_take(&m, len));
}

static void
hist_observe(struct hist *h, const double *bounds, size_t n, double v,
    uint64_t sum)
{
	add(&h->bucket[metricsfmt_bucket(bounds, n, v)], 1);
	add(&h->sum, sum);
}

static void
add(uint64_t *p, uint64_t n)
{
	(void)__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

static void
set(int64_t *p, int64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static int64_t
get(const int64_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_RELAXED));
}

static size_t
status_index(int status)
{
	size_t	i;

	for (i = 0; i < STATUS_KNOWN; i++) {
		if (known_statuses[i] == status)
			return (i);
	}
	if (status >= 100 && status < 600)
		return (STATUS_KNOWN + status / 100 - 1);
	return (STATUS_OTHER);
}

static void
status_label(size_t i, char *buf, size_t len)
{
	if (i < STATUS_KNOWN)
		(void)snprintf(buf, len, "%d", known_statuses[i]);
	else if (i < STATUS_OTHER)
		(void)snprintf(buf, len, "%zuxx", i - STATUS_KNOWN + 1);
	else
		(void)snprintf(buf, len, "other");
}

static int
method_index(int method)
{
	int	i;

	for (i = 0; i < HTTP_METHODS; i++) {
		if (method == (1 << i))
			return (i);
	}
	return (-1);
}

/* Brings this worker's sampled values and gauges up to date. */
static void
sample(void)
{
	struct metrics_deps	d;
	struct rusage		ru;
	uint64_t		us;

	if (self == NULL)
		return;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		    1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
		if (us > cpu_seen_us) {
			add(&self->c.cpu_us, us - cpu_seen_us);
			cpu_seen_us = us;
		}
	}

	memset(&d, 0, sizeof(d));
	if (deps_source != NULL)
		deps_source(&d);
	if (d.clicks_dropped > dropped_seen) {
		add(&self->c.clicks_dropped, d.clicks_dropped - dropped_seen);
		dropped_seen = d.clicks_dropped;
	}
	set(&self->g.click_queue, (int64_t)d.click_queue);

	set(&self->g.rss_bytes, proc_rss("/proc/self/statm"));
	set(&self->g.open_fds, proc_fds("/proc/self/fd"));
	set(&self->g.redis_up, d.redis_up);
}

static void
sample_tick(void *arg, u_int64_t now)
{
	sample();
}

/* The slot's writer is the process Kore runs as that worker now. */
static int
slot_live(int i)
{
	struct kore_worker	*kw;
	int64_t			 pid;
	u_int16_t		 idx;

	pid = __atomic_load_n(&shm->slots[i].pid, __ATOMIC_ACQUIRE);
	for (idx = KORE_WORKER_BASE; idx < worker_count; idx++) {
		kw = kore_worker_data(idx);
		if (kw->id == i + 1)
			return (kw->running && pid != 0 && kw->pid == pid);
	}
	return (0);
}

static void
gather(struct totals *t)
{
	const struct slot	*s;
	const uint64_t		*src;
	uint64_t		*dst;
	int64_t			 pg;
	size_t			 w;
	int			 i, redis_all = 1;

	dst = (uint64_t *)&t->c;
	t->g.postgres_up = 1;
	for (i = 0; i < shm->nslots; i++) {
		s = &shm->slots[i];
		src = (const uint64_t *)&s->c;
		for (w = 0; w < COUNTER_WORDS; w++)
			dst[w] += __atomic_load_n(&src[w], __ATOMIC_RELAXED);

		if (!slot_live(i))
			continue;
		t->g.inflight += get(&s->g.inflight);
		t->g.click_queue += get(&s->g.click_queue);
		t->g.rss_bytes += get(&s->g.rss_bytes);
		t->g.open_fds += get(&s->g.open_fds);
		if ((pg = get(&s->g.postgres_up)) != UP_UNKNOWN) {
			t->pg_seen = 1;
			t->g.postgres_up &= pg;
		}
		redis_all &= get(&s->g.redis_up) == 1;
	}
	t->g.redis_up = redis_all;
}

static void
render_http(struct metricsfmt *m, const struct totals *t)
{
	struct metricsfmt_label	 l[3];
	const struct hist	*h;
	char			 status[8];
	uint64_t		 n;
	int			 r, k;
	size_t			 s, b;

	metricsfmt_family(m, "http_requests_total", "counter",
	    "HTTP requests answered, by route template, method and status "
	    "(0: the client left before a response).");
	for (r = 0; r < ROUTE_COUNT; r++) {
		for (k = 0; k < HTTP_METHODS; k++) {
			for (s = 0; s < STATUSES; s++) {
				if ((n = t->c.requests[r][k][s]) == 0)
					continue;
				status_label(s, status, sizeof(status));
				l[0].name = "route";
				l[0].value = route_get(r)->template;
				l[1].name = "method";
				l[1].value = method_names[k];
				l[2].name = "status";
				l[2].value = status;
				metricsfmt_sample(m, "http_requests_total", l,
				    3, (double)n);
			}
		}
	}

	metricsfmt_family(m, "http_request_duration_seconds", "histogram",
	    "Time from dispatch to the request's end, by route template and "
	    "method.");
	for (r = 0; r < ROUTE_COUNT; r++) {
		for (k = 0; k < HTTP_METHODS; k++) {
			h = &t->c.duration[r][k];
			for (n = 0, b = 0; b <= NELEM(duration_bounds); b++)
				n += h->bucket[b];
			if (n == 0)
				continue;
			l[0].name = "route";
			l[0].value = route_get(r)->template;
			l[1].name = "method";
			l[1].value = method_names[k];
			render_hist(m, "http_request_duration_seconds", l, 2,
			    h, duration_bounds, NELEM(duration_bounds), 1e9);
		}
	}

	render_value(m, "shortener_http_requests_in_flight", "gauge",
	    "Requests being handled now, this scrape included.",
	    (double)t->g.inflight);
}

static void
render_shortener(struct metricsfmt *m, const struct totals *t)
{
	render_enum(m, "shortener_redirects_total",
	    "Short link lookups by outcome (302, 404, 503).", "outcome",
	    t->c.redirects, redirect_names, METRICS_REDIRECT_OUTCOMES);
	render_enum(m, "shortener_cache_lookups_total",
	    "Redirect cache lookups; local_hit: the worker's own copy of "
	    "a recent hit; bypass: Redis not usable, not asked; "
	    "error: asked, no answer in time or an error.", "result",
	    t->c.cache, cache_names, METRICS_CACHE_RESULTS);

	metricsfmt_family(m, "shortener_db_query_duration_seconds",
	    "histogram", "PostgreSQL statements, from send to result or "
	    "failure; each retry counts.");
	render_hist(m, "shortener_db_query_duration_seconds", NULL, 0,
	    &t->c.db_duration, duration_bounds, NELEM(duration_bounds), 1e9);
	render_enum(m, "shortener_db_errors_total",
	    "Failed statements; refused: the server answered with an error "
	    "(a SQLSTATE); unreachable: no connection or it broke.", "kind",
	    t->c.db_errors, db_error_names, NELEM(db_error_names));

	render_value(m, "shortener_postgres_up", "gauge",
	    "0 when a worker's last statement could not reach PostgreSQL.",
	    t->pg_seen ? (double)t->g.postgres_up : 1);
	render_value(m, "shortener_redis_up", "gauge",
	    "1 when every worker's Redis connection takes commands.",
	    (double)t->g.redis_up);

	render_value(m, "shortener_click_queue_depth", "gauge",
	    "Clicks waiting to be written, in flight included.",
	    (double)t->g.click_queue);
	render_value(m, "shortener_clicks_written_total", "counter",
	    "Clicks stored in the events table.",
	    (double)t->c.clicks_written);
	render_value(m, "shortener_clicks_dropped_total", "counter",
	    "Clicks lost: queue full or batch refused by the database.",
	    (double)t->c.clicks_dropped);
	metricsfmt_family(m, "shortener_click_batch_size", "histogram",
	    "Clicks per insert statement.");
	render_hist(m, "shortener_click_batch_size", NULL, 0,
	    &t->c.click_batch, batch_bounds, NELEM(batch_bounds), 1);
	metricsfmt_family(m, "shortener_lookup_batch_size", "histogram",
	    "Short codes per redirect lookup statement (cache misses).");
	render_hist(m, "shortener_lookup_batch_size", NULL, 0,
	    &t->c.lookup_batch, batch_bounds, NELEM(batch_bounds), 1);
}

static void
render_process(struct metricsfmt *m, const struct totals *t)
{
	struct metricsfmt_label	l[2];
	char			path[64];
	int64_t			rss, fds;

	(void)snprintf(path, sizeof(path), "/proc/%d/statm", (int)shm->parent);
	rss = proc_rss(path);
	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)shm->parent);
	fds = proc_fds(path);

	render_value(m, "process_cpu_seconds_total", "counter",
	    "User and system CPU time of the parent and all workers.",
	    (t->c.cpu_us + proc_cpu_us(shm->parent)) / 1e6);
	render_value(m, "process_resident_memory_bytes", "gauge",
	    "Resident memory of the parent and the live workers.",
	    (double)(t->g.rss_bytes + rss));
	render_value(m, "process_open_fds", "gauge",
	    "Open file descriptors of the parent and the live workers.",
	    (double)(t->g.open_fds + fds));
	render_value(m, "process_start_time_seconds", "gauge",
	    "Start of the instance's parent process, Unix time.",
	    shm->start_time);

	metricsfmt_family(m, "shortener_build_info", "gauge",
	    "The running build; always 1.");
	l[0].name = "version";
	l[0].value = SHORTENER_VERSION;
	l[1].name = "commit";
	l[1].value = SHORTENER_COMMIT;
	metricsfmt_sample(m, "shortener_build_info", l, 2, 1);
}

/* scale: stored sum units per metric unit (1e9 for nanoseconds). */
static void
render_hist(struct metricsfmt *m, const char *name,
    const struct metricsfmt_label *l, size_t nl, const struct hist *h,
    const double *bounds, size_t nbounds, double scale)
{
	struct metricsfmt_hist	fh;

	fh.bounds = bounds;
	fh.nbounds = nbounds;
	fh.counts = h->bucket;
	fh.sum = h->sum / scale;
	metricsfmt_histogram(m, name, l, nl, &fh);
}

/* A counter family over a small enum: every value, zeros included. */
static void
render_enum(struct metricsfmt *m, const char *name, const char *help,
    const char *label, const uint64_t *values, const char *const *names,
    size_t n)
{
	struct metricsfmt_label	l;
	size_t			i;

	metricsfmt_family(m, name, "counter", help);
	for (i = 0; i < n; i++) {
		l.name = label;
		l.value = names[i];
		metricsfmt_sample(m, name, &l, 1, (double)values[i]);
	}
}

static void
render_value(struct metricsfmt *m, const char *name, const char *type,
    const char *help, double v)
{
	metricsfmt_family(m, name, type, help);
	metricsfmt_sample(m, name, NULL, 0, v);
}

/* Reads a small /proc file whole; 0, or -1 when it cannot be read. */
static int
proc_read(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, len - 1);
	(void)close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	return (0);
}

/* Entries of a /proc/<pid>/fd directory; 0 when it cannot be read. */
static int64_t
proc_fds(const char *path)
{
	DIR		*d;
	struct dirent	*e;
	int64_t		 n;

	if ((d = opendir(path)) == NULL)
		return (0);
	n = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	(void)closedir(d);

	/* The directory's own descriptor, when it is ours. */
	if (!strcmp(path, "/proc/self/fd") && n > 0)
		n--;
	return (n);
}

static int64_t
proc_rss(const char *statm)
{
	char		buf[256];
	long long	size, resident;

	if (proc_read(statm, buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return (0);
	return ((int64_t)resident * sysconf(_SC_PAGESIZE));
}

/* utime + stime of /proc/<pid>/stat, fields 14 and 15, in microseconds. */
static uint64_t
proc_cpu_us(pid_t pid)
{
	char			 path[64], buf[1024];
	const char		*p;
	unsigned long long	 utime, stime;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (proc_read(path, buf, sizeof(buf)) == -1)
		return (0);

	/* The command name may hold spaces and ')': skip past the last. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &utime, &stime) != 2)
		return (0);
	return ((utime + stime) * 1000000 / sysconf(_SC_CLK_TCK));
}
